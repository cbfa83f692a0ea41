// Timeline tab: every hop as a strip of bars on one shared time axis and
// one shared latency scale, so a latency step shows as the row where the
// bars get tall. One canvas the size of the viewport, sticky inside a
// scrolling box whose height is that of all strips: only the visible
// strips are drawn, and the binned data is cached between scrolls.
// A past window bins the history's time steps instead of the rings; route
// changes and alerts are markers; with a history, dragging across the
// strips opens that span as a window.

import type { Actions } from "../actions";
import { clock, dateTime, ms } from "../format";
import type { Ring } from "../history";
import { drawMarkers, markerAt, markersOf, type Marker } from "../markers";
import type { Store } from "../store";
import type { WindowSeries } from "../types";
import { FONT, palette, type Palette } from "../theme";
import { niceMax } from "./latencyChart";

const LABEL_W = 220;
const PAD_R = 12;
const STRIP_H = 30;
const AXIS_H = 22;
const TOP_H = 4;

interface Strip {
  ttl: number;
  label: string;
  silent: boolean;
  dest: boolean;
}

export class Timeline {
  private readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private readonly spacer: HTMLElement;
  private strips: Strip[] = [];
  private rings: (Ring | null)[] = [];
  // bins[s * ncols + c]: the highest RTT in column c of strip s (NaN: none)
  private bins = new Float32Array(0);
  // lost[s * ncols + c]: lost probes in the column
  private lost = new Uint16Array(0);
  private ncols = 0;
  // width in pixels of one probe interval: bars are at least this wide so
  // consecutive probes touch instead of leaving empty columns between them
  private probeW = 1;
  private t0 = 0;
  private t1 = 0;
  private scaleMax = 10;
  private width = 0;
  private height = 0;
  private dpr = 1;
  private pal: Palette | null = null;
  private dirty = true;
  private queued = false;
  private hover: { x: number; y: number } | null = null;
  // a past window's series by strip (null: live, the rings)
  private series: (WindowSeries | null)[] | null = null;
  private markers: Marker[] = [];
  // a drag across the plot: where it started and where it is now (CSS px)
  private drag: { x0: number; x1: number } | null = null;

  constructor(
    private readonly scroller: HTMLElement,
    private readonly readout: HTMLElement,
    private readonly scaleLabel: HTMLElement,
    private readonly store: Store,
    act: Actions,
  ) {
    this.canvas = scroller.querySelector("canvas")!;
    this.ctx = this.canvas.getContext("2d")!;
    this.spacer = scroller.querySelector(".tl-spacer")!;
    new ResizeObserver(() => this.resize()).observe(scroller);
    scroller.addEventListener("scroll", () => this.schedule(false), { passive: true });
    this.canvas.addEventListener("mousemove", (e) => {
      this.hover = { x: e.offsetX, y: e.offsetY };
      if (this.drag) {
        this.drag.x1 = Math.max(LABEL_W, Math.min(LABEL_W + this.plotW(), e.offsetX));
        this.schedule(false);
      }
      this.showHover();
    });
    this.canvas.addEventListener("mouseleave", () => {
      this.hover = null;
      this.readout.textContent = "";
    });
    this.canvas.addEventListener("mousedown", (e) => {
      if (e.button !== 0 || !store.historyOn || e.offsetX < LABEL_W || !this.ncols) return;
      this.drag = { x0: e.offsetX, x1: e.offsetX };
    });
    window.addEventListener("mouseup", () => {
      const d = this.drag;
      if (!d) return;
      this.drag = null;
      this.schedule(false);
      if (Math.abs(d.x1 - d.x0) < 4) return; // a click
      this.dragged = true;
      const a = this.timeAt(Math.min(d.x0, d.x1));
      const b = this.timeAt(Math.max(d.x0, d.x1));
      if (b - a >= 1) act.zoom(a, b);
    });
    this.canvas.addEventListener("click", (e) => {
      if (this.dragged) {
        this.dragged = false;
        return;
      }
      const s = this.stripAt(e.offsetY);
      if (s) act.selectHop(s.ttl);
    });
    this.watchDPR();
  }

