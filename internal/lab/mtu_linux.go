//go:build linux

package lab

import (
	"fmt"
	"strconv"
)

// SetLinkMTU sets the MTU of link k (0 is client–router1, len(Routers) is
// lastRouter–target) at both ends, and at the cable's ends when the link is
// cabled, for path MTU tests. The router before a lowered link then answers
// a larger don't-fragment packet with "fragmentation needed" (IPv4) or
// "packet too big" (IPv6) carrying mtu, from its client-side address, and
// the client's own interface refuses such packets when k is 0. IPv6 needs
// at least 1280. It takes effect at once on a running lab.
func (l *Lab) SetLinkMTU(k, mtu int) error {
	if k < 0 || k > len(l.Routers) {
		return fmt.Errorf("link %d out of range [0, %d]", k, len(l.Routers))
	}
	if mtu < 68 || mtu > 65535 {
		return fmt.Errorf("MTU %d out of range [68, 65535]", mtu)
	}
	ends := []struct {
		ns  string
		dev string
	}{{l.nodes[k], l.ifName(k, 'a')}, {l.nodes[k+1], l.ifName(k, 'b')}}
	if l.cabled(k) {
		ends = append(ends, struct{ ns, dev string }{l.Cables[k], l.ifName(k, 'x')}, struct{ ns, dev string }{l.Cables[k], l.ifName(k, 'y')})
	}
	for _, e := range ends {
		if err := l.IP(e.ns, "link", "set", "dev", e.dev, "mtu", strconv.Itoa(mtu)); err != nil {
			return fmt.Errorf("set MTU of link %d (%s in %s): %w", k, e.dev, e.ns, err)
		}
	}
	return nil
}
