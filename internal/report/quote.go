package report

import (
	"strings"

	"github.com/pingerplot/pingerplot/internal/probe/result"
)

// The NAT, DSCP and ECN detail columns: what a router's quote of the probe
// shows arrived there (docs/probing.md). Only raw sockets read the quoted
// IP header, so with unprivileged sockets these columns stay "-" and the
// text report says why.

// setQuoted fills the quote's fields of out from d.
func setQuoted(out *Details, d result.Details) {
	if d.Quoted {
		tos := d.TOS
		out.TOS = &tos
		out.DSCP = result.DSCPName(result.DSCP(tos))
		out.ECN = result.ECNName(result.ECN(tos))
	}
	if d.NATChecked {
		nat := d.NAT
		out.NAT = &nat
	}
}

// natCell is "yes" where a translator rewrote the probe before this
// responder, "no" where its quote shows none, "" where it cannot tell.
func natCell(d Details) string {
	switch {
	case d.NAT == nil:
		return ""
	case *d.NAT:
		return "yes"
	}
	return "no"
}

// quoteNote explains "-" in the NAT, DSCP and ECN columns of a report -e
// whose answers showed no quoted header, or NAT alone when the mode cannot
// show it; "" when the columns speak for themselves.
func quoteNote(r Report) string {
	quoted, natJudged := false, false
	for _, h := range r.Hops {
		for _, d := range h.Details {
			quoted = quoted || d.TOS != nil
			natJudged = natJudged || d.NAT != nil
		}
	}
	udp4 := strings.EqualFold(r.Mode, "udp") && r.Settings.AddressFam != "ipv6"
	switch {
	case !quoted && strings.EqualFold(r.Mode, "tcp"):
		return "NAT, DSCP, ECN: '-' as answers to TCP probes came through the probes' own sockets, which never see the quoted IP header (on Linux at any privilege)."
	case !quoted && strings.Contains(r.Backend, "raw socket"):
		return "NAT, DSCP, ECN: no answer quoted the probe's IP header (TCP answers and echo replies never do)."
	case !quoted:
		return "NAT, DSCP, ECN: '-' as only raw sockets read the IP header a router quotes; run with --raw (root or CAP_NET_RAW) to see them."
	case !natJudged && !udp4:
		return "NAT: only raw IPv4 UDP probes (-u) show a translator on the path."
	}
	return ""
}
