// The red alert banner: shown while any target is in alert, naming each
// target and its condition. Clicking a name selects that target.

import type { Actions } from "../actions";
import { h } from "../dom";
import { ms, pct } from "../format";
import type { Store } from "../store";
import type { TargetSummary } from "../types";

export class Banner {
  private lastKey = "";

  constructor(private readonly el: HTMLElement, private readonly store: Store, private readonly act: Actions) {}

  render(): void {
    const alerting = this.store.alerting();
    const parts = alerting.map((t) => ({ id: t.id, text: describe(t) }));
    const key = JSON.stringify(parts);
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.el.hidden = alerting.length === 0;
    document.title = alerting.length ? `⚠ ${alerting.length} alert${alerting.length > 1 ? "s" : ""} · PingerPlot` : "PingerPlot";
    if (!alerting.length) {
      this.el.textContent = "";
      return;
    }
    const list = h("span", { class: "banner-list" });
    parts.forEach((p, i) => {
      if (i) list.append(h("span", { class: "banner-sep", text: " · " }));
      list.append(h("button", {
        class: "banner-target", type: "button", "data-testid": "alert-banner-target", "data-target-id": p.id,
        onclick: () => this.act.selectTarget(p.id),
      }, h("strong", { text: p.id }), ` ${p.text}`));
    });
    this.el.replaceChildren(h("span", { class: "banner-icon", "aria-hidden": "true", text: "⚠" }),
      h("span", { class: "banner-label", text: "ALERT" }), list);
  }
}

/** "packet loss 35 % ≥ 20 %, latency 312 ms ≥ 250 ms (last 20 probes)" */
export function describe(t: TargetSummary): string {
  const d = t.dest;
  const s = t.settings ?? {};
  const active = d?.active && d.active.length ? d.active : [];
  const conds: string[] = [];
  for (const c of active) {
    if (c === "loss") conds.push(`packet loss ${pct(d!.loss_pct)} % ≥ ${s.alert_loss_pct ?? "?"} %`);
    else if (c === "latency") conds.push(`latency ${ms(d!.latency_ms)} ms ≥ ${s.alert_latency_ms ?? "?"} ms`);
    else if (c === "closed") conds.push(`port ${s.port ?? "?"} closed: every connection refused`);
    else conds.push(String(c));
  }
  if (!conds.length) conds.push("destination degraded");
  return `${conds.join(", ")}${s.alert_window ? ` (last ${s.alert_window} probes)` : ""}`;
}
