// Keyboard, contrast and HiDPI checks of the PingerPlot dashboard in
// headless Chromium against a running `pingerplot ui`: everything a user
// does in the main scenario (web/test/dashboard.mjs) with the mouse is done
// here with the keyboard alone, every visible text is checked for WCAG AA
// contrast in both themes, and the graphs are checked to be drawn for a
// device pixel ratio of 1.5 as well as 2. Output is dashboard.mjs's: one
// JSON line per step ({"step":…,"ok":…,"ms":…,"info":…}), then
// {"done":true,"steps":N}; it stops at the first failed step and exits 1.
//
//   node web/test/quality.mjs 'http://127.0.0.1:PORT/?token=…'
//
// Environment:
//   PP_TARGET    the address to monitor (the lab target's IPv4 address)
//   PP_HOPS      the addresses expected at TTL 1, 2, …, comma-separated
//   PP_ARTIFACTS where a failed step's screenshot goes
//   PP_CHROMIUM  the browser (default /usr/bin/chromium)

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WAIT, launch, log, out, until } from "./common.mjs";

const url = process.argv[2];
if (!url || !/^http:\/\/127\.0\.0\.1:\d+\/\?token=./.test(url)) {
  console.error("usage: node quality.mjs 'http://127.0.0.1:PORT/?token=…' (the URL pingerplot ui prints)");
  process.exit(2);
}
const TARGET = process.env.PP_TARGET ?? "";
const HOPS = (process.env.PP_HOPS ?? "").split(",").filter(Boolean);
const ARTIFACTS = process.env.PP_ARTIFACTS || mkdtempSync(join(tmpdir(), "pp-quality-"));
const CHROMIUM = process.env.PP_CHROMIUM || "/usr/bin/chromium";
if (!TARGET || HOPS.length < 2 || HOPS[HOPS.length - 1] !== TARGET) {
  console.error("PP_TARGET and PP_HOPS (ending with the target) are required");
  process.exit(2);
}
const browser = await launch(CHROMIUM);
const newPage = async (dpr) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: dpr, colorScheme: "dark", locale: "en-US" });
  context.setDefaultTimeout(WAIT);
  const p = await context.newPage();
  p.on("pageerror", (e) => pageErrors.push(e.message));
  return p;
};
const pageErrors = [];
let page = await newPage(2);
const tid = (id) => page.getByTestId(id);
const targetRow = () => page.locator(`[data-testid=target-row][data-target-id="${TARGET}"]`);
const hopRow = (ttl) => page.locator(`[data-testid=hop-row][data-ttl="${ttl}"]`);

/** What has the focus: its test id, role, aria-selected, data-ttl and
 * whether a focus ring is drawn (outline or box-shadow). */
const focused = () => page.evaluate(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return { id: "" };
  const cs = getComputedStyle(el);
  return {
    id: el.getAttribute("data-testid") ?? el.id ?? el.tagName,
    role: el.getAttribute("role") ?? "",
    selected: el.getAttribute("aria-selected"),
    ttl: el.getAttribute("data-ttl"),
    ring: (cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== "none",
  };
});

/** Presses Tab (Shift+Tab with back) until pred(focused) holds, at most
 * max times: the element is reachable from the keyboard, in order. */
async function tabTo(what, pred, { back = false, max = 40 } = {}) {
  const seen = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? "Shift+Tab" : "Tab");
    const f = await focused();
    seen.push(f.id);
    if (pred(f)) {
      if (!f.ring) throw new Error(`${what} has the focus but no visible focus ring`);
      return f;
    }
  }
  throw new Error(`${what}: not reached with ${max} ${back ? "Shift+Tab" : "Tab"} presses (focus went ${seen.join(" → ")})`);
}

// WCAG 2 contrast of every visible text in the page against the colour
// behind it (the first opaque background up the tree, composited over the
// page's), for the given theme.
const contrastFailures = () => page.evaluate(() => {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const over = (top, under) => ({
    r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a), b: top.b * top.a + under.b * (1 - top.a), a: 1,
  });
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) {
        layers.push(c);
        if (c.a >= 1) break;
      }
    }
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (const c of layers.reverse()) bg = over(c, bg);
    return bg;
  };
  const fails = [];
  let checked = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || seen.has(el) || !n.textContent.trim()) continue;
    seen.add(el);
    if (el.closest("[hidden], [aria-hidden=true], svg, canvas, option") || el.matches(":disabled") || el.closest(":disabled")) continue;
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    if (!r.width || !r.height || cs.visibility !== "visible" || Number(cs.opacity) < 0.5) continue;
    const fg0 = parse(cs.color);
    if (!fg0) continue;
    const bg = background(el);
    const fg = over(fg0, bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    const size = parseFloat(cs.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
    const need = large ? 3 : 4.5;
    checked++;
    if (ratio < need) {
      fails.push(`${el.getAttribute("data-testid") ?? el.className ?? el.tagName} "${n.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}:1 (need ${need})`);
    }
  }
  return { checked, fails };
});

