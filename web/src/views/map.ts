// Map tab: the selected target's hops on a world map (Natural Earth 1:110m,
// baked into the bundle, Equal Earth projection), the path drawn hop to hop
// as great-circle arcs between the hops that have a location, a marker per
// responder coloured by its latency with the hop table's amber/red rules,
// and beside it every hop listed with its place or the reason it has none.
// SVG, so it is crisp at any pixel ratio and markers are focusable. What
// leaves the machine is said on the tab; the controller (app.ts) decides
// when the server is told the tab is open and fetches the answers.

import { geoEqualEarth, geoGraticule10, geoPath, type GeoProjection } from "d3-geo";
import { feature, mesh } from "topojson-client";
import atlas from "world-atlas/countries-110m.json";
import { byId, h, setClass, setText } from "../dom";
import { ms, pct } from "../format";
import { latencyLevel, type Level } from "../judge";
import type { Store } from "../store";
import type { GeoAnswer, GeoHop, Settings } from "../types";

const NS = "http://www.w3.org/2000/svg";
const R = 9; // marker radius of a hop's main responder, CSS px
const R_OTHER = 6.5; // other responders of an ECMP hop
const MAX_ZOOM = 5; // the path view zooms at most this far in from the world
const VIEW_KEY = "pingerplot.mapView";

type View = "path" | "world";
type Sphere = { type: "Sphere" };
const SPHERE: Sphere = { type: "Sphere" };

