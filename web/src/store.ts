// The page's state: what the server last said, plus what the user chose.
// Views subscribe to topics and redraw; only the controller (app.ts)
// changes the state.

import { TargetHistory } from "./history";
import type { GeoAnswer, PPEvent, StoredTarget, TargetDetail, TargetSummary, UserSettings, WindowDetail } from "./types";

/** A past window the page shows instead of live data: Unix seconds, and
 * the range picker's choice it came from ("custom" and "zoom" too). */
export interface View {
  from: number;
  to: number;
  range: string;
}

export type Topic =
  | "targets" // the list or any summary changed
  | "selection" // another target or hop was selected
  | "detail" // the selected target's hop statistics changed
  | "samples" // samples were appended to the selected target's history
  | "events" // the event log changed (see lastEventsReset)
  | "settings" // user settings changed
  | "conn" // stream connection state changed
  | "span" // the graphs' time span changed
  | "geo" // the selected target's hop locations changed
  | "view" // live or a past window; the window's data or the history's availability changed
  | "past"; // the list of targets only the history holds changed

export type Conn = "connecting" | "live" | "reconnecting";

/** Newest events kept; older ones drop off (the server keeps the log). */
export const MAX_EVENTS = 2000;

export class Store {
  targets = new Map<string, TargetSummary>();
  /** Target ids in the server's order. */
  order: string[] = [];
  selectedId: string | null = null;
  /** The hop graphed in Overview; null follows the destination. */
  selectedTTL: number | null = null;
  detail: TargetDetail | null = null;
  history: TargetHistory | null = null;
  events: PPEvent[] = [];
  /** Set when events were replaced rather than appended. */
  eventsReset = true;
  settings: UserSettings = {};
  settingsLoaded = false;
  conn: Conn = "connecting";
  /** Seconds of history the graphs show; 0 means all there is. */
  span = 0;
  /** The Map tab's answer, for the target it was asked about. */
  geo: { target: string; answer: GeoAnswer } | null = null;

  /** The server keeps a history (GET /api/status says); null: not known yet. */
  historyOn: boolean | null = null;
  /** The past window shown; null: live. */
  view: View | null = null;
  /** The window's answer for the selected target (null while loading, or
   * when it failed: windowError says why). */
  win: WindowDetail | null = null;
  windowError = "";
  /** Targets the history holds that the monitor no longer runs: their
   * past can be opened read-only. */
  past: StoredTarget[] = [];
  /** The one of them shown (selectedId is its key); null: a live target. */
  pastOpen: StoredTarget | null = null;

  private subs = new Map<Topic, Set<() => void>>();

  on(topic: Topic, fn: () => void): void {
    let s = this.subs.get(topic);
    if (!s) this.subs.set(topic, (s = new Set()));
    s.add(fn);
  }

  emit(topic: Topic): void {
    for (const fn of this.subs.get(topic) ?? []) fn();
  }

  selected(): TargetSummary | null {
    return this.selectedId ? this.targets.get(this.selectedId) ?? null : null;
  }

  /** The TTL the Overview graph shows: the chosen hop or the destination. */
  graphTTL(): number | null {
    if (this.selectedTTL != null) return this.selectedTTL;
    const d = this.detail;
    if (!d) return null;
    const dest = d.hops.find((h) => h.destination);
    if (dest) return dest.ttl;
    const s = this.selected();
    if (s?.dest?.ttl) return s.dest.ttl;
    return d.hops.length ? d.hops[d.hops.length - 1].ttl : null;
  }

  alerting(): TargetSummary[] {
    // A closed port's raised alert shows as the state "closed", which
    // outranks "alert": the banner names it all the same.
    return this.order.map((id) => this.targets.get(id)!).filter((t) => t && (t.state === "alert" || (t.state === "closed" && !!t.dest?.active?.includes("closed"))));
  }
}
