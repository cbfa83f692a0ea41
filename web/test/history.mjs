// Past windows in the dashboard: a scenario for
// internal/e2e/history_browser_linux_test.go, which serves the dashboard
// over a history store filled with known synthetic rounds (hop 2 losing
// 20 % at 30 ms, the destination 5 %) and a live target of the same key.
// The script picks a range, drags across the latency graph and the
// timeline, types a custom window, and reports each window the page
// shows (its exact bounds as the server answered them) with the hop
// table's numbers as the page prints them; the Go test compares them with
// the store's Summary of that exact window. Then Evidence… and Back to
// live. Same protocol as dashboard.mjs: one JSON line per step on stdout,
// {"done":true} last.
//
//   node web/test/history.mjs http://127.0.0.1:PORT/?token=…
//
// Environment: PP_START (Unix seconds of the first stored round),
// PP_STORED_HOPS and PP_LIVE_HOPS (each path's addresses, comma-separated),
// PP_SHOTS (a directory: write the docs' screenshots there), PP_ARTIFACTS
// (the failed step's screenshot and the evidence download), PP_CHROMIUM.

import { join } from "node:path";
import { WAIT, launch, out, runSteps, until } from "./common.mjs";

const url = process.argv[2];
const START = Number(process.env.PP_START);
const STORED = (process.env.PP_STORED_HOPS ?? "").split(",").filter(Boolean);
const LIVE = (process.env.PP_LIVE_HOPS ?? "").split(",").filter(Boolean);
const SHOTS = process.env.PP_SHOTS ?? "";
const ARTIFACTS = process.env.PP_ARTIFACTS ?? "";
if (!url?.startsWith("http") || !(START > 0) || !STORED.length || !LIVE.length || !ARTIFACTS) {
  console.error("usage: PP_START=… PP_STORED_HOPS=… PP_LIVE_HOPS=… PP_ARTIFACTS=… node history.mjs http://127.0.0.1:PORT/?token=…");
  process.exit(2);
}

const browser = await launch(process.env.PP_CHROMIUM || "/usr/bin/chromium");
const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 820 }, deviceScaleFactor: SHOTS ? 2 : 1 });
const page = await context.newPage();
page.setDefaultTimeout(WAIT);
const errors = [];
page.on("pageerror", (e) => errors.push(e.message));
page.on("console", (m) => {
  if (m.type() === "error") errors.push(m.text());
});
const failedAPI = [];
page.on("response", (r) => {
  if (r.url().includes("/api/") && r.status() >= 400) failedAPI.push(`${r.status()} ${r.url()}`);
});

const $ = (id) => page.locator(`[data-testid="${id}"]`);

/** The hop table as the page prints it. */
async function rows() {
  return page.$$eval("#hop-table tbody tr", (trs) => trs.map((tr) => {
    const cell = (c) => (tr.querySelector(`[data-col="${c}"]`)?.textContent ?? "").trim();
    return { ttl: Number(cell("ttl")), addr: (tr.querySelector(".addr")?.textContent ?? "").trim(), sent: cell("sent"), loss: cell("loss"), avg: cell("avg") };
  }));
}

/** Waits for a window other than `prev` to be shown and filled in;
 * returns its bounds and the table. */
async function windowShown(what, prev) {
  const bounds = await until(`${what}: the window is loaded`, async () => {
    const bar = await $("window-bar").evaluate((el) => ({ hidden: el.hidden, from: el.dataset.from, to: el.dataset.to, view: el.dataset.view }));
    const state = await $("window-text").getAttribute("data-state");
    return { ...bar, state };
  }, (b) => !b.hidden && b.state === "ready" && b.from && (b.from !== prev?.from || b.to !== prev?.to));
  const table = await until(`${what}: the hop table shows the stored path`, rows,
    (r) => r.length === STORED.length && r.every((x, i) => x.addr === STORED[i]));
  return { from: bounds.from, to: bounds.to, view: bounds.view, rows: table };
}

async function dragAcross(locator, x0f, x1f, left = 0, right = 0) {
  const box = await locator.boundingBox();
  if (!box) throw new Error("nothing to drag across");
  const w = box.width - left - right;
  const y = box.y + box.height / 2;
  await page.mouse.move(box.x + left + w * x0f, y);
  await page.mouse.down();
  await page.mouse.move(box.x + left + w * ((x0f + x1f) / 2), y, { steps: 4 });
  await page.mouse.move(box.x + left + w * x1f, y, { steps: 4 });
  await page.mouse.up();
}

async function shot(name) {
  if (!SHOTS) return "";
  const p = join(SHOTS, name);
  await page.screenshot({ path: p });
  return p;
}

const local = (t) => {
  const d = new Date(t * 1000);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
};

