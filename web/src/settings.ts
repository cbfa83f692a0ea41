// Settings fields: their labels, units, built-in defaults and the ranges
// the server enforces (internal/config), so the dialogs can refuse a bad
// value with the reason before the server does.

import type { Settings } from "./types";

/** The built-in defaults, shown where neither the user defaults nor the
 * target set a value. */
export const BUILTIN: Required<Pick<Settings,
  "interval" | "mode" | "timeout" | "size" | "max_hops" | "first_ttl" | "send_delay" |
  "final_hop_only" | "alert_loss_pct" | "alert_latency_ms" | "alert_window" | "history" |
  "webhook_url" | "log_path" | "log_max_bytes" | "log_max_files" | "dns">> = {
  interval: 1, mode: "icmp", timeout: 1, size: 36, max_hops: 30, first_ttl: 1, send_delay: 0,
  final_hop_only: false, alert_loss_pct: 0, alert_latency_ms: 0, alert_window: 20, history: 3600,
  webhook_url: "", log_path: "", log_max_bytes: 0, log_max_files: 0, dns: true,
};

export const DEFAULT_PORT = { udp: 33434, tcp: 80 } as const;

export type FieldKind = "number" | "int" | "bool" | "text" | "mode";

export interface Field {
  key: string;
  label: string;
  kind: FieldKind;
  unit?: string;
  help?: string;
  min?: number;
  max?: number;
  /** min is excluded from the range */
  minOpen?: boolean;
  /** shown value = stored value / scale (log_max_bytes in MB) */
  scale?: number;
  step?: string;
}

export const FIELDS: Record<string, Field> = {
  interval: { key: "interval", label: "Interval", kind: "number", unit: "s", min: 0.05, max: 86400, step: "any", help: "time between round starts" },
  mode: { key: "mode", label: "Probe type", kind: "mode" },
  port: { key: "port", label: "Port", kind: "int", min: 1, max: 65535, help: "UDP/TCP destination port" },
  timeout: { key: "timeout", label: "Reply timeout", kind: "number", unit: "s", min: 0, max: 60, minOpen: true, step: "any" },
  size: { key: "size", label: "Payload size", kind: "int", unit: "bytes", min: 0, max: 65000 },
  send_delay: { key: "send_delay", label: "Send delay", kind: "number", unit: "s", min: 0, max: 10, step: "any", help: "gap between the probes of a round" },
  max_hops: { key: "max_hops", label: "Max hops", kind: "int", min: 1, max: 255 },
  first_ttl: { key: "first_ttl", label: "First TTL", kind: "int", min: 1, max: 255 },
  dns: { key: "dns", label: "Resolve host names", kind: "bool" },
  final_hop_only: { key: "final_hop_only", label: "Final hop only", kind: "bool", help: "probe the destination alone, no per-hop trace" },
  alert_loss_pct: { key: "alert_loss_pct", label: "Alert when loss ≥", kind: "number", unit: "%", min: 0, max: 100, step: "any", help: "0 turns it off" },
  alert_latency_ms: { key: "alert_latency_ms", label: "Alert when latency ≥", kind: "number", unit: "ms", min: 0, max: 60000, step: "any", help: "0 turns it off" },
  alert_window: { key: "alert_window", label: "Alert window", kind: "int", unit: "probes", min: 1, max: 10000 },
  history: { key: "history", label: "History", kind: "int", unit: "rounds", min: 1, max: 100000, help: "samples kept per hop" },
  webhook_url: { key: "webhook_url", label: "Webhook URL", kind: "text", help: "http(s) URL that gets a JSON POST when an alert raises or clears" },
  log_path: { key: "log_path", label: "CSV log path", kind: "text", help: "empty: no probe log" },
  log_max_bytes: { key: "log_max_bytes", label: "Log size cap", kind: "number", unit: "MB", min: 0, max: 1e9, scale: 1e6, step: "any", help: "per file; 0 is the default cap" },
  log_max_files: { key: "log_max_files", label: "Log files kept", kind: "int", min: 0, max: 10000, help: "0 is the default" },
};

/** The value in effect for key: from s, else the built-in default. */
export function effective(s: Settings, key: string): unknown {
  if (s[key] !== undefined && s[key] !== null) return s[key];
  if (key === "port") {
    const mode = (s.mode ?? BUILTIN.mode) as string;
    return mode === "udp" ? DEFAULT_PORT.udp : mode === "tcp" ? DEFAULT_PORT.tcp : 0;
  }
  return (BUILTIN as Record<string, unknown>)[key];
}

/** Checks one value; returns the reason it is refused, or "". */
export function checkField(key: string, v: unknown, all: Settings): string {
  const f = FIELDS[key];
  if (!f) return "";
  switch (f.kind) {
    case "number":
    case "int": {
      if (typeof v !== "number" || Number.isNaN(v)) return "enter a number";
      if (f.kind === "int" && !Number.isInteger(v)) return "enter a whole number";
      const shown = (x: number) => `${+(x / (f.scale ?? 1)).toPrecision(6)}${f.unit ? " " + f.unit : ""}`;
      if (f.min != null && (v < f.min || (f.minOpen && v === f.min))) {
        return f.minOpen ? `must be more than ${shown(f.min)}` : `must be at least ${shown(f.min)}`;
      }
      if (f.max != null && v > f.max) return `must be at most ${shown(f.max)}`;
      break;
    }
    case "mode":
      if (v !== "icmp" && v !== "udp" && v !== "tcp") return "choose ICMP, UDP or TCP";
      break;
  }
  if (key === "first_ttl" && typeof v === "number") {
    const mh = effective(all, "max_hops") as number;
    if (v > mh) return `must not be above max hops (${mh})`;
  }
  if (key === "webhook_url" && typeof v === "string" && v.trim() !== "") {
    let u: URL;
    try {
      u = new URL(v.trim());
    } catch {
      return "not a URL: want http://… or https://…";
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") return "want an http:// or https:// URL";
    if (!u.hostname) return "the URL has no host";
  }
  return "";
}

/** Checks every key of s; returns key → reason for the refused ones. */
export function check(s: Settings): Map<string, string> {
  const bad = new Map<string, string>();
  for (const key of Object.keys(s)) {
    const why = checkField(key, s[key], s);
    if (why) bad.set(key, why);
  }
  return bad;
}

/** Prepares settings to send: a port only goes with udp/tcp (the server
 * refuses a port on ICMP probes). */
export function forSending(s: Settings): Settings {
  const out: Settings = { ...s };
  const mode = out.mode ?? BUILTIN.mode;
  if (mode === "icmp") delete out.port;
  if (typeof out.webhook_url === "string") out.webhook_url = out.webhook_url.trim();
  if (typeof out.log_path === "string") out.log_path = out.log_path.trim();
  return out;
}
