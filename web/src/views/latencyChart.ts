// The Overview graph: one hop's RTT over time with uPlot, a filled area
// under the line and red ticks where probes were lost. Live, data comes
// from the client-side ring; appending a round is a setData of the visible
// span. A past window shows the history's time steps (the mean RTT of
// each, red where probes were lost), route changes and alerts as markers.
// With a history, dragging across the graph asks for that span's window.

import uPlot from "uplot";
import { clock, dateTime, ms } from "../format";
import type { Ring } from "../history";
import { drawMarkers, markerAt, type Marker } from "../markers";
import { FONT, palette } from "../theme";
import type { WindowSeries } from "../types";

export interface ChartHooks {
  /** the server keeps a history: a drag opens that span as a window */
  zoomsWindows(): boolean;
  zoom(from: number, to: number): void;
}

export class LatencyChart {
  private u: uPlot | null = null;
  private lost: number[] = [];
  // in a window: probes sent and lost per step, for the readout
  private sent: number[] = [];
  private lostN: number[] = [];
  private markers: Marker[] = [];
  private xRange: [number, number] | null = null;
  private zoomed = false;
  private readonly ro: ResizeObserver;
  private data: uPlot.AlignedData = [[], []];

  constructor(private readonly host: HTMLElement, private readonly readout: HTMLElement, private readonly hooks?: ChartHooks) {
    this.ro = new ResizeObserver(() => this.resize());
    this.ro.observe(host);
    host.addEventListener("dblclick", () => {
      this.zoomed = false;
    });
  }

