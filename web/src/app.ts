// The controller: owns the store, talks to the API and the stream, and
// carries out what the views ask for. Views only read the store.

import type { Actions } from "./actions";
import { Api, ApiError } from "./api";
import { byId, copyText, frameThrottle, saveBlob, throttle } from "./dom";
import { TargetHistory, capacityFor } from "./history";
import { EMAIL_KEYS, forSending } from "./settings";
import { beep, notify } from "./sound";
import { MAX_EVENTS, Store } from "./store";
import { Stream } from "./stream";
import type { PPEvent, RoundMsg, Settings, TargetSummary, UserSettings } from "./types";
import { Banner, describe } from "./views/banner";
import { confirmDialog } from "./views/confirm";
import { DetailHeader } from "./views/detailHeader";
import { EventsView } from "./views/events";
import { ContextMenu } from "./views/menu";
import { Overview } from "./views/overview";
import { PastTargets } from "./views/pastTargets";
import { RangeBar, type RangeActions } from "./views/rangeBar";
import { MapView } from "./views/map";
import { PathsView } from "./views/paths";
import { LOG_KEYS, PROBE_KEYS, SettingsDialog } from "./views/settingsDialog";
import { StatusBar } from "./views/statusBar";
import { Tabs } from "./views/tabs";
import { TargetGrid } from "./views/targetGrid";
import { Timeline } from "./views/timeline";
import { Toasts } from "./views/toast";

/** Least time between two fetches of the selected target's statistics. */
const STATS_EVERY = 1000;
/** Least time between two fetches of the Map tab's answer. */
const GEO_EVERY = 1000;
/** While lookups are pending and no round comes (a paused target), the
 * answer is asked again after this long. */
const GEO_PENDING_AGAIN = 2000;
/** Least time between two re-fetches after gaps in the stream. */
const RESYNC_EVERY = 1000;
const SELECTED_KEY = "pingerplot.selected";

/** The most time steps a window's series may have (the server's bound). */
const MAX_POINTS = 4000;

export class App implements Actions, RangeActions {
  readonly store = new Store();
  readonly toasts = new Toasts(byId("toasts"));
  private readonly stream: Stream;
  private readonly grid: TargetGrid;
  private readonly overview: Overview;
  private readonly timeline: Timeline;
  private readonly events: EventsView;
  private readonly banner: Banner;
  private readonly header: DetailHeader;
  private readonly status: StatusBar;
  private readonly map: MapView;
  private readonly paths: PathsView;
  private readonly rangeBar: RangeBar;
  private readonly pastTargets: PastTargets;
  /** The ids of the target list last seen, to notice additions and
   * removals (the history's list of past targets changes with them). */
  private idsSeen = "";
  // loading the window shown
  private winAbort: AbortController | null = null;
  readonly tabs: Tabs;
  private readonly menu = new ContextMenu(byId("menu"));
  private readonly targetDialog = new SettingsDialog({
    testid: "target-settings-dialog",
    prefix: "ts",
    groups: [
      { legend: "Monitoring", keys: ["interval", "history"] },
      { legend: "Probes", keys: PROBE_KEYS },
      { legend: "Alerts", keys: ["alert_loss_pct", "alert_latency_ms", "alert_window", "webhook_url"] },
      { legend: "E-mail alerts", keys: EMAIL_KEYS },
      { legend: "Probe log (CSV)", keys: LOG_KEYS },
    ],
  });

  // loading the selected target's history; rounds that arrive meanwhile wait
  private detailAbort: AbortController | null = null;
  private pending: RoundMsg[] | null = null;
  // throttled statistics refresh
  private statsTimer = 0;
  private statsInFlight = false;
  private statsAgain = false;
  private lastStats = 0;
  private everOpen = false;
  // the Map tab: what the server was last told, and the throttled refresh
  private mapOpen = false;
  /** The Paths tab's request in flight, and when the last one started:
   * it refreshes with the selected target's rounds, at most once a second. */
  private pathsReq: AbortController | null = null;
  private pathsAt = 0;
  private geoTimer = 0;
  private geoInFlight = false;
  private geoAgain = false;
  private lastGeo = 0;
  // gaps in the stream: the last seq seen (0: none since the stream opened),
  // the last round of each target, and the re-fetch they cause
  private lastSeq = 0;
  private lastRound = new Map<string, number>();
  private resyncing = false;
  private resyncAgain = false;

