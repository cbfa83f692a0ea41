// The range picker and the window bar: Live or a past window of the
// history (15 min up to the whole history, a custom from/to, or a span
// dragged on a graph), what the window holds, "Back to live" and the
// Evidence… button. Hidden when the server keeps no history.

import { byId, setText } from "../dom";
import { count, dateTime, pct } from "../format";
import type { Store } from "../store";

export interface RangeActions {
  /** "live", a span in seconds back from now, "all" or "custom" */
  setRange(range: string): void;
  zoom(from: number, to: number, range?: string): void;
  backToLive(): void;
  exportEvidence(): void;
}

export class RangeBar {
  private readonly picker = byId("range-picker");
  private readonly select = byId<HTMLSelectElement>("range-select");
  private readonly spanPicker = byId("span-picker");
  private readonly bar = byId("window-bar");
  private readonly custom = byId<HTMLFormElement>("custom-range");
  private readonly from = byId<HTMLInputElement>("range-from");
  private readonly to = byId<HTMLInputElement>("range-to");
  private readonly customError = byId("custom-error");
  private readonly text = byId("window-text");
  private readonly back = byId<HTMLButtonElement>("back-to-live");
  private readonly evidence = byId<HTMLButtonElement>("evidence-button");
  private customOpen = false;

  constructor(private readonly store: Store, act: RangeActions) {
    this.select.addEventListener("change", () => {
      const v = this.select.value;
      if (v === "custom") {
        this.openCustom();
        return;
      }
      this.customOpen = false;
      act.setRange(v);
      this.render();
    });
    this.custom.addEventListener("submit", (e) => {
      e.preventDefault();
      const a = parseLocal(this.from.value);
      const b = parseLocal(this.to.value);
      const why = Number.isNaN(a) || Number.isNaN(b) ? "Give both times." : a >= b ? "The start must be before the end." : "";
      setText(this.customError, why);
      this.customError.hidden = !why;
      if (why) return;
      act.zoom(a, b, "custom");
    });
    this.back.addEventListener("click", () => {
      this.customOpen = false;
      act.backToLive();
    });
    this.evidence.addEventListener("click", () => act.exportEvidence());
  }

  private openCustom(): void {
    this.customOpen = true;
    const v = this.store.view;
    const now = Date.now() / 1000;
    this.from.value = localInput(v ? v.from : now - 3600);
    this.to.value = localInput(v ? v.to : now);
    this.customError.hidden = true;
    this.render();
    this.from.focus();
  }

  render(): void {
    const { store } = this;
    const on = store.historyOn === true;
    const v = store.view;
    this.picker.hidden = !on;
    this.spanPicker.hidden = !!v;
    this.evidence.hidden = !on;
    this.evidence.disabled = !store.selectedId;
    this.bar.hidden = !on || (!v && !this.customOpen);
    this.custom.hidden = !this.customOpen;
    this.back.hidden = !v;
    this.bar.dataset.view = v ? v.range : "live";
    if (!v || !store.win) {
      delete this.bar.dataset.from;
      delete this.bar.dataset.to;
    }
    const want = this.customOpen ? "custom" : v ? v.range : "live";
    if (this.select.value !== want) this.select.value = want;
    if (!v) {
      setText(this.text, "");
      return;
    }
    const span = `${dateTime(new Date(v.from * 1000))} – ${dateTime(new Date(v.to * 1000))}`;
    const w = store.win;
    if (store.windowError) {
      this.text.dataset.state = "error";
      setText(this.text, `${span}: ${store.windowError}`);
      return;
    }
    this.text.dataset.state = w ? "ready" : "loading";
    if (!w || w.id !== store.selectedId) {
      setText(this.text, `${span} · loading the history…`);
      return;
    }
    // the window the server answered for, exactly (scripts compare it)
    this.bar.dataset.from = w.from;
    this.bar.dataset.to = w.to;
    const parts = [span, `${count(w.rounds)} round${w.rounds === 1 ? "" : "s"}`];
    if (w.rounds === 0) parts.push("nothing recorded in this window");
    else if (w.dest?.ttl) parts.push(`destination loss ${pct(w.dest.loss_pct)} %`);
    if (!w.exact) parts.push("percentiles from per-minute summaries");
    if (!w.monitored) parts.push("no longer monitored");
    setText(this.text, parts.join(" · "));
  }
}

/** A datetime-local input's value (local time) as Unix seconds. */
function parseLocal(v: string): number {
  if (!v) return NaN;
  const t = new Date(v).getTime();
  return Number.isNaN(t) ? NaN : t / 1000;
}

function localInput(t: number): string {
  const d = new Date(Math.round(t) * 1000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
