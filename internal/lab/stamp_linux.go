//go:build linux

package lab

import (
	"fmt"
	"strconv"
	"strings"
)

// SetStamp makes link i's cable act for the router at the link's far end
// (router i+1 in path order, the hop a trace sees at TTL i+1) as an MPLS
// router that attaches s to its ICMP errors: every ICMPv4 time exceeded
// and ICMPv6 time exceeded that router sends from its client-side address
// gets the RFC 4884 extension structure of s on its way to the client,
// with the quote padded (or cut) to 128 bytes, the RFC 4884 length, the
// IP lengths and every checksum fixed. Errors of routers further on cross
// the same cable untouched. The zero Stamp turns it off. Link i needs a
// cable (Options.Cables or CableLinks) and a router beyond it.
func (l *Lab) SetStamp(i int, s Stamp) error {
	if err := l.checkLink(i); err != nil {
		return err
	}
	if i >= len(l.Hops4) {
		return fmt.Errorf("link %d ends at the target, not a router: stamp a link before a router (0 to %d)", i, len(l.Hops4)-1)
	}
	cmd := "stamp off"
	if !s.empty() {
		ext, err := s.encode()
		if err != nil {
			return fmt.Errorf("link %d stamp: %w", i, err)
		}
		cmd = formatStamp(l.Hops4[i], l.Hops6[i], ext)
	}
	line, err := l.cables[i].call(cmd)
	if err == nil && line != "ok" {
		err = fmt.Errorf("cable %s: stamp answered %q", l.cables[i].name, line)
	}
	return err
}

// Stamped returns how many ICMP errors link i's cable has stamped.
func (l *Lab) Stamped(i int) (uint64, error) {
	if err := l.checkLink(i); err != nil {
		return 0, err
	}
	line, err := l.cables[i].call("stamped")
	if err != nil {
		return 0, err
	}
	v, ok := strings.CutPrefix(line, "stamped ")
	n, perr := strconv.ParseUint(v, 10, 64)
	if !ok || perr != nil {
		return 0, fmt.Errorf("cable %s: bad stamped reply %q", l.cables[i].name, line)
	}
	return n, nil
}
