// The Overview graph: one hop's RTT over time with uPlot, a filled area
// under the line and red ticks where probes were lost. Data comes from the
// client-side ring; appending a round is a setData of the visible span.

import uPlot from "uplot";
import { clock, ms } from "../format";
import type { Ring } from "../history";
import { FONT, palette } from "../theme";

export class LatencyChart {
  private u: uPlot | null = null;
  private lost: number[] = [];
  private zoomed = false;
  private readonly ro: ResizeObserver;
  private data: uPlot.AlignedData = [[], []];

  constructor(private readonly host: HTMLElement, private readonly readout: HTMLElement) {
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
        x: { time: true },
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
        draw: [(u) => this.drawLost(u, p.bad)],
        setCursor: [(u) => this.showCursor(u)],
        setSelect: [(u) => {
          if (u.select.width > 0) this.zoomed = true;
        }],
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

  /** Shows the samples of ring at or after t0 (all of them when t0 is
   * -Infinity); null clears the graph. */
  update(ring: Ring | null, t0: number): void {
    const d = ring ? ring.since(t0) : { t: [], rtt: [], lost: [] };
    this.lost = d.lost;
    this.data = [d.t, d.rtt];
    if (!this.u) {
      this.create();
      return;
    }
    this.u.setData(this.data, !this.zoomed);
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
    this.readout.textContent = `${clock(new Date(t * 1000))}  ${v == null ? "lost" : ms(v) + " ms"}`;
  }

  private showLast(): void {
    const t = this.data[0];
    if (!t.length) {
      this.readout.textContent = "";
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
    const s = clock(new Date(t * 1000));
    return incr >= 60 ? s.slice(0, 5) : s;
  });
}
