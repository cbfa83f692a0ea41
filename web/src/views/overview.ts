// Overview tab: the hop table over the selected hop's latency graph.
// Until a hop is clicked the graph follows the destination.

import type { Actions } from "../actions";
import { h, rovingTabStop, setClass, setText } from "../dom";
import { count, ms, pct } from "../format";
import { hopLevel, latencyLevel, lossLevel } from "../judge";
import type { Store } from "../store";
import type { Hop, Settings } from "../types";
import { markersOf } from "../markers";
import { LatencyChart } from "./latencyChart";
import { hintsAt, renderBadges } from "./diagnosis";
import { detailsBadge, detailsTitle } from "../details";
import { quoteBadge, quoteTitle } from "../quote";

interface Row {
  tr: HTMLTableRowElement;
  cells: HTMLElement[];
  ip: HTMLElement;
  others: HTMLElement;
  closed: HTMLElement;
  hints: HTMLElement;
  ext: HTMLElement;
  quote: HTMLElement;
}

const COLS = ["ttl", "ip", "host", "as", "loss", "sent", "last", "avg", "min", "max", "jitter"] as const;
const col = (name: (typeof COLS)[number]) => COLS.indexOf(name);

export class Overview {
  private rows = new Map<number, Row>();
  private readonly tbody: HTMLTableSectionElement;
  readonly chart: LatencyChart;

  constructor(
    root: HTMLElement,
    private readonly store: Store,
    private readonly act: Actions,
  ) {
    this.tbody = root.querySelector<HTMLTableSectionElement>("#hop-table tbody")!;
    this.chart = new LatencyChart(root.querySelector("#latency-chart")!, root.querySelector("#graph-readout")!, {
      zoomsWindows: () => store.historyOn === true,
      zoom: (from, to) => act.zoom(from, to),
    });
    this.tbody.addEventListener("click", (e) => {
      const ttl = this.rowTTL(e.target);
      if (ttl != null) act.selectHop(ttl);
    });
    this.tbody.addEventListener("contextmenu", (e) => {
      const ttl = this.rowTTL(e.target);
      if (ttl == null) return;
      e.preventDefault();
      act.hopMenu(ttl, e.clientX, e.clientY, this.rows.get(ttl)!.tr);
    });
    this.tbody.addEventListener("keydown", (e) => this.key(e));
    this.tbody.addEventListener("focusin", (e) => {
      const tr = (e.target as Element).closest("tr");
      if (tr) rovingTabStop(this.tbody, tr);
    });
    root.querySelector("#follow-destination")!.addEventListener("click", () => act.selectHop(null));
  }

  private rowTTL(t: EventTarget | null): number | null {
    const tr = (t as Element | null)?.closest?.("tr[data-ttl]");
    return tr ? Number(tr.getAttribute("data-ttl")) : null;
  }

