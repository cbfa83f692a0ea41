// A hop's details: what its responders' answers said beyond their
// addresses (MPLS labels, RFC 5837 interfaces, ...), as report -e shows
// them. The server words each detail (HopDetails.lines) so the page, the
// report and the terminal UI say the same; here only the badge is chosen.

import type { HopDetails } from "./types";
import { QUOTE_LINE } from "./quote";

/** The badge's text for a hop's details, "" for none: the top MPLS label
 * (the tunnel a user looks for), else "IF" for interface information
 * alone, else the first detail's name. */
export function detailsBadge(ds: readonly HopDetails[] | null | undefined): string {
  if (!ds?.length) return "";
  const withLabels = ds.find((d) => d.mpls?.length);
  if (withLabels) {
    const top = withLabels.mpls![0];
    return `MPLS ${top.label}${withLabels.mpls!.length > 1 ? "+" : ""}`;
  }
  if (ds.some((d) => d.interfaces?.length)) return "IF";
  // The quote's lines (NAT, DSCP, ECN) have a badge of their own (quote.ts).
  const first = ds.flatMap((d) => d.lines).find((l) => !QUOTE_LINE.test(l)) ?? "";
  return first.split(":")[0];
}

/** The badge's hover text: each responder and its detail lines. */
export function detailsTitle(ds: readonly HopDetails[]): string {
  return ds
    .filter((d) => d.lines.length)
    .map((d) => [d.addr, ...d.lines.map((l) => "  " + l)].join("\n"))
    .join("\n");
}