/** Land and borders as GeoJSON, converted from the TopoJSON on first use. */
let shapes: { land: GeoJSON.FeatureCollection; borders: GeoJSON.MultiLineString } | null = null;
function world(): NonNullable<typeof shapes> {
  shapes ??= {
    land: feature(atlas, atlas.objects.land),
    borders: mesh(atlas, atlas.objects.countries, (a, b) => a !== b),
  };
  return shapes;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

let regionNames: Intl.DisplayNames | null | undefined;
/** The country's name: the answer's, else named from its ISO code (DB-IP's
 * city data gives only the code). */
export function countryName(g: Pick<GeoHop, "country" | "country_code">): string {
  if (g.country) return g.country;
  if (!g.country_code) return "";
  if (regionNames === undefined) {
    try {
      regionNames = new Intl.DisplayNames(["en"], { type: "region" });
    } catch {
      regionNames = null;
    }
  }
  try {
    return regionNames?.of(g.country_code) ?? g.country_code;
  } catch {
    return g.country_code;
  }
}

/** "Paris, France" */
export function place(g: GeoHop, withRegion = false): string {
  const parts = [g.city, withRegion && g.region && g.region !== g.city ? g.region : "", countryName(g)];
  return [...new Set(parts.filter(Boolean))].join(", "); // "Singapore", not "Singapore, Singapore"
}

const STATUS_LABEL: Record<string, string> = {
  located: "located",
  special: "not public",
  pending: "looking up",
  error: "lookup failed",
  "offline-only": "not in offline data",
  unknown: "no location",
};

interface Marker {
  g: SVGGElement;
  leader: SVGLineElement;
  ring: SVGCircleElement;
  dot: SVGCircleElement;
  label: SVGTextElement;
  hop: GeoHop;
  x: number;
  y: number;
}

interface ListRow {
  tr: HTMLTableRowElement;
  ttl: HTMLElement;
  addr: HTMLElement;
  host: HTMLElement;
  where: HTMLElement;
  status: HTMLElement;
  reason: HTMLElement;
  as: HTMLElement;
  lat: HTMLElement;
}

export interface MapHandlers {
  /** the user flipped "Online lookups (ipwho.is)" */
  onlineChanged(on: boolean): void;
}

const keyOf = (g: GeoHop) => `${g.ttl}|${g.addr}`;

export class MapView {
  private readonly stage = byId("map-stage");
  private readonly svgEl = byId("map-svg") as unknown as SVGSVGElement;
  private readonly tip = byId("map-tip");
  private readonly note = byId("map-note");
  private readonly summary = byId("map-summary");
  private readonly legend = byId("map-legend");
  private readonly tbody = byId<HTMLTableElement>("map-hops").tBodies[0];
  private readonly online = byId<HTMLInputElement>("map-online");
  private readonly sent = byId("map-sent");
  private readonly credits = byId("map-credits");
  private readonly fitPath = byId<HTMLButtonElement>("map-fit-path");
  private readonly fitWorld = byId<HTMLButtonElement>("map-fit-world");

  private readonly base = svg("g", { class: "map-base" });
  private readonly sphere = svg("path", { class: "map-sphere" });
  private readonly graticule = svg("path", { class: "map-graticule" });
  private readonly land = svg("path", { class: "map-land" });
  private readonly borders = svg("path", { class: "map-borders" });
  private readonly outline = svg("path", { class: "map-outline" });
  private readonly route = svg("g", { class: "map-route" });
  private readonly anchors = svg("g", { class: "map-anchors" });
  private readonly markerLayer = svg("g", { class: "map-markers" });

  private view: View = "path";
  private width = 0;
  private height = 0;
  private projection: GeoProjection | null = null;
  private baseKey = "";
  private markers = new Map<string, Marker>();
  private rows = new Map<string, ListRow>();
  private tipFor: string | null = null;
  private queued = false;
  /** set by the controller while a change of the online switch is saved */
  onlineSaving = false;

  constructor(private readonly store: Store, handlers: MapHandlers) {
    this.base.append(this.sphere, this.graticule, this.land, this.borders, this.outline);
    this.svgEl.append(this.base, this.route, this.anchors, this.markerLayer);
    try {
      this.view = localStorage.getItem(VIEW_KEY) === "world" ? "world" : "path";
    } catch {
      // the path view
    }
    this.fitPath.addEventListener("click", () => this.setView("path"));
    this.fitWorld.addEventListener("click", () => this.setView("world"));
    this.online.addEventListener("change", () => handlers.onlineChanged(this.online.checked));
    new ResizeObserver(() => this.schedule()).observe(this.stage);

    // tooltips: hover or keyboard focus on a marker, or hover on its row
    this.markerLayer.addEventListener("pointerover", (e) => this.tipFromEvent(e));
    this.markerLayer.addEventListener("pointerout", (e) => {
      if (!this.markerLayer.contains(e.relatedTarget as Node | null)) this.hideTip();
    });
    this.markerLayer.addEventListener("focusin", (e) => this.tipFromEvent(e));
    this.markerLayer.addEventListener("focusout", () => this.hideTip());
    this.tbody.addEventListener("pointerover", (e) => {
      const tr = (e.target as Element).closest?.("tr[data-key]");
      const key = tr?.getAttribute("data-key");
      if (key && this.markers.has(key)) this.showTip(key);
      else this.hideTip();
    });
    this.tbody.addEventListener("pointerleave", () => this.hideTip());
    this.renderView();
  }

  private setView(v: View): void {
    this.view = v;
    try {
      localStorage.setItem(VIEW_KEY, v);
    } catch {
      // not remembered
    }
    this.renderView();
    this.schedule();
  }

  private renderView(): void {
    this.fitPath.setAttribute("aria-pressed", String(this.view === "path"));
    this.fitWorld.setAttribute("aria-pressed", String(this.view === "world"));
  }

  /** Redraws on the next frame (when the tab is visible). */
  schedule(): void {
    if (this.queued) return;
    this.queued = true;
    requestAnimationFrame(() => {
      this.queued = false;
      this.render();
    });
  }

  /** The answer for the selected target, or null while there is none. */
  private answer(): GeoAnswer | null {
    const g = this.store.geo;
    return g && g.target === this.store.selectedId ? g.answer : null;
  }

  private settings(): Settings {
    return this.store.selected()?.settings ?? {};
  }

  render(): void {
    const ans = this.answer();
    this.renderAbout(ans);
    this.renderList(ans);
    const w = this.stage.clientWidth;
    const hgt = this.stage.clientHeight;
    if (w === 0 || hgt === 0) return; // hidden tab: drawn when shown
    const located = ans ? ans.hops.filter((g) => g.located && g.lat != null && g.lon != null) : [];
    this.renderBase(w, hgt, located);
    this.renderRoute(ans, located);
    this.renderMarkers(located);
    this.renderNote(ans, located.length);
    if (this.tipFor) {
      if (this.markers.has(this.tipFor)) this.showTip(this.tipFor);
      else this.hideTip();
    }
  }

  // ---- the map ----

  /** Fits the projection (the whole world, or the located hops with room
   * for their markers) and redraws land and borders when it changed. */
  private renderBase(w: number, hgt: number, located: GeoHop[]): void {
    const pts = located.map((g) => [g.lon!, g.lat!] as [number, number]);
    const key = `${w}x${hgt}|${this.view}|${this.view === "path" ? pts.map((p) => p.join(",")).join(";") : ""}`;
    if (key === this.baseKey && this.projection) return;
    this.baseKey = key;
    this.width = w;
    this.height = hgt;
    this.svgEl.setAttribute("viewBox", `0 0 ${w} ${hgt}`);
    this.svgEl.setAttribute("width", String(w));
    this.svgEl.setAttribute("height", String(hgt));

    const pad = 10;
    const p = geoEqualEarth().precision(0.2);
    const arc = pts.length ? longitudes(pts) : { centre: 0, straddles: false };
    // the whole world is centred on Greenwich, unless the path would cross
    // its edge; a zoomed view is centred on the path
    if (this.view === "path" && arc.straddles) p.rotate([-arc.centre, 0]);
    p.fitExtent([[pad, pad], [w - pad, hgt - pad]], SPHERE);
    const worldScale = p.scale();
    if (this.view === "path" && pts.length) {
      const m = 56; // room for markers, labels and clusters around the path
      const distinct = new Set(pts.map((q) => q.join(","))).size;
      p.rotate([-arc.centre, 0]);
      let scale = worldScale * 3; // one place: its region
      if (distinct > 1) {
        // the places and the arcs between them (a great circle bulges
        // towards the pole, beyond the places)
        const main = located.filter((g) => g.primary).sort((a, b) => a.ttl - b.ttl).map((g) => [g.lon!, g.lat!]);
        const arcs = main.slice(1).map((q, i) => [main[i], q]);
        p.fitExtent([[m, m], [Math.max(m + 1, w - m), Math.max(m + 1, hgt - m)]], {
          type: "GeometryCollection",
          geometries: [{ type: "MultiPoint", coordinates: pts }, { type: "MultiLineString", coordinates: arcs }],
        });
        scale = p.scale();
      }
      scale = Math.min(worldScale * MAX_ZOOM, Math.max(worldScale, scale));
      if (scale > worldScale * 1.25) {
        // centre the hops' box at that scale, then move the map so that no
        // space beyond the world's edge shows where it need not
        p.scale(scale).translate([0, 0]);
        let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
        for (const q of pts) {
          const [x, y] = p(q) ?? [0, 0];
          x0 = Math.min(x0, x); x1 = Math.max(x1, x);
          y0 = Math.min(y0, y); y1 = Math.max(y1, y);
        }
        const [[sx0, sy0], [sx1, sy1]] = geoPath(p).bounds(SPHERE);
        const tx = coverShift(w / 2 - (x0 + x1) / 2, sx0, sx1, w);
        const ty = coverShift(hgt / 2 - (y0 + y1) / 2, sy0, sy1, hgt);
        p.translate([tx, ty]);
        p.clipExtent([[0, 0], [w, hgt]]);
      } else {
        p.rotate([arc.straddles ? -arc.centre : 0, 0]);
        p.fitExtent([[pad, pad], [w - pad, hgt - pad]], SPHERE);
      }
    }
    this.projection = p;
    const path = geoPath(p);
    const { land, borders } = world();
    this.sphere.setAttribute("d", path(SPHERE) ?? "");
    this.outline.setAttribute("d", path(SPHERE) ?? "");
    this.graticule.setAttribute("d", path(geoGraticule10()) ?? "");
    this.land.setAttribute("d", path(land) ?? "");
    this.borders.setAttribute("d", path(borders) ?? "");
  }

  /** The path hop to hop between the main responders that have a place, in
   * TTL order: great-circle arcs, dashed where hops between them have none. */
  private renderRoute(ans: GeoAnswer | null, located: GeoHop[]): void {
    const p = this.projection!;
    const path = geoPath(p);
    const main = located.filter((g) => g.primary).sort((a, b) => a.ttl - b.ttl);
    const frag = document.createDocumentFragment();
    for (let i = 1; i < main.length; i++) {
      const a = main[i - 1];
      const b = main[i];
      if (a.lat === b.lat && a.lon === b.lon) continue;
      // hops between a and b that are not on the map (silent or unplaced)
      const gap = b.ttl - a.ttl > 1 || (ans?.hops ?? []).some((g) => g.primary && g.ttl > a.ttl && g.ttl < b.ttl && !g.located);
      const d = path({ type: "LineString", coordinates: [[a.lon!, a.lat!], [b.lon!, b.lat!]] }) ?? "";
      if (!d) continue;
      frag.append(
        svg("path", { class: "map-seg-halo", d }),
        svg("path", { class: `map-seg${gap ? " gap" : ""}`, d, "data-testid": "map-path", "data-from": a.ttl, "data-to": b.ttl }),
      );
    }
    this.route.replaceChildren(frag);
  }

  /** A marker per located responder; markers that would overlap are fanned
   * out around their place, each with a leader line to where it is. */
  private renderMarkers(located: GeoHop[]): void {
    const p = this.projection!;
    const s = this.settings();
    const items = located
      .map((g) => ({ g, pt: p([g.lon!, g.lat!]) }))
      .filter((x): x is { g: GeoHop; pt: [number, number] } => !!x.pt && x.pt[0] >= -R && x.pt[0] <= this.width + R && x.pt[1] >= -R && x.pt[1] <= this.height + R)
      .sort((a, b) => a.g.ttl - b.g.ttl || Number(b.g.primary) - Number(a.g.primary));

    // group markers closer than they can be told apart, and groups whose
    // fans would overlap, until none do; a group is fanned out around the
    // middle of its places
    const fan = (n: number) => (n === 1 ? 0 : Math.max(2 * R - 2, ((2 * R + 3) * n) / (2 * Math.PI)));
    let groups = items.map((it) => ({ x: it.pt[0], y: it.pt[1], items: [it] }));
    for (let merged = true; merged;) {
      merged = false;
      outer: for (let i = 0; i < groups.length; i++) {
        for (let j = i + 1; j < groups.length; j++) {
          const a = groups[i];
          const b = groups[j];
          if (Math.hypot(a.x - b.x, a.y - b.y) >= fan(a.items.length) + fan(b.items.length) + 2 * R + 8) continue;
          const all = a.items.concat(b.items);
          groups[i] = { x: all.reduce((t, it) => t + it.pt[0], 0) / all.length, y: all.reduce((t, it) => t + it.pt[1], 0) / all.length, items: all };
          groups = groups.filter((_, k) => k !== j);
          merged = true;
          break outer;
        }
      }
    }
    const seen = new Set<string>();
    const order: SVGGElement[] = [];
    const anchors = document.createDocumentFragment();
    for (const gr of groups) {
      const n = gr.items.length;
      const radius = fan(n);
      gr.items.sort((a, b) => a.g.ttl - b.g.ttl || Number(b.g.primary) - Number(a.g.primary));
      if (n > 1) {
        for (const pt of new Set(gr.items.map((it) => it.pt.join(",")))) {
          const [ax, ay] = pt.split(",").map(Number);
          anchors.append(svg("circle", { class: "map-anchor", cx: ax, cy: ay, r: 2.5 }));
        }
      }
      // a fan near the map's edge moves inwards as a whole
      const span = radius + R + 3;
      const dx = Math.max(0, span - gr.x) - Math.max(0, gr.x + span - this.width);
      const dy = Math.max(0, span - gr.y) - Math.max(0, gr.y + span - this.height);
      gr.items.forEach((it, k) => {
        const a = -Math.PI / 2 + (2 * Math.PI * k) / n;
        const x = gr.x + dx + radius * Math.cos(a);
        const y = gr.y + dy + radius * Math.sin(a);
        const key = keyOf(it.g);
        seen.add(key);
        let m = this.markers.get(key);
        if (!m) {
          m = this.makeMarker(it.g);
          this.markers.set(key, m);
        }
        this.fillMarker(m, it.g, x, y, it.pt, s);
        order.push(m.g);
      });
    }
    this.anchors.replaceChildren(anchors);
    for (const [key, m] of this.markers) {
      if (!seen.has(key)) {
        m.g.remove();
        this.markers.delete(key);
      }
    }
    // TTL order, later hops on top; markers already in place are not moved,
    // so keyboard focus stays on the one that has it
    order.sort((a, b) => Number(a.dataset.ttl) - Number(b.dataset.ttl));
    let prev: Element | null = null;
    for (const el of order) {
      const want: ChildNode | null = prev ? prev.nextSibling : this.markerLayer.firstChild;
      if (want !== el) this.markerLayer.insertBefore(el, want);
      prev = el;
    }
  }

  private makeMarker(g: GeoHop): Marker {
    const leader = svg("line", { class: "map-leader" });
    const ring = svg("circle", { class: "map-ring" });
    const dot = svg("circle", { class: "map-dot" });
    const label = svg("text", { class: "map-label", "text-anchor": "middle", dy: "0.35em" });
    const el = svg("g", { class: "map-marker", tabindex: 0, role: "img", "data-testid": "map-marker", "data-key": keyOf(g) });
    el.append(leader, ring, dot, label);
    return { g: el, leader, ring, dot, label, hop: g, x: 0, y: 0 };
  }

  private fillMarker(m: Marker, g: GeoHop, x: number, y: number, at: [number, number], s: Settings): void {
    m.hop = g;
    m.x = x;
    m.y = y;
    const r = g.primary ? R : R_OTHER;
    const level = markerLevel(g, s);
    const el = m.g;
    el.setAttribute("transform", `translate(${x.toFixed(1)},${y.toFixed(1)})`);
    el.setAttribute("data-ttl", String(g.ttl));
    el.setAttribute("data-addr", g.addr);
    el.setAttribute("data-level", level);
    el.setAttribute("data-primary", String(g.primary));
    el.setAttribute("data-destination", String(g.destination));
    el.setAttribute("aria-label", describe(g).join(", "));
    setClass(el, "other", !g.primary);
    setClass(el, "dest", g.destination);
    m.leader.setAttribute("x1", "0");
    m.leader.setAttribute("y1", "0");
    m.leader.setAttribute("x2", (at[0] - x).toFixed(1));
    m.leader.setAttribute("y2", (at[1] - y).toFixed(1));
    m.leader.style.display = Math.hypot(at[0] - x, at[1] - y) > 1 ? "" : "none";
    m.dot.setAttribute("r", String(r));
    m.ring.setAttribute("r", String(r + 3.5));
    m.ring.style.display = g.destination ? "" : "none";
    setText(m.label, String(g.ttl));
    setClass(m.label, "small", !g.primary || g.ttl >= 100);
  }

  private renderNote(ans: GeoAnswer | null, located: number): void {
    let msg = "";
    if (!this.store.selectedId) msg = "";
    else if (!ans) msg = "Looking up where the hops are…";
    else if (!ans.available) msg = "This PingerPlot runs without location data: no hop can be placed.";
    else if (!located && ans.hops.some((g) => g.status === "pending")) msg = "Looking up where the hops are…";
    else if (!located && ans.hops.length) {
      msg = ans.online
        ? "No hop has a known location yet."
        : "No hop has a known location. Add offline databases (scripts/fetch-geo-db.sh, see docs/geo.md), or allow online lookups below.";
    }
    setText(this.note, msg);
    this.note.hidden = !msg;
  }

  // ---- tooltip ----

  private tipFromEvent(e: Event): void {
    const g = (e.target as Element).closest?.(".map-marker");
    const key = g?.getAttribute("data-key");
    if (key) this.showTip(key);
  }

  private showTip(key: string): void {
    const m = this.markers.get(key);
    if (!m) return;
    for (const [k, o] of this.markers) setClass(o.g, "hl", k === key);
    this.tipFor = key;
    const g = m.hop;
    const lines = describe(g);
    this.tip.replaceChildren(
      h("div", { class: "tip-title" }, h("strong", { text: lines[0] }), g.destination ? h("span", { class: "chip", text: "destination" }) : null,
        g.primary ? null : h("span", { class: "chip", text: "other responder" })),
      ...lines.slice(1).map((l) => h("div", { text: l })),
    );
    this.tip.hidden = false;
    // beside the marker, flipped to stay inside the map
    const tw = this.tip.offsetWidth;
    const th = this.tip.offsetHeight;
    let left = m.x + 16;
    if (left + tw > this.width - 4) left = m.x - 16 - tw;
    const top = Math.min(Math.max(4, m.y - th / 2), this.height - th - 4);
    this.tip.style.left = `${Math.max(4, left)}px`;
    this.tip.style.top = `${Math.max(4, top)}px`;
  }

  private hideTip(): void {
    this.tipFor = null;
    this.tip.hidden = true;
    for (const m of this.markers.values()) setClass(m.g, "hl", false);
  }

  // ---- beside the map ----

  private renderList(ans: GeoAnswer | null): void {
    const hops = ans ? ans.hops : [];
    const s = this.settings();
    const seen = new Set<string>();
    let prev: HTMLTableRowElement | null = null;
    for (const g of hops) {
      const key = keyOf(g);
      seen.add(key);
      let row = this.rows.get(key);
      if (!row) {
        row = makeRow(key);
        this.rows.set(key, row);
      }
      const want: ChildNode | null = prev ? prev.nextSibling : this.tbody.firstChild;
      if (want !== row.tr) this.tbody.insertBefore(row.tr, want);
      prev = row.tr;
      fillRow(row, g, s);
    }
    for (const [key, row] of this.rows) {
      if (!seen.has(key)) {
        row.tr.remove();
        this.rows.delete(key);
      }
    }
    // the head line and the legend
    const primary = hops.filter((g) => g.primary && g.addr);
    const placed = primary.filter((g) => g.located).length;
    const others = hops.filter((g) => !g.primary);
    let text = "";
    if (!this.store.selectedId) text = "No target selected";
    else if (!ans) text = "Locating hops…";
    else if (!hops.length) text = "No hops yet";
    else {
      text = `${placed} of ${primary.length} hop${primary.length === 1 ? "" : "s"} on the map`;
      if (others.length) text += ` · ${others.length} other responder${others.length === 1 ? "" : "s"}`;
      const pending = hops.filter((g) => g.status === "pending").length;
      if (pending) text += ` · ${pending} being looked up`;
    }
    setText(this.summary, text);
    this.summary.title = "Hops that answered, and how many of them have a place; other responders are the further addresses of hops that answer from more than one (ECMP)";
    this.renderLegend(s);
  }

  private legendKey = "";
  private renderLegend(s: Settings): void {
    const bad = s.alert_latency_ms && s.alert_latency_ms > 0 ? s.alert_latency_ms : 250;
    const warn = bad / 2;
    const key = `${warn}|${bad}`;
    if (key === this.legendKey) return;
    this.legendKey = key;
    const n = (v: number) => `${+v.toFixed(1)} ms`;
    const sw = (cls: string) => h("i", { class: `msw ${cls}`, "aria-hidden": "true" });
    const v = (x: number) => String(+x.toFixed(1));
    this.legend.replaceChildren(
      sw("lv-ok"), `< ${v(warn)}`,
      sw("lv-warn"), `≥ ${v(warn)}`,
      sw("lv-bad"), `≥ ${n(bad)}`,
      sw("ring"), "destination",
      sw("dash"), "unplaced hops between",
    );
    this.legend.title = "Markers are coloured by the hop's average latency, with the hop table's amber and red levels (half the latency alert threshold, and the threshold)";
  }

  private renderAbout(ans: GeoAnswer | null): void {
    // the user settings are the truth once loaded (they change before the
    // next answer comes); while a change is being saved the box shows it
    const allowed = this.store.settingsLoaded ? Boolean(this.store.settings.online_lookups) : Boolean(ans?.online_allowed);
    this.online.disabled = this.onlineSaving;
    if (!this.onlineSaving) this.online.checked = allowed;
    const on = ans?.online ?? false;
    const sent = ans?.sent ?? 0;
    setText(this.sent, !ans ? "" : `Online lookups ${on ? "on while this tab is open" : allowed ? "allowed, idle" : "off"} · ${sent} request${sent === 1 ? "" : "s"} to ipwho.is since PingerPlot started ·`);
    this.sent.dataset.sent = String(sent);
    this.sent.dataset.online = String(on);
    const key = JSON.stringify(ans?.credits ?? []);
    if (this.credits.dataset.key !== key) {
      this.credits.dataset.key = key;
      const links: (Node | string)[] = [
        "Map data: ", h("a", { href: "https://www.naturalearthdata.com", target: "_blank", rel: "noopener noreferrer", text: "Natural Earth" }),
      ];
      for (const c of ans?.credits ?? []) {
        links.push(" · ");
        links.push(c.link ? h("a", { href: c.link, target: "_blank", rel: "noopener noreferrer", "data-testid": "map-credit", text: c.text }) : h("span", { "data-testid": "map-credit", text: c.text }));
      }
      this.credits.replaceChildren(...links);
    }
  }
}

/** The marker colour: the hop table's latency levels, grey when silent. */
function markerLevel(g: GeoHop, s: Settings): Level | "ok" | "none" {
  if (g.latency_ms == null) return "none";
  return latencyLevel(g.latency_ms, s) || "ok";
}

/** The tooltip's lines: hop, address and name, place, AS, latency, source. */
function describe(g: GeoHop): string[] {
  const lines = [`Hop ${g.ttl}`];
  lines.push([g.addr || "no reply", g.host && g.host !== g.addr ? g.host : ""].filter(Boolean).join(" · "));
  const where = place(g, true);
  if (where) lines.push(where);
  if (g.asn) lines.push(`AS${g.asn}${g.as_name ? " " + g.as_name : ""}`);
  lines.push(g.latency_ms != null ? `avg ${ms(g.latency_ms)} ms · loss ${pct(g.loss_pct)} %` : `no reply · loss ${pct(g.loss_pct)} %`);
  if (g.source) lines.push(`source: ${g.source}`);
  return lines;
}

function makeRow(key: string): ListRow {
  const ttl = h("td", { class: "num ttl" });
  const addr = h("span", { class: "addr" });
  const host = h("span", { class: "host" });
  const status = h("span", { class: "geo-status" });
  const reason = h("span", { class: "reason" });
  const where = h("span", { class: "where" });
  const as = h("td", { class: "as" });
  const lat = h("td", { class: "num lat" });
  const tr = h("tr", { "data-testid": "map-hop", "data-key": key },
    ttl, h("td", { class: "ip" }, addr, host), h("td", { class: "place" }, where, status, reason), as, lat);
  return { tr, ttl, addr, host, where, status, reason, as, lat };
}

function fillRow(r: ListRow, g: GeoHop, s: Settings): void {
  const tr = r.tr;
  tr.dataset.ttl = String(g.ttl);
  tr.dataset.addr = g.addr;
  tr.dataset.status = g.status;
  tr.dataset.located = String(g.located);
  tr.dataset.primary = String(g.primary);
  setClass(tr, "other", !g.primary);
  setClass(tr, "dest", g.destination);
  setText(r.ttl, g.primary ? String(g.ttl) : "");
  setText(r.addr, g.addr || "???");
  setText(r.host, g.host && g.host !== g.addr ? g.host : "");
  r.host.hidden = !r.host.textContent;
  if (g.located) {
    setText(r.where, place(g) || `${g.lat!.toFixed(2)}, ${g.lon!.toFixed(2)}`);
    r.where.dataset.level = markerLevel(g, s);
    r.where.hidden = false;
    r.status.hidden = true;
    r.reason.hidden = true;
    setText(r.status, "");
    setText(r.reason, "");
  } else {
    r.where.hidden = true;
    setText(r.where, "");
    r.status.hidden = false;
    r.reason.hidden = false;
    setText(r.status, STATUS_LABEL[g.status] ?? g.status);
    r.status.dataset.status = g.status;
    // the server's reason; a country without coordinates is still worth saying
    const known = place(g);
    setText(r.reason, [g.reason ?? "", known ? `(${known})` : ""].filter(Boolean).join(" "));
  }
  setText(r.as, g.asn ? `AS${g.asn}` : "");
  r.as.title = g.asn ? `AS${g.asn}${g.as_name ? " " + g.as_name : ""}` : "";
  setText(r.lat, g.latency_ms != null ? ms(g.latency_ms) : "–");
}

/** The translation t (of content spanning [s0, s1] at t = 0) closest to
 * want that keeps a viewport of size v covered, or centred when the
 * content is smaller than the viewport. */
function coverShift(want: number, s0: number, s1: number, v: number): number {
  if (s1 - s0 <= v) return (v - s0 - s1) / 2;
  return Math.min(-s0, Math.max(v - s1, want));
}

/** The middle of the narrowest band of longitudes that holds every point
 * (it may wrap across ±180°), and whether that band crosses ±180°, the
 * edge of a map centred on Greenwich. */
function longitudes(pts: [number, number][]): { centre: number; straddles: boolean } {
  const lons = [...new Set(pts.map((p) => p[0]))].sort((a, b) => a - b);
  if (lons.length === 1) return { centre: lons[0], straddles: false };
  // the widest gap between neighbours (wrapping) is what the band leaves out
  let gap = lons[0] + 360 - lons[lons.length - 1];
  let at = lons.length - 1; // the gap after lons[at]
  for (let i = 1; i < lons.length; i++) {
    const d = lons[i] - lons[i - 1];
    if (d > gap) {
      gap = d;
      at = i - 1;
    }
  }
  let centre = lons[at] + gap / 2 + 180; // opposite the gap's middle
  if (centre > 180) centre -= 360;
  return { centre, straddles: at !== lons.length - 1 };
}
