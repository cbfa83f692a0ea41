// The diagnosis in the page: where a target's problem is, in words
// (docs/diagnosis.md). The server makes it; these helpers only word it
// briefly for the grid and draw the hop badges.

import { h, setText } from "../dom";
import type { Diagnosis, DiagnosisHint } from "../types";

const WHAT: Record<string, string> = {
  healthy: "healthy",
  loss: "loss",
  latency: "latency rise",
  jitter: "jitter rise",
  route_change: "route change",
  path_broken: "path broken",
  destination_silent: "destination silent",
  not_enough_data: "not enough data",
};

/** Whether the diagnosis names a problem (not healthy, enough data). */
export function isProblem(d: Diagnosis | null | undefined): boolean {
  return !!d && d.what !== "healthy" && d.what !== "not_enough_data";
}

/** The grid's cell: what and where, in a few words ("loss from hop 4"). */
export function brief(d: Diagnosis | null | undefined): string {
  if (!d) return "–";
  const what = WHAT[d.what] ?? d.what;
  if (!d.where || !d.where.ttl) return what;
  switch (d.what) {
    case "path_broken":
    case "destination_silent":
      return `${what} after hop ${d.where.ttl}`;
    case "route_change":
      return `${what} at hop ${d.where.ttl}`;
  }
  return `${what} from hop ${d.where.ttl}`;
}

/** The line under the target's title: the sentence and its confidence. */
export function renderLine(el: HTMLElement, d: Diagnosis | null | undefined, past: boolean): void {
  el.hidden = !d;
  el.dataset.what = d?.what ?? "";
  el.dataset.problem = String(isProblem(d));
  if (!d) {
    setText(el, "");
    el.title = "";
    return;
  }
  const scope = past ? `, over the window's last ${d.evidence.rounds} rounds` : "";
  setText(el, `Diagnosis (${d.confidence} confidence${scope}): ${d.text}`);
  const ev = d.evidence;
  const parts = [ev.before?.label && groupText(ev.before), ev.after?.label && groupText(ev.after), ev.test ? `${ev.test} = ${ev.statistic}` : ""].filter(Boolean);
  el.title = parts.length ? `The numbers behind it:\n${parts.join("\n")}` : d.text;
}

function groupText(g: NonNullable<Diagnosis["evidence"]["before"]>): string {
  const med = g.median_ms != null ? `, median ${g.median_ms} ms` : "";
  return `${g.label}: lost ${g.lost} of ${g.sent} (${g.loss_pct} %)${med}`;
}

/** The hints of one hop. */
export function hintsAt(d: Diagnosis | null | undefined, ttl: number): DiagnosisHint[] {
  return (d?.hints ?? []).filter((x) => x.ttl === ttl);
}

/** Replaces el's badges with one per hint, its evidence on hover. */
export function renderBadges(el: HTMLElement, hints: DiagnosisHint[]): void {
  const key = hints.map((x) => x.hint + "\u0000" + x.evidence).join("\u0001");
  if (el.dataset.key === key) return;
  el.dataset.key = key;
  el.replaceChildren(
    ...hints.map((x) => h("span", { class: "hint-badge", "data-testid": "hop-hint", "data-hint": x.hint, title: x.evidence }, x.hint)),
  );
  el.hidden = hints.length === 0;
}
