// The targets the history holds that the monitor no longer runs (a
// removed target's past): a list under the Targets grid; a click opens
// the whole of its history, read-only.

import { byId, h, setText } from "../dom";
import { dateTime } from "../format";
import type { Store } from "../store";

export class PastTargets {
  private readonly root = byId("past-targets");
  private readonly list = byId("past-list");

  constructor(private readonly store: Store, open: (key: string) => void) {
    this.list.addEventListener("click", (e) => {
      const b = (e.target as Element | null)?.closest?.("button[data-key]");
      if (b) open(b.getAttribute("data-key")!);
    });
  }

  render(): void {
    const { store } = this;
    const past = store.historyOn ? store.past : [];
    this.root.hidden = past.length === 0;
    const key = past.map((t) => `${t.key}\u0000${t.last}`).join("\u0001") + `\u0002${store.pastOpen?.key ?? ""}`;
    if (this.list.dataset.key === key) return;
    this.list.dataset.key = key;
    this.list.replaceChildren(...past.map((t) => {
      const span = `${dateTime(new Date(t.first))} – ${dateTime(new Date(t.last))}`;
      const b = h("button", { type: "button", "data-testid": "past-target", "data-key": t.key, "aria-current": String(store.pastOpen?.key === t.key),
        title: `${t.host}${t.addr ? ` (${t.addr})` : ""}: ${t.rounds.toLocaleString("en-US")} rounds from ${span}, no longer monitored. Opens its past, read-only.` },
      t.key, h("span", { class: "muted" }));
      setText(b.lastElementChild as HTMLElement, `${t.rounds.toLocaleString("en-US")} rounds, last ${dateTime(new Date(t.last))}`);
      return h("li", {}, b);
    }));
  }
}
