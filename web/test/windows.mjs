// The dashboard of the Windows binary: a short scenario for
// internal/e2e/windows_linux_test.go, which runs `pingerplot.exe ui` under
// Wine in the lab's client namespace and this script, with headless
// Chromium, in the same namespace. It adds the lab's target, sees its hops
// in order, the Timeline drawn for every hop and the Events tab, then pauses
// and resumes the target and finds both in the Events. Same protocol as
// dashboard.mjs: one JSON line per step on stdout, {"done":true} last.
//
//   node web/test/windows.mjs 'http://127.0.0.1:PORT/?token=…'
//
// Environment: PP_TARGET (the address to add), PP_HOPS (the addresses
// expected at TTL 1, 2, …, comma-separated, the target last), PP_CHROMIUM.

import { WAIT, launch, out, until } from "./common.mjs";

const url = process.argv[2];
const TARGET = process.env.PP_TARGET ?? "";
const HOPS = (process.env.PP_HOPS ?? "").split(",").filter(Boolean);
if (!url || !TARGET || HOPS[HOPS.length - 1] !== TARGET) {
  console.error("usage: PP_TARGET=… PP_HOPS=…,TARGET node windows.mjs URL");
  process.exit(2);
}

const browser = await launch(process.env.PP_CHROMIUM || "/usr/bin/chromium");
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
page.setDefaultTimeout(WAIT);
const errors = [];
page.on("pageerror", (e) => errors.push(e.message));
page.on("response", (r) => {
  if (new URL(r.url()).pathname.startsWith("/api/") && r.status() >= 400) errors.push(`${r.request().method()} ${new URL(r.url()).pathname} → ${r.status()}`);
});

const tid = (id) => page.getByTestId(id);
const targetRow = () => page.locator(`[data-testid=target-row][data-target-id="${TARGET}"]`);
const eventRows = (kind) => page.locator(`[data-testid=event-row][data-kind=${kind}]`);
const text = async (loc) => ((await loc.textContent({ timeout: 2000 })) ?? "").trim();

async function showTab(name) {
  await tid(`tab-${name}`).click();
  await until(`tab ${name} selected`, () => tid(`tab-${name}`).getAttribute("aria-selected"), (v) => v === "true");
}

async function menu(item) {
  await targetRow().click({ button: "right" });
  await tid("context-menu").waitFor({ state: "visible" });
  await tid(item).click();
}

const steps = [
  ["page loads with the token", async () => {
    const res = await page.goto(url, { waitUntil: "load" });
    if (!res || res.status() !== 200) throw new Error(`GET / answered ${res?.status()}; want 200`);
    await until("the stream is live", () => tid("status-conn").getAttribute("data-conn"), (v) => v === "live");
    return "live";
  }],
  ["add the target and see its hops", async () => {
    await tid("interval-input").fill("0.5");
    await tid("target-input").fill(TARGET);
    await tid("add-button").click();
    await targetRow().waitFor({ state: "visible" });
    const want = HOPS.join(" ");
    await until(`hop table ${want}`, () => page.locator("[data-testid=hop-row] .addr").allTextContents().then((a) => a.join(" ")), (s) => s === want);
    await until("the destination's sent count growing", () => text(page.locator(`[data-testid=hop-row][data-ttl="${HOPS.length}"] td[data-col=sent]`)).then(Number), (n) => n >= 3);
    return `hops ${want}`;
  }],
  ["the Timeline tab and its shared scale", async () => {
    await showTab("timeline");
    const s = await until("the Timeline's shared scale", () => text(tid("timeline-scale")), (v) => /^bar height: 0 – [\d.]+ ms/.test(v));
    return s;
  }],
  ["pause and resume: both in the Events tab", async () => {
    await menu("menu-pause");
    await until("the row paused", () => targetRow().getAttribute("data-state"), (v) => v === "paused");
    await menu("menu-resume");
    await until("the row running", () => targetRow().getAttribute("data-state"), (v) => v === "running");
    await showTab("events");
    for (const k of ["target_added", "paused", "resumed"]) await eventRows(k).first().waitFor({ state: "visible" });
    return `${await page.locator("[data-testid=event-row]").count()} events`;
  }],
  ["no page errors, no failed API calls", async () => {
    if (errors.length) throw new Error(errors.join("; "));
    return "";
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
