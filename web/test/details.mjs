// A hop's details in the dashboard: a scenario for TestDashboardDetails
// (internal/e2e/ext_linux_test.go), whose lab's hop 2 answers as an MPLS
// router (its link's cable stamps a label stack and RFC 5837 interface
// objects on its time-exceeded messages). The script adds the lab's target
// through the API, opens it, and checks that hop 2's row carries the
// compact badge with every detail line on hover, as GET /api/targets/{id}
// words them, and that no other row has a badge. Same protocol as
// dashboard.mjs: one JSON line per step on stdout, {"done":true} last.
//
//   node web/test/details.mjs http://127.0.0.1:PORT/?token=…
//
// Environment: PP_TARGET (the address to monitor), PP_HOPS (the path's
// addresses, comma-separated, the target last), PP_EXT_TTL (the hop that
// sends details), PP_BADGE (its badge's text), PP_LINES (its detail
// lines, separated by "|"), PP_ARTIFACTS (the failed step's screenshot),
// PP_CHROMIUM.

import { launch, openPage, out, runSteps, until } from "./common.mjs";

const url = process.argv[2];
const TARGET = process.env.PP_TARGET ?? "";
const HOPS = (process.env.PP_HOPS ?? "").split(",").filter(Boolean);
const EXT_TTL = Number(process.env.PP_EXT_TTL);
const BADGE = process.env.PP_BADGE ?? "";
const LINES = (process.env.PP_LINES ?? "").split("|").filter(Boolean);
const ARTIFACTS = process.env.PP_ARTIFACTS ?? "";
if (!url?.startsWith("http") || !TARGET || HOPS.length < 2 || !(EXT_TTL > 0) || !BADGE || !LINES.length || !ARTIFACTS) {
  console.error("usage: PP_TARGET=… PP_HOPS=… PP_EXT_TTL=… PP_BADGE=… PP_LINES=… PP_ARTIFACTS=… node details.mjs http://127.0.0.1:PORT/?token=…");
  process.exit(2);
}
const token = new URL(url).searchParams.get("token");

const browser = await launch(process.env.PP_CHROMIUM || "/usr/bin/chromium");
const { page, noErrorsStep } = await openPage(browser, 1280, 820);

const $ = (id) => page.locator(`[data-testid="${id}"]`);
const badgeAt = (ttl) => page.locator(`[data-testid=hop-row][data-ttl="${ttl}"] [data-testid=hop-details]`);

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

const steps = [
  ["the page loads and the lab's target is added", async () => {
    await page.goto(url);
    const s = await api("POST", "/api/targets", { host: TARGET, settings: { interval: 0.2 } });
    await until("the target's row", () => $("target-row").count(), (n) => n === 1);
    await $("target-row").click();
    await until("its title", () => $("detail-title").textContent(), (t) => t === s.id);
    const addrs = () => page.$$eval("#hop-table tbody tr", (trs) => trs.map((tr) => (tr.querySelector(".addr")?.textContent ?? "").trim()));
    await until("the hop table lists the lab's path", addrs, (a) => a.join(",") === HOPS.join(","));
    return s.id;
  }],
  [`hop ${EXT_TTL}'s row carries the details badge, every line on hover`, async () => {
    const badge = badgeAt(EXT_TTL);
    await until("the badge shows", () => badge.isVisible(), Boolean);
    const text = (await badge.textContent()).trim();
    if (text !== BADGE) throw new Error(`badge ${JSON.stringify(text)}; want ${JSON.stringify(BADGE)}`);
    const title = await badge.getAttribute("title");
    const d = await api("GET", `/api/targets/${encodeURIComponent(TARGET)}`);
    const hop = d.hops.find((h) => h.ttl === EXT_TTL);
    const want = [hop.addr, ...LINES.map((l) => "  " + l)].join("\n");
    if (title !== want) throw new Error(`hover text ${JSON.stringify(title)}; want ${JSON.stringify(want)}`);
    if (JSON.stringify(hop.details?.[0]?.lines) !== JSON.stringify(LINES)) {
      throw new Error(`the API's lines ${JSON.stringify(hop.details)}; want ${JSON.stringify(LINES)}`);
    }
    return `${text} · ${title.split("\n").length} lines`;
  }],
  ["no other hop has a badge", async () => {
    for (let ttl = 1; ttl <= HOPS.length; ttl++) {
      if (ttl === EXT_TTL) continue;
      if (await badgeAt(ttl).isVisible()) throw new Error(`hop ${ttl} shows a badge: ${await badgeAt(ttl).textContent()}`);
    }
    return `${HOPS.length - 1} rows without`;
  }],
  noErrorsStep,
];

const n = await runSteps(page, steps, ARTIFACTS);
out({ done: true, steps: n });
await browser.close();
