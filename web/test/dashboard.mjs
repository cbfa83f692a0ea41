// Drives the PingerPlot dashboard in headless Chromium (Debian's
// /usr/bin/chromium through playwright-core) against a running
// `pingerplot ui`, step by step, and prints one JSON line per step result
// on stdout:
//
//   {"step":"add target","ok":true,"ms":1234,"info":"…"}
//   {"step":"raise an alert","ok":false,"error":"…","screenshot":"/tmp/…png"}
//
// Steps that need the network to change print {"need":"latency-on"} and
// wait for one line on stdin ({"ok":true}, or {"ok":false,"error":"…"})
// before they go on: the Go test (internal/e2e/browser_linux_test.go) runs
// this script inside the lab's client namespace, reads the requests and
// shapes the lab's links. The last line is {"done":true,"steps":N}; the
// script stops at the first failed step (the later ones build on it) and
// exits 1.
//
//   node web/test/dashboard.mjs 'http://127.0.0.1:PORT/?token=…'
//
// Environment:
//   PP_TARGET       the address to monitor (the lab target's IPv4 address)
//   PP_HOPS         the addresses expected at TTL 1, 2, …, comma-separated,
//                   the target last
//   PP_NAMES        optional: host names expected for PP_HOPS, same order
//   PP_TARGET6      a second target (the lab target's IPv6 address)
//   PP_HOPS6        the addresses expected on the way to PP_TARGET6
//   PP_PLACES       the cities the test's location database gives PP_HOPS,
//                   same order (comma-separated)
//   PP_ASNS         the AS numbers it gives them, same order
//   PP_PLACE6       the city it gives PP_TARGET6 (its routers have none)
//   PP_SCREENSHOTS  optional: a directory; screenshots of both themes are
//                   written there (the test's -update-screenshots)
//   PP_ARTIFACTS    where a failed step's screenshot and the saved session
//                   go (default: the system's temp directory)
//   PP_CHROMIUM     the browser (default /usr/bin/chromium)
//
// Every wait is a poll of the page's state with a generous deadline, never
// a fixed sleep: the machine this runs on stalls for tens of milliseconds
// now and then, and the binary runs in real time.

import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { WAIT, launch, log, out, until } from "./common.mjs";

const url = process.argv[2];
if (!url || !/^http:\/\/127\.0\.0\.1:\d+\/\?token=./.test(url)) {
  console.error("usage: node dashboard.mjs 'http://127.0.0.1:PORT/?token=…' (the URL pingerplot ui prints)");
  process.exit(2);
}
const TARGET = process.env.PP_TARGET ?? "";
const HOPS = (process.env.PP_HOPS ?? "").split(",").filter(Boolean);
const NAMES = (process.env.PP_NAMES ?? "").split(",");
const TARGET6 = process.env.PP_TARGET6 ?? "";
const HOPS6 = (process.env.PP_HOPS6 ?? "").split(",").filter(Boolean);
const PLACES = (process.env.PP_PLACES ?? "").split(",").filter(Boolean);
const ASNS = (process.env.PP_ASNS ?? "").split(",").filter(Boolean).map(Number);
const PLACE6 = process.env.PP_PLACE6 ?? "";
const SHOTS = process.env.PP_SCREENSHOTS ?? "";
const ARTIFACTS = process.env.PP_ARTIFACTS || mkdtempSync(join(tmpdir(), "pp-browser-"));
const CHROMIUM = process.env.PP_CHROMIUM || "/usr/bin/chromium";
if (!TARGET || HOPS.length < 2 || HOPS[HOPS.length - 1] !== TARGET || !TARGET6 || HOPS6[HOPS6.length - 1] !== TARGET6) {
  console.error("PP_TARGET, PP_HOPS, PP_TARGET6 and PP_HOPS6 (each list ending with its target) are required");
  process.exit(2);
}
if (PLACES.length !== HOPS.length || ASNS.length !== HOPS.length || !PLACE6) {
  console.error("PP_PLACES and PP_ASNS (one per hop of PP_HOPS) and PP_PLACE6 are required");
  process.exit(2);
}
const DEST_TTL = HOPS.length;

// ---- the lab channel ----

const stdin = createInterface({ input: process.stdin })[Symbol.asyncIterator]();

/** Asks the test to change the lab and waits until it has. */
async function need(what) {
  out({ need: what });
  const { value, done } = await stdin.next();
  if (done) throw new Error(`asked the test for ${what}, but stdin closed`);
  let reply;
  try {
    reply = JSON.parse(value);
  } catch {
    throw new Error(`asked the test for ${what}; got ${JSON.stringify(value)}, not JSON`);
  }
  if (!reply.ok) throw new Error(`the lab change ${what} failed: ${reply.error ?? "no reason given"}`);
  log(`lab: ${what} done`);
}

// ---- expectations: poll until true or the deadline ----

const text = (loc) => loc.textContent({ timeout: 2000 }).then((s) => (s ?? "").trim());
const attr = (loc, name) => loc.getAttribute(name, { timeout: 2000 });

async function expectText(loc, pattern, what, timeout) {
  return until(what, () => text(loc), (s) => pattern.test(s), timeout);
}
async function expectAttr(loc, name, value, what, timeout) {
  return until(what, () => attr(loc, name), (v) => v === value, timeout);
}
async function expectVisible(loc, what, timeout = WAIT) {
  try {
    await loc.waitFor({ state: "visible", timeout });
  } catch {
    throw new Error(`${what}: not visible within ${timeout / 1000} s`);
  }
}
async function expectHidden(loc, what, timeout = WAIT) {
  try {
    await loc.waitFor({ state: "hidden", timeout });
  } catch {
    throw new Error(`${what}: still visible after ${timeout / 1000} s`);
  }
}

