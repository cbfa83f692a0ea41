//go:build linux

package lab

import (
	"fmt"
	"net/netip"
	"slices"
)

// The alt branch (Options.AltRouters): a second chain of routers from router1
// to the last router, so tests can move the path under a running monitor
// (Reroute) or split it per flow (SetECMP).
//
// Alt node i is router1 for i = 0, alt router i for 1 ≤ i ≤ M, and the last
// router for i = M+1; alt link j joins alt nodes j and j+1. Names: alt routers
// "<prefix>-a<i>", alt cables "<prefix>-ax<j>", interfaces "<prefix>-A<j><side>"
// (sides as on main links), all distinct from the main path's names.
//
// Routing. Only two routes choose a branch, both kept by applyRoutes:
// router1's routes to the target's prefixes (its link and Options.Targets)
// and the last router's route back to the client's link. Everything else is
// static: alt routers send towards the target downstream and towards the
// client upstream (their ICMP errors return over their own branch), and each
// branch's internal links are reachable from both ends. So a router answers on
// whichever branch a probe reached it, and only the client–target traffic
// moves.
//
// Under ECMP, router1 balances per flow over both branches (L4 hash, see
// multipathSysctls) and the last router sends everything back over the branch
// the last Reroute chose, main unless told otherwise. We chose not to balance
// the way back: the kernel's hash is not symmetric, so a balanced return
// would pick its branch independently of the forward one anyway, and a fixed
// return keeps each branch's forward cost the only difference between flows.
// Asymmetric paths are common in real networks, so the product must cope.

// Alt addressing plan: alt link j is 10.1.j.0/24 and fd00:0:1:j::/64, .1/::1
// at the router1 end.
func altLinkAddr4(j, host int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, 1, byte(j), byte(host)})
}

func altLinkAddr6(j, host int) netip.Addr {
	return netip.AddrFrom16([16]byte{0xfd, 0, 5: 1, 6: byte(j >> 8), 7: byte(j), 15: byte(host)})
}

// altLinkMAC differs from linkMAC in its third byte, so no two interfaces of
// a router share a MAC address.
func altLinkMAC(j, host int) string {
	return fmt.Sprintf("02:70:61:%02x:%02x:%02x", j>>8, j&0xff, host)
}

func (l *Lab) altIfName(j int, side byte) string { return fmt.Sprintf("%s-A%d%c", l.Prefix, j, side) }

// nameAlt fills in the alt branch's names and addresses.
func (l *Lab) nameAlt() {
	m := l.opts.AltRouters
	if m == 0 {
		return
	}
	for i := 1; i <= m; i++ {
		l.AltRouters = append(l.AltRouters, fmt.Sprintf("%s-a%d", l.Prefix, i))
		l.AltHops4 = append(l.AltHops4, altLinkAddr4(i-1, 2))
		l.AltHops6 = append(l.AltHops6, altLinkAddr6(i-1, 2))
	}
	l.AltLast4, l.AltLast6 = altLinkAddr4(m, 2), altLinkAddr6(m, 2)
	if l.opts.Cables || len(l.opts.AltCableLinks) > 0 {
		l.AltCables = make([]string, m+1)
		for j := range l.AltCables {
			if l.opts.Cables || slices.Contains(l.opts.AltCableLinks, j) {
				l.AltCables[j] = fmt.Sprintf("%s-ax%d", l.Prefix, j)
			}
		}
	}
}

// altNode names alt node i's namespace (see the top of this file).
func (l *Lab) altNode(i int) string {
	switch {
	case i == 0:
		return l.Routers[0]
	case i <= len(l.AltRouters):
		return l.AltRouters[i-1]
	default:
		return l.Routers[len(l.Routers)-1]
	}
}