  constructor(readonly api: Api) {
    const s = this.store;
    this.grid = new TargetGrid(byId("targets-grid"), byId("targets-empty"), s, this);
    this.overview = new Overview(byId("panel-overview"), s, this);
    this.timeline = new Timeline(byId("timeline-scroll"), byId("timeline-readout"), byId("timeline-scale"), s, this);
    this.events = new EventsView(byId<HTMLTableElement>("events-table").tBodies[0], byId<HTMLInputElement>("events-only-selected"), byId("events-empty"), s);
    this.banner = new Banner(byId("alert-banner"), s, this);
    this.header = new DetailHeader(s);
    this.status = new StatusBar(s);
    this.status.poll(api);
    this.map = new MapView(s, { onlineChanged: (on) => this.setOnlineLookups(on) });
    this.paths = new PathsView(byId("paths-summary"), byId("paths-note"), byId("paths-columns"));
    this.tabs = new Tabs(byId("tabs"), (name) => this.tabShown(name));
    this.rangeBar = new RangeBar(s, this);
    this.pastTargets = new PastTargets(s, (key) => this.openPast(key));

    // with many targets, summaries arrive dozens of times a second: the
    // grid redraws at most four times a second
    const summaries = throttle(() => {
      this.grid.render();
      this.banner.render();
      this.header.render();
      this.status.render();
    }, 250);
    const table = frameThrottle(() => {
      this.overview.renderTable();
      this.timeline.update();
    });
    const graphs = frameThrottle(() => {
      if (this.tabs.current === "overview") this.overview.renderGraph();
      if (this.tabs.current === "timeline") this.timeline.update();
    });
    s.on("targets", summaries);
    s.on("past", () => this.pastTargets.render());
    let historyWas: boolean | null = null;
    s.on("view", () => {
      if (s.historyOn !== historyWas) {
        historyWas = s.historyOn;
        void this.refreshPast();
      }
      this.pastTargets.render();
      this.rangeBar.render();
      this.header.render();
      this.status.render();
      table();
      graphs();
      this.map.schedule();
      this.scheduleGeo(true);
    });
    s.on("selection", () => {
      this.rangeBar.render();
      summaries();
      table();
      graphs();
      this.overview.chart.reset();
      this.events.render(true);
      this.map.schedule();
      this.scheduleGeo(true);
      this.refreshPaths(true);
    });
    s.on("detail", table);
    s.on("samples", graphs);
    s.on("span", () => {
      this.overview.chart.reset();
      graphs();
    });
    s.on("events", () => this.events.render());
    s.on("conn", () => this.status.render());
    s.on("geo", () => this.map.schedule());
    s.on("settings", () => this.map.schedule());

    this.stream = new Stream(api.streamURL(), {
      onOpen: () => this.onOpen(),
      onDown: () => {
        s.conn = this.everOpen ? "reconnecting" : "connecting";
        s.emit("conn");
      },
      onRound: (m) => this.onRound(m),
      onEvent: (e) => this.onEvent(e),
      onTargets: (l) => this.setTargets(l),
    });

    byId("detail-pause-resume").addEventListener("click", () => {
      const t = s.selected();
      if (t) (t.state === "paused" ? this.resume(t.id) : this.pause(t.id));
    });
    byId("detail-edit-settings").addEventListener("click", () => s.selectedId && this.editTarget(s.selectedId));
    byId("export-csv").addEventListener("click", () => s.selectedId && this.exportCSV(s.selectedId));
    const span = byId<HTMLSelectElement>("span-select");
    span.addEventListener("change", () => {
      s.span = Number(span.value);
      s.emit("span");
    });
    s.span = Number(span.value);

    // the server runs online lookups only while a page shows the Map tab:
    // a hidden or closing page says it no longer does
    document.addEventListener("visibilitychange", () => {
      if (document.hidden) this.setMapOpen(false);
      else if (this.tabs.current === "map") this.showMap();
    });
    window.addEventListener("pagehide", () => this.setMapOpen(false, true));
  }

  start(): void {
    try {
      this.store.selectedId = sessionStorage.getItem(SELECTED_KEY);
    } catch {
      // no storage: start with the first target
    }
    this.stream.start();
    void this.sync();
  }

