// Paths tab: ECMP flow enumeration (docs/flows.md). One column per
// distinct path the target's flows took, side by side: its share of the
// flows, each hop's address, loss and average RTT, and a LOSSY mark on the
// path whose destination loss stands out. The target's own table (flow 0)
// stays in the Overview tab.

import { h, setText } from "../dom";
import { ms, pct } from "../format";
import type { FlowPath, FlowsAnswer } from "../types";

export class PathsView {
  constructor(
    private readonly summary: HTMLElement,
    private readonly note: HTMLElement,
    private readonly columns: HTMLElement,
  ) {}

  /** Shows a target's answer; null: no target selected. */
  render(f: FlowsAnswer | null): void {
    let note = "";
    if (!f) note = "Select a target to see the paths its flows take.";
    else if (!f.enabled) note = "Flow enumeration is off for this target: set “flows” (e.g. 16) in its settings to probe several flows each round and see every equal-cost path.";
    else if (f.note) note = f.note;
    else if (f.paths.length === 0) note = "Waiting for the flows' first round…";
    setText(this.note, note);
    this.note.hidden = note === "";
    if (!f || !f.enabled || f.note) {
      setText(this.summary, "");
      this.columns.replaceChildren();
      return;
    }
    const lossy = f.paths.filter((p) => p.lossy).length;
    setText(this.summary,
      `${f.count} flows (differing in the ${f.varies}), ${f.paths.length} distinct path${f.paths.length === 1 ? "" : "s"}` +
      (lossy ? `, ${lossy} lossy` : "") + ` · ${f.rounds} rounds`);
    this.columns.replaceChildren(...f.paths.map((p, i) => column(p, i)));
  }
}

function column(p: FlowPath, i: number): HTMLElement {
  const dest = p.reached ? `destination loss ${pct(p.dest_loss_pct)} %` : "destination not reached";
  const rows = p.hops.map((hp) =>
    h("tr", { "data-testid": "path-hop", class: hp.loss_pct > 0 && hp.addr ? "lossy-hop" : null },
      h("td", { class: "num", text: String(hp.ttl) }),
      h("td", { class: "addr", text: hp.addr || "???", title: hp.host || null }),
      h("td", { class: "num", text: hp.addr ? pct(hp.loss_pct) : "–" }),
      h("td", { class: "num", text: ms(hp.avg_ms) }),
    ));
  return h("section", { class: "path-col", "data-testid": "path-column", "data-lossy": String(p.lossy), "aria-label": `Path ${i + 1}` },
    h("header", { class: "path-head" },
      h("strong", { text: `Path ${i + 1}` }),
      p.lossy ? h("span", { class: "badge lossy", "data-testid": "path-lossy", text: "LOSSY", title: "Its destination loss stands out above the other paths'" }) : null,
      h("div", { class: "path-share", "data-testid": "path-share", text: `${pct(p.share_pct)} % of flows (${p.flows.length})`, title: `flows ${p.flows.join(" ")}` }),
      h("div", { class: "muted", text: dest }),
    ),
    h("table", { class: "grid path-hops" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col", class: "num", text: "#" }),
        h("th", { scope: "col", text: "Address" }),
        h("th", { scope: "col", class: "num", text: "Loss %" }),
        h("th", { scope: "col", class: "num", text: "Avg" }),
      )),
      h("tbody", {}, ...rows),
    ),
  );
}
