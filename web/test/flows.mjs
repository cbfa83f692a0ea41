// The Paths tab: a scenario for internal/e2e/flows_monitor_linux_test.go,
// which runs `pingerplot ui` on the ECMP lab with one UDP target whose
// "flows" setting is 16. The script opens the target's Paths tab and
// checks that it shows exactly the two paths side by side, each column's
// hop addresses one of the lab's paths, and the LOSSY mark on the alt
// path's column only. Same protocol as dashboard.mjs: one JSON line per
// step on stdout, {"done":true} last.
//
//   node web/test/flows.mjs http://127.0.0.1:PORT/?token=…
//
// Environment: PP_TARGET (the target's id), PP_MAIN and PP_ALT (each
// path's addresses, the target included, comma-separated), PP_ARTIFACTS
// (the failed step's screenshot), PP_CHROMIUM.

import { launch, openPage, out, runSteps, until } from "./common.mjs";

const url = process.argv[2];
const TARGET = process.env.PP_TARGET ?? "";
const MAIN = process.env.PP_MAIN ?? "";
const ALT = process.env.PP_ALT ?? "";
const ARTIFACTS = process.env.PP_ARTIFACTS ?? "";
if (!url?.startsWith("http") || !TARGET || !MAIN || !ALT || !ARTIFACTS) {
  console.error("usage: PP_TARGET=… PP_MAIN=a,b,… PP_ALT=a,b,… PP_ARTIFACTS=… node flows.mjs http://127.0.0.1:PORT/?token=…");
  process.exit(2);
}

const browser = await launch(process.env.PP_CHROMIUM || "/usr/bin/chromium");
const { page, noErrorsStep } = await openPage(browser, 1600, 820);

const $ = (id) => page.locator(`[data-testid="${id}"]`);

/** Each column of the Paths tab: its hop addresses and its lossy mark. */
const columns = () => page.evaluate(() =>
  [...document.querySelectorAll('[data-testid="path-column"]')].map((c) => ({
    addrs: [...c.querySelectorAll('[data-testid="path-hop"] td.addr')].map((td) => td.textContent).join(","),
    lossy: c.dataset.lossy === "true" && c.querySelector('[data-testid="path-lossy"]') !== null,
    share: c.querySelector('[data-testid="path-share"]')?.textContent ?? "",
  })));

const steps = [
  ["the target shows", async () => {
    await page.goto(url);
    await until("the target's row", () => $("target-row").count(), (n) => n === 1);
    await $("target-row").first().click();
    await until("its title", () => $("detail-title").textContent(), (t) => t.includes(TARGET));
    return TARGET;
  }],
  ["the Paths tab shows the two paths side by side, the alt one LOSSY", async () => {
    await $("tab-paths").click();
    if (!(await $("panel-paths").isVisible())) throw new Error("the Paths panel is hidden");
    // The shares settle once every flow has rounds; the lossy mark once
    // the alt path has lost enough: wait for both.
    const cols = await until("two columns, main then alt in either order, alt alone lossy", columns, (cs) =>
      cs.length === 2 &&
      cs.some((c) => c.addrs === MAIN && !c.lossy) &&
      cs.some((c) => c.addrs === ALT && c.lossy), 60_000);
    const [a, b] = await Promise.all([$("path-column").nth(0).boundingBox(), $("path-column").nth(1).boundingBox()]);
    if (!a || !b || Math.abs(a.y - b.y) > 2 || b.x <= a.x + a.width - 1) throw new Error(`columns not side by side: ${JSON.stringify([a, b])}`);
    const summary = await $("paths-summary").textContent();
    if (!summary.includes("2 distinct paths") || !summary.includes("1 lossy")) throw new Error(`summary ${JSON.stringify(summary)}; want 2 distinct paths, 1 lossy`);
    return `${summary}: ${cols.map((c) => `${c.share} ${c.addrs}${c.lossy ? " LOSSY" : ""}`).join(" | ")}`;
  }],
  noErrorsStep,
];

const n = await runSteps(page, steps, ARTIFACTS);
out({ done: true, steps: n });
await browser.close();
