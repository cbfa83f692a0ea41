// How bad a number is, for row colours: "bad" (red) at the alert
// thresholds, "warn" (amber) below them. A threshold of 0 is off and falls
// back to a fixed level so rows still colour.

import type { Hop, Settings } from "./types";

const LOSS_BAD = 10; // % when no loss threshold is set
const LATENCY_BAD = 250; // ms when no latency threshold is set

export type Level = "" | "warn" | "bad";

export function lossLevel(loss: number | null | undefined, s: Settings): Level {
  if (loss == null || loss <= 0) return "";
  const bad = s.alert_loss_pct && s.alert_loss_pct > 0 ? s.alert_loss_pct : LOSS_BAD;
  if (loss >= bad) return "bad";
  // a stray lost probe in hundreds is not worth colour
  return loss >= Math.max(1, bad / 10) ? "warn" : "";
}

export function latencyLevel(v: number | null | undefined, s: Settings): Level {
  if (v == null) return "";
  const bad = s.alert_latency_ms && s.alert_latency_ms > 0 ? s.alert_latency_ms : LATENCY_BAD;
  if (v >= bad) return "bad";
  if (v >= bad / 2) return "warn";
  return "";
}

export function worst(a: Level, b: Level): Level {
  if (a === "bad" || b === "bad") return "bad";
  if (a === "warn" || b === "warn") return "warn";
  return "";
}

/** A hop's row level. A hop that never answers is not coloured unless it
 * is the destination: routers that stay silent are normal. */
export function hopLevel(h: Hop, s: Settings): Level {
  if (h.recv === 0 && !h.destination) return "";
  return worst(lossLevel(h.loss_pct, s), latencyLevel(h.avg_ms, s));
}
