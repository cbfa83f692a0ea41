// The diagnosis in the dashboard: a scenario for
// internal/e2e/diagnosis_browser_linux_test.go, which serves the dashboard
// (in its own process, on loopback) over a scripted path whose loss starts
// on the link into hop 2 and carries to the destination, with a diagnosis
// watcher, and over a history that also holds a target no longer
// monitored. The script waits for the live diagnosis to say loss, then
// checks the line under the target's title (the server's sentence, with
// its confidence), the Targets grid's Diagnosis column ("loss from hop
// 2"), and the badge on hop 2's row with its evidence on hover, each
// against what GET /api/targets/{id} answers at that moment. Then it opens
// the removed target from "In the history only": its whole history,
// read-only, with the window's own diagnosis; and back to the live target.
// Same protocol as dashboard.mjs: one JSON line per step on stdout,
// {"done":true} last.
//
//   node web/test/diagnosis.mjs http://127.0.0.1:PORT/?token=…
//
// Environment: PP_TARGET (the live target's id), PP_LOSS_TTL (the TTL the
// loss starts at), PP_PAST (the removed target's key), PP_PAST_HOPS (its
// stored path, comma-separated), PP_ARTIFACTS (the failed step's
// screenshot), PP_CHROMIUM.

import { launch, openPage, out, runSteps, until } from "./common.mjs";

const url = process.argv[2];
const TARGET = process.env.PP_TARGET ?? "";
const LOSS_TTL = Number(process.env.PP_LOSS_TTL);
const PAST = process.env.PP_PAST ?? "";
const PAST_HOPS = (process.env.PP_PAST_HOPS ?? "").split(",").filter(Boolean);
const ARTIFACTS = process.env.PP_ARTIFACTS ?? "";
if (!url?.startsWith("http") || !TARGET || !(LOSS_TTL > 0) || !PAST || !PAST_HOPS.length || !ARTIFACTS) {
  console.error("usage: PP_TARGET=… PP_LOSS_TTL=… PP_PAST=… PP_PAST_HOPS=… PP_ARTIFACTS=… node diagnosis.mjs http://127.0.0.1:PORT/?token=…");
  process.exit(2);
}
const token = new URL(url).searchParams.get("token");

const browser = await launch(process.env.PP_CHROMIUM || "/usr/bin/chromium");
const { page, noErrorsStep } = await openPage(browser, 1280, 820);

const $ = (id) => page.locator(`[data-testid="${id}"]`);

/** The target's diagnosis as the API gives it now. */
async function apiDiagnosis() {
  return page.evaluate(async ([id, tok]) => {
    const r = await fetch(`/api/targets/${encodeURIComponent(id)}`, { headers: { Authorization: `Bearer ${tok}` } });
    if (!r.ok) throw new Error(`GET /api/targets/${id}: ${r.status}`);
    return (await r.json()).diagnosis;
  }, [TARGET, token]);
}

const lineOf = (d, past) => `Diagnosis (${d.confidence} confidence${past ? `, over the window's last ${d.evidence.rounds} rounds` : ""}): ${d.text}`;

/** The hop table's addresses as the page prints them. */
async function addrs() {
  return page.$$eval("#hop-table tbody tr", (trs) => trs.map((tr) => (tr.querySelector(".addr")?.textContent ?? "").trim()));
}