/** "1,234" → 1234 */
const num = (s) => Number(String(s).replace(/,/g, ""));
/** s as a literal inside a RegExp */
const re = (s) => String(s).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// ---- the browser ----

const browser = await launch(CHROMIUM);
const context = await browser.newContext({
  viewport: { width: 1280, height: 800 },
  deviceScaleFactor: 2,
  acceptDownloads: true,
  colorScheme: "dark",
  locale: "en-US",
  permissions: ["clipboard-read", "clipboard-write"],
});
context.setDefaultTimeout(WAIT);
const page = await context.newPage();

const pageErrors = [];
const apiErrors = [];
page.on("pageerror", (e) => {
  pageErrors.push(e.message);
  log("page error:", e.message);
});
page.on("console", (m) => {
  // (the readback warning comes from this script's own getImageData)
  if ((m.type() === "error" || m.type() === "warning") && !m.text().includes("willReadFrequently")) log(`console ${m.type()}:`, m.text());
});
page.on("response", (r) => {
  const u = new URL(r.url());
  if (u.pathname.startsWith("/api/") && r.status() >= 400) {
    apiErrors.push(`${r.request().method()} ${u.pathname} → ${r.status()}`);
    log("API error:", r.request().method(), u.pathname, r.status());
  }
});
// what the page tells the server about the Map tab, in order
const geoPuts = [];
page.on("request", (r) => {
  const u = new URL(r.url());
  if (u.pathname === "/api/geo") geoPuts.push(`${r.method()} ${r.postData() ?? ""}`);
});
page.on("requestfailed", (r) => {
  const f = r.failure()?.errorText ?? "";
  if (!f.includes("ERR_ABORTED")) log("request failed:", r.url().replace(/token=[^&]+/, "token=…"), f);
});

const tid = (id) => page.getByTestId(id);
const targetRow = (id = TARGET) => page.locator(`[data-testid=target-row][data-target-id="${id}"]`);
const hopRow = (ttl) => page.locator(`[data-testid=hop-row][data-ttl="${ttl}"]`);
const hopCell = (ttl, col) => hopRow(ttl).locator(`td[data-col=${col}]`);
const eventRows = (kind) => page.locator(`[data-testid=event-row][data-kind=${kind}]`);

/** GET path of the API from inside the page, with the page's token. */
async function apiGet(path) {
  return page.evaluate(async (p) => {
    const token = new URLSearchParams(location.search).get("token") ?? sessionStorage.getItem("pingerplot.token");
    const r = await fetch(p, { headers: { Authorization: `Bearer ${token}` } });
    if (!r.ok) throw new Error(`GET ${p}: ${r.status} ${await r.text()}`);
    return r.json();
  }, path);
}
const geoOf = (id) => apiGet(`/api/targets/${encodeURIComponent(id)}/geo`);

/** The hop table's "sent" of the destination. */
const destSent = async () => num(await text(hopCell(DEST_TTL, "sent")));

async function showTab(name) {
  const tab = tid(`tab-${name}`);
  await tab.click();
  await expectAttr(tab, "aria-selected", "true", `tab ${name} selected`);
  await expectVisible(tid(`panel-${name}`), `the ${name} panel`);
}

/** Opens the target's context menu with a right-click and picks an item. */
async function targetMenu(item) {
  await targetRow().click({ button: "right" });
  await expectVisible(tid("context-menu"), "the target's context menu");
  await tid(item).click();
  await expectHidden(tid("context-menu"), "the context menu after a choice");
}

/**
 * Counts the pixels of a canvas drawn in the theme's accent colour (the
 * RTT line and bars; grid, axes and strip backgrounds are other colours),
 * in a rectangle given in CSS pixels (the whole canvas by default). Also
 * returns the canvas's device and CSS widths, to check it is drawn for the
 * device pixel ratio.
 */
async function accentPixels(canvasSel, rect) {
  return page.evaluate(([sel, r]) => {
    const c = document.querySelector(sel);
    if (!c || !c.width || !c.height || !c.clientWidth) return { n: 0, w: 0, cw: 0 };
    const probe = document.createElement("canvas").getContext("2d", { willReadFrequently: true });
    probe.fillStyle = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim();
    probe.fillRect(0, 0, 1, 1);
    const [ar, ag, ab] = probe.getImageData(0, 0, 1, 1).data;
    const dpr = c.width / c.clientWidth;
    const x = Math.round((r ? r.x : 0) * dpr);
    const y = Math.round((r ? r.y : 0) * dpr);
    const w = Math.max(1, Math.min(c.width - x, Math.round((r ? r.w : c.clientWidth) * dpr)));
    const h = Math.max(1, Math.min(c.height - y, Math.round((r ? r.h : c.clientHeight) * dpr)));
    const d = c.getContext("2d").getImageData(x, y, w, h).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] > 200 && Math.abs(d[i] - ar) + Math.abs(d[i + 1] - ag) + Math.abs(d[i + 2] - ab) < 40) n++;
    }
    return { n, w: c.width, cw: c.clientWidth };
  }, [canvasSel, rect ?? null]);
}

