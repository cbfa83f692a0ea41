// The Targets grid: one row per target, updated in place as rounds come.
// Click or Enter selects; right-click, the context-menu key or Shift+F10
// opens the target menu; arrow keys move between rows.

import type { Actions } from "../actions";
import { h, rovingTabStop, setClass, setText } from "../dom";
import { mos, mosClass, ms, pct } from "../format";
import { latencyLevel, lossLevel } from "../judge";
import type { Store } from "../store";
import type { TargetSummary } from "../types";
import { brief, isProblem } from "./diagnosis";

const STATE_LABEL: Record<string, string> = {
  running: "running",
  paused: "paused",
  alert: "alert",
  "no-answer": "no answer",
  "cannot-send": "cannot send",
  closed: "port closed",
};

interface Row {
  tr: HTMLTableRowElement;
  name: HTMLElement;
  hops: HTMLElement;
  loss: HTMLElement;
  lat: HTMLElement;
  mos: HTMLElement;
  state: HTMLElement;
  diag: HTMLElement;
}

export class TargetGrid {
  private rows = new Map<string, Row>();
  private readonly tbody: HTMLTableSectionElement;

  constructor(private readonly root: HTMLElement, private readonly empty: HTMLElement, private readonly store: Store, private readonly act: Actions) {
    this.tbody = root.querySelector("tbody")!;
    this.tbody.addEventListener("click", (e) => {
      const id = this.rowId(e.target);
      if (id) act.selectTarget(id);
    });
    this.tbody.addEventListener("contextmenu", (e) => {
      const id = this.rowId(e.target);
      if (!id) return;
      e.preventDefault();
      act.selectTarget(id);
      act.targetMenu(id, e.clientX, e.clientY, this.rows.get(id)!.tr);
    });
    this.tbody.addEventListener("keydown", (e) => this.key(e));
    this.tbody.addEventListener("focusin", (e) => {
      const tr = (e.target as Element).closest("tr");
      if (tr) rovingTabStop(this.tbody, tr);
    });
  }

  private rowId(t: EventTarget | null): string | null {
    const tr = (t as Element | null)?.closest?.("tr[data-target-id]");
    return tr ? tr.getAttribute("data-target-id") : null;
  }

  private key(e: KeyboardEvent): void {
    const id = this.rowId(e.target);
    if (!id) return;
    const tr = this.rows.get(id)!.tr;
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      this.act.selectTarget(id);
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const next = (e.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling) as HTMLElement | null;
      if (next) {
        next.focus();
        this.act.selectTarget(next.getAttribute("data-target-id")!);
      }
    } else if (e.key === "ContextMenu" || (e.key === "F10" && e.shiftKey)) {
      e.preventDefault();
      const r = tr.getBoundingClientRect();
      this.act.targetMenu(id, r.left + 24, r.bottom, tr);
    } else if (e.key === "Delete") {
      e.preventDefault();
      this.act.remove(id);
    }
  }

  render(): void {
    const { store } = this;
    const seen = new Set<string>();
    let prev: HTMLTableRowElement | null = null;
    for (const id of store.order) {
      const t = store.targets.get(id);
      if (!t) continue;
      seen.add(id);
      let row = this.rows.get(id);
      if (!row) {
        row = this.makeRow(id);
        this.rows.set(id, row);
      }
      // keep DOM order = server order without re-inserting rows that are in place
      const want: ChildNode | null = prev ? prev.nextSibling : this.tbody.firstChild;
      if (want !== row.tr) this.tbody.insertBefore(row.tr, want);
      prev = row.tr;
      this.fill(row, t);
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.tr.remove();
        this.rows.delete(id);
      }
    }
    const sel = store.selectedId ? this.rows.get(store.selectedId)?.tr ?? null : null;
    if (!this.tbody.contains(document.activeElement)) rovingTabStop(this.tbody, sel);
    this.empty.hidden = store.order.length > 0;
    this.root.hidden = store.order.length === 0;
  }

  focusSelected(): void {
    const id = this.store.selectedId;
    if (id) this.rows.get(id)?.tr.focus();
  }

  private makeRow(id: string): Row {
    const cell = (cls: string, testid: string) => h("td", { class: cls, "data-testid": testid });
    const name = cell("name", "target-name");
    const hops = cell("num", "target-hops");
    const loss = cell("num", "target-loss");
    const lat = cell("num", "target-latency");
    const mosC = cell("num", "target-mos");
    const state = cell("state", "target-state");
    const diag = cell("diagnosis", "target-diagnosis");
    const tr = h("tr", { "data-testid": "target-row", "data-target-id": id, tabindex: -1, "aria-selected": "false" },
      name, hops, loss, lat, mosC, state, diag);
    return { tr, name, hops, loss, lat, mos: mosC, state, diag };
  }

  private fill(r: Row, t: TargetSummary): void {
    const sel = t.id === this.store.selectedId;
    r.tr.setAttribute("aria-selected", String(sel));
    setClass(r.tr, "selected", sel);
    r.tr.dataset.state = t.state;
    setText(r.name, t.id);
    r.name.title = t.host === t.id ? (t.addr || t.host) : `${t.host} (${t.addr || "unresolved"})`;
    setText(r.hops, t.hops ? String(t.hops) : "–");
    const d = t.dest;
    const s = t.settings ?? {};
    setText(r.loss, d ? pct(d.loss_pct) : "–");
    r.loss.dataset.level = d ? lossLevel(d.loss_pct, s) : "";
    setText(r.lat, d ? ms(d.latency_ms) : "–");
    r.lat.dataset.level = d ? latencyLevel(d.latency_ms, s) : "";
    setText(r.mos, d ? mos(d.mos) : "–");
    r.mos.className = `num ${d ? mosClass(d.mos) : ""}`;
    setText(r.state, STATE_LABEL[t.state] ?? t.state);
    const dg = t.diagnosis;
    setText(r.diag, brief(dg));
    r.diag.title = dg ? `${dg.text} (${dg.confidence} confidence)` : "no diagnosis yet";
    r.diag.dataset.what = dg?.what ?? "";
    r.diag.dataset.problem = String(isProblem(dg));
  }
}
