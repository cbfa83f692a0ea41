//go:build windows

package probe

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"
)

// Icmp6SendEcho2 needs the source address as well as the destination.
// Windows' own routing decision supplies it: "connecting" a UDP socket
// picks the route and the source address and sends nothing. The answer is
// kept for a minute per destination, so a changed network (a laptop moving
// from one connection to another) is followed within a minute.
const srcTTL = time.Minute

type srcEntry struct {
	addr  netip.Addr
	scope uint32
	at    time.Time
}

// source returns the local address and its scope id (interface index, for
// link-local addresses) that Windows would send to dst from.
func (p *icmpProber) source(dst netip.Addr) (netip.Addr, uint32, error) {
	now := time.Now()
	p.mu.Lock()
	e, ok := p.src[dst]
	p.mu.Unlock()
	if ok && now.Sub(e.at) < srcTTL {
		return e.addr, e.scope, nil
	}
	c, err := net.DialUDP("udp6", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(dst, 9)))
	if err != nil {
		return netip.Addr{}, 0, fmt.Errorf("no IPv6 route from this computer to %v (check the IPv6 connection, or trace over IPv4 with -4): %w", dst, err)
	}
	la := c.LocalAddr().(*net.UDPAddr).AddrPort().Addr()
	c.Close()
	e = srcEntry{addr: la.WithZone(""), scope: zoneIndex(la.Zone()), at: now}
	p.mu.Lock()
	if len(p.src) > 4096 { // many short-lived targets: start over rather than grow
		clear(p.src)
	}
	p.src[dst] = e
	p.mu.Unlock()
	return e.addr, e.scope, nil
}

// zoneIndex turns an IPv6 zone (an interface index or name) into the
// interface index a sockaddr_in6 carries; 0 for none or unknown.
func zoneIndex(zone string) uint32 {
	if zone == "" {
		return 0
	}
	if n, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return uint32(n)
	}
	if ifi, err := net.InterfaceByName(zone); err == nil {
		return uint32(ifi.Index)
	}
	return 0
}