const steps = [
  ["the live target shows", async () => {
    await page.goto(url);
    await until("the target's row", () => $("target-row").count(), (n) => n === 1);
    await until("its title", () => $("detail-title").textContent(), (t) => t === TARGET);
    return TARGET;
  }],
  ["the line under the title says where the loss starts", async () => {
    const d = await until("the API's diagnosis: loss at the scripted hop", apiDiagnosis,
      (x) => x && x.what === "loss" && x.where?.ttl === LOSS_TTL, 60_000);
    // The page follows within a round or two; the sentence's numbers
    // change with every round, so it is compared with the API's again.
    const shown = await until("the line equals the API's sentence", async () => {
      const [text, api] = [await $("detail-diagnosis").textContent(), await apiDiagnosis()];
      return { text, want: api && lineOf(api, false), problem: await $("detail-diagnosis").getAttribute("data-problem") };
    }, (x) => x.text === x.want && x.problem === "true");
    if (!(await $("detail-diagnosis").isVisible())) throw new Error("the line is hidden");
    const title = await $("detail-diagnosis").getAttribute("title");
    if (!title?.includes("two-proportion z")) throw new Error(`its tooltip ${JSON.stringify(title)}; want the test behind it`);
    return shown.text.slice(0, 90) + "…";
  }],
  ["the Targets grid's Diagnosis column", async () => {
    const head = await page.$$eval("#targets-grid thead th", (ths) => ths.map((th) => th.textContent.trim()));
    if (!head.includes("Diagnosis")) throw new Error(`grid columns ${JSON.stringify(head)}; want a Diagnosis column`);
    const cell = $("target-diagnosis");
    const text = await until("the cell names the loss and its hop", () => cell.textContent(), (t) => t === `loss from hop ${LOSS_TTL}`);
    const title = await cell.getAttribute("title");
    const api = await apiDiagnosis();
    if (!title?.includes("probes are lost") || !title.includes(`(${api.confidence} confidence)`)) throw new Error(`the cell's tooltip ${JSON.stringify(title)}; want the sentence and its confidence`);
    return text;
  }],
  ["a badge on the hop where the loss starts, its evidence on hover", async () => {
    const row = page.locator(`#hop-table tbody tr[data-ttl="${LOSS_TTL}"]`);
    const badge = row.locator('[data-testid="hop-hint"][data-hint="loss carried to the destination"]');
    await until("the badge", () => badge.count(), (n) => n === 1);
    if (!(await badge.isVisible())) throw new Error("the badge is hidden");
    const ev = await badge.getAttribute("title");
    const api = await apiDiagnosis();
    const hint = (api.hints ?? []).find((x) => x.ttl === LOSS_TTL && x.hint === "loss carried to the destination");
    if (!hint) throw new Error(`the API has no such hint now: ${JSON.stringify(api.hints)}`);
    if (!ev || !/^lost \d+ of \d+/.test(ev)) throw new Error(`the badge's evidence ${JSON.stringify(ev)}; want "lost N of M …"`);
    // no badge on the clean first hop
    const clean = await page.locator('#hop-table tbody tr[data-ttl="1"] [data-testid="hop-hint"]').count();
    if (clean) throw new Error(`hop 1 has ${clean} badges; want none`);
    return ev.slice(0, 70);
  }],
  ["the removed target is listed from the history", async () => {
    await until("the list of targets the history holds only", () => $("past-target").count(), (n) => n === 1);
    const key = await $("past-target").getAttribute("data-key");
    if (key !== PAST) throw new Error(`listed ${key}; want ${PAST}`);
    return key;
  }],
  ["its past opens read-only, with the window's diagnosis", async () => {
    await $("past-target").click();
    await until("its title", () => $("detail-title").textContent(), (t) => t === PAST);
    await until("the state chip", () => $("detail-state").textContent(), (t) => t === "removed");
    await until("the window is loaded", () => $("window-text").getAttribute("data-state"), (s) => s === "ready");
    await until("its stored path", addrs, (a) => a.length === PAST_HOPS.length && a.every((x, i) => x === PAST_HOPS[i]));
    for (const b of ["detail-pause-resume", "detail-edit-settings", "export-csv"]) {
      if (!(await $(b).isDisabled())) throw new Error(`${b} is enabled for a target no longer monitored`);
    }
    const text = await $("detail-diagnosis").textContent();
    const win = await page.evaluate(async ([key, tok, from, to]) => {
      const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
      const r = await fetch(`/api/targets/${encodeURIComponent(key)}/window?${q}`, { headers: { Authorization: `Bearer ${tok}` } });
      return (await r.json()).diagnosis;
    }, [PAST, token, await $("window-bar").getAttribute("data-from"), await $("window-bar").getAttribute("data-to")]);
    if (text !== lineOf(win, true)) throw new Error(`the line ${JSON.stringify(text)}; want the window's ${JSON.stringify(lineOf(win, true))}`);
    if ((await $("window-text").textContent()).indexOf("no longer monitored") < 0) throw new Error("the window bar does not say it is no longer monitored");
    return text.slice(0, 90) + "…";
  }],
  ["back to the live target", async () => {
    await $("target-row").click();
    await until("its title", () => $("detail-title").textContent(), (t) => t === TARGET);
    await until("the live view", () => $("range-select").inputValue(), (v) => v === "live");
    await until("its live diagnosis again", async () => [await $("detail-diagnosis").textContent(), await apiDiagnosis()],
      ([t, d]) => d && t === lineOf(d, false));
    if (await $("window-bar").isVisible()) throw new Error("the window bar still shows");
    return "live";
  }],
  noErrorsStep,
];

const n = await runSteps(page, steps, ARTIFACTS);
out({ done: true, steps: n });
await browser.close();
