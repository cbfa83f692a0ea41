// Memory and smoothness soak of the PingerPlot dashboard in headless
// Chromium against a running `pingerplot ui` that monitors many long paths.
// It adds the targets through the page's own API (1 s interval), selects one,
// and then, for the whole run, keeps using the page the way a person watching
// it would: every sample period it moves between the Overview, Timeline and
// Events tabs and now and then to another target, then comes back to the
// Overview of the first target and takes a sample:
//
//   {"t":62.1,"heap":10485760,"nodes":2400,"listeners":120,"frames":590,
//    "p50":16.7,"p95":17.1,"max":33.4,"long":12,"rows":50,"hops":30}
//
// heap is the JS heap in use right after a forced garbage collection (CDP
// HeapProfiler.collectGarbage, then Performance.getMetrics), nodes and
// listeners the DOM's (nodes counts detached ones too, so a leak of
// elements shows), eventNodes the nodes of the event log's rows and events
// their count by kind; frames, p50, p95 and max describe the animation
// frames of the last period on the Overview tab (requestAnimationFrame
// intervals, ms), long the milliseconds of main-thread tasks over 50 ms in
// that period. The last line is {"done":true,"samples":N}; on a failure it
// prints {"error":"…"} and exits 1. The Go test (TestDashboardSoak in
// internal/e2e) judges the figures.
//
//   node web/test/soak.mjs 'http://127.0.0.1:PORT/?token=…'
//
// Environment:
//   PP_TARGETS   the addresses to monitor, comma-separated
//   PP_HOPS      the hop count every target's path has
//   PP_MINUTES   how long to watch (default 3)
//   PP_SAMPLE_S  seconds between samples (default 15)
//   PP_CHROMIUM  the browser (default /usr/bin/chromium)

import { launch, log, out } from "./common.mjs";

const url = process.argv[2];
if (!url || !/^http:\/\/127\.0\.0\.1:\d+\/\?token=./.test(url)) {
  console.error("usage: node soak.mjs 'http://127.0.0.1:PORT/?token=…' (the URL pingerplot ui prints)");
  process.exit(2);
}
const TARGETS = (process.env.PP_TARGETS ?? "").split(",").filter(Boolean);
const HOPS = Number(process.env.PP_HOPS ?? "0");
const MINUTES = Number(process.env.PP_MINUTES || "3");
const SAMPLE_S = Number(process.env.PP_SAMPLE_S || "15");
const CHROMIUM = process.env.PP_CHROMIUM || "/usr/bin/chromium";
if (TARGETS.length < 2 || !(HOPS > 0) || !(MINUTES > 0) || !(SAMPLE_S >= 5)) {
  console.error("PP_TARGETS (two or more), PP_HOPS, PP_MINUTES > 0 and PP_SAMPLE_S >= 5 are required");
  process.exit(2);
}