  private tabShown(name: string): void {
    if (name === "overview") this.overview.renderGraph();
    if (name === "timeline") this.timeline.update();
    if (name === "events") this.events.render();
    if (name === "map") this.showMap();
    else this.setMapOpen(false);
    if (name === "paths") this.refreshPaths(true);
  }

  // ---- the Paths tab ----

  /** Fetches the selected target's flows while the Paths tab is shown;
   * now: at once (a new target or the tab just opened), else at most once
   * a second (a round). */
  private refreshPaths(now: boolean): void {
    if (this.tabs?.current !== "paths" || document.hidden) return;
    const id = this.store.selectedId;
    if (!id || !this.store.targets.has(id)) {
      this.paths.render(null);
      return;
    }
    const t = Date.now();
    if (!now && (this.pathsReq || t - this.pathsAt < 1000)) return;
    this.pathsReq?.abort();
    const ac = new AbortController();
    this.pathsReq = ac;
    this.pathsAt = t;
    this.api.flows(id, ac.signal).then((f) => {
      if (this.store.selectedId === id) this.paths.render(f);
    }).catch((e) => {
      if ((e as Error).name !== "AbortError") console.warn("flows:", e);
    }).finally(() => {
      if (this.pathsReq === ac) this.pathsReq = null;
    });
  }

  // ---- the Map tab ----

  private showMap(): void {
    if (document.hidden) return;
    this.setMapOpen(true);
    this.map.schedule();
    this.scheduleGeo(true);
  }

  /** Tells the server whether the Map tab is shown, only when that changes
   * (force: again, after the online switch changed). Nothing else about
   * the map is sent. */
  private setMapOpen(open: boolean, keepalive = false, force = false): void {
    if (open === this.mapOpen && !force) return;
    this.mapOpen = open;
    this.api.putGeo(open, keepalive).catch((e) => {
      if (!(e instanceof ApiError && e.status === 0)) this.fail(e);
    });
  }

  /** Fetches the selected target's hop locations while the Map tab is
   * shown: at most once a second and one request at a time (now: as soon
   * as the one in flight is done, for a newly shown tab or target). */
  private scheduleGeo(now = false): void {
    if (this.tabs?.current !== "map" || document.hidden) return;
    if (this.geoTimer) {
      if (!now) return;
      window.clearTimeout(this.geoTimer);
    }
    const wait = now ? 0 : Math.max(0, GEO_EVERY - (Date.now() - this.lastGeo));
    this.geoTimer = window.setTimeout(() => {
      this.geoTimer = 0;
      void this.fetchGeo();
    }, wait);
  }

  private async fetchGeo(): Promise<void> {
    if (this.geoInFlight) {
      this.geoAgain = true;
      return;
    }
    const id = this.store.selectedId;
    if (!id || this.tabs.current !== "map" || document.hidden) return;
    this.geoInFlight = true;
    this.lastGeo = Date.now();
    let pending = false;
    try {
      const v = this.store.view;
      const answer = await this.api.geo(id, undefined, v ? { from: v.from, to: v.to } : undefined);
      if (this.store.view !== v) return; // the window changed meanwhile: its own fetch follows
      if (this.store.selectedId === id) {
        this.store.geo = { target: id, answer };
        this.store.emit("geo");
        pending = answer.hops.some((g) => g.status === "pending");
      }
    } catch (e) {
      // a removed target's 404 is followed by its "targets" message
      if (!(e instanceof ApiError && (e.status === 0 || e.status === 404))) this.fail(e);
    } finally {
      this.geoInFlight = false;
      if (this.geoAgain || this.store.selectedId !== id) {
        this.geoAgain = false;
        this.scheduleGeo(true);
      } else if (pending && !this.geoTimer) {
        // lookups resolve on later calls; rounds usually bring them, but a
        // paused target has none
        this.geoTimer = window.setTimeout(() => {
          this.geoTimer = 0;
          void this.fetchGeo();
        }, GEO_PENDING_AGAIN);
      }
    }
  }

