// What each hop's quote shows, in the dashboard: a scenario for
// TestDashboardQuote (internal/e2e/quote_linux_test.go). Its lab has a
// translator and a re-marking router at hop 2 and an ECN-bleaching router
// at hop 3, and the dashboard runs with raw sockets. The script adds the
// lab's target with the given settings (raw UDP probes sent EF+ECT(0))
// through the API, opens it, and checks every hop row's quote badge and
// its hover text against GET /api/targets/{id}. Same protocol as
// dashboard.mjs: one JSON line per step on stdout, {"done":true} last.
//
//   node web/test/quote.mjs http://127.0.0.1:PORT/?token=…
//
// Environment: PP_TARGET (the address to monitor), PP_SETTINGS (its
// settings, JSON), PP_HOPS (the path's addresses, comma-separated, the
// target last), PP_BADGES (each hop's badge text, "|"-separated, in path
// order), PP_ARTIFACTS (the failed step's screenshot), PP_CHROMIUM.

import { launch, openPage, out, runSteps, until } from "./common.mjs";

const url = process.argv[2];
const TARGET = process.env.PP_TARGET ?? "";
const SETTINGS = JSON.parse(process.env.PP_SETTINGS ?? "{}");
const HOPS = (process.env.PP_HOPS ?? "").split(",").filter(Boolean);
const BADGES = (process.env.PP_BADGES ?? "").split("|");
const ARTIFACTS = process.env.PP_ARTIFACTS ?? "";
if (!url?.startsWith("http") || !TARGET || HOPS.length < 2 || BADGES.length !== HOPS.length || !ARTIFACTS) {
  console.error("usage: PP_TARGET=… PP_SETTINGS=… PP_HOPS=… PP_BADGES=… PP_ARTIFACTS=… node quote.mjs http://127.0.0.1:PORT/?token=…");
  process.exit(2);
}
const token = new URL(url).searchParams.get("token");

const browser = await launch(process.env.PP_CHROMIUM || "/usr/bin/chromium");
const { page, noErrorsStep } = await openPage(browser, 1280, 820);

const $ = (id) => page.locator(`[data-testid="${id}"]`);
const badgeAt = (ttl) => page.locator(`[data-testid=hop-row][data-ttl="${ttl}"] [data-testid=hop-quote]`);
const shown = async (ttl) => ((await badgeAt(ttl).isVisible()) ? (await badgeAt(ttl).textContent()).trim() : "");

/** The API's call, with the page's token. */
const api = (method, path, body) =>
  page.evaluate(async ([method, path, body, tok]) => {
    const r = await fetch(path, {
      method,
      headers: { Authorization: `Bearer ${tok}`, "Content-Type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return r.json();
  }, [method, path, body ?? null, token]);

let id = "";
const steps = [
  ["the page loads and the lab's target is added with marked probes", async () => {
    await page.goto(url);
    const s = await api("POST", "/api/targets", { host: TARGET, settings: SETTINGS });
    id = s.id;
    await until("the target's row", () => $("target-row").count(), (n) => n === 1);
    await $("target-row").click();
    await until("its title", () => $("detail-title").textContent(), (t) => t === s.id);
    const addrs = () => page.$$eval("#hop-table tbody tr", (trs) => trs.map((tr) => (tr.querySelector(".addr")?.textContent ?? "").trim()));
    await until("the hop table lists the lab's path", addrs, (a) => a.join(",") === HOPS.join(","));
    return s.id;
  }],
  ["every hop row's quote badge shows what arrived there", async () => {
    const all = async () => {
      const got = [];
      for (let ttl = 1; ttl <= HOPS.length; ttl++) got.push(await shown(ttl));
      return got;
    };
    const got = await until(`the badges ${JSON.stringify(BADGES)}`, all, (g) => g.join("|") === BADGES.join("|"));
    return got.join(" · ");
  }],
  ["a badge's hover text is the hop's quote lines from the API", async () => {
    const d = await api("GET", `/api/targets/${encodeURIComponent(id)}`);
    for (let ttl = 1; ttl <= HOPS.length; ttl++) {
      if (!BADGES[ttl - 1]) continue;
      const hop = d.hops.find((h) => h.ttl === ttl);
      const lines = hop.details[0].lines.filter((l) => /^(NAT|DSCP|ECN):/.test(l));
      const want = [hop.addr, ...lines.map((l) => "  " + l)].join("\n");
      const title = await badgeAt(ttl).getAttribute("title");
      if (title !== want) throw new Error(`hop ${ttl}: hover text ${JSON.stringify(title)}; want ${JSON.stringify(want)}`);
    }
    return "matches";
  }],
  noErrorsStep,
];

const n = await runSteps(page, steps, ARTIFACTS);
out({ done: true, steps: n });
await browser.close();
