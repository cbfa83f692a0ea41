//go:build linux

package lab

import (
	"fmt"
	"strings"
)

// Middleboxes on the path: a router that translates the client's address
// (SetNAT) and a router that rewrites the TOS byte or traffic class of
// what it forwards (SetMarking). Both act only on packets leaving the
// router towards the target, so the router's own answers (it answers from
// its client-side address) are untouched and each is visible in a trace
// from the hop after it. Like DropTimeExceeded they take effect at once on
// a running lab; each keeps its rules in an nftables table of its own.

// NATMode is how SetNAT makes a router translate the client's address.
type NATMode int

const (
	// NATOff removes the translation.
	NATOff NATMode = iota
	// NATMasquerade is Linux's stateful NAT (nftables masquerade on the
	// router's interface towards the target): conntrack rewrites the
	// source address (and the port if it must) and, as RFC 5508 asks,
	// translates the quoted datagram inside ICMP errors back on their way
	// to the client, checksum included. A client cannot see it in a quote.
	NATMasquerade
	// NATStateless rewrites the client's source address to the router's
	// own on the way out and the destination back on the way in, statelessly,
	// adjusting the checksums as it goes: a translator that leaves the quote
	// inside ICMP errors as it rewrote it, as many do. A client sees the
	// translated source address and UDP checksum in every later hop's quote.
	NATStateless
)

// natTable and markTable hold SetNAT's and SetMarking's rules in a router.
const (
	natTable  = "ip pingerplot_nat"
	markTable = "inet pingerplot_mark"
)

// SetNAT makes router i (0-based) translate the client's IPv4 address on
// its way to the target, or stops it (NATOff).
func (l *Lab) SetNAT(router int, mode NATMode) error {
	if router < 0 || router >= len(l.Routers) {
		return fmt.Errorf("router %d out of range [0, %d)", router, len(l.Routers))
	}
	out := l.ifName(router+1, 'a')
	self := linkAddr4(router+1, 1)
	var b strings.Builder
	// "add" then "delete" keeps every call idempotent on nft versions
	// that lack "destroy".
	fmt.Fprintf(&b, "add table %s\ndelete table %s\n", natTable, natTable)
	switch mode {
	case NATOff:
	case NATMasquerade:
		fmt.Fprintf(&b, "add table %s\n", natTable)
		fmt.Fprintf(&b, "add chain %s post { type nat hook postrouting priority srcnat ; policy accept ; }\n", natTable)
		fmt.Fprintf(&b, "add rule %s post oifname %q masquerade\n", natTable, out)
	case NATStateless:
		fmt.Fprintf(&b, "add table %s\n", natTable)
		fmt.Fprintf(&b, "add chain %s out { type filter hook postrouting priority 100 ; policy accept ; }\n", natTable)
		fmt.Fprintf(&b, "add rule %s out oifname %q ip saddr %s ip saddr set %s\n", natTable, out, l.ClientAddr4, self)
		fmt.Fprintf(&b, "add chain %s in { type filter hook prerouting priority -300 ; policy accept ; }\n", natTable)
		fmt.Fprintf(&b, "add rule %s in iifname %q ip daddr %s ip daddr set %s\n", natTable, out, self, l.ClientAddr4)
	default:
		return fmt.Errorf("unknown NAT mode %d", mode)
	}
	return l.nft(l.Routers[router], b.String())
}

// Marking is how SetMarking makes a router rewrite the TOS byte (IPv4) or
// traffic class (IPv6) of the packets it forwards towards the target. The
// zero value leaves them alone.
type Marking struct {
	// SetDSCP re-marks the DSCP to DSCP (0-63).
	SetDSCP bool
	DSCP    uint8
	// BleachECN clears the ECN field to Not-ECT.
	BleachECN bool
}

// SetMarking makes router i (0-based) rewrite what it forwards towards the
// target as m says, both families; the zero Marking removes the rules.
func (l *Lab) SetMarking(router int, m Marking) error {
	if router < 0 || router >= len(l.Routers) {
		return fmt.Errorf("router %d out of range [0, %d)", router, len(l.Routers))
	}
	if m.DSCP > 63 {
		return fmt.Errorf("DSCP %d out of range [0, 63]", m.DSCP)
	}
	out := l.ifName(router+1, 'a')
	var b strings.Builder
	fmt.Fprintf(&b, "add table %s\ndelete table %s\n", markTable, markTable)
	if m.SetDSCP || m.BleachECN {
		fmt.Fprintf(&b, "add table %s\n", markTable)
		// Forward hook: a probe whose TTL runs out at this router is
		// answered before it, so the router's own quote shows the probe
		// as it arrived, and only the hops after it see the new mark.
		fmt.Fprintf(&b, "add chain %s remark { type filter hook forward priority 0 ; policy accept ; }\n", markTable)
		for _, fam := range []string{"ip", "ip6"} {
			if m.SetDSCP {
				fmt.Fprintf(&b, "add rule %s remark oifname %q meta nfproto %s %s dscp set %d\n", markTable, out, ipv(fam), fam, m.DSCP)
			}
			if m.BleachECN {
				fmt.Fprintf(&b, "add rule %s remark oifname %q meta nfproto %s %s ecn set not-ect\n", markTable, out, ipv(fam), fam)
			}
		}
	}
	return l.nft(l.Routers[router], b.String())
}

// ipv names an nft address family as meta nfproto spells it.
func ipv(fam string) string {
	if fam == "ip6" {
		return "ipv6"
	}
	return "ipv4"
}
