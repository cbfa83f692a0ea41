// The status bar: stream state, the number of targets and alerts, the
// selected target's destination MOS (the original showed it there), and
// the updates any subscriber of the monitor failed to take.

import type { Api } from "../api";
import { byId, setText } from "../dom";
import { clock, mos, mosClass } from "../format";
import type { Store } from "../store";
import type { EngineStatus, HistoryStatus } from "../types";

/** How often the engine's drop counts are fetched. */
const statusEvery = 10_000;

export class StatusBar {
  private readonly conn = byId("status-conn");
  private readonly counts = byId("status-counts");
  private readonly mos = byId("status-mos");
  private readonly last = byId("status-last");
  private readonly drops = byId("status-drops");
  private readonly hist = byId("status-history");
  private timer: number | undefined;

  constructor(private readonly store: Store) {}

  /** Fetches GET /api/status now and every statusEvery ms. A failed fetch
   * changes nothing: the stream state already says the server is away. */
  poll(api: Api): void {
    const fetchOnce = () => {
      api.status().then((st) => this.renderDrops(st), () => undefined);
    };
    fetchOnce();
    if (this.timer === undefined) this.timer = window.setInterval(fetchOnce, statusEvery);
  }

  /** Names every subscriber that missed updates, with how many: a log
   * (the recorder) caught them up from the monitor's history or wrote a
   * record_gap event; the page re-fetches what its stream missed. */
  renderDrops(st: EngineStatus): void {
    this.renderHistory(st.history ?? null);
    const parts = st.subscribers.filter((x) => x.dropped > 0).map((x) => `${x.name} ${x.dropped}`);
    if (st.stream.dropped > 0) parts.push(`page stream ${st.stream.dropped}`);
    this.drops.hidden = parts.length === 0;
    setText(this.drops, parts.length ? `updates dropped: ${parts.join(" · ")}` : "");
    this.drops.title = parts.length
      ? "Updates a slow reader could not take. The logs catch them up from the monitor's history, or record a record_gap event when it no longer holds them."
      : "";
  }

  /** The history store's health: its size, and what it could not write
   * yet or gave up. Also tells the page whether past windows exist. */
  private renderHistory(h: HistoryStatus | null): void {
    const on = h != null;
    if (this.store.historyOn !== on) {
      this.store.historyOn = on;
      this.store.emit("view");
    }
    this.hist.hidden = !on;
    if (!h) return;
    const parts = [`history ${bytes(h.bytes)}`];
    if (h.pending > 0) parts.push(`${h.pending} rounds waiting`);
    if (h.lost > 0) parts.push(`${h.lost} rounds lost`);
    if (h.last_error) parts.push(`cannot write: ${h.last_error}`);
    setText(this.hist, parts.join(" · "));
    this.hist.dataset.state = h.last_error || h.lost > 0 ? "bad" : h.pending > 0 ? "warn" : "ok";
    this.hist.title = `The history file ${h.path}: ${h.rounds.toLocaleString("en-US")} rounds (${h.probes.toLocaleString("en-US")} probes) written since start` +
      (h.oldest ? `, the oldest kept from ${new Date(h.oldest).toLocaleString()}` : "") +
      (h.last_error ? `. The last write failed${h.last_error_at ? " at " + clock(new Date(h.last_error_at)) : ""}: probing goes on and the rounds are kept until they can be written.` : ".");
  }

  render(): void {
    const { store } = this;
    const c = store.conn;
    this.conn.dataset.conn = c;
    setText(this.conn, c === "live" ? "Live" : c === "connecting" ? "Connecting…" : "Reconnecting…");
    const n = store.order.length;
    const a = store.alerting().length;
    setText(this.counts, `${n} target${n === 1 ? "" : "s"}${a ? ` · ${a} in alert` : ""}`);
    const t = store.selected();
    // a past window shown: its MOS, not the live one
    const w = store.view && store.win && store.win.id === t?.id ? store.win : null;
    const d = w ? w.dest : t?.dest;
    if (t && d) {
      setText(this.mos, `${t.id}: MOS ${mos(d.mos)}${d.r != null ? ` (R ${d.r.toFixed(0)})` : ""}${w ? " in the window" : ""}`);
      this.mos.className = mosClass(d.mos);
    } else {
      setText(this.mos, "");
    }
    setText(this.last, t?.last ? `last round ${clock(new Date(t.last))}` : "");
  }
}

/** A size in bytes as people read it. */
function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}