  /** The Map tab's "Online lookups (ipwho.is)" switch: saved in the user
   * settings; while the tab is open the server is told again, as consent
   * given now starts lookups and consent withdrawn stops them at once. */
  private setOnlineLookups(on: boolean): void {
    this.map.onlineSaving = true;
    this.saveSettings((u) => {
      u.online_lookups = on;
    }).then(() => {
      if (this.tabs.current === "map" && !document.hidden) this.setMapOpen(true, false, true);
      this.scheduleGeo(true);
    }, (e) => this.fail(e)).finally(() => {
      this.map.onlineSaving = false;
      this.map.schedule();
    });
  }

  /** The theme changed: canvases re-read their colours. */
  themeChanged(): void {
    this.overview.chart.rebuild();
    this.overview.renderGraph();
    this.timeline.themeChanged();
  }

  // ---- stream ----

  private onOpen(): void {
    const first = !this.everOpen;
    this.everOpen = true;
    // this (re)open re-fetches everything: count seq afresh from here
    this.lastSeq = 0;
    this.store.conn = "live";
    this.store.emit("conn");
    // start() synced already, but events may have come between its fetch and
    // this open: catch up on the list and the log. Later opens follow a gap
    // in which rounds were missed too, so the history is fetched again.
    void this.sync(!first);
  }

  private onRound(m: RoundMsg): void {
    const s = this.store;
    const gap = this.gap(m);
    if (!s.targets.has(m.target)) {
      // a target we have not heard of yet: its "targets" message follows
      if (gap) void this.resync();
      return;
    }
    s.targets.set(m.target, m.summary);
    s.emit("targets");
    if (gap) void this.resync();
    if (m.target !== s.selectedId) return;
    this.refreshPaths(false);
    if (this.pending) {
      this.pending.push(m);
      return;
    }
    // a past window shown: the rings go on filling for the way back to
    // live, and nothing of the window changes
    this.append(m, !s.view);
    if (s.view) return;
    this.scheduleStats();
    this.scheduleGeo();
  }

  /** Whether messages were lost before m: its seq jumped (the page fell
   * behind the server), or the selected target's round number jumped
   * while seq did not (the server fell behind the monitor). */
  private gap(m: RoundMsg): boolean {
    let lost = false;
    if (typeof m.seq === "number") {
      if (this.lastSeq > 0 && m.seq > this.lastSeq + 1) lost = true;
      this.lastSeq = m.seq;
    }
    const prev = this.lastRound.get(m.target);
    if (m.target === this.store.selectedId && prev !== undefined && m.round > prev + 1) lost = true;
    this.lastRound.set(m.target, m.round);
    return lost;
  }

  /** Re-fetches the target list, the selected target's history and the
   * events after a gap: one at a time, at most once a second. */
  private async resync(): Promise<void> {
    if (this.resyncing) {
      this.resyncAgain = true;
      return;
    }
    this.resyncing = true;
    try {
      await this.sync(true);
    } finally {
      window.setTimeout(() => {
        this.resyncing = false;
        if (this.resyncAgain) {
          this.resyncAgain = false;
          void this.resync();
        }
      }, RESYNC_EVERY);
    }
  }

  private append(m: RoundMsg, emit = true): void {
    const hist = this.store.history;
    if (!hist || hist.targetId !== m.target) return;
    for (const x of m.samples) {
      if (x.t > 0) hist.ring(x.ttl).push(x.t, x.rtt_ms, m.round); // no time: nowhere to draw it
    }
    if (emit) this.store.emit("samples");
  }

  private onEvent(e: PPEvent): void {
    this.addEvents([e]);
    if (e.kind === "alert_raised") {
      if (this.store.settings.sound) beep();
      const t = this.store.targets.get(e.target);
      notify(`PingerPlot: ${e.target} in alert`, t ? describe(t) : e.message);
    }
  }

  /** Merges events into the log, oldest first, without duplicates (a
   * fetch after a reconnect overlaps what the stream delivered). */
  private addEvents(list: PPEvent[]): void {
    const s = this.store;
    if (!list.length) return;
    const seen = new Set(s.events.map(eventKey));
    const lastTime = s.events.length ? Date.parse(s.events[s.events.length - 1].time) : -Infinity;
    let outOfOrder = false;
    for (const e of list) {
      const k = eventKey(e);
      if (seen.has(k)) continue;
      seen.add(k);
      if (Date.parse(e.time) < lastTime) outOfOrder = true;
      s.events.push(e);
    }
    if (outOfOrder) {
      // RFC 3339 strings with trimmed fractions do not sort as text
      s.events.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
      s.eventsReset = true;
    }
    const over = s.events.length - MAX_EVENTS;
    if (over > 0) {
      s.events.splice(0, over);
      this.events.trimmed(over);
    }
    s.emit("events");
  }