async function setTheme(want) {
  const html = page.locator("html");
  if ((await html.getAttribute("data-theme")) !== want) await tid("theme-toggle").click();
  await until(`theme ${want}`, () => html.getAttribute("data-theme"), (v) => v === want);
}

/** The canvas inside sel: device pixels against CSS pixels, and whether
 * anything is drawn in the theme's accent colour. */
const canvasInfo = (sel) => page.evaluate((s) => {
  const c = document.querySelector(s);
  if (!c || !c.clientWidth) return { w: 0, cw: 0, h: 0, ch: 0, drawn: 0 };
  const probe = document.createElement("canvas").getContext("2d", { willReadFrequently: true });
  probe.fillStyle = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim();
  probe.fillRect(0, 0, 1, 1);
  const [ar, ag, ab] = probe.getImageData(0, 0, 1, 1).data;
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let drawn = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] > 200 && Math.abs(d[i] - ar) + Math.abs(d[i + 1] - ag) + Math.abs(d[i + 2] - ab) < 40) drawn++;
  }
  return { w: c.width, cw: c.clientWidth, h: c.height, ch: c.clientHeight, drawn };
}, sel);

const steps = [
  ["keyboard: add a target from the toolbar", async () => {
    await page.goto(url, { waitUntil: "load" });
    await tid("targets-empty").waitFor();
    await tabTo("the target box", (f) => f.id === "target-input");
    await page.keyboard.type(TARGET);
    await tabTo("the interval box", (f) => f.id === "interval-input");
    await page.keyboard.press("ControlOrMeta+A");
    await page.keyboard.type("0.2");
    await page.keyboard.press("Enter");
    await until("the target's row, selected", () => targetRow().getAttribute("aria-selected", { timeout: 1000 }), (v) => v === "true");
    await until(`${HOPS.length} hops`, () => page.locator("[data-testid=hop-row]").count(), (n) => n === HOPS.length);
    return `Tab reached the target box; Enter added ${TARGET}; ${HOPS.length} hops`;
  }],

  ["keyboard: the Targets grid and the detail tabs", async () => {
    const f = await tabTo("the Targets grid", (x) => x.id === "target-row");
    if (f.selected !== "true") throw new Error("the focused target row is not the selected one");
    await page.keyboard.press("Enter");
    const tab = await tabTo("the detail tabs", (x) => x.role === "tab");
    if (tab.id !== "tab-overview") throw new Error(`Tab reached ${tab.id}; want the selected tab (tab-overview) first`);
    for (const [key, want] of [["ArrowRight", "timeline"], ["ArrowRight", "events"], ["ArrowRight", "map"], ["ArrowRight", "paths"], ["ArrowRight", "overview"], ["ArrowLeft", "paths"], ["End", "paths"], ["Home", "overview"]]) {
      await page.keyboard.press(key);
      await until(`${key} selects ${want}`, () => tid(`tab-${want}`).getAttribute("aria-selected"), (v) => v === "true");
      await until(`${want} panel shown`, () => tid(`panel-${want}`).isVisible(), (v) => v);
      const now = await focused();
      if (now.id !== `tab-${want}`) throw new Error(`after ${key} the focus is on ${now.id}; want tab-${want}`);
    }
    return "Tab/Enter select a target; arrows, Home, End move between Overview, Timeline, Events, Map and Paths";
  }],

  ["keyboard: the hop table, its graph and its menu", async () => {
    const first = await tabTo("the hop table", (x) => x.id === "hop-row");
    // The focus lands on the selected row (the destination until a hop is
    // chosen); the arrows move it to its neighbour.
    const ttl = Number(first.ttl);
    const [key, want] = ttl > 1 ? ["ArrowUp", ttl - 1] : ["ArrowDown", ttl + 1];
    await page.keyboard.press(key);
    const next = await focused();
    if (Number(next.ttl) !== want) throw new Error(`${key} moved the focus to ${JSON.stringify(next)}; want hop ${want}`);
    await page.keyboard.press("Enter");
    await until(`hop ${want} selected`, () => hopRow(want).getAttribute("aria-selected"), (v) => v === "true");
    const hopIP = (await hopRow(want).locator("td[data-col=ip]").textContent()).trim();
    if (HOPS.length >= want && hopIP !== HOPS[want - 1]) throw new Error(`hop ${want} shows ${hopIP}; want the lab's ${HOPS[want - 1]}`);
    await until(`the graph follows hop ${want} (${JSON.stringify(hopIP)})`, () => tid("graph-title").textContent(), (s) => s.includes(hopIP));
    await page.keyboard.press("Shift+F10");
    await tid("context-menu").waitFor({ state: "visible" });
    const item = await focused();
    if (!/^menu|copy/.test(item.id) && item.role !== "menuitem") throw new Error(`the menu opened with the focus on ${JSON.stringify(item)}; want its first item`);
    await page.keyboard.press("Escape");
    await tid("context-menu").waitFor({ state: "hidden" });
    const back = await focused();
    if (back.id !== "hop-row") throw new Error(`after Escape the focus is on ${back.id}; want back on the hop row`);
    return `${key}, Enter select hop ${want} (${hopIP}) and its graph; Shift+F10 opens its menu, Escape closes it`;
  }],

  ["keyboard: pause and resume from the target's menu", async () => {
    await tabTo("the Targets grid", (x) => x.id === "target-row", { back: true });
    for (const [want, item] of [["paused", "menu-pause"], ["running", "menu-resume"]]) {
      await page.keyboard.press("Shift+F10");
      await tid("context-menu").waitFor({ state: "visible" });
      for (let i = 0; i < 8 && (await focused()).id !== item; i++) await page.keyboard.press("ArrowDown");
      if ((await focused()).id !== item) throw new Error(`${item} not reached with ArrowDown in the target's menu`);
      await page.keyboard.press("Enter");
      await until(`the target ${want}`, () => targetRow().getByTestId("target-state").textContent(), (s) => s.trim() === want);
    }
    return "Shift+F10, ArrowDown, Enter: paused, then running again";
  }],

  ["keyboard: the theme toggle", async () => {
    const html = page.locator("html");
    const before = await html.getAttribute("data-theme");
    await tid("theme-toggle").focus();
    await page.keyboard.press("Enter");
    const after = await until("the theme switched", () => html.getAttribute("data-theme"), (v) => v !== before);
    await page.keyboard.press("Space");
    await until("the theme switched back", () => html.getAttribute("data-theme"), (v) => v === before);
    return `Enter: ${before} → ${after}; Space: back to ${before}`;
  }],

  ["contrast: every visible text meets WCAG AA in both themes", async () => {
    const info = [];
    for (const theme of ["dark", "light"]) {
      await setTheme(theme);
      for (const tab of ["overview", "events", "map", "paths"]) {
        await tid(`tab-${tab}`).click();
        await tid(`panel-${tab}`).waitFor();
        const { checked, fails } = await contrastFailures();
        if (fails.length) throw new Error(`${theme} theme, ${tab} tab: ${fails.length} of ${checked} texts below AA: ${fails.slice(0, 8).join("; ")}`);
        info.push(`${theme}/${tab} ${checked}`);
      }
    }
    await tid("tab-overview").click();
    await setTheme("dark");
    return `texts checked: ${info.join(", ")}`;
  }],

  ["HiDPI: graphs drawn for device pixel ratios 2 and 1.5", async () => {
    const res = [];
    for (const dpr of [2, 1.5]) {
      if (dpr !== 2) {
        page = await newPage(dpr);
        await page.goto(url, { waitUntil: "load" });
        await targetRow().click();
      }
      await tid("tab-overview").click();
      const g = await until(`latency graph at ${dpr}x`, () => canvasInfo("[data-testid=latency-chart] canvas"),
        (r) => r.drawn > 100 && Math.abs(r.w - Math.round(r.cw * dpr)) <= 1 && Math.abs(r.h - Math.round(r.ch * dpr)) <= 1);
      await tid("tab-timeline").click();
      const tl = await until(`timeline at ${dpr}x`, () => canvasInfo("[data-testid=timeline-canvas]"),
        (r) => r.drawn > 100 && Math.abs(r.w - Math.round(r.cw * dpr)) <= 1);
      res.push(`${dpr}x: graph ${g.w}/${g.cw} px, timeline ${tl.w}/${tl.cw} px`);
    }
    return res.join("; ");
  }],
];

let failed = false;
let done = 0;
for (const [name, fn] of steps) {
  const t0 = Date.now();
  try {
    const info = await fn();
    out({ step: name, ok: true, ms: Date.now() - t0, info: info ?? "" });
    done++;
    if (pageErrors.length) throw new Error(`page errors: ${pageErrors.join("; ")}`);
  } catch (e) {
    failed = true;
    const shot = join(ARTIFACTS, `quality-failed-${done + 1}.png`);
    await page.screenshot({ path: shot }).catch(() => {});
    out({ step: name, ok: false, ms: Date.now() - t0, error: String(e?.message ?? e), screenshot: shot });
    log(e?.stack ?? e);
    break;
  }
}
if (!failed) out({ done: true, steps: done });
await browser.close().catch(() => {});
process.exit(failed ? 1 : 0);