let last = null;
const shots = [];
const steps = [
  ["the live view, with the range picker", async () => {
    await page.goto(url);
    await until("the stream is live", () => $("status-conn").textContent(), (t) => t === "Live");
    await until("the live hop table", rows, (r) => r.length === LIVE.length && r.every((x, i) => x.addr === LIVE[i]));
    await until("the range picker shows (history on)", () => $("range-picker").isVisible());
    const hist = await until("the status bar shows the history's health", () => $("status-history").textContent(), (t) => /^history \d/.test(t ?? ""));
    if (await $("window-bar").isVisible()) throw new Error("the window bar shows in the live view");
    if (!(await $("evidence-button").isVisible())) throw new Error("no Evidence… button");
    return hist;
  }],
  ["range 6 h: the stored window", async () => {
    await $("range-select").selectOption("21600");
    last = await windowShown("6 h", null);
    if (last.view !== "21600") throw new Error(`view ${last.view}; want 21600`);
    // both stored events are in it: markers on the graph
    const markers = await until("two markers on the graph", () => $("latency-chart").getAttribute("data-markers"), (m) => m === "2");
    const points = Number(await $("latency-chart").getAttribute("data-points"));
    if (!(points > 100)) throw new Error(`the graph has ${points} points; want the window's steps`);
    const mos = await $("status-mos").textContent();
    if (!mos.includes("in the window")) throw new Error(`status bar MOS ${JSON.stringify(mos)}: not the window's`);
    const s = await shot("history-range-picker.png");
    if (s) shots.push(s);
    out({ step: "window", window: last });
    return `${last.from} – ${last.to}, ${markers} markers, ${points} points`;
  }],
  ["drag to zoom on the latency graph", async () => {
    await dragAcross(page.locator("#latency-chart .u-over"), 0.35, 0.6);
    const w = await windowShown("the dragged span", last);
    if (w.view !== "zoom") throw new Error(`view ${w.view}; want zoom`);
    const span = (Date.parse(w.to) - Date.parse(w.from)) / 1000;
    const was = (Date.parse(last.to) - Date.parse(last.from)) / 1000;
    if (!(span < was * 0.4 && span > was * 0.1)) throw new Error(`the zoomed window is ${span} s of ${was} s; want about a quarter`);
    last = w;
    out({ step: "window", window: w });
    return `${w.from} – ${w.to}`;
  }],
  ["drag to zoom on the timeline", async () => {
    await $("tab-timeline").click();
    const canvas = $("timeline-canvas");
    await until("the timeline is drawn", () => $("timeline-scale").textContent(), (t) => (t ?? "").startsWith("bar height"));
    await dragAcross(canvas, 0.25, 0.75, 220, 12);
    const w = await windowShown("the timeline's span", last);
    const s = await shot("history-zoomed-timeline.png");
    if (s) shots.push(s);
    await $("tab-overview").click();
    last = w;
    out({ step: "window", window: w });
    return `${w.from} – ${w.to}`;
  }],
  ["a custom window", async () => {
    await $("range-select").selectOption("custom");
    await $("range-from").fill(local(START + 20 * 60));
    await $("range-to").fill(local(START + 35 * 60));
    await $("range-apply").click();
    const w = await windowShown("the custom window", last);
    if (Date.parse(w.from) !== (START + 20 * 60) * 1000 || Date.parse(w.to) !== (START + 35 * 60) * 1000) {
      throw new Error(`window ${w.from} – ${w.to}; want 20 to 35 minutes after the first round`);
    }
    last = w;
    out({ step: "window", window: w });
    // click hop 2: the graph follows it in the window
    await page.locator('#hop-table tbody tr[data-ttl="2"]').click();
    await until("the graph shows hop 2", () => $("graph-title").textContent(), (t) => (t ?? "").startsWith("Hop 2"));
    const s = await shot("history-zoomed.png");
    if (s) shots.push(s);
    return `${w.from} – ${w.to}`;
  }],
  ["Evidence… downloads the window's file", async () => {
    const [dl] = await Promise.all([page.waitForEvent("download"), $("evidence-button").click()]);
    const name = dl.suggestedFilename();
    if (!/^pingerplot-evidence-.+\.html$/.test(name)) throw new Error(`downloaded ${name}`);
    const p = join(ARTIFACTS, name);
    await dl.saveAs(p);
    out({ step: "evidence", file: p });
    return name;
  }],
  ["Back to live", async () => {
    await $("back-to-live").click();
    await until("the live hop table", rows, (r) => r.length === LIVE.length && r.every((x, i) => x.addr === LIVE[i]));
    if (await $("window-bar").isVisible()) throw new Error("the window bar still shows");
    const v = await $("range-select").inputValue();
    if (v !== "live") throw new Error(`range ${v}; want live`);
    // live again: rounds keep coming and the table counts them
    const a = (await rows())[0].sent;
    await until("the live table counts new rounds", async () => (await rows())[0].sent, (b) => b !== a);
    return "live";
  }],
  ["no page error and no failed API call", async () => {
    if (errors.length) throw new Error(errors.join("; "));
    if (failedAPI.length) throw new Error(failedAPI.join("; "));
    return "none";
  }],
];

const n = await runSteps(page, steps, ARTIFACTS);
out({ done: true, steps: n, screenshots: shots });
await browser.close();
