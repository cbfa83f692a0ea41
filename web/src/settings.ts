// Settings fields: their labels and how the dialogs show them. Ranges,
// defaults and which modes use a key are the server's (GET /api/options,
// internal/config's option table): useOptions fills them in, so the dialogs
// refuse a bad value with the server's own limits before sending it.

import type { Mode, OptionSpec, Settings } from "./types";

/** The built-in defaults, shown where neither the user defaults nor the
 * target set a value; from the server's option table. */
export const BUILTIN: Settings = {};

/** Each mode's default port; from the server's option table. */
export const DEFAULT_PORT: Record<string, number> = {};

export type FieldKind = "number" | "int" | "bool" | "text" | "mode" | "choice";

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
  /** 0 is also allowed, and means this */
  zero?: string;
  /** the key this one may not exceed */
  atMost?: string;
  /** the probe modes that use the key; undefined: all */
  modes?: string[];
  choices?: string[];
  /** shown value = stored value / scale (log_max_bytes in MB) */
  scale?: number;
  step?: string;
}

export const FIELDS: Record<string, Field> = {
  interval: { key: "interval", label: "Interval", kind: "number", unit: "s", step: "any", help: "time between round starts" },
  mode: { key: "mode", label: "Probe type", kind: "mode" },
  port: { key: "port", label: "Port", kind: "int", help: "UDP/TCP destination port" },
  timeout: { key: "timeout", label: "Reply timeout", kind: "number", unit: "s", step: "any" },
  size: { key: "size", label: "Payload size", kind: "int", unit: "bytes" },
  send_delay: { key: "send_delay", label: "Send delay", kind: "number", unit: "s", step: "any", help: "gap between the probes of a round" },
  max_hops: { key: "max_hops", label: "Max hops", kind: "int" },
  first_ttl: { key: "first_ttl", label: "First TTL", kind: "int" },
  dns: { key: "dns", label: "Resolve host names", kind: "bool" },
  final_hop_only: { key: "final_hop_only", label: "Final hop only", kind: "bool", help: "probe the destination alone, no per-hop trace" },
  pmtu: { key: "pmtu", label: "Path MTU discovery", kind: "bool", help: "at start, every 10 minutes and after a route change: the path MTU and the hop where larger packets stop" },
  tos: { key: "tos", label: "DSCP/ECN (TOS)", kind: "text", help: "marks the probes: a TOS byte (184) or EF, AF41+ECT(0)…; with raw sockets the hops' DSCP and ECN show who re-marks them" },
  alert_loss_pct: { key: "alert_loss_pct", label: "Alert when loss ≥", kind: "number", unit: "%", step: "any", help: "0 turns it off" },
  alert_latency_ms: { key: "alert_latency_ms", label: "Alert when latency ≥", kind: "number", unit: "ms", step: "any", help: "0 turns it off" },
  alert_window: { key: "alert_window", label: "Alert window", kind: "int", unit: "probes" },
  history: { key: "history", label: "History", kind: "int", unit: "rounds", help: "samples kept per hop" },
  webhook_url: { key: "webhook_url", label: "Webhook URL", kind: "text", help: "http(s) URL that gets a JSON POST when an alert raises or clears" },
  email_to: { key: "email_to", label: "E-mail alerts to", kind: "text", help: "addresses separated by commas; a message on every alert raise and clear" },
  email_from: { key: "email_from", label: "E-mail from", kind: "text", help: "empty: pingerplot@ this host" },
  smtp_server: { key: "smtp_server", label: "SMTP server", kind: "text", help: "host or host:port (587 STARTTLS, 465 TLS, 25 none)" },
  smtp_tls: { key: "smtp_tls", label: "SMTP encryption", kind: "choice", choices: ["starttls", "tls", "none"], help: "starttls: upgrade after connecting; tls: from the first byte" },
  smtp_user: { key: "smtp_user", label: "SMTP user", kind: "text", help: "empty: no login" },
  smtp_password_env: { key: "smtp_password_env", label: "Password variable", kind: "text", help: "environment variable holding the password" },
  smtp_password_file: { key: "smtp_password_file", label: "Password file", kind: "text", help: "file whose first line is the password" },
  smtp_password: { key: "smtp_password", label: "SMTP password", kind: "text", help: "kept in the settings file; prefer a variable or a file" },
  smtp_ca_file: { key: "smtp_ca_file", label: "CA file (PEM)", kind: "text", help: "for a server whose certificate comes from a private CA" },
  smtp_allow_clear_auth: { key: "smtp_allow_clear_auth", label: "Allow the password without TLS", kind: "bool", help: "only for a trusted path: anyone on it could read the password" },
  log_path: { key: "log_path", label: "CSV log path", kind: "text", help: "empty: no probe log" },
  log_max_bytes: { key: "log_max_bytes", label: "Log size cap", kind: "number", unit: "MB", scale: 1e6, step: "any", help: "per file; 0 is the default cap" },
  log_max_files: { key: "log_max_files", label: "Log files kept", kind: "int", help: "0 is the default" },
};