// buildAlt builds the alt branch after the main path exists. Like the main
// path it walks from router1 to the last router, each node making the veth
// pair towards the next, so every interface exists before it is configured.
func (l *Lab) buildAlt() error {
	m := len(l.AltRouters)
	if m == 0 {
		return nil
	}
	for i := 0; i <= m+1; i++ {
		var s []string
		add := func(format string, args ...any) { s = append(s, fmt.Sprintf(format, args...)) }
		if i >= 1 && i <= m {
			add("link set lo up")
		}
		if i <= m { // alt link i starts here
			peer, peerNS := l.altIfName(i, 'b'), l.altNode(i+1)
			if l.altCabled(i) {
				peer, peerNS = l.altIfName(i, 'x'), l.AltCables[i]
				add("link add name %s address %s type veth peer name %s netns %s", l.altIfName(i, 'a'), altLinkMAC(i, 1), peer, peerNS)
			} else {
				add("link add name %s address %s type veth peer name %s address %s netns %s",
					l.altIfName(i, 'a'), altLinkMAC(i, 1), peer, altLinkMAC(i, 2), peerNS)
			}
			l.altEndScript(add, i, 'a', 1, 2)
		}
		if i >= 1 { // alt link i-1 ends here
			l.altEndScript(add, i-1, 'b', 2, 1)
		}
		switch {
		case i == 0: // router1: the far alt links, and the target explicitly via main
			for j := 1; j <= m; j++ {
				add("route add %s/24 via %s", altLinkAddr4(j, 0), altLinkAddr4(0, 2))
				add("route add %s/64 via %s", altLinkAddr6(j, 0), altLinkAddr6(0, 2))
			}
			s = append(s, l.forwardRoutes(false, false)...)
		case i <= m: // alt router: towards the target downstream, the client upstream
			add("route add 0.0.0.0/0 via %s", altLinkAddr4(i, 2))
			add("route add ::/0 via %s", altLinkAddr6(i, 2))
			add("route add %s/24 via %s", linkAddr4(0, 0), altLinkAddr4(i-1, 1))
			add("route add %s/64 via %s", linkAddr6(0, 0), altLinkAddr6(i-1, 1))
			for j := 0; j < i-1; j++ {
				add("route add %s/24 via %s", altLinkAddr4(j, 0), altLinkAddr4(i-1, 1))
				add("route add %s/64 via %s", altLinkAddr6(j, 0), altLinkAddr6(i-1, 1))
			}
		default: // last router: the near alt links; its client route stays main
			for j := 0; j < m; j++ {
				add("route add %s/24 via %s", altLinkAddr4(j, 0), altLinkAddr4(m, 1))
				add("route add %s/64 via %s", altLinkAddr6(j, 0), altLinkAddr6(m, 1))
			}
		}
		if err := ipBatch(l.altNode(i), s); err != nil {
			return err
		}
		if i <= m && l.altCabled(i) {
			if err := ipBatch(l.AltCables[i], []string{
				fmt.Sprintf("link add name %s type veth peer name %s address %s netns %s",
					l.altIfName(i, 'y'), l.altIfName(i, 'b'), altLinkMAC(i, 2), l.altNode(i+1)),
				fmt.Sprintf("link set %s up", l.altIfName(i, 'x')),
				fmt.Sprintf("link set %s up", l.altIfName(i, 'y')),
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// altEndScript configures one veth end of alt link j, as endScript does for
// main links.
func (l *Lab) altEndScript(add func(string, ...any), j int, side byte, host, peer int) {
	dev := l.altIfName(j, side)
	add("link set %s up", dev)
	add("addr add %s/24 dev %s", altLinkAddr4(j, host), dev)
	add("addr add %s/64 dev %s nodad", altLinkAddr6(j, host), dev)
	add("neigh replace %s lladdr %s dev %s nud permanent", altLinkAddr4(j, peer), altLinkMAC(j, peer), dev)
	add("neigh replace %s lladdr %s dev %s nud permanent", altLinkAddr6(j, peer), altLinkMAC(j, peer), dev)
}

// forwardRoutes is router1's `ip -batch` input for its routes to the target's
// prefixes: over the main branch, the alt branch, or both per flow.
func (l *Lab) forwardRoutes(viaAlt, ecmp bool) []string {
	n := len(l.Routers)
	main4 := fmt.Sprintf("via %s dev %s", linkAddr4(1, 2), l.ifName(1, 'a'))
	main6 := fmt.Sprintf("via %s dev %s", linkAddr6(1, 2), l.ifName(1, 'a'))
	alt4 := fmt.Sprintf("via %s dev %s", altLinkAddr4(0, 2), l.altIfName(0, 'a'))
	alt6 := fmt.Sprintf("via %s dev %s", altLinkAddr6(0, 2), l.altIfName(0, 'a'))
	nh4, nh6 := main4, main6
	switch {
	case ecmp:
		nh4 = "nexthop " + main4 + " nexthop " + alt4
		nh6 = "nexthop " + main6 + " nexthop " + alt6
	case viaAlt:
		nh4, nh6 = alt4, alt6
	}
	var s []string
	for _, p := range []netip.Prefix{netip.PrefixFrom(linkAddr4(n, 0), 24), targetsPrefix4} {
		s = append(s, fmt.Sprintf("route replace %s %s", p, nh4))
	}
	for _, p := range []netip.Prefix{netip.PrefixFrom(linkAddr6(n, 0), 64), targetsPrefix6} {
		s = append(s, fmt.Sprintf("route replace %s %s", p, nh6))
	}
	return s
}

// returnRoutes is the last router's `ip -batch` input for its route back to
// the client's link.
func (l *Lab) returnRoutes(viaAlt bool) []string {
	n, m := len(l.Routers), len(l.AltRouters)
	gw4, gw6, dev := linkAddr4(n-1, 1), linkAddr6(n-1, 1), l.ifName(n-1, 'b')
	if viaAlt {
		gw4, gw6, dev = altLinkAddr4(m, 1), altLinkAddr6(m, 1), l.altIfName(m, 'b')
	}
	return []string{
		fmt.Sprintf("route replace %s/24 via %s dev %s", linkAddr4(0, 0), gw4, dev),
		fmt.Sprintf("route replace %s/64 via %s dev %s", linkAddr6(0, 0), gw6, dev),
	}
}

// Reroute moves the client–target traffic, both ways and both families, onto
// the alt branch (alt true) or back onto the main branch, and turns ECMP off.
// A trace then sees AltPath4/AltPath6, or Hops4/Hops6, before the target.
// Each router's routes change in one `ip -batch` (route replace, no gap
// without a route); between router1's change and the last router's, for a
// millisecond or so, the path is asymmetric.
func (l *Lab) Reroute(alt bool) error {
	l.routeMu.Lock()
	defer l.routeMu.Unlock()
	return l.applyRoutes(alt, false)
}

// SetECMP makes router1 balance the client's flows to the target over both
// branches (on), or stops it (off), returning to the branch the last Reroute
// chose. Router1 hashes on addresses and ports (fib_multipath_hash_policy 1),
// so UDP and TCP probes from different source ports take different branches.
// ICMP echo: this kernel hashes the echo identifier like a port, so one ping
// socket's requests keep to one branch and another socket's may take the
// other (kernels that hash ICMP on addresses only keep all echo on one). The
// way back does not balance: it stays on the branch the last Reroute chose
// (main by default).
func (l *Lab) SetECMP(on bool) error {
	l.routeMu.Lock()
	defer l.routeMu.Unlock()
	return l.applyRoutes(l.viaAlt, on)
}

// applyRoutes installs a routing state; routeMu is held.
func (l *Lab) applyRoutes(viaAlt, ecmp bool) error {
	if len(l.AltRouters) == 0 {
		return fmt.Errorf("lab %s has no alt branch (set Options.AltRouters)", l.Prefix)
	}
	n := len(l.Routers)
	if err := ipBatch(l.Routers[0], l.forwardRoutes(viaAlt, ecmp)); err != nil {
		return fmt.Errorf("reroute: %w", err)
	}
	if err := ipBatch(l.Routers[n-1], l.returnRoutes(viaAlt)); err != nil {
		return fmt.Errorf("reroute: %w", err)
	}
	l.viaAlt, l.ecmp = viaAlt, ecmp
	return nil
}

// SetAltLink sets both directions of alt link j (0 is router1–alt1,
// len(AltRouters) is the last alt router–last router), as SetLink does for
// main links; fwd is the direction away from router1.
func (l *Lab) SetAltLink(j int, fwd, rev LinkParams) error {
	if err := l.checkAltLink(j); err != nil {
		return err
	}
	if err := fwd.validate(); err != nil {
		return fmt.Errorf("alt link %d forward: %w", j, err)
	}
	if err := rev.validate(); err != nil {
		return fmt.Errorf("alt link %d reverse: %w", j, err)
	}
	return l.altCables[j].set(fwd, rev)
}

// AltLinkStats returns the frame counters of alt link j's cable, forward
// (away from router1) and reverse.
func (l *Lab) AltLinkStats(j int) (fwd, rev CableStats, err error) {
	if err := l.checkAltLink(j); err != nil {
		return CableStats{}, CableStats{}, err
	}
	return l.altCables[j].stats()
}

func (l *Lab) checkAltLink(j int) error {
	if l.AltLinks() == 0 {
		return fmt.Errorf("alt link %d: lab %s has no alt branch (set Options.AltRouters)", j, l.Prefix)
	}
	if j < 0 || j >= l.AltLinks() {
		return fmt.Errorf("alt link %d out of range [0, %d]", j, l.AltLinks()-1)
	}
	if j >= len(l.altCables) || l.altCables[j] == nil {
		return fmt.Errorf("alt link %d has no cable (set Options.Cables or AltCableLinks)", j)
	}
	return nil
}
