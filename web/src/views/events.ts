// Events tab: the timestamped log, newest first, of every target or only
// the selected one.

import { h } from "../dom";
import { dateTime } from "../format";
import type { Store } from "../store";
import type { PPEvent } from "../types";

const KIND_LABEL: Record<string, string> = {
  route_change: "route change",
  multipath: "multipath",
  path_length: "path length",
  alert_raised: "alert raised",
  alert_cleared: "alert cleared",
  no_answer: "no answer",
  send_failed: "send failed",
  send_resumed: "send resumed",
  settings_changed: "settings",
  paused: "paused",
  resumed: "resumed",
  target_added: "added",
  target_removed: "removed",
  record_error: "record error",
  record_gap: "record gap",
};

/** Rows kept in the DOM; the store keeps MAX_EVENTS. */
const MAX_ROWS = 1000;

export class EventsView {
  private shown = 0; // events of store.events already rendered
  private filterId: string | null = null;

  constructor(
    private readonly tbody: HTMLTableSectionElement,
    private readonly onlySelected: HTMLInputElement,
    private readonly empty: HTMLElement,
    private readonly store: Store,
  ) {
    onlySelected.addEventListener("change", () => this.render(true));
  }

  render(full = false): void {
    const { store } = this;
    const filter = this.onlySelected.checked ? store.selectedId : null;
    if (full || store.eventsReset || filter !== this.filterId || this.shown > store.events.length) {
      store.eventsReset = false;
      this.filterId = filter;
      this.tbody.textContent = "";
      this.shown = 0;
    }
    const frag = document.createDocumentFragment();
    for (let i = store.events.length - 1; i >= this.shown; i--) {
      const e = store.events[i];
      if (filter && e.target !== filter) continue;
      frag.append(this.row(e));
    }
    this.shown = store.events.length;
    this.tbody.prepend(frag);
    while (this.tbody.childElementCount > MAX_ROWS) this.tbody.lastElementChild!.remove();
    this.empty.hidden = this.tbody.childElementCount > 0;
  }

  /** The store dropped old events: rows stay, count again from here. */
  trimmed(n: number): void {
    this.shown = Math.max(0, this.shown - n);
  }

  private row(e: PPEvent): HTMLTableRowElement {
    const d = new Date(e.time);
    return h("tr", { "data-testid": "event-row", "data-kind": e.kind, "data-target-id": e.target },
      h("td", { class: "time", text: Number.isNaN(d.getTime()) ? e.time : dateTime(d), title: e.time }),
      h("td", { class: "target", text: e.target }),
      h("td", {}, h("span", { class: `kind kind-${e.kind}`, text: KIND_LABEL[e.kind] ?? e.kind })),
      h("td", { class: "msg", text: e.message }),
    );
  }
}
