// The status bar: stream state, the number of targets and alerts, and the
// selected target's destination MOS (the original showed it there).

import { byId, setText } from "../dom";
import { clock, mos, mosClass } from "../format";
import type { Store } from "../store";

export class StatusBar {
  private readonly conn = byId("status-conn");
  private readonly counts = byId("status-counts");
  private readonly mos = byId("status-mos");
  private readonly last = byId("status-last");

  constructor(private readonly store: Store) {}

  render(): void {
    const { store } = this;
    const c = store.conn;
    this.conn.dataset.conn = c;
    setText(this.conn, c === "live" ? "Live" : c === "connecting" ? "Connecting…" : "Reconnecting…");
    const n = store.order.length;
    const a = store.alerting().length;
    setText(this.counts, `${n} target${n === 1 ? "" : "s"}${a ? ` · ${a} in alert` : ""}`);
    const t = store.selected();
    const d = t?.dest;
    if (t && d) {
      setText(this.mos, `${t.id}: MOS ${mos(d.mos)}${d.r != null ? ` (R ${d.r.toFixed(0)})` : ""}`);
      this.mos.className = mosClass(d.mos);
    } else {
      setText(this.mos, "");
    }
    setText(this.last, t?.last ? `last round ${clock(new Date(t.last))}` : "");
  }
}