  /** Rebuilds the chart, e.g. after a theme change. */
  rebuild(): void {
    this.u?.destroy();
    this.u = null;
    this.create();
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(100, this.host.clientWidth), height: Math.max(80, this.host.clientHeight) };
  }

  private create(): void {
    if (this.host.clientWidth === 0) return; // hidden tab: created when shown
    const p = palette();
    const axis: uPlot.Axis = {
      stroke: p.muted,
      font: FONT,
      grid: { stroke: p.grid, width: 1 },
      ticks: { stroke: p.grid, width: 1, size: 4 },
    };
    const opts: uPlot.Options = {
      ...this.size(),
      pxAlign: 0,
      legend: { show: false },
      cursor: { drag: { x: true, y: false, setScale: true }, points: { size: 6 } },
      scales: {
        x: { time: true, range: (_u, min, max) => this.xRange ?? [min, max] },
        y: { range: (_u, _min, max) => [0, niceMax(max)] },
      },
      series: [
        {},
        {
          label: "RTT",
          stroke: p.accent,
          fill: p.accentFill,
          width: 1.5,
          spanGaps: false,
          points: { show: false },
        },
      ],
      axes: [
        { ...axis, space: 70, values: timeLabels, incrs: TIME_INCRS },
        { ...axis, size: 56, values: (_u, vals) => vals.map((v) => `${v} ms`) },
      ],
      hooks: {
        draw: [(u) => {
          this.drawLost(u, p.bad);
          const dpr = devicePixelRatio || 1;
          drawMarkers(u.ctx, this.markers, p, (t) => u.valToPos(t, "x", true), u.bbox.left, u.bbox.left + u.bbox.width,
            u.bbox.top, u.bbox.top + u.bbox.height, dpr);
        }],
        setCursor: [(u) => this.showCursor(u)],
        setSelect: [(u) => this.selected(u)],
      },
    };
    this.u = new uPlot(opts, this.data, this.host);
  }

  private resize(): void {
    if (!this.u) {
      this.create();
      return;
    }
    const s = this.size();
    if (s.width !== this.u.width || s.height !== this.u.height) this.u.setSize(s);
  }

  /** A drag across the graph: with a history it opens that span as a
   * window (the graph itself is not rescaled), else it zooms the graph. */
  private selected(u: uPlot): void {
    if (u.select.width <= 0) return;
    if (this.hooks?.zoomsWindows()) {
      const from = u.posToVal(u.select.left, "x");
      const to = u.posToVal(u.select.left + u.select.width, "x");
      u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
      if (to - from >= 1) this.hooks.zoom(from, to);
      return;
    }
    this.zoomed = true;
  }

  /** Shows the samples of ring at or after t0 (all of them when t0 is
   * -Infinity); null clears the graph. */
  update(ring: Ring | null, t0: number, markers: Marker[] = []): void {
    const d = ring ? ring.since(t0) : { t: [], rtt: [], lost: [] };
    this.lost = d.lost;
    this.sent = [];
    this.lostN = [];
    this.markers = markers;
    this.xRange = null;
    this.data = [d.t, d.rtt];
    this.apply(!this.zoomed);
  }

  /** Shows a past window [from, to): one point per time step of series
   * (its mean RTT, at the step's middle); null: the hop has no steps. */
  showWindow(series: WindowSeries | null, step: number, from: number, to: number, markers: Marker[]): void {
    const t: number[] = [];
    const rtt: (number | null)[] = [];
    this.lost = [];
    this.sent = [];
    this.lostN = [];
    if (series) {
      for (let i = 0; i < series.t.length; i++) {
        if (series.sent[i] === 0) continue; // no round in the step: a gap, not a loss
        const mid = series.t[i] + step / 2;
        t.push(mid);
        rtt.push(series.avg_ms[i]);
        this.sent.push(series.sent[i]);
        this.lostN.push(series.lost[i]);
        if (series.lost[i] > 0) this.lost.push(mid);
      }
    }
    this.markers = markers;
    this.xRange = [from, to];
    this.zoomed = false;
    this.data = [t, rtt];
    this.apply(true);
  }

  private apply(resetScales: boolean): void {
    this.host.dataset.points = String(this.data[0].length);
    this.host.dataset.markers = String(this.markers.length);
    if (!this.u) {
      this.create();
      return;
    }
    if (this.hooks) this.u.cursor.drag!.setScale = !this.hooks.zoomsWindows();
    this.u.setData(this.data, resetScales);
    if (!this.u.cursor.left || this.u.cursor.left < 0) this.showLast();
  }

  reset(): void {
    this.zoomed = false;
  }

  private drawLost(u: uPlot, color: string): void {
    if (!this.lost.length) return;
    const { ctx, bbox } = u;
    const dpr = devicePixelRatio || 1;
    const xmin = u.scales.x.min ?? -Infinity;
    const xmax = u.scales.x.max ?? Infinity;
    ctx.save();
    ctx.fillStyle = color;
    const w = Math.max(1, Math.round(dpr));
    const tick = Math.round(8 * dpr);
    ctx.globalAlpha = 0.18;
    for (const t of this.lost) {
      if (t < xmin || t > xmax) continue;
      const x = Math.round(u.valToPos(t, "x", true));
      ctx.fillRect(x, bbox.top, w, bbox.height);
    }
    ctx.globalAlpha = 1;
    for (const t of this.lost) {
      if (t < xmin || t > xmax) continue;
      const x = Math.round(u.valToPos(t, "x", true));
      ctx.fillRect(x - w, bbox.top + bbox.height - tick, w * 2 + 1, tick);
    }
    ctx.restore();
  }

  private showCursor(u: uPlot): void {
    const i = u.cursor.idx;
    if (i == null) {
      this.showLast();
      return;
    }
    const t = u.data[0][i];
    const v = u.data[1][i];
    const m = markerAt(this.markers, (x) => u.valToPos(x, "x"), u.cursor.left ?? -1);
    if (m) {
      this.readout.textContent = `${clock(new Date(m.t * 1000))}  ${m.text}`;
      return;
    }
    if (this.xRange) {
      const n = this.sent[i];
      const lost = this.lostN[i];
      this.readout.textContent = `${dateTime(new Date(t * 1000))}  ${v == null ? "all lost" : "avg " + ms(v) + " ms"}${lost ? `  lost ${lost}/${n}` : ""}`;
      return;
    }
    this.readout.textContent = `${clock(new Date(t * 1000))}  ${v == null ? "lost" : ms(v) + " ms"}`;
  }

  private showLast(): void {
    const t = this.data[0];
    if (!t.length) {
      this.readout.textContent = "";
      return;
    }
    if (this.xRange) {
      const sent = this.sent.reduce((a, b) => a + b, 0);
      const lost = this.lostN.reduce((a, b) => a + b, 0);
      this.readout.textContent = `${sent.toLocaleString("en-US")} probes, ${lost.toLocaleString("en-US")} lost`;
      return;
    }
    const v = this.data[1][t.length - 1];
    this.readout.textContent = `last ${v == null ? "lost" : ms(v) + " ms"}`;
  }
}

/** A round upper bound for a latency axis. */
export function niceMax(max: number | null): number {
  if (max == null || !(max > 0)) return 10;
  const m = max * 1.1;
  const p = Math.pow(10, Math.floor(Math.log10(m)));
  for (const f of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (m <= f * p) return f * p;
  }
  return 10 * p;
}

// whole seconds and round minutes and hours: probes are never closer than 50 ms,
// and sub-second ticks would repeat the same label
const TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** Axis labels in 24-hour local time: seconds only when ticks are closer
 * than a minute. */
function timeLabels(_u: uPlot, splits: number[], _ax: number, _space: number, incr: number): string[] {
  return splits.map((t) => {
    const d = new Date(t * 1000);
    if (incr >= 86400) return `${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    const s = clock(d);
    return incr >= 60 ? s.slice(0, 5) : s;
  });
}