  private key(e: KeyboardEvent): void {
    const ttl = this.rowTTL(e.target);
    if (ttl == null) return;
    const tr = this.rows.get(ttl)!.tr;
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      this.act.selectHop(ttl);
    } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const next = (e.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling) as HTMLElement | null;
      next?.focus();
    } else if (e.key === "ContextMenu" || (e.key === "F10" && e.shiftKey)) {
      e.preventDefault();
      const r = tr.getBoundingClientRect();
      this.act.hopMenu(ttl, r.left + 24, r.bottom, tr);
    } else if (e.key === "Escape") {
      this.act.selectHop(null);
    }
  }

  /** Redraws the table from the selected target's detail. */
  renderTable(): void {
    const d = this.store.detail;
    const hops = d && d.id === this.store.selectedId ? d.hops : [];
    const settings = this.store.selected()?.settings ?? d?.settings ?? {};
    const graphTTL = this.store.graphTTL();
    const seen = new Set<number>();
    let prev: HTMLTableRowElement | null = null;
    for (const hop of hops) {
      seen.add(hop.ttl);
      let row = this.rows.get(hop.ttl);
      if (!row) {
        row = this.makeRow(hop.ttl);
        this.rows.set(hop.ttl, row);
      }
      const want: ChildNode | null = prev ? prev.nextSibling : this.tbody.firstChild;
      if (want !== row.tr) this.tbody.insertBefore(row.tr, want);
      prev = row.tr;
      this.fill(row, hop, settings, hop.ttl === graphTTL);
    }
    for (const [ttl, row] of this.rows) {
      if (!seen.has(ttl)) {
        row.tr.remove();
        this.rows.delete(ttl);
      }
    }
    if (!this.tbody.contains(document.activeElement)) {
      rovingTabStop(this.tbody, graphTTL != null ? this.rows.get(graphTTL)?.tr ?? null : null);
    }
    this.renderGraphTitle();
  }

  private makeRow(ttl: number): Row {
    const cells = COLS.map((c) => h("td", { class: c === "ip" || c === "host" || c === "as" ? c : `num ${c}`, "data-col": c }));
    const ip = h("span", { class: "addr" });
    const others = h("span", { class: "others", hidden: true });
    const closed = h("span", { class: "closed-mark", "data-testid": "closed-mark", hidden: true });
    const hints = h("span", { class: "hints", "data-testid": "hop-hints", hidden: true });
    const ext = h("span", { class: "ext-badge", "data-testid": "hop-details", hidden: true });
    const quote = h("span", { class: "ext-badge", "data-testid": "hop-quote", hidden: true });
    cells[col("ip")].append(ip, others, ext, quote, closed, hints);
    const tr = h("tr", { "data-testid": "hop-row", "data-ttl": ttl, tabindex: -1, "aria-selected": "false" }, ...cells);
    return { tr, cells, ip, others, closed, hints, ext, quote };
  }

  private fill(r: Row, hop: Hop, settings: Settings, graphed: boolean): void {
    const answered = hop.recv > 0 || hop.destination;
    r.tr.dataset.level = hopLevel(hop, settings);
    setClass(r.tr, "dest", hop.destination);
    setClass(r.tr, "silent", hop.recv === 0);
    setClass(r.tr, "graphed", graphed);
    r.tr.setAttribute("aria-selected", String(graphed));
    const c = r.cells;
    setText(c[col("ttl")], String(hop.ttl));
    setText(r.ip, hop.addr || "???");
    const n = hop.others?.length ?? 0;
    r.others.hidden = n === 0;
    if (n) {
      setText(r.others, `+${n}`);
      r.others.title = hop.others!.map((o) => `${o.addr}${o.host ? " " + o.host : ""}${o.asn ? ` AS${o.asn}` : ""}  (${o.recv} replies, avg ${ms(o.avg_ms)} ms)`).join("\n");
    }
    // What the answers said beyond the address (MPLS labels, interfaces):
    // a compact badge, the whole on hover.
    const badge = detailsBadge(hop.details);
    r.ext.hidden = badge === "";
    setText(r.ext, badge);
    r.ext.title = badge ? detailsTitle(hop.details!) : "";
    // What the quote shows arrived (DSCP, ECN, a translator before it).
    const qb = quoteBadge(hop.details, typeof settings.tos === "string" && settings.tos.trim() !== "");
    r.quote.hidden = qb === "";
    setText(r.quote, qb);
    r.quote.title = qb ? quoteTitle(hop.details!) : "";
    // A TCP destination that refused (RST) answered, so its loss reads 0 %:
    // the mark says the port was closed, and how often.
    const refused = hop.refused ?? 0;
    r.closed.hidden = refused === 0;
    if (refused) {
      setText(r.closed, refused === hop.recv ? "closed" : `closed ${refused}/${hop.recv}`);
      r.closed.title = `the destination refused ${refused} of ${hop.recv} connections (TCP RST): the port is closed, the service down`;
    }
    // The diagnosis's remarks on this hop: the detail (live or the
    // window's) carries the diagnosis its numbers go with.
    renderBadges(r.hints, hintsAt(this.store.detail?.diagnosis, hop.ttl));
    const host = c[col("host")];
    setText(host, hop.host && hop.host !== hop.addr ? hop.host : "");
    host.title = hop.host;
    const as = c[col("as")];
    setText(as, hop.asn ? `AS${hop.asn}` : "");
    as.title = hop.asn ? `AS${hop.asn}${hop.as_name ? " " + hop.as_name : ""}` : "";
    const loss = c[col("loss")];
    setText(loss, pct(hop.loss_pct));
    loss.dataset.level = answered ? lossLevel(hop.loss_pct, settings) : "";
    c[col("avg")].dataset.level = latencyLevel(hop.avg_ms, settings);
    c[col("last")].dataset.level = latencyLevel(hop.last_ms, settings);
    setText(c[col("sent")], count(hop.sent));
    setText(c[col("last")], ms(hop.last_ms));
    setText(c[col("avg")], ms(hop.avg_ms));
    setText(c[col("min")], ms(hop.min_ms));
    setText(c[col("max")], ms(hop.max_ms));
    setText(c[col("jitter")], ms(hop.jitter_ms));
  }

  renderGraphTitle(): void {
    const title = document.getElementById("graph-title")!;
    const follow = document.getElementById("follow-destination")!;
    const ttl = this.store.graphTTL();
    const hop = this.store.detail?.hops.find((x) => x.ttl === ttl);
    if (ttl == null) {
      setText(title, "No hop yet");
    } else {
      const who = hop ? [hop.addr || "???", hop.host && hop.host !== hop.addr ? hop.host : ""].filter(Boolean).join("  ") : "";
      setText(title, `Hop ${ttl}${who ? " · " + who : ""}`);
    }
    const following = this.store.selectedTTL == null;
    follow.hidden = following;
    setText(document.getElementById("graph-mode")!, following && ttl != null ? "following the destination" : "");
  }

  /** Redraws the graph: a past window's steps of the graphed hop, or its
   * live history ring. */
  renderGraph(): void {
    const { view, win } = this.store;
    if (view) {
      const ttl = this.store.graphTTL();
      const ok = win && win.id === this.store.selectedId;
      const series = ok && ttl != null ? win.series.find((x) => x.ttl === ttl) ?? null : null;
      this.chart.showWindow(series, ok ? win.step : 1, view.from, view.to, ok ? markersOf(win.events, win.id) : []);
      return;
    }
    const hist = this.store.history;
    const ttl = this.store.graphTTL();
    const ring = hist && ttl != null && hist.targetId === this.store.selectedId ? hist.hops.get(ttl) ?? null : null;
    const span = this.store.span;
    let t0 = -Infinity;
    if (span > 0 && hist) {
      const [, hi] = hist.span();
      if (Number.isFinite(hi)) t0 = hi - span;
    }
    this.chart.update(ring, t0, markersOf(this.store.events, this.store.selectedId));
  }
}
