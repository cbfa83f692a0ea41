// The evidence file in a browser with the network blocked: a scenario for
// internal/e2e/evidence_linux_test.go, which writes the file with
// `pingerplot evidence` from a history of synthetic rounds and runs this
// script in a network namespace of its own (nothing to reach), headless
// Chromium failing every request that is not the file itself. It opens the
// file, finds every section by its id and every chart, clicks an Export PNG
// button and saves the PNG it downloads; no request may have been
// attempted and no error or policy violation may have happened. Same
// protocol as dashboard.mjs: one JSON line per step on stdout,
// {"done":true} last.
//
//   node web/test/evidence.mjs file:///…/evidence.html
//
// Environment: PP_SECTIONS (the section ids, comma-separated), PP_CHARTS
// (the chart ids), PP_PNG (where to save the exported PNG), PP_CHROMIUM.

import { WAIT, launch, out } from "./common.mjs";

const url = process.argv[2];
const SECTIONS = (process.env.PP_SECTIONS ?? "").split(",").filter(Boolean);
const CHARTS = (process.env.PP_CHARTS ?? "").split(",").filter(Boolean);
const PNG = process.env.PP_PNG ?? "";
if (!url?.startsWith("file:") || !SECTIONS.length || !CHARTS.length || !PNG) {
  console.error("usage: PP_SECTIONS=… PP_CHARTS=… PP_PNG=… node evidence.mjs file:///…/evidence.html");
  process.exit(2);
}

const browser = await launch(process.env.PP_CHROMIUM || "/usr/bin/chromium");
const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1100, height: 900 } });
const page = await context.newPage();
page.setDefaultTimeout(WAIT);

// Every request but the file itself is refused and counted: a page that
// tried to fetch anything (a font, a script, an image) fails the test even
// though its request went nowhere. data: and blob: URLs are the page's own
// bytes (the PNG export), not fetches.
const attempted = [];
const ownBytes = (u) => u.startsWith("data:") || u.startsWith("blob:");
await context.route("**/*", (route) => {
  const u = route.request().url();
  if (u === url) return route.continue();
  attempted.push(u);
  return route.abort("blockedbyclient");
});
page.on("request", (r) => {
  const u = r.url();
  if (u !== url && !ownBytes(u) && !attempted.includes(u)) attempted.push(u);
});
const errors = [];
page.on("pageerror", (e) => errors.push(e.message));
page.on("console", (m) => {
  if (m.type() === "error") errors.push(m.text());
});

const steps = [
  ["the file opens offline", async () => {
    const res = await page.goto(url, { waitUntil: "load" });
    if (!res) throw new Error("no response for the file");
    const title = await page.title();
    if (!title.startsWith("Network path evidence:")) throw new Error(`title ${JSON.stringify(title)}`);
    return title;
  }],
  ["every section by its id", async () => {
    const found = [];
    for (const id of SECTIONS) {
      const sec = page.locator(`section#${id}`);
      if ((await sec.count()) !== 1) throw new Error(`section #${id}: ${await sec.count()} found; want 1`);
      if (!(await sec.isVisible())) throw new Error(`section #${id} is not visible`);
      const h2 = ((await sec.locator("h2").textContent()) ?? "").trim();
      if (!h2) throw new Error(`section #${id} has no heading`);
      found.push(id);
    }
    return found.join(" ");
  }],
  ["every chart drawn, with its button", async () => {
    const seen = [];
    for (const id of CHARTS) {
      const svg = page.locator(`#${id}-svg`);
      const lines = await svg.locator("polyline, circle").count();
      const bars = await svg.locator("rect").count();
      if (!lines || bars < 2) throw new Error(`#${id}-svg: ${lines} latency lines, ${bars} rects; want a drawn chart`);
      const box = await svg.boundingBox();
      if (!box || box.width < 500) throw new Error(`#${id}-svg is ${box?.width} px wide`);
      if ((await page.locator(`button.export[data-chart="${id}-svg"]`).count()) !== 1) throw new Error(`no Export PNG button for #${id}`);
      seen.push(`${id} (${lines} lines, ${bars} rects)`);
    }
    return seen.join(", ");
  }],
  ["Export PNG downloads the chart as a PNG", async () => {
    const button = page.locator(`button.export[data-chart="${CHARTS[0]}-svg"]`);
    const [download] = await Promise.all([page.waitForEvent("download"), button.click()]);
    const name = download.suggestedFilename();
    if (!name.endsWith(".png")) throw new Error(`downloaded ${name}; want a .png`);
    if (!download.url().startsWith("data:image/png;base64,")) throw new Error(`download URL ${download.url().slice(0, 40)}…; want a PNG data URL`);
    await download.saveAs(PNG);
    return `${name}, ${Math.round((download.url().length * 3) / 4 / 1024)} KiB`;
  }],
  ["no request attempted, no error", async () => {
    if (attempted.length) throw new Error(`requests attempted: ${attempted.join(", ")}`);
    if (errors.length) throw new Error(errors.join("; "));
    return "0 requests";
  }],
];

let n = 0;
for (const [name, fn] of steps) {
  const t0 = Date.now();
  try {
    const info = (await fn()) ?? "";
    out({ step: name, ok: true, ms: Date.now() - t0, info });
    n++;
  } catch (e) {
    out({ step: name, ok: false, ms: Date.now() - t0, error: e.message, screenshot: "" });
    await browser.close();
    process.exit(1);
  }
}
await browser.close();
out({ done: true, steps: n });
