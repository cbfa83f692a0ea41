// The strip above the tabs: the selected target's name, state and
// settings in brief, its actions, and the graphs' time span.

import { byId, setText } from "../dom";
import { count, seconds } from "../format";
import type { Store } from "../store";
import { renderLine } from "./diagnosis";

/** How the header's chip words a state the API names tersely. */
const STATE_TEXT: Record<string, string> = {
  "no-answer": "no answer",
  "cannot-send": "cannot send",
  closed: "port closed",
};

const MODE: Record<string, string> = { icmp: "ICMP", udp: "UDP", tcp: "TCP" };

export class DetailHeader {
  private readonly title = byId("detail-title");
  private readonly state = byId("detail-state");
  private readonly info = byId("detail-info");
  private readonly pauseBtn = byId<HTMLButtonElement>("detail-pause-resume");
  private readonly editBtn = byId<HTMLButtonElement>("detail-edit-settings");
  private readonly exportBtn = byId<HTMLButtonElement>("export-csv");
  private readonly diagnosis = byId("detail-diagnosis");

  constructor(private readonly store: Store) {}

  render(): void {
    const t = this.store.selected();
    byId("detail").dataset.empty = String(!t);
    this.pauseBtn.disabled = this.editBtn.disabled = this.exportBtn.disabled = !t;
    // A window shows its own diagnosis, of its rounds; live, the
    // summary's, which every round refreshes.
    const { view, win } = this.store;
    renderLine(this.diagnosis, view ? (win && win.id === this.store.selectedId ? win.diagnosis : null) : t?.diagnosis, !!view);
    const past = this.store.pastOpen;
    if (!t && past && past.key === this.store.selectedId) {
      // a target only the history holds: its past, read-only
      byId("detail").dataset.empty = "false";
      setText(this.title, past.key);
      this.title.title = `${past.key}: ${past.host} (${past.addr}), no longer monitored`;
      setText(this.state, "removed");
      this.state.dataset.state = "removed";
      const parts = [past.addr, `${MODE[past.probe.mode] ?? past.probe.mode}${past.probe.port ? ":" + past.probe.port : ""}`,
        `${count(past.rounds)} rounds in the history`, "no longer monitored: read-only"].filter(Boolean);
      setText(this.info, parts.join(" · "));
      this.info.title = parts.join(" · ");
      setText(this.pauseBtn, "Pause");
      return;
    }
    if (!t) {
      setText(this.title, "No target selected");
      setText(this.state, "");
      setText(this.info, "");
      this.title.title = "";
      this.info.title = "";
      this.state.dataset.state = "";
      setText(this.pauseBtn, "Pause");
      return;
    }
    setText(this.title, t.id);
    this.title.title = t.host === t.id ? `${t.id}${t.addr && t.addr !== t.id ? ` (${t.addr})` : ""}` : `${t.id}: ${t.host} (${t.addr})`;
    setText(this.state, STATE_TEXT[t.state] ?? t.state);
    this.state.dataset.state = t.state;
    const s = t.settings ?? {};
    const mode = MODE[s.mode ?? "icmp"] ?? s.mode;
    const parts = [
      t.addr && t.addr !== t.id ? t.addr : "",
      `${mode}${s.mode && s.mode !== "icmp" && s.port ? ":" + s.port : ""}${s.final_hop_only ? " final hop only" : ""}`,
      s.interval ? `every ${seconds(s.interval)}` : "",
      `${count(t.rounds)} rounds`,
      // the summary reads "1400 bytes (drops at hop 2, 10.0.1.2)"
      t.path_mtu ? `Path MTU ${t.path_mtu.summary}` : "",
    ].filter(Boolean);
    setText(this.info, parts.join(" · "));
    // the header truncates on narrow windows: the whole line as a tooltip
    this.info.title = parts.join(" · ");
    const paused = t.state === "paused";
    setText(this.pauseBtn, paused ? "Resume" : "Pause");
    this.pauseBtn.dataset.action = paused ? "resume" : "pause";
  }
}
