// Route changes and alerts as markers on the time axis of the latency
// graph and the timeline: a past window's from the history, the live
// view's from the event log.

import type { Palette } from "./theme";
import type { PPEvent } from "./types";

export type MarkerKind = "route" | "alert" | "clear";

export interface Marker {
  /** Unix seconds */
  t: number;
  kind: MarkerKind;
  text: string;
}

const KINDS: Record<string, MarkerKind> = {
  route_change: "route",
  path_length: "route",
  multipath: "route",
  alert_raised: "alert",
  alert_cleared: "clear",
};

/** The markers of target's events, oldest first. */
export function markersOf(events: readonly PPEvent[], target: string | null): Marker[] {
  const out: Marker[] = [];
  for (const e of events) {
    const kind = KINDS[e.kind];
    if (!kind || e.target !== target) continue;
    out.push({ t: Date.parse(e.time) / 1000, kind, text: e.message });
  }
  return out;
}

export function markerColor(kind: MarkerKind, p: Palette): string {
  return kind === "route" ? p.warn : kind === "alert" ? p.bad : p.good;
}

/** Draws the markers as dashed vertical lines with a small flag on top,
 * between x positions left and right; x maps a time to a position. */
export function drawMarkers(ctx: CanvasRenderingContext2D, markers: readonly Marker[], p: Palette,
  x: (t: number) => number, left: number, right: number, top: number, bottom: number, scale = 1): void {
  if (!markers.length) return;
  ctx.save();
  ctx.lineWidth = Math.max(1, Math.round(scale));
  ctx.setLineDash([4 * scale, 3 * scale]);
  for (const m of markers) {
    const px = Math.round(x(m.t)) + 0.5;
    if (!(px >= left && px <= right)) continue;
    const c = markerColor(m.kind, p);
    ctx.strokeStyle = c;
    ctx.beginPath();
    ctx.moveTo(px, top);
    ctx.lineTo(px, bottom);
    ctx.stroke();
    ctx.fillStyle = c;
    ctx.beginPath();
    ctx.moveTo(px, top);
    ctx.lineTo(px + 6 * scale, top + 3 * scale);
    ctx.lineTo(px, top + 6 * scale);
    ctx.fill();
  }
  ctx.restore();
}

/** The marker nearest x within 4 px, for a readout. */
export function markerAt(markers: readonly Marker[], x: (t: number) => number, px: number): Marker | null {
  let best: Marker | null = null;
  let d = 4;
  for (const m of markers) {
    const dd = Math.abs(x(m.t) - px);
    if (dd <= d) {
      d = dd;
      best = m;
    }
  }
  return best;
}