  private watchDPR(): void {
    const mq = matchMedia(`(resolution: ${devicePixelRatio || 1}dppx)`);
    mq.addEventListener("change", () => {
      this.resize();
      this.watchDPR();
    }, { once: true });
  }

  themeChanged(): void {
    this.pal = null;
    this.schedule(false);
  }

  /** Marks the data changed; redraws on the next frame if visible. */
  update(): void {
    this.schedule(true);
  }

  private schedule(dataChanged: boolean): void {
    if (dataChanged) this.dirty = true;
    if (this.queued) return;
    this.queued = true;
    requestAnimationFrame(() => {
      this.queued = false;
      if (this.scroller.clientWidth === 0) return; // hidden tab
      if (this.dirty) this.rebin();
      this.draw();
    });
  }

  private resize(): void {
    const w = this.scroller.clientWidth;
    const hgt = this.scroller.clientHeight;
    if (w === 0 || hgt === 0) return;
    this.dpr = devicePixelRatio || 1;
    this.width = w;
    this.height = hgt;
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${hgt}px`;
    this.canvas.width = Math.round(w * this.dpr);
    this.canvas.height = Math.round(hgt * this.dpr);
    this.schedule(true);
  }

  private dragged = false;

  private timeAt(x: number): number {
    return this.t0 + ((x - LABEL_W) / this.plotW()) * (this.t1 - this.t0);
  }

  private plotW(): number {
    return Math.max(10, this.width - LABEL_W - PAD_R);
  }

  /** Gathers strips and bins every hop's samples into pixel columns. */
  private rebin(): void {
    this.dirty = false;
    const { store } = this;
    const hist = store.history && store.history.targetId === store.selectedId ? store.history : null;
    const hops = store.detail && store.detail.id === store.selectedId ? store.detail.hops : [];
    this.strips = hops.map((hp) => ({
      ttl: hp.ttl,
      label: hp.addr ? (hp.host && hp.host !== hp.addr ? hp.host : hp.addr) : "???",
      silent: hp.recv === 0,
      dest: hp.destination,
    }));
    if (hist) {
      // hops the stream has shown but the last detail fetch has not
      const known = new Set(this.strips.map((s) => s.ttl));
      for (const ttl of [...hist.hops.keys()].sort((a, b) => a - b)) {
        if (!known.has(ttl)) this.strips.push({ ttl, label: "…", silent: false, dest: false });
      }
      this.strips.sort((a, b) => a.ttl - b.ttl);
    }
    const win = store.view && store.win && store.win.id === store.selectedId ? store.win : null;
    this.rings = win ? this.strips.map(() => null) : this.strips.map((s) => hist?.hops.get(s.ttl) ?? null);
    this.series = win ? this.strips.map((s) => win.series.find((x) => x.ttl === s.ttl) ?? null) : null;
    this.markers = win ? markersOf(win.events, win.id) : markersOf(store.events, store.selectedId);
    this.spacer.style.height = `${Math.max(0, TOP_H + this.strips.length * STRIP_H + AXIS_H - this.height)}px`;
    this.canvas.dataset.markers = String(this.markers.length);
    if (win) {
      this.rebinWindow(Date.parse(win.from) / 1000, Date.parse(win.to) / 1000, win.step);
      return;
    }

    const [lo, hi] = hist && !store.view ? hist.span() : [NaN, NaN];
    const interval = store.selected()?.settings?.interval || 1;
    if (!Number.isFinite(hi)) {
      this.ncols = 0;
      return;
    }
    // the history there is, at least ten intervals, at most the chosen
    // span: the same window as the Overview graph, so a short history is
    // not squeezed into the right edge
    const have = Math.max(hi - lo, interval * 10);
    const span = store.span > 0 ? Math.min(store.span, have) : have;
    this.t1 = hi + interval / 2;
    this.t0 = this.t1 - span;
    const plotW = this.plotW();
    const ncols = Math.max(1, Math.floor(plotW));
    this.ncols = ncols;
    this.probeW = (interval / span) * plotW;
    const n = this.strips.length * ncols;
    if (this.bins.length < n) {
      this.bins = new Float32Array(n);
      this.lost = new Uint16Array(n);
    }
    this.bins.fill(NaN, 0, n);
    this.lost.fill(0, 0, n);
    const k = ncols / (this.t1 - this.t0);
    const colMaxes: number[] = [];
    this.rings.forEach((r, s) => {
      if (!r) return;
      const base = s * ncols;
      for (let j = r.lowerBound(this.t0); j < r.length; j++) {
        const i = r.at(j);
        const c = Math.min(ncols - 1, Math.floor((r.t[i] - this.t0) * k));
        if (c < 0) continue;
        const v = r.rtt[i];
        if (Number.isNaN(v)) this.lost[base + c]++;
        else if (!(this.bins[base + c] >= v)) this.bins[base + c] = v;
      }
      if (this.strips[s].silent) return;
      for (let c = 0; c < ncols; c++) {
        const v = this.bins[base + c];
        if (!Number.isNaN(v)) colMaxes.push(v);
      }
    });
    // the shared scale: the 99th percentile of the column peaks, so one
    // spike does not flatten every strip (taller bars are clipped and capped)
    if (colMaxes.length) {
      const sorted = Float64Array.from(colMaxes).sort();
      const p = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))];
      this.scaleMax = niceMax(p);
    }
  }

  /** Bins a past window's time steps into pixel columns: a column's bar
   * is the highest RTT of its steps, its loss the probes they lost. */
  private rebinWindow(from: number, to: number, step: number): void {
    this.t0 = from;
    this.t1 = to;
    const plotW = this.plotW();
    const ncols = Math.max(1, Math.floor(plotW));
    this.ncols = ncols;
    this.probeW = (step / (to - from)) * plotW;
    const n = this.strips.length * ncols;
    if (this.bins.length < n) {
      this.bins = new Float32Array(n);
      this.lost = new Uint16Array(n);
    }
    this.bins.fill(NaN, 0, n);
    this.lost.fill(0, 0, n);
    const k = ncols / (to - from);
    const colMaxes: number[] = [];
    (this.series ?? []).forEach((sr, s) => {
      if (!sr) return;
      const base = s * ncols;
      for (let i = 0; i < sr.t.length; i++) {
        const c = Math.min(ncols - 1, Math.floor((sr.t[i] - from) * k));
        if (c < 0) continue;
        const v = sr.max_ms[i];
        if (sr.lost[i]) this.lost[base + c] = Math.min(65535, this.lost[base + c] + sr.lost[i]);
        if (v != null && !(this.bins[base + c] >= v)) this.bins[base + c] = v;
      }
      if (this.strips[s].silent) return;
      for (let c = 0; c < ncols; c++) {
        const v = this.bins[base + c];
        if (!Number.isNaN(v)) colMaxes.push(v);
      }
    });
    if (colMaxes.length) {
      const sorted = Float64Array.from(colMaxes).sort();
      this.scaleMax = niceMax(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]);
    }
  }

  private draw(): void {
    const { ctx, dpr } = this;
    const pal = (this.pal ??= palette());
    const W = this.width;
    const H = this.height;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.font = FONT;
    ctx.textBaseline = "middle";
    this.scaleLabel.textContent = this.ncols ? `bar height: 0 – ${this.scaleMax} ms (shared by every hop)` : "";
    if (!this.strips.length) {
      ctx.fillStyle = pal.muted;
      ctx.fillText("No hops yet", 12, 20);
      return;
    }
    const plotX = LABEL_W;
    const plotW = this.plotW();
    const areaH = H - AXIS_H;
    const scroll = this.scroller.scrollTop;
    const first = Math.max(0, Math.floor((scroll - TOP_H) / STRIP_H));
    const last = Math.min(this.strips.length - 1, Math.floor((scroll + areaH - TOP_H) / STRIP_H));
    const ticks = this.ticks(plotW);
    const graphTTL = this.store.graphTTL();

    ctx.save();
    ctx.beginPath();
    ctx.rect(0, 0, W, areaH);
    ctx.clip();
    for (let s = first; s <= last; s++) {
      const strip = this.strips[s];
      const y = TOP_H + s * STRIP_H - scroll;
      if (s % 2 === 1) {
        ctx.fillStyle = pal.grid;
        ctx.globalAlpha = 0.35;
        ctx.fillRect(0, y, W, STRIP_H);
        ctx.globalAlpha = 1;
      }
      if (strip.ttl === graphTTL) {
        ctx.fillStyle = pal.accent;
        ctx.fillRect(0, y + 2, 3, STRIP_H - 4);
      }
      // label
      ctx.fillStyle = pal.muted;
      ctx.textAlign = "right";
      ctx.fillText(String(strip.ttl), 26, y + STRIP_H / 2);
      ctx.textAlign = "left";
      ctx.fillStyle = strip.silent ? pal.muted : pal.text;
      ctx.fillText(fit(ctx, strip.label, LABEL_W - 44), 34, y + STRIP_H / 2);
      // baseline
      ctx.fillStyle = pal.grid;
      ctx.fillRect(plotX, y + STRIP_H - 3, plotW, 1);
      this.drawBars(s, plotX, plotW, y, pal);
    }
    // tick lines over all strips
    ctx.fillStyle = pal.grid;
    ctx.globalAlpha = 0.6;
    for (const t of ticks) ctx.fillRect(Math.round(t.x), 0, 1, areaH);
    ctx.globalAlpha = 1;
    if (this.ncols) {
      const span = this.t1 - this.t0;
      drawMarkers(ctx, this.markers, pal, (t) => plotX + ((t - this.t0) / span) * plotW, plotX, plotX + plotW, 0, areaH);
    }
    if (this.drag) {
      ctx.fillStyle = pal.accentFill;
      const a = Math.min(this.drag.x0, this.drag.x1);
      ctx.fillRect(a, 0, Math.abs(this.drag.x1 - this.drag.x0), areaH);
    }
    ctx.restore();

    // time axis, fixed at the bottom
    ctx.fillStyle = pal.panel;
    ctx.fillRect(0, areaH, W, AXIS_H);
    ctx.fillStyle = pal.grid;
    ctx.fillRect(plotX, areaH, plotW, 1);
    ctx.fillStyle = pal.muted;
    ctx.textAlign = "center";
    for (const t of ticks) {
      ctx.fillRect(Math.round(t.x), areaH, 1, 4);
      ctx.fillText(t.label, t.x, areaH + AXIS_H / 2 + 2);
    }
    ctx.textAlign = "left";
  }

  private drawBars(s: number, plotX: number, plotW: number, y: number, pal: Palette): void {
    const { ctx, ncols } = this;
    if (!ncols) return;
    const base = s * ncols;
    const colW = plotW / ncols;
    const w = Math.max(colW, this.probeW);
    const barW = w > 4 ? w - 1 : w;
    const maxH = STRIP_H - 7;
    const bottom = y + STRIP_H - 3;
    const silent = this.strips[s].silent;
    ctx.fillStyle = pal.accent;
    ctx.beginPath();
    let clipped = false;
    for (let c = 0; c < ncols; c++) {
      const v = this.bins[base + c];
      if (Number.isNaN(v)) continue;
      const f = v / this.scaleMax;
      if (f > 1) clipped = true;
      const hgt = Math.max(1, Math.min(1, f) * maxH);
      ctx.rect(plotX + c * colW, bottom - hgt, barW, hgt);
    }
    ctx.fill();
    if (clipped) {
      ctx.fillStyle = pal.warn;
      ctx.beginPath();
      for (let c = 0; c < ncols; c++) {
        const v = this.bins[base + c];
        if (v > this.scaleMax) ctx.rect(plotX + c * colW, bottom - maxH - 2, barW, 2);
      }
      ctx.fill();
    }
    ctx.fillStyle = silent ? pal.muted : pal.bad;
    ctx.globalAlpha = silent ? 0.35 : 0.85;
    ctx.beginPath();
    for (let c = 0; c < ncols; c++) {
      if (this.lost[base + c]) ctx.rect(plotX + c * colW, y + 3, Math.max(barW, 1.5), STRIP_H - 6);
    }
    ctx.fill();
    ctx.globalAlpha = 1;
  }

  private ticks(plotW: number): { x: number; label: string }[] {
    if (!this.ncols) return [];
    const span = this.t1 - this.t0;
    const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
    const step = steps.find((st) => (st / span) * plotW >= 90) ?? 86400;
    const out: { x: number; label: string }[] = [];
    const tz = new Date().getTimezoneOffset() * 60; // ticks on local round times
    for (let t = Math.ceil((this.t0 - tz) / step) * step + tz; t <= this.t1; t += step) {
      const x = LABEL_W + ((t - this.t0) / span) * plotW;
      const d = new Date(t * 1000);
      const label = step >= 86400 ? `${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}` : clock(d);
      out.push({ x, label: step >= 60 && step < 86400 ? label.slice(0, 5) : label });
    }
    return out;
  }

  private stripAt(offsetY: number): Strip | null {
    if (offsetY > this.height - AXIS_H) return null;
    const s = Math.floor((offsetY + this.scroller.scrollTop - TOP_H) / STRIP_H);
    return this.strips[s] ?? null;
  }

  private showHover(): void {
    const hv = this.hover;
    if (!hv || !this.ncols) return;
    const strip = this.stripAt(hv.y);
    if (!strip || hv.x < LABEL_W) {
      this.readout.textContent = strip ? `hop ${strip.ttl}  ${strip.label}` : "";
      return;
    }
    const t = this.timeAt(hv.x);
    const span = this.t1 - this.t0;
    const m = markerAt(this.markers, (x) => LABEL_W + ((x - this.t0) / span) * this.plotW(), hv.x);
    if (m) {
      this.readout.textContent = `${clock(new Date(m.t * 1000))}  ${m.text}`;
      return;
    }
    if (this.series) {
      const sr = this.series[this.strips.indexOf(strip)];
      let text = `hop ${strip.ttl}  ${dateTime(new Date(t * 1000))}`;
      if (sr && sr.t.length) {
        let i = 0;
        while (i + 1 < sr.t.length && sr.t[i + 1] <= t) i++;
        const avg = sr.avg_ms[i];
        text += sr.sent[i] ? `  ${avg == null ? "all lost" : "avg " + ms(avg) + " ms"}${sr.lost[i] ? `  lost ${sr.lost[i]}/${sr.sent[i]}` : ""}` : "  no record";
      }
      this.readout.textContent = text;
      return;
    }
    const r = this.rings[this.strips.indexOf(strip)];
    let text = `hop ${strip.ttl}  ${clock(new Date(t * 1000))}`;
    if (r && r.length) {
      let j = r.lowerBound(t);
      if (j >= r.length) j = r.length - 1;
      if (j > 0 && Math.abs(r.t[r.at(j - 1)] - t) < Math.abs(r.t[r.at(j)] - t)) j--;
      const v = r.rtt[r.at(j)];
      text = `hop ${strip.ttl}  ${clock(new Date(r.t[r.at(j)] * 1000))}  ${Number.isNaN(v) ? "lost" : ms(v) + " ms"}`;
    }
    this.readout.textContent = text;
  }
}

function fit(ctx: CanvasRenderingContext2D, s: string, w: number): string {
  if (ctx.measureText(s).width <= w) return s;
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ctx.measureText(s.slice(0, mid) + "…").width <= w) lo = mid;
    else hi = mid - 1;
  }
  return s.slice(0, lo) + "…";
}