const browser = await launch(CHROMIUM);
let failed = false;

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 2, colorScheme: "dark" });
  context.setDefaultTimeout(60_000);
  const page = await context.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  const tid = (id) => page.getByTestId(id);
  const rows = page.locator("[data-testid=target-row]");
  const hopRows = page.locator("[data-testid=hop-row]");
  const cdp = await context.newCDPSession(page);
  await cdp.send("Performance.enable");

  await page.goto(url);
  await tid("targets-empty").waitFor();

  // The targets, through the API the page itself uses.
  const added = await page.evaluate(async (targets) => {
    const token = new URLSearchParams(location.search).get("token") ?? sessionStorage.getItem("pingerplot.token");
    const ids = [];
    for (const host of targets) {
      const r = await fetch("/api/targets", {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ host, settings: { interval: 1 } }),
      });
      if (r.status !== 201) throw new Error(`POST /api/targets ${host}: ${r.status} ${await r.text()}`);
      ids.push((await r.json()).id);
    }
    return ids;
  }, TARGETS);
  await page.waitForFunction((n) => document.querySelectorAll("[data-testid=target-row]").length === n, TARGETS.length, { timeout: 60_000 });
  // Rows are clicked from inside the page: Playwright's own click reads
  // each element's attributes, which leaves five Attr nodes per row it
  // ever touched, a growth of the driver's that the DOM check would count.
  const select = (id) => page.evaluate((i) => document.querySelector(`[data-testid=target-row][data-target-id="${i}"]`).click(), id);
  await select(added[0]);
  await page.waitForFunction((n) => document.querySelectorAll("[data-testid=hop-row]").length >= n, HOPS, { timeout: 120_000 });
  log(`${added.length} targets, ${await hopRows.count()} hops on the first`);

  // Frame intervals and long tasks, collected by the page and read back
  // (and reset) at every sample.
  await page.evaluate(() => {
    const w = window;
    w.__soak = { frames: [], long: 0 };
    let last = performance.now();
    const tick = (now) => {
      w.__soak.frames.push(now - last);
      last = now;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) w.__soak.long += e.duration;
    }).observe({ type: "longtask", buffered: false });
  });
  const readFrames = () => page.evaluate(() => {
    const s = window.__soak;
    const f = s.frames.slice(1).sort((a, b) => a - b); // the first spans the reset
    const long = s.long;
    s.frames = [];
    s.long = 0;
    const q = (p) => (f.length ? f[Math.min(f.length - 1, Math.floor(p * f.length))] : NaN);
    return { frames: f.length, p50: q(0.5), p95: q(0.95), max: f.length ? f[f.length - 1] : NaN, long };
  });
  const showTab = async (name) => {
    await tid(`tab-${name}`).click();
    await tid(`panel-${name}`).waitFor();
  };

  const start = Date.now();
  const end = start + MINUTES * 60_000;
  let samples = 0;
  for (let k = 0; Date.now() < end; k++) {
    // A person browsing: the other tabs, and every fourth period another
    // target's overview (its history loads), then back to the first.
    for (const tab of ["timeline", "events"]) {
      await showTab(tab);
      await page.waitForTimeout(1000);
    }
    if (k % 4 === 3) {
      await select(added[1 + (k % (added.length - 1))]);
      await showTab("overview");
      await page.waitForTimeout(1000);
    }
    await select(added[0]);
    await showTab("overview");
    await readFrames(); // frames of the browsing above do not count
    await page.waitForTimeout(Math.max(1000, SAMPLE_S * 1000 - 3000));
    const fr = await readFrames();
    await cdp.send("HeapProfiler.collectGarbage");
    const { metrics } = await cdp.send("Performance.getMetrics");
    const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
    // The event log's rows are the page's one legitimate growth (bounded:
    // the newest 2,000 events): counted apart, with their kinds.
    const ev = await page.evaluate(() => {
      const tbody = document.querySelector("[data-testid=events-table] tbody");
      let nodes = 0;
      const kinds = {};
      if (tbody) {
        const w = document.createTreeWalker(tbody, NodeFilter.SHOW_ALL);
        while (w.nextNode()) nodes++;
        for (const tr of tbody.querySelectorAll("[data-testid=event-row]")) kinds[tr.dataset.kind] = (kinds[tr.dataset.kind] ?? 0) + 1;
      }
      return { nodes, kinds };
    });
    const sample = {
      t: Math.round((Date.now() - start) / 100) / 10,
      heap: m.JSHeapUsedSize, nodes: m.Nodes, eventNodes: ev.nodes, events: ev.kinds, listeners: m.JSEventListeners,
      frames: fr.frames, p50: round(fr.p50), p95: round(fr.p95), max: round(fr.max), long: Math.round(fr.long),
      rows: await rows.count(), hops: await hopRows.count(),
    };
    out(sample);
    samples++;
    if (pageErrors.length) throw new Error(`page errors: ${pageErrors.join("; ")}`);
  }
  out({ done: true, samples });
} catch (e) {
  failed = true;
  out({ error: String(e?.stack ?? e) });
} finally {
  await browser.close().catch(() => {});
}
process.exit(failed ? 1 : 0);

function round(v) {
  return Number.isFinite(v) ? Math.round(v * 10) / 10 : null;
}