  // ---- fetching ----

  /** Fetches the target list, the events missed and the selected target's
   * detail and history. */
  async sync(reloadHistory = true): Promise<void> {
    try {
      this.setTargets(await this.api.targets(), reloadHistory);
    } catch (e) {
      this.fail(e);
      return;
    }
    try {
      const ev = this.store.events;
      const since = ev.length ? ev[ev.length - 1].time : undefined;
      this.addEvents(await this.api.events(since));
    } catch (e) {
      this.fail(e);
    }
  }

  /** Replaces the target list; reload also re-fetches the selected
   * target's history (after a gap in the stream). */
  setTargets(list: TargetSummary[], reload = false): void {
    const s = this.store;
    s.targets = new Map(list.map((t) => [t.id, t]));
    // rows keep their places: known targets stay where they are, new ones
    // go last (the server's list and stream need not use one order)
    const kept = s.order.filter((id) => s.targets.has(id));
    const known = new Set(kept);
    s.order = kept.concat(list.map((t) => t.id).filter((id) => !known.has(id)));
    for (const id of this.lastRound.keys()) if (!s.targets.has(id)) this.lastRound.delete(id);
    s.emit("targets");
    const ids = [...s.targets.keys()].sort().join("\u0000");
    if (ids !== this.idsSeen) {
      this.idsSeen = ids;
      void this.refreshPast();
    }
    if (s.pastOpen && s.selectedId === s.pastOpen.key) {
      // a past target shown: nothing live to load for it
    } else if (!s.selectedId || !s.targets.has(s.selectedId)) {
      this.select(s.order[0] ?? null);
    } else if (reload || ((!s.history || s.history.targetId !== s.selectedId) && !this.detailAbort)) {
      void this.loadDetail();
    }
  }

  private select(id: string | null): void {
    const s = this.store;
    if (s.pastOpen) {
      // leaving a past target for a live one: its window goes with it
      s.pastOpen = null;
      this.winAbort?.abort();
      this.winAbort = null;
      s.view = null;
      s.win = null;
      s.windowError = "";
      this.overview.chart.reset();
      s.emit("past");
      s.emit("view");
    }
    const changed = s.selectedId !== id || !s.history;
    s.selectedId = id;
    try {
      if (id) sessionStorage.setItem(SELECTED_KEY, id);
    } catch {
      // selection is not kept across reloads then
    }
    if (!changed) return;
    s.selectedTTL = null;
    s.detail = null;
    s.history = null;
    s.geo = null;
    s.emit("selection");
    if (id) void this.loadDetail();
    if (s.view) void this.loadWindow();
  }

  /** Loads the selected target's detail with history. Rounds arriving
   * meanwhile are queued and applied after it (rings ignore rounds they
   * already hold). */
  private async loadDetail(): Promise<void> {
    const id = this.store.selectedId;
    if (!id) return;
    this.detailAbort?.abort();
    const ac = new AbortController();
    this.detailAbort = ac;
    this.pending = [];
    try {
      const d = await this.api.detail(id, true, ac.signal);
      if (ac.signal.aborted || this.store.selectedId !== id) return;
      const hist = new TargetHistory(id, capacityFor(d.settings?.history));
      hist.load(d.hops);
      for (const h of d.hops) delete h.history; // the rings hold it now
      if (!this.store.view) this.store.detail = d; // a window shows its own
      this.store.history = hist;
      const queued = this.pending ?? [];
      this.pending = null;
      for (const m of queued) if (m.target === id) this.append(m);
      this.lastStats = Date.now();
      this.store.emit("detail");
      this.store.emit("samples");
    } catch (e) {
      if ((e as Error).name === "AbortError") return;
      this.pending = null;
      if (e instanceof ApiError && e.status === 404) {
        void this.sync();
        return;
      }
      this.fail(e);
    } finally {
      if (this.detailAbort === ac) this.detailAbort = null;
    }
  }

