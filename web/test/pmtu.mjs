// The path MTU in the dashboard: a scenario for
// internal/e2e/pmtu_monitor_linux_test.go, which serves the dashboard (in
// its own process, on loopback) over a scripted path with a path MTU
// lookup that says 1400 bytes, dropping at hop 2. The script checks that
// the target header's info line carries "Path MTU …" worded as the API's
// path_mtu.summary. Same protocol as dashboard.mjs: one JSON line per
// step on stdout, {"done":true} last.
//
//   node web/test/pmtu.mjs http://127.0.0.1:PORT/?token=…
//
// Environment: PP_TARGET (the target's id), PP_WANT (the summary the
// lookup gives), PP_ARTIFACTS (the failed step's screenshot), PP_CHROMIUM.

import { launch, openPage, out, runSteps, until } from "./common.mjs";

const url = process.argv[2];
const TARGET = process.env.PP_TARGET ?? "";
const WANT = process.env.PP_WANT ?? "";
const ARTIFACTS = process.env.PP_ARTIFACTS ?? "";
if (!url?.startsWith("http") || !TARGET || !WANT || !ARTIFACTS) {
  console.error("usage: PP_TARGET=… PP_WANT=… PP_ARTIFACTS=… node pmtu.mjs http://127.0.0.1:PORT/?token=…");
  process.exit(2);
}
const token = new URL(url).searchParams.get("token");

const browser = await launch(process.env.PP_CHROMIUM || "/usr/bin/chromium");
const { page, noErrorsStep } = await openPage(browser, 1600, 820);

const $ = (id) => page.locator(`[data-testid="${id}"]`);

const steps = [
  ["the target shows", async () => {
    await page.goto(url);
    await until("the target's row", () => $("target-row").count(), (n) => n === 1);
    await until("its title", () => $("detail-title").textContent(), (t) => t === TARGET);
    return TARGET;
  }],
  ["the header's info line says the path MTU as the API words it", async () => {
    const api = await page.evaluate(async ([id, tok]) => {
      const r = await fetch(`/api/targets/${encodeURIComponent(id)}`, { headers: { Authorization: `Bearer ${tok}` } });
      return (await r.json()).path_mtu;
    }, [TARGET, token]);
    if (!api || api.summary !== WANT || api.mtu !== 1400 || api.hop_ttl !== 2) throw new Error(`the API's path_mtu ${JSON.stringify(api)}; want 1400 at hop 2, worded ${JSON.stringify(WANT)}`);
    const part = `Path MTU ${WANT}`;
    const text = await until("the info line", () => page.locator("#detail-info").textContent(), (t) => t.split(" · ").includes(part));
    if (!(await page.locator("#detail-info").isVisible())) throw new Error("the info line is hidden");
    return text;
  }],
  noErrorsStep,
];

const n = await runSteps(page, steps, ARTIFACTS);
out({ done: true, steps: n });
await browser.close();
