// What a hop's quote of the probe shows arrived there (report -e's NAT,
// DSCP and ECN; docs/probing.md): a badge of its own in the hop row, so a
// hop that re-marks or bleaches the probes, or a translator before it,
// stands out down the table. Only raw sockets read quotes; with
// unprivileged sockets no hop has one and no badge shows.

import type { HopDetails } from "./types";

/** Detail lines that belong to the quote badge, not the details badge. */
export const QUOTE_LINE = /^(NAT|DSCP|ECN):/;

/** The quote badge's text for a hop, "" when it has nothing to say: "NAT"
 * when any responder's quote shows a translator, and the primary
 * responder's DSCP and ECN ("EF ECT(0)") when the probes are marked
 * (marked: the target's tos setting is set) or arrived marked anyway. */
export function quoteBadge(ds: readonly HopDetails[] | null | undefined, marked: boolean): string {
  if (!ds?.length) return "";
  const parts: string[] = [];
  if (ds.some((d) => d.nat)) parts.push("NAT");
  const q = ds.find((d) => d.tos !== undefined);
  if (q && (marked || q.tos !== 0)) parts.push(`${q.dscp} ${q.ecn}`);
  return parts.join(" ");
}

/** The quote badge's hover text: each responder's quote lines. */
export function quoteTitle(ds: readonly HopDetails[]): string {
  return ds
    .map((d) => [d.addr, ...d.lines.filter((l) => QUOTE_LINE.test(l)).map((l) => "  " + l)])
    .filter((ls) => ls.length > 1)
    .map((ls) => ls.join("\n"))
    .join("\n");
}