  /** Refreshes the hop statistics after rounds, at most once a second and
   * one request at a time; the graphs do not wait for it. */
  private scheduleStats(): void {
    if (this.statsTimer) return;
    const wait = Math.max(0, STATS_EVERY - (Date.now() - this.lastStats));
    this.statsTimer = window.setTimeout(() => {
      this.statsTimer = 0;
      void this.fetchStats();
    }, wait);
  }

  private async fetchStats(): Promise<void> {
    if (this.statsInFlight) {
      this.statsAgain = true;
      return;
    }
    const id = this.store.selectedId;
    // A past target has no live detail: a refresh planned before it was
    // opened would only be answered 404.
    if (!id || this.pending || this.store.pastOpen) return;
    this.statsInFlight = true;
    this.lastStats = Date.now();
    try {
      const d = await this.api.detail(id, false);
      if (this.store.selectedId === id && !this.pending && !this.store.view) {
        this.store.detail = d;
        this.store.emit("detail");
        if (this.store.history && d.settings?.history && capacityFor(d.settings.history) !== this.store.history.capacity) {
          void this.loadDetail();
        }
      }
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 0)) this.fail(e);
    } finally {
      this.statsInFlight = false;
      if (this.statsAgain) {
        this.statsAgain = false;
        this.scheduleStats();
      }
    }
  }

  fail(e: unknown): void {
    const msg = e instanceof Error ? e.message : String(e);
    this.toasts.show(msg, "error");
  }

  // ---- past windows ----

  /** The range picker's choice: live, a span back from now, the whole
   * history of the selected target, or (custom) nothing yet. */
  setRange(range: string): void {
    if (range === "live") {
      this.backToLive();
      return;
    }
    const now = Date.now() / 1000;
    if (range === "all") {
      const id = this.store.selectedId;
      if (!id) return;
      this.api.historyTargets().then((list) => {
        const t = list.find((x) => x.key === id);
        if (!t) {
          this.fail(new Error(`The history holds no rounds of ${id} yet.`));
          this.store.emit("view");
          return;
        }
        this.zoom(Date.parse(t.first) / 1000, Math.max(Date.now() / 1000, Date.parse(t.last) / 1000 + 1), "all");
      }, (e) => this.fail(e));
      return;
    }
    const span = Number(range);
    if (span > 0) this.zoom(now - span, now, range);
  }

  /** Shows the window [from, to) (Unix seconds) of the history. */
  zoom(from: number, to: number, range = "zoom"): void {
    if (this.store.historyOn !== true || !(to > from)) return;
    this.store.view = { from, to, range };
    this.overview.chart.reset();
    void this.loadWindow();
  }

  /** The targets the history holds that the monitor no longer runs. */
  private async refreshPast(): Promise<void> {
    const s = this.store;
    if (s.historyOn !== true) {
      if (s.past.length) {
        s.past = [];
        s.emit("past");
      }
      return;
    }
    try {
      const list = await this.api.historyTargets();
      s.past = list.filter((t) => !t.monitored && !s.targets.has(t.key));
      s.emit("past");
    } catch (e) {
      if (!(e instanceof ApiError && (e.status === 0 || e.status === 404))) this.fail(e);
    }
  }

  /** Shows the whole history of a target the monitor no longer runs,
   * read-only: nothing live is asked of the server for it. */
  openPast(key: string): void {
    const s = this.store;
    const t = s.past.find((x) => x.key === key);
    if (!t || s.historyOn !== true) return;
    this.detailAbort?.abort();
    this.detailAbort = null;
    this.pending = null;
    s.pastOpen = t;
    s.selectedId = key;
    s.selectedTTL = null;
    s.detail = null;
    s.history = null;
    s.geo = null;
    s.emit("past");
    s.emit("selection");
    this.zoom(Date.parse(t.first) / 1000, Date.parse(t.last) / 1000 + 1, "all");
  }

  /** Leaves the window: the live view again, its detail re-fetched. */
  backToLive(): void {
    const s = this.store;
    if (s.pastOpen) {
      // a past target has no live view: the first live target's instead
      s.pastOpen = null;
      s.emit("past");
      s.selectedId = null;
    }
    this.winAbort?.abort();
    this.winAbort = null;
    const was = s.view;
    s.view = null;
    s.win = null;
    s.windowError = "";
    if (was) s.detail = null;
    this.overview.chart.reset();
    s.emit("view");
    if (!s.selectedId) this.select(s.order[0] ?? null);
    else if (was) void this.loadDetail();
  }

  /** The graph's width in pixels: about one time step each. */
  private points(): number {
    const w = byId("latency-chart").clientWidth || byId("timeline-scroll").clientWidth - 232;
    return Math.max(10, Math.min(MAX_POINTS, Math.round(w > 0 ? w : 600)));
  }

  /** Fetches the window shown for the selected target. */
  private async loadWindow(): Promise<void> {
    const s = this.store;
    const v = s.view;
    const id = s.selectedId;
    this.winAbort?.abort();
    this.winAbort = null;
    s.win = null;
    s.windowError = "";
    s.detail = null; // no live numbers under a window's title
    s.geo = null;
    s.emit("view");
    if (!v || !id) return;
    const ac = new AbortController();
    this.winAbort = ac;
    try {
      const w = await this.api.window(id, v.from, v.to, this.points(), ac.signal);
      if (ac.signal.aborted || s.view !== v || s.selectedId !== id) return;
      s.win = w;
      s.detail = w;
    } catch (e) {
      if ((e as Error).name === "AbortError" || s.view !== v) return;
      s.windowError = e instanceof Error ? e.message : String(e);
    } finally {
      if (this.winAbort === ac) this.winAbort = null;
    }
    s.emit("detail");
    s.emit("view");
  }

  /** Downloads the evidence file of the window shown (live: the span the
   * graph shows, an hour when it shows all it has). */
  exportEvidence(): void {
    const id = this.store.selectedId;
    if (!id) return;
    const now = Date.now() / 1000;
    const v = this.store.view ?? { from: now - (this.store.span || 3600), to: now };
    this.api.evidence(id, v.from, v.to).then((d) => {
      saveBlob(d.blob, d.filename);
      this.toasts.show(`Evidence of ${id} saved as ${d.filename}`);
    }, (e) => this.fail(e));
  }

  // ---- actions ----

  selectTarget(id: string): void {
    this.select(id);
  }

  selectHop(ttl: number | null): void {
    this.store.selectedTTL = ttl;
    this.overview.chart.reset();
    this.store.emit("detail");
    this.store.emit("samples");
  }

  async addTarget(host: string, interval: number): Promise<void> {
    const defaults = this.store.settings.defaults ?? {};
    const settings = forSending({ ...defaults, interval });
    const t = await this.api.addTarget(host, settings);
    const s = this.store;
    if (!s.targets.has(t.id)) {
      s.targets.set(t.id, t);
      s.order.push(t.id);
    }
    s.emit("targets");
    this.select(t.id);
  }

  private replace(t: TargetSummary): void {
    if (!this.store.targets.has(t.id)) return;
    this.store.targets.set(t.id, t);
    this.store.emit("targets");
  }

  pause(id: string): void {
    this.api.pause(id).then((t) => this.replace(t), (e) => this.fail(e));
  }

  resume(id: string): void {
    this.api.resume(id).then((t) => this.replace(t), (e) => this.fail(e));
  }

  remove(id: string): void {
    void (async () => {
      // with a history file the past stays there: adding the target again
      // under the same name finds it
      const what = this.store.historyOn
        ? `Stop monitoring ${id}? Its past stays in the history file, and adding it again under the same name finds it.`
        : `Stop monitoring ${id} and discard its history?`;
      const ok = await confirmDialog(what, "Remove", "Cancel", "Remove target");
      if (!ok) return;
      try {
        await this.api.remove(id);
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 404)) {
          this.fail(e);
          return;
        }
      }
      const s = this.store;
      const i = s.order.indexOf(id);
      s.targets.delete(id);
      s.order = s.order.filter((x) => x !== id);
      s.emit("targets");
      if (s.selectedId === id) this.select(s.order[Math.min(i, s.order.length - 1)] ?? null);
      this.grid.focusSelected();
    })();
  }

  editTarget(id: string): void {
    const t = this.store.targets.get(id);
    if (!t) return;
    this.targetDialog.open(`Settings of ${id}`, "These apply to this target alone, from its next round.", t.settings ?? {}, async (s) => {
      const sum = await this.api.putTargetSettings(id, forSending(s));
      this.replace(sum);
      this.toasts.show(`Settings of ${id} saved`);
    });
  }

  exportCSV(id: string): void {
    this.api.summaryCSV(id).then((d) => saveBlob(d.blob, d.filename), (e) => this.fail(e));
  }

  targetMenu(id: string, x: number, y: number, opener: HTMLElement): void {
    const t = this.store.targets.get(id);
    if (!t) return;
    const paused = t.state === "paused";
    this.menu.open([
      paused
        ? { label: "Resume", testid: "menu-resume", action: () => this.resume(id) }
        : { label: "Pause", testid: "menu-pause", action: () => this.pause(id) },
      { label: "Edit settings…", testid: "menu-edit-settings", action: () => this.editTarget(id) },
      { label: "Export summary CSV", testid: "menu-export-csv", action: () => this.exportCSV(id) },
      { label: "Remove", testid: "menu-remove", action: () => this.remove(id), danger: true, separatorBefore: true },
    ], x, y, opener);
  }

  hopMenu(ttl: number, x: number, y: number, opener: HTMLElement): void {
    const hop = this.store.detail?.hops.find((h) => h.ttl === ttl);
    if (!hop) return;
    const copy = (what: string, v: string) => () => {
      copyText(v).then(() => this.toasts.show(`Copied ${what} ${v}`), (e) => this.fail(e));
    };
    const items = [];
    if (hop.addr) items.push({ label: `Copy IP  ${hop.addr}`, testid: "menu-copy-ip", action: copy("IP", hop.addr) });
    if (hop.host) items.push({ label: `Copy hostname  ${hop.host}`, testid: "menu-copy-host", action: copy("hostname", hop.host) });
    items.push({ label: "Graph this hop", testid: "menu-graph-hop", action: () => this.selectHop(ttl), separatorBefore: items.length > 0 });
    this.menu.open(items, x, y, opener);
  }

  // ---- settings and sessions ----

  /** Reads the settings afresh, lets change alter them, and saves them:
   * the page never writes back a stale copy of keys it does not edit. */
  async saveSettings(change: (u: UserSettings) => void): Promise<UserSettings> {
    const fresh = await this.api.settings();
    // the target list is the server's: sending back the copy just read
    // could undo a target added meanwhile, so leave it out
    delete fresh.targets;
    change(fresh);
    const saved = await this.api.putSettings(fresh);
    this.store.settings = saved ?? fresh;
    this.store.emit("settings");
    return this.store.settings;
  }

  /** Applies changed keys of settings to every target; returns how many
   * took them. */
  async applyToAll(values: Settings, keys: string[]): Promise<number> {
    let n = 0;
    for (const id of [...this.store.order]) {
      const t = this.store.targets.get(id);
      if (!t) continue;
      const next: Settings = { ...(t.settings ?? {}) };
      for (const k of keys) next[k] = values[k];
      // a new mode without a port: the server gives the mode its default
      if (keys.includes("mode") && values.port === undefined) delete next.port;
      for (const k of Object.keys(next)) if (next[k] === undefined) delete next[k];
      const sum = await this.api.putTargetSettings(id, forSending(next));
      this.replace(sum);
      n++;
    }
    return n;
  }

  saveSession(): void {
    this.api.session().then((d) => saveBlob(d.blob, d.filename), (e) => this.fail(e));
  }

  async loadSession(file: File): Promise<void> {
    const text = await file.text();
    try {
      JSON.parse(text);
    } catch {
      throw new Error(`${file.name} is not a session file (not JSON)`);
    }
    const n = this.store.order.length;
    if (n) {
      const ok = await confirmDialog(
        `Loading ${file.name} replaces the ${n} running target${n === 1 ? "" : "s"}. Save the current session first if you want to keep it.`,
        "Load session", "Cancel", "Load session");
      if (!ok) return;
    }
    const list = await this.api.loadSession(text);
    this.store.selectedId = null;
    this.store.order = []; // the session's order
    this.lastRound.clear(); // the session's round numbers
    this.setTargets(list);
    this.toasts.show(`Loaded ${list.length} target${list.length === 1 ? "" : "s"} from ${file.name}`);
    // the session brings its targets' events, older than those shown: ask
    // for the whole log, not only what came after the newest event seen
    try {
      this.addEvents(await this.api.events());
    } catch (e) {
      this.fail(e);
    }
  }
}

function eventKey(e: PPEvent): string {
  return `${e.time}|${e.target}|${e.kind}|${e.ttl ?? ""}|${e.message}`;
}
