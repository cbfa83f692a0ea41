//go:build linux

package lab

import (
	"fmt"
	"strconv"
	"strings"
)

// dropTable holds DropProbesAtTarget's rules in the target namespace, apart
// from the routers' nftTable.
const dropTable = "inet pingerplot_lab_drop"

// DropProbesAtTarget makes the target namespace (its own addresses and every
// Options.Targets address) silently drop one kind of incoming probe, or stops
// doing so, so that tests can build a destination that never answers that
// probe type while it still answers the others. proto is one of:
//
//	"icmp"       ICMP and ICMPv6 echo requests
//	"udp"        every UDP datagram (no port unreachable, no answer)
//	"udp:PORT"   UDP datagrams to PORT
//	"tcp"        TCP SYNs (no SYN-ACK, no RST)
//	"tcp:PORT"   TCP SYNs to PORT
//
// Each proto is a separate switch: turning one on leaves the others as they
// are, and turning it on or off twice is harmless. Routers are unaffected, so
// a trace still sees every hop before the target.
func (l *Lab) DropProbesAtTarget(proto string, on bool) error {
	chain, match, err := dropRule(proto)
	if err != nil {
		return err
	}
	// One base chain per proto, so switching one off is deleting its
	// chain. "add" before "flush" and "delete" keeps every step valid
	// whatever the previous state (this nft has no "destroy").
	var b strings.Builder
	fmt.Fprintf(&b, "add table %s\n", dropTable)
	fmt.Fprintf(&b, "add chain %s %s { type filter hook input priority 0 ; policy accept ; }\n", dropTable, chain)
	fmt.Fprintf(&b, "flush chain %s %s\n", dropTable, chain)
	if on {
		for _, m := range match {
			fmt.Fprintf(&b, "add rule %s %s %s drop\n", dropTable, chain, m)
		}
	} else {
		fmt.Fprintf(&b, "delete chain %s %s\n", dropTable, chain)
	}
	return l.nft(l.Target, b.String())
}

// dropRule maps a DropProbesAtTarget proto to its chain name and the nft
// matches of the packets to drop.
func dropRule(proto string) (chain string, match []string, err error) {
	name, portStr, hasPort := strings.Cut(proto, ":")
	port := 0
	if hasPort {
		port, err = strconv.Atoi(portStr)
		if err != nil || port < 1 || port > 65535 || name == "icmp" {
			return "", nil, fmt.Errorf("drop probes: bad proto %q; want icmp, udp, tcp, udp:PORT or tcp:PORT", proto)
		}
	}
	// A SYN without ACK opens a connection; dropping only those leaves
	// established connections (such as a test's control traffic) alone.
	const syn = "tcp flags & (syn | ack) == syn"
	switch {
	case name == "icmp":
		return "drop_icmp", []string{"icmp type echo-request", "icmpv6 type echo-request"}, nil
	case name == "udp" && hasPort:
		return fmt.Sprintf("drop_udp_%d", port), []string{fmt.Sprintf("udp dport %d", port)}, nil
	case name == "udp":
		return "drop_udp", []string{"meta l4proto udp"}, nil
	case name == "tcp" && hasPort:
		return fmt.Sprintf("drop_tcp_%d", port), []string{fmt.Sprintf("tcp dport %d %s", port, syn)}, nil
	case name == "tcp":
		return "drop_tcp", []string{syn}, nil
	}
	return "", nil, fmt.Errorf("drop probes: bad proto %q; want icmp, udp, tcp, udp:PORT or tcp:PORT", proto)
}