/** Every hop's strip on the Timeline has bars: accent pixels in each
 * strip's plot area (the layout constants of web/src/views/timeline.ts:
 * labels 220 px wide, strips 30 px tall from y = 4). */
async function timelineDrawn(what) {
  return until(`${what}: the Timeline canvas drawn at 2x with bars on every hop`, async () => {
    const per = [];
    for (let i = 0; i < HOPS.length; i++) {
      const r = await accentPixels("[data-testid=timeline-canvas]", { x: 221, y: 4 + 30 * i, w: 2000, h: 30 });
      if (r.w !== 2 * r.cw) return { dpr: r.w / r.cw };
      per.push(r.n);
    }
    return per;
  }, (per) => Array.isArray(per) && per.every((n) => n > 0));
}

/** Waits until toasts are gone and nothing hovers or is focused, so a
 * screenshot shows the page at rest; then waits two frames. */
async function settle() {
  await page.mouse.move(60, 780);
  await until("toasts gone before a screenshot", () => page.locator("#toasts .toast").count(), (n) => n === 0, 15_000);
  await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

async function setTheme(want) {
  const html = page.locator("html");
  if ((await attr(html, "data-theme")) !== want) await tid("theme-toggle").click();
  await expectAttr(html, "data-theme", want, `theme ${want}`);
}

const shots = [];
/** Screenshots the page in both themes as NAME-dark.png and NAME-light.png
 * (only with PP_SCREENSHOTS), and leaves the theme as it found it. */
async function screenshots(name, ready) {
  if (!SHOTS) return;
  const html = page.locator("html");
  const start = await attr(html, "data-theme");
  for (const theme of start === "light" ? ["light", "dark"] : ["dark", "light"]) {
    await setTheme(theme);
    if (ready) await ready();
    await settle();
    const file = join(SHOTS, `${name}-${theme}.png`);
    await page.screenshot({ path: file, animations: "disabled", caret: "hide" });
    shots.push(file);
    log(`screenshot ${file}: ${statSync(file).size} bytes`);
  }
  await setTheme(start);
}

/** The Overview graph is drawn: uPlot's canvas at the device pixel ratio,
 * with an RTT line across it. */
async function graphDrawn(what) {
  return until(`${what}: the latency graph drawn at 2x with its RTT line`, () => accentPixels("[data-testid=latency-chart] canvas"),
    (r) => r.n > 300 && r.w === 2 * r.cw);
}

// ---- the scenario ----

const steps = [
  ["page loads with the token", async () => {
    const res = await page.goto(url, { waitUntil: "load" });
    if (!res || res.status() !== 200) throw new Error(`GET / answered ${res?.status()}; want 200`);
    await expectAttr(tid("status-conn"), "data-conn", "live", "the stream is live");
    await expectVisible(tid("targets-empty"), "the empty Targets pane of a first launch");
    await expectAttr(page.locator("html"), "data-theme", "dark", "the dark theme of a first launch");
    await expectText(tid("detail-title"), /^No target selected$/, "the detail title without targets");
    // the toolbar shows the first launch's thresholds from the server
    await until("thresholds loaded", () => tid("threshold-latency").inputValue(), (v) => v === "250");
    return `live; thresholds loss ${await tid("threshold-loss").inputValue()} %, latency 250 ms`;
  }],

  ["add the target and see its hops", async () => {
    await tid("interval-input").fill("0.2");
    await tid("target-input").fill(TARGET);
    await tid("add-button").click();
    await expectVisible(targetRow(), `the Targets row of ${TARGET}`);
    await expectAttr(targetRow(), "aria-selected", "true", "the new target selected");
    await expectText(targetRow().getByTestId("target-name"), new RegExp(`^${re(TARGET)}$`), "the row's name");
    await expectText(targetRow().getByTestId("target-state"), /^running$/, "the row's state");
    await expectText(tid("detail-info"), /every 200 ms/, "the detail header's interval");
    // the lab's routers, then the target, each at its TTL and no more
    const want = HOPS.join(" ");
    await until(`hop table with ${HOPS.length} hops ${want}`,
      () => page.locator("[data-testid=hop-row] .addr").allTextContents().then((a) => a.join(" ")), (s) => s === want);
    await until("hop TTLs 1…n in order", () => page.locator("[data-testid=hop-row]").evaluateAll((rows) => rows.map((r) => r.dataset.ttl).join(",")),
      (s) => s === HOPS.map((_, i) => i + 1).join(","));
    for (let i = 0; i < HOPS.length && NAMES[i]; i++) {
      await expectText(hopCell(i + 1, "host"), new RegExp(`^${re(NAMES[i])}$`), `hop ${i + 1}'s host name`);
    }
    await expectText(targetRow().getByTestId("target-hops"), new RegExp(`^${HOPS.length}$`), "the row's hop count");
    await until("the destination's sent count growing", destSent, (n) => n >= 5);
    await expectText(hopCell(DEST_TTL, "loss"), /^[\d.]+$/, "the destination's loss %");
    return `hops ${want}`;
  }],

  ["click a hop: the graph follows it", async () => {
    await expectText(tid("graph-title"), new RegExp(`^Hop ${DEST_TTL} · ${re(HOPS[DEST_TTL - 1])}`), "graph title following the destination");
    await expectText(tid("graph-mode"), /following the destination/, "graph mode before a click");
    await hopRow(2).click();
    await expectText(tid("graph-title"), new RegExp(`^Hop 2 · ${re(HOPS[1])}`), "graph title after clicking hop 2");
    await expectAttr(hopRow(2), "aria-selected", "true", "hop 2 marked as graphed");
    await expectVisible(tid("follow-destination"), "the Follow the destination button");
    await expectText(tid("graph-readout"), /^last [\d.]+ ms$/, "the graph's readout of hop 2");
    // hop 2 is nearer than the destination: the graph's latest RTT is hop 2's
    // (polled, since one sample may land in a stall of the machine)
    const destAvg = num(await text(hopCell(DEST_TTL, "avg")));
    const hop2Avg = num(await text(hopCell(2, "avg")));
    const last2 = await until(`the graph's readout near hop 2's ${hop2Avg} ms, not the destination's ${destAvg} ms`,
      async () => num((await text(tid("graph-readout"))).replace(/^last | ms$/g, "")), (v) => v < (hop2Avg + destAvg) / 2);
    const r = await graphDrawn("hop 2");
    await tid("follow-destination").click();
    await expectText(tid("graph-mode"), /following the destination/, "graph mode after Follow the destination");
    await hopRow(DEST_TTL).click();
    await expectText(tid("graph-title"), new RegExp(`^Hop ${DEST_TTL} · `), "graph title after clicking the destination");
    await expectText(tid("graph-mode"), /^$/, "no following note once a hop is clicked");
    return `hop 2 last ${last2} ms (avg ${hop2Avg}; destination ${destAvg}); graph canvas ${r.w} device px wide for ${r.cw} CSS px, ${r.n} px of RTT line`;
  }],

  ["right-click a hop: copy its IP", async () => {
    await hopRow(1).click({ button: "right" });
    await expectVisible(tid("context-menu"), "the hop's context menu");
    await expectText(tid("menu-copy-ip"), new RegExp(re(HOPS[0])), "the Copy IP item naming the address");
    await tid("menu-copy-ip").click();
    await expectVisible(page.getByText(`Copied IP ${HOPS[0]}`), "the toast after copying");
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    if (clip !== HOPS[0]) throw new Error(`clipboard holds ${JSON.stringify(clip)}; want ${HOPS[0]}`);
    return `copied ${clip}`;
  }],

  ["switch every tab", async () => {
    await showTab("timeline");
    await expectText(tid("timeline-scale"), /^bar height: 0 – [\d.]+ ms/, "the Timeline's shared scale");
    const tl = await timelineDrawn("Timeline tab");
    await showTab("events");
    await expectVisible(eventRows("target_added").first(), "a target_added event in the Events tab");
    const n = await page.locator("[data-testid=event-row]").count();
    await showTab("map");
    await expectVisible(tid("map-svg"), "the Map tab's map");
    await showTab("overview");
    await expectVisible(hopRow(1), "the hop table back in Overview");
    await graphDrawn("back in Overview");
    return `timeline bar pixels per hop ${tl.join(" ")}; ${n} event(s)`;
  }],

  ["the Map tab places the lab's hops, and sends nothing", async () => {
    const markers = page.locator("[data-testid=map-marker]");
    const before = geoPuts.length;
    await showTab("map");
    await until("PUT /api/geo {map_open: true} when the Map tab shows", () => geoPuts.slice(before), (l) => l.at(-1) === 'PUT {"map_open":true}');
    // the test database places every router and the target: one marker each
    await until(`${HOPS.length} markers, hops 1…${HOPS.length}`, () => markers.evaluateAll((ms) => ms.map((m) => m.dataset.ttl).join(",")),
      (s) => s === HOPS.map((_, i) => i + 1).join(","));
    await expectAttr(markers.last(), "data-destination", "true", "the destination's marker marked as the destination");
    if (await page.locator("[data-testid=map-marker][data-primary=false]").count()) throw new Error("other-responder markers on a path without ECMP");
    // the path, hop to hop: one arc between each pair of neighbours, drawn
    const segs = await until(`the path drawn as ${HOPS.length - 1} arcs`, () => page.locator("[data-testid=map-path]").evaluateAll((ps) =>
      ps.map((p) => ({ from: p.dataset.from, to: p.dataset.to, len: p.getTotalLength(), gap: p.classList.contains("gap") }))),
    (l) => l.length === HOPS.length - 1 && l.every((x, i) => x.from === String(i + 1) && x.to === String(i + 2) && x.len > 5 && !x.gap));
    // beside the map, each hop with its city
    const rows = page.locator("[data-testid=map-hop]");
    await until(`the list of ${HOPS.length} hops, each in its city (${PLACES.join(", ")})`, () => rows.evaluateAll((rs) => rs.map((r) => [r.dataset.ttl, r.dataset.status, r.querySelector(".where")?.textContent ?? ""])),
      (l) => l.length === HOPS.length && l.every(([ttl, st, where], i) => ttl === String(i + 1) && st === "located" && where.startsWith(PLACES[i])));
    // the server's answer agrees, and nothing went to ipwho.is
    const g = await geoOf(TARGET);
    const placed = g.hops.map((x) => `${x.ttl} ${x.addr} ${x.city} AS${x.asn}`);
    for (let i = 0; i < HOPS.length; i++) {
      const x = g.hops.find((y) => y.ttl === i + 1);
      if (!x || x.addr !== HOPS[i] || !x.located || x.city !== PLACES[i] || x.asn !== ASNS[i]) throw new Error(`GET …/geo: hop ${i + 1} is ${JSON.stringify(x)}; want ${HOPS[i]} located in ${PLACES[i]}, AS${ASNS[i]}`);
    }
    if (g.online || g.online_allowed || g.sent !== 0) throw new Error(`online lookups off, yet GET …/geo says online ${g.online}, allowed ${g.online_allowed}, sent ${g.sent}`);
    await expectAttr(tid("map-sent"), "data-sent", "0", "the tab's count of requests sent online");
    if (await tid("map-online").isChecked()) throw new Error("the Online lookups (ipwho.is) box is checked on a first launch");
    // what leaves the machine, said on the tab
    const privacy = await expectText(tid("map-privacy"), /ipwho\.is.*HTTPS.*never sent.*nothing is sent while this tab is closed/s, "the privacy text");
    // hovering a marker: address, host, place, AS and latency
    await page.locator("[data-testid=map-marker][data-ttl=\"2\"]").hover();
    await expectVisible(tid("map-tooltip"), "the tooltip of hop 2");
    const tip = await expectText(tid("map-tooltip"), new RegExp(`Hop 2.*${re(HOPS[1])}.*${re(PLACES[1])}.*AS${ASNS[1]}.*avg [\\d.]+ ms`, "s"), "the tooltip's text");
    await page.mouse.move(5, 5);
    await expectHidden(tid("map-tooltip"), "the tooltip after the pointer left");
    await screenshots("map", async () => {
      await until("the markers drawn for the screenshot", () => markers.count(), (n) => n === HOPS.length);
    });
    // leaving the tab says so; nothing went online meanwhile
    const mark = geoPuts.length;
    await showTab("overview");
    await until("PUT /api/geo {map_open: false} when another tab shows", () => geoPuts.slice(mark), (l) => l.at(-1) === 'PUT {"map_open":false}');
    const after = await geoOf(TARGET);
    if (after.sent !== 0 || after.online) throw new Error(`after the Map tab: sent ${after.sent}, online ${after.online}; want 0, false`);
    // the hop table's AS column
    for (const [i, asn] of ASNS.entries()) await expectText(hopCell(i + 1, "as"), new RegExp(`^AS${asn}$`), `hop ${i + 1}'s AS`);
    return `markers ${HOPS.length}, arcs ${segs.map((x) => `${x.from}→${x.to} ${Math.round(x.len)} px`).join(", ")}; ${placed.join("; ")}; sent 0; tooltip "${tip.replace(/\s+/g, " ")}"; privacy text ${privacy.length} chars; PUT /api/geo: ${geoPuts.join(" | ")}`;
  }],

  ["set a low latency threshold from the toolbar", async () => {
    await tid("threshold-latency").fill("50");
    await tid("threshold-window").fill("10");
    await expectAttr(tid("thresholds-apply"), "disabled", null, "Apply enabled after an edit");
    await tid("thresholds-apply").click();
    await expectVisible(tid("confirm-dialog"), "the apply-to-running-targets question");
    await tid("confirm-ok").click();
    await expectVisible(page.getByText("Thresholds applied to 1 target"), "the toast after applying");
    await showTab("events");
    await expectVisible(eventRows("settings_changed").filter({ hasText: "latency alert" }).first(), "a settings_changed event naming the latency alert");
    const msg = await text(eventRows("settings_changed").first().locator(".msg"));
    await showTab("overview");
    return msg;
  }],

  ["raise an alert in the lab: the banner names target and condition", async () => {
    if (SHOTS) {
      // a longer calm stretch before the step, for the screenshots
      await until("a minute of history for the screenshots", destSent, (n) => n >= 300, 120_000);
    }
    await expectHidden(tid("alert-banner"), "no banner before the step");
    await need("latency-on");
    const banner = tid("alert-banner");
    await expectVisible(banner, "the alert banner after the latency step");
    const s = await expectText(banner, new RegExp(`ALERT.*${re(TARGET)}.*latency [\\d.]+ ms ≥ 50 ms`), "the banner's text");
    await expectAttr(targetRow(), "data-state", "alert", "the target row in alert");
    await expectText(tid("status-counts"), /1 in alert/, "the status bar's alert count");
    await until("page title flagging the alert", () => page.title(), (t) => t.startsWith("⚠"));
    if (SHOTS) {
      await until("ten seconds of the step in the graph", destSent, (n) => n >= 350, 60_000);
      await screenshots("alert", async () => {
        await expectVisible(banner, "the banner while taking screenshots");
        await graphDrawn("alert screenshot");
      });
    }
    return s;
  }],

  ["remove the step: the alert clears", async () => {
    await need("latency-off");
    await expectHidden(tid("alert-banner"), "the banner after the step is removed");
    await expectAttr(targetRow(), "data-state", "running", "the target row running again");
    await until("page title without the alert", () => page.title(), (t) => t === "PingerPlot");
    await showTab("events");
    await expectVisible(eventRows("alert_raised").first(), "an alert_raised event");
    await expectVisible(eventRows("alert_cleared").first(), "an alert_cleared event");
    const raised = await text(eventRows("alert_raised").first().locator(".msg"));
    await showTab("overview");
    if (SHOTS) {
      await until("the path calm again in the graph", destSent, (n) => n >= 420, 60_000);
      await screenshots("dashboard", () => graphDrawn("overview screenshot"));
      await showTab("timeline");
      // all history: the run is shorter than the default 15 min span
      await tid("span-select").selectOption("0");
      await screenshots("timeline", () => timelineDrawn("timeline screenshot"));
      await tid("span-select").selectOption("900");
      await showTab("overview");
    }
    return raised;
  }],

  ["pause and resume from the target's context menu", async () => {
    await targetMenu("menu-pause");
    await expectAttr(targetRow(), "data-state", "paused", "the row paused");
    await expectText(targetRow().getByTestId("target-state"), /^paused$/, "the row's state text");
    await expectText(tid("detail-state"), /^paused$/, "the detail header's state");
    const sentCells = page.locator("[data-testid=hop-row] td[data-col=sent]");
    const before = (await sentCells.allTextContents()).map(num);
    if (before.length !== HOPS.length || before.some((n) => n < 5)) throw new Error(`sent counts ${before.join(" ")} when paused; want the history so far`);
    await targetMenu("menu-resume");
    await expectAttr(targetRow(), "data-state", "running", "the row running after Resume");
    // the history is kept: counts go on from where they were, never lower
    let lower = null;
    const after = await until(`sent counts going on from ${before.join(" ")}`, async () => {
      const a = (await sentCells.allTextContents()).map(num);
      if (a.some((n, i) => n < before[i])) lower ??= a;
      return a;
    }, (a) => a.length === before.length && a.every((n, i) => n > before[i]));
    if (lower) throw new Error(`sent counts ${lower.join(" ")} after resuming, below ${before.join(" ")} when paused: the history was reset`);
    await showTab("events");
    await expectVisible(eventRows("paused").first(), "a paused event");
    await expectVisible(eventRows("resumed").first(), "a resumed event");
    await showTab("overview");
    return `sent ${before.join(" ")} when paused, ${after.join(" ")} after resuming`;
  }],

  ["edit one target's settings", async () => {
    await targetMenu("menu-edit-settings");
    const dlg = tid("target-settings-dialog");
    await expectVisible(dlg, "the target's settings dialog");
    await expectText(dlg.locator("h2"), new RegExp(`Settings of ${re(TARGET)}`), "the dialog's title");
    const interval = dlg.getByTestId("setting-interval");
    await until("the dialog showing the interval", () => interval.inputValue(), (v) => v === "0.2");
    await until("the dialog showing the latency threshold", () => dlg.getByTestId("setting-alert_latency_ms").inputValue(), (v) => v === "50");
    await interval.fill("0.5");
    await dlg.getByTestId("target-settings-dialog-save").click();
    await expectHidden(dlg, "the dialog after Save");
    await expectText(tid("detail-info"), /every 500 ms/, "the detail header's new interval");
    await showTab("events");
    const ev = eventRows("settings_changed").filter({ hasText: "interval" }).first();
    await expectVisible(ev, "a settings_changed event for the interval");
    const msg = await text(ev.locator(".msg"));
    await showTab("overview");
    return msg;
  }],

  ["export the per-hop summary CSV", async () => {
    const dl = page.waitForEvent("download", { timeout: WAIT });
    await tid("export-csv").click();
    const d = await dl;
    const file = join(ARTIFACTS, d.suggestedFilename());
    await d.saveAs(file);
    const csv = readFileSync(file, "utf8");
    for (const want of [`# target: ${TARGET}`, "ttl,addr,host,loss_pct", HOPS[0]]) {
      if (!csv.includes(want)) throw new Error(`${d.suggestedFilename()} lacks ${JSON.stringify(want)}:\n${csv.slice(0, 600)}`);
    }
    return `${d.suggestedFilename()}, ${csv.split("\n").length} lines`;
  }],

  ["save the session and load it back", async () => {
    await until("a few rounds at the new interval", destSent, (n) => n > 0);
    // saved paused, so what comes back must match the file exactly
    await tid("detail-pause-resume").click();
    await expectAttr(targetRow(), "data-state", "paused", "the row paused by the detail header's Pause");
    await expectText(tid("detail-pause-resume"), /^Resume$/, "the header button offering Resume");
    const dl = page.waitForEvent("download", { timeout: WAIT });
    await tid("save-session").click();
    const d = await dl;
    const name = d.suggestedFilename();
    if (!/^pingerplot-session-.*\.json$/.test(name)) throw new Error(`download named ${name}; want pingerplot-session-….json`);
    const file = join(ARTIFACTS, name);
    await d.saveAs(file);
    const saved = JSON.parse(readFileSync(file, "utf8"));
    const st = saved.targets?.find((x) => x.target?.addr === TARGET);
    if (!st) throw new Error(`the saved session has no target with address ${TARGET}`);
    if (st.state !== "paused") throw new Error(`saved state ${st.state}; want paused`);
    const sHop = st.hops?.find((h) => h.ttl === DEST_TTL);
    const sSent = sHop?.stats?.sent ?? 0;
    const sHist = sHop?.history?.length ?? 0;
    if (sSent < 10 || sHist < 10) throw new Error(`saved destination hop: sent ${sSent}, ${sHist} history samples; want the run so far`);

    // remove the target, so what comes back comes from the file
    await targetMenu("menu-remove");
    await expectVisible(tid("confirm-dialog"), "the Remove question");
    await tid("confirm-ok").click();
    await expectVisible(tid("targets-empty"), "the empty Targets pane after Remove");
    await expectText(tid("detail-title"), /^No target selected$/, "no target selected after Remove");
    // a fresh page, so the log shows only what the server has: the removed
    // target's events went with it, and the loaded ones must come back
    // without another reload
    await page.reload({ waitUntil: "load" });
    await expectAttr(tid("status-conn"), "data-conn", "live", "the stream live after reloading the empty page");
    await expectVisible(tid("targets-empty"), "the empty Targets pane after the reload");
    await until("no alert events of the removed target", () => eventRows("alert_raised").count(), (n) => n === 0);

    await tid("load-session-file").setInputFiles(file);
    await expectVisible(targetRow(), "the target back from the session");
    await expectAttr(targetRow(), "aria-selected", "true", "the loaded target selected");
    await expectVisible(page.getByText(/Loaded 1 target from /), "the toast after loading");
    await expectAttr(targetRow(), "data-state", "paused", "the target restored paused");
    // a round may slip in between the restore and the pause: allow one
    const sent = await until(`the destination's statistics from the file (sent ${sSent})`, destSent, (n) => n >= sSent && n <= sSent + 1);
    const rounds = num((await text(tid("detail-info"))).match(/([\d,]+) rounds/)?.[1] ?? "0");
    if (rounds < st.rounds || rounds > st.rounds + 1) throw new Error(`${rounds} rounds after loading; the file has ${st.rounds}`);
    await expectText(tid("detail-info"), /every 500 ms/, "the restored target's interval");
    await expectText(hopCell(1, "ip"), new RegExp(re(HOPS[0])), "the restored hops");
    await graphDrawn("restored history");
    // the session's events, older than anything the page saw, are in the log
    const restored = await until("the session's events in the log (alert raised and cleared, added)", async () =>
      Promise.all(["alert_raised", "alert_cleared", "target_added"].map((k) => eventRows(k).count())),
    (c) => Array.isArray(c) && c.every((n) => n > 0));
    await tid("detail-pause-resume").click();
    await expectAttr(targetRow(), "data-state", "running", "the restored target resumed");
    const after = await until(`counts going on from ${sent}`, destSent, (n) => n > sent);
    return `${name}: sent ${sSent}, ${st.rounds} rounds, ${sHist} samples; loaded: sent ${sent}, ${rounds} rounds, events alert_raised/alert_cleared/target_added ${restored.join("/")}; resumed: sent ${after}`;
  }],

  ["add a second target (IPv6)", async () => {
    await tid("target-input").fill(TARGET6);
    await tid("add-button").click();
    await expectVisible(targetRow(TARGET6), `the Targets row of ${TARGET6}`);
    await expectAttr(targetRow(TARGET6), "aria-selected", "true", "the new target selected");
    await expectAttr(targetRow(TARGET), "aria-selected", "false", "the first target no longer selected");
    await until("the two rows in the order added", () => page.locator("[data-testid=target-row]").evaluateAll((rows) => rows.map((r) => r.dataset.targetId)),
      (ids) => ids.join(" ") === `${TARGET} ${TARGET6}`);
    const want = HOPS6.join(" ");
    await until(`the IPv6 hop table ${want}`,
      () => page.locator("[data-testid=hop-row] .addr").allTextContents().then((a) => a.join(" ")), (s) => s === want);
    // the Map tab: the target in its city; its routers (Unique-Local
    // addresses the database does not know) listed with the reason
    await showTab("map");
    const rows = page.locator("[data-testid=map-hop]");
    const list = await until(`the map's list: ${HOPS6.length - 1} routers not placed, with the reason, and the target in ${PLACE6}`,
      () => rows.evaluateAll((rs) => rs.map((r) => ({ addr: r.dataset.addr, status: r.dataset.status, text: r.querySelector(".place").textContent.trim() }))),
      (l) => l.length === HOPS6.length && l.every((x, i) => x.addr === HOPS6[i] && (i === HOPS6.length - 1
        ? x.status === "located" && x.text.startsWith(PLACE6)
        : x.status === "special" && /Unique-Local.*never sent online/.test(x.text))));
    await until("one marker, the destination's", () => page.locator("[data-testid=map-marker]").evaluateAll((ms) => ms.map((m) => `${m.dataset.ttl}:${m.dataset.destination}`).join(",")),
      (s) => s === `${HOPS6.length}:true`);
    if (await page.locator("[data-testid=map-path]").count()) throw new Error("a path drawn with a single placed hop");
    await expectText(tid("map-summary"), new RegExp(`^1 of ${HOPS6.length} hops on the map`), "the map's summary line");
    const g = await geoOf(TARGET6);
    if (g.sent !== 0) throw new Error(`GET …/geo of ${TARGET6}: sent ${g.sent}; want 0`);
    await showTab("overview");
    return `hops ${want}; map: ${list.map((x) => `${x.status} ${x.text}`).join(" | ")}`;
  }],

  ["toggle the theme", async () => {
    const html = page.locator("html");
    const bgDark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await tid("theme-toggle").click();
    await expectAttr(html, "data-theme", "light", "html data-theme after the toggle");
    await expectText(tid("theme-toggle"), /Light/, "the toggle's label");
    const bgLight = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    if (bgLight === bgDark) throw new Error(`the page background stayed ${bgDark} after switching theme`);
    // the chart is rebuilt in the new colours
    await graphDrawn("after the theme change");
    return `background ${bgDark} → ${bgLight}`;
  }],

  ["reload: everything restored", async () => {
    await showTab("events");
    // the theme is saved on the server; wait until it is before reloading
    await until("the theme saved", () => page.evaluate(async () => {
      const token = new URLSearchParams(location.search).get("token");
      const r = await fetch("/api/settings", { headers: { Authorization: `Bearer ${token}` } });
      return (await r.json()).theme;
    }), (t) => t === "light");
    await page.reload({ waitUntil: "load" });
    await expectAttr(tid("status-conn"), "data-conn", "live", "the stream live after reload");
    await expectAttr(page.locator("html"), "data-theme", "light", "the light theme after reload");
    // the list, in its order, and the selection (the second row, which a
    // page that forgot it would not pick)
    await until("both targets listed after reload", () => page.locator("[data-testid=target-row]").evaluateAll((rows) => rows.map((r) => r.dataset.targetId)),
      (ids) => ids.join(" ") === `${TARGET} ${TARGET6}`);
    await expectAttr(targetRow(TARGET6), "aria-selected", "true", "the IPv6 target still selected after reload");
    await expectAttr(targetRow(TARGET), "aria-selected", "false", "the first target not selected after reload");
    await expectText(tid("detail-title"), new RegExp(`^${re(TARGET6)}$`), "the detail title after reload");
    await expectAttr(tid("tab-events"), "aria-selected", "true", "the Events tab still chosen after reload");
    await expectVisible(eventRows("alert_raised").first(), "the event log after reload");
    await until("thresholds after reload", async () => `${await tid("threshold-latency").inputValue()}/${await tid("threshold-window").inputValue()}`,
      (v) => v === "50/10");
    await showTab("overview");
    await until("the IPv6 hops after reload", () => page.locator("[data-testid=hop-row] .addr").allTextContents().then((a) => a.join(" ")),
      (s) => s === HOPS6.join(" "));
    await graphDrawn("after reload");
    // back to the default theme for the steps after
    await tid("theme-toggle").click();
    await expectAttr(page.locator("html"), "data-theme", "dark", "dark again");
    return `theme light, ${TARGET} and ${TARGET6} listed, ${TARGET6} selected, Events tab, thresholds 50 ms / 10 probes`;
  }],

  ["invalid input in the Engine dialog is refused with the reason", async () => {
    await tid("engine-button").click();
    const dlg = tid("engine-dialog");
    await expectVisible(dlg, "the Engine dialog");
    const maxHops = dlg.getByTestId("setting-max_hops");
    await until("Engine dialog showing max hops", () => maxHops.inputValue(), (v) => v === "30");
    await maxHops.fill("300");
    await expectText(dlg.getByTestId("setting-error-max_hops"), /must be at most 255/, "the reason under Max hops");
    await expectAttr(maxHops, "aria-invalid", "true", "Max hops marked invalid");
    await dlg.getByTestId("setting-timeout").fill("0");
    await expectText(dlg.getByTestId("setting-error-timeout"), /must be more than 0/, "the reason under Reply timeout");
    await dlg.getByTestId("setting-webhook_url").fill("ftp://hooks.example/x");
    await expectText(dlg.getByTestId("setting-error-webhook_url"), /http/, "the reason under Webhook URL");
    // the history bound is the server's (GET /api/options), not a copy
    const opts = await page.evaluate(async () => {
      const token = new URLSearchParams(location.search).get("token");
      const r = await fetch("/api/options", { headers: { Authorization: `Bearer ${token}` } });
      return r.json();
    });
    const maxHistory = opts.find((o) => o.key === "history").max;
    const history = dlg.getByTestId("setting-history");
    await history.fill(String(maxHistory));
    await until("no reason under History at the server's maximum", () => text(dlg.getByTestId("setting-error-history")), (v) => v === "");
    await history.fill(String(maxHistory + 1));
    await expectText(dlg.getByTestId("setting-error-history"), new RegExp(`must be at most ${maxHistory} rounds`), "the reason under History");
    const reason = await text(dlg.getByTestId("setting-error-max_hops"));
    await dlg.getByTestId("engine-dialog-save").click();
    const why = await expectText(dlg.getByTestId("engine-dialog-error"), /refused/, "the dialog's refusal");
    await expectVisible(dlg, "the dialog staying open after a refusal");
    await dlg.getByTestId("engine-dialog-cancel").click();
    await expectHidden(dlg, "the dialog after Cancel");
    // nothing was saved
    await tid("engine-button").click();
    await expectVisible(dlg, "the Engine dialog again");
    await until("max hops unchanged", () => maxHops.inputValue(), (v) => v === "30");
    await dlg.getByTestId("engine-dialog-cancel").click();
    await expectHidden(dlg, "the dialog closed");
    return `max hops 300: "${reason}"; Save: "${why}"`;
  }],

  ["no page errors, no failed API calls", async () => {
    if (pageErrors.length) throw new Error(`uncaught errors in the page: ${pageErrors.join("; ")}`);
    if (apiErrors.length) throw new Error(`API calls failed: ${apiErrors.join("; ")}`);
    await expectHidden(page.getByTestId("toast-error").first(), "no error toast", 1000).catch(() => {
      throw new Error("an error toast is showing");
    });
    return "";
  }],
];

let failed = false;
let n = 0;
for (const [name, fn] of steps) {
  const t0 = Date.now();
  try {
    const info = await fn();
    out({ step: name, ok: true, ms: Date.now() - t0, info: info ?? "" });
    n++;
  } catch (e) {
    failed = true;
    const shot = join(ARTIFACTS, "failed-step.png");
    await page.screenshot({ path: shot, timeout: 10_000 }).catch(() => {});
    out({ step: name, ok: false, ms: Date.now() - t0, error: e.message, screenshot: shot });
    break;
  }
}
await browser.close();
if (!failed) out({ done: true, steps: n, screenshots: shots });
process.exit(failed ? 1 : 0);
