// What the browser scripts of web/test share: their output, the polling
// expectation every wait goes through, how Chromium is started and how
// their steps run.

import { writeFile } from "node:fs/promises";
import { join } from "node:path";

import { chromium } from "playwright-core";

/** One JSON line on stdout: the protocol the Go tests read. */
export const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");

/** A timestamped line on stderr, which the Go tests show on failure. */
export const log = (...a) => console.error(new Date().toISOString().slice(11, 23), ...a);

/** Default deadline of an expectation: far above anything a healthy run
 * needs, so only a real fault trips it. */
export const WAIT = 30_000;

/**
 * Polls probe() until check(value) holds; returns the value. On timeout the
 * error says what was wanted and what was last seen. The machine these run
 * on stalls for tens of milliseconds now and then, and the binary runs in
 * real time, so no wait is a fixed sleep.
 */
export async function until(what, probe, check = Boolean, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  let last;
  let lastErr;
  for (let delay = 25; ; delay = Math.min(250, delay * 2)) {
    try {
      last = await probe();
      lastErr = undefined;
      if (check(last)) return last;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > deadline) {
      const seen = lastErr ? `error ${lastErr.message.split("\n")[0]}` : JSON.stringify(last);
      throw new Error(`${what}: not within ${timeout / 1000} s (last seen: ${seen})`);
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

/** Starts headless Chromium (a fresh, temporary profile each time) and
 * closes it when the Go test sends SIGTERM on its deadline. */
export async function launch(executablePath) {
  const browser = await chromium.launch({
    executablePath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run"],
    timeout: 60_000,
  });
  process.on("SIGTERM", async () => {
    await browser.close().catch(() => {});
    process.exit(1);
  });
  return browser;
}

/**
 * Opens a page of the given viewport size in a new context of browser,
 * with the default timeout, and collects what a scenario must not see:
 * page errors and console errors (a failed request's own console line,
 * "Failed to load resource", says less than its response does), and API
 * answers of 400 and above. noErrorsStep is the step that checks both.
 */
export async function openPage(browser, width, height) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
  });
  const failedAPI = [];
  page.on("response", (r) => {
    if (r.status() >= 400) failedAPI.push(`${r.status()} ${r.url()}`);
  });
  const noErrorsStep = ["no page error and no failed API call", async () => {
    if (errors.length) throw new Error(errors.join("; "));
    if (failedAPI.length) throw new Error(failedAPI.join("; "));
    return "none";
  }];
  return { page, errors, failedAPI, noErrorsStep };
}

/**
 * Runs steps ([name, async fn] pairs) in order, one JSON line each on
 * stdout, and stops at the first that throws: its line carries the error
 * and a screenshot, and the page's HTML is kept beside it in artifacts.
 * Returns how many passed.
 */
export async function runSteps(page, steps, artifacts) {
  let n = 0;
  for (const [name, fn] of steps) {
    const t0 = Date.now();
    try {
      const info = await fn();
      out({ step: name, ok: true, ms: Date.now() - t0, info: String(info ?? "") });
      n++;
    } catch (e) {
      const p = join(artifacts, "failed.png");
      await page.screenshot({ path: p }).catch(() => {});
      await writeFile(join(artifacts, "failed.html"), await page.content().catch(() => "")).catch(() => {});
      log(e.stack);
      out({ step: name, ok: false, ms: Date.now() - t0, error: e.message, screenshot: p });
      break;
    }
  }
  return n;
}