/** Takes the server's option table: each field's range, the built-in
 * defaults and the modes that use a key. Keys the page has no field for
 * are skipped; a field the server does not list keeps no bounds (the
 * server still checks it). */
export function useOptions(specs: OptionSpec[]): void {
  for (const o of specs) {
    if (o.default !== null && o.default !== undefined) BUILTIN[o.key] = o.default;
    if (o.key === "port") Object.assign(DEFAULT_PORT, o.default_by_mode ?? {});
    const f = FIELDS[o.key];
    if (!f) continue;
    f.min = o.min;
    f.max = o.max;
    f.minOpen = o.min_open;
    f.zero = o.zero;
    f.atMost = o.at_most;
    f.modes = o.modes;
    f.choices = o.choices;
  }
}

/** The mode in effect in s. */
export function modeOf(s: Settings): Mode {
  return (s.mode ?? BUILTIN.mode ?? "icmp") as Mode;
}

/** Whether probes of mode use key (the port: UDP and TCP only). */
export function usedBy(key: string, mode: string): boolean {
  const m = FIELDS[key]?.modes;
  return !m || m.includes(mode);
}

/** The value in effect for key: from s, else the built-in default. */
export function effective(s: Settings, key: string): unknown {
  if (s[key] !== undefined && s[key] !== null) return s[key];
  if (key === "port") return DEFAULT_PORT[modeOf(s)] ?? 0;
  return BUILTIN[key];
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
      const shown = (x: number) => `${+(x / (f.scale ?? 1)).toPrecision(12)}${f.unit ? " " + f.unit : ""}`;
      if (f.zero && v === 0) break;
      if (f.min != null && (v < f.min || (f.minOpen && v === f.min))) {
        if (f.zero) return `must be 0 (${f.zero}) or at least ${shown(f.min)}`;
        return f.minOpen ? `must be more than ${shown(f.min)}` : `must be at least ${shown(f.min)}`;
      }
      if (f.max != null && v > f.max) return `must be at most ${shown(f.max)}`;
      break;
    }
    case "choice":
    case "mode":
      if (f.choices && !f.choices.includes(String(v))) return `choose ${f.choices.map((c) => c.toUpperCase()).join(", ")}`;
      break;
  }
  if (f.atMost && typeof v === "number") {
    const lim = effective(all, f.atMost);
    if (typeof lim === "number" && v > lim) return `must not be above ${FIELDS[f.atMost]?.label.toLowerCase() ?? f.atMost} (${lim})`;
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

/** Prepares settings to send: a key only goes with the modes that use it
 * (the server refuses a port on ICMP probes). */
export function forSending(s: Settings): Settings {
  const out: Settings = { ...s };
  const mode = modeOf(out);
  for (const key of Object.keys(out)) if (!usedBy(key, mode)) delete out[key];
  if (typeof out.webhook_url === "string") out.webhook_url = out.webhook_url.trim();
  if (typeof out.log_path === "string") out.log_path = out.log_path.trim();
  for (const key of EMAIL_KEYS) {
    const v = out[key];
    if (typeof v === "string" && key !== "smtp_password") out[key] = v.trim();
  }
  return out;
}

/** The e-mail alert keys, in the order the dialogs show them. */
export const EMAIL_KEYS = ["email_to", "email_from", "smtp_server", "smtp_tls", "smtp_user", "smtp_password_env",
  "smtp_password_file", "smtp_password", "smtp_ca_file", "smtp_allow_clear_auth"];
