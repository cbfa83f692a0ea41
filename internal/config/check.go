package config

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Problem is one option value the rules refuse.
type Problem struct {
	Key string // the option key as files write it: "port", "interval"
	Msg string // what is wrong and what is allowed, without the key
}

func (p Problem) String() string { return p.Key + ": " + p.Msg }

// Check applies the rules to o as a complete set of options, as Settings
// does, and returns each problem with the key it concerns. It exists so
// that callers that take options under other names (the command-line
// flags) apply the same rules and word only the names themselves: the
// ranges live here, once.
func (o Options) Check() []Problem {
	var p problems
	o.check("", &p)
	o.checkTogether("", &p)
	out := make([]Problem, 0, len(p))
	for _, s := range p {
		// With no location, every problem reads "key: message" (check and
		// checkTogether start each one with the key).
		k, msg, _ := strings.Cut(s, ": ")
		out = append(out, Problem{Key: k, Msg: msg})
	}
	return out
}

// PortAllowed reports whether probes of mode (by name: "icmp", "udp",
// "tcp", any case) use a destination port. It is the one statement of
// that rule (the port option's Modes in Table): the files and the
// command-line flags ask it.
func PortAllowed(mode string) bool { return PortOption().AppliesTo(mode) }

// CheckHost checks a target as written (a host name or an address
// literal) without resolving it: nothing that can never resolve, and no
// address literal that is malformed ("10.77.5.300" is an invalid IPv4
// address, not an unknown host) or that no trace can have as its
// destination (see CheckAddr; the broadcast addresses of the attached
// networks need the interface list, so the caller checks those after
// resolving).
func CheckHost(h string) error {
	if err := checkHost(h); err != nil {
		return err
	}
	if a, err := netip.ParseAddr(h); err == nil {
		return CheckAddr(a, nil)
	}
	return checkLiteral(h)
}

// checkLiteral explains a host that is meant as an address literal but is
// not one. A host made of digits and dots only is an IPv4 address to
// every reader (no top-level domain is all digits, RFC 3696 §2); a colon
// never appears in a host name.
func checkLiteral(h string) error {
	if strings.Trim(h, "0123456789.") == "" && strings.Contains(h, ".") {
		parts := strings.Split(h, ".")
		if len(parts) != 4 {
			return fmt.Errorf("%q is not a valid IPv4 address: want four numbers from 0 to 255 separated by dots, got %d", h, len(parts))
		}
		for _, s := range parts {
			n, err := strconv.Atoi(s)
			switch {
			case s == "":
				return fmt.Errorf("%q is not a valid IPv4 address: a part is empty", h)
			case err != nil || n > 255:
				return fmt.Errorf("%q is not a valid IPv4 address: %s is above 255", h, s)
			case len(s) > 1 && s[0] == '0':
				return fmt.Errorf("%q is not a valid IPv4 address: %s has a leading zero (octal to some tools); write %d", h, s, n)
			}
		}
		return fmt.Errorf("%q is not a valid IPv4 address", h)
	}
	if strings.Contains(h, ":") {
		if host, port, err := splitHostPort(h); err == nil {
			return fmt.Errorf("%q looks like a host and a port: give the host alone (%s) and the port as the port setting (%s) with a udp or tcp mode", h, host, port)
		}
		_, err := netip.ParseAddr(h)
		msg := strings.TrimPrefix(fmt.Sprint(err), "ParseAddr("+strconv.Quote(h)+"): ")
		return fmt.Errorf("%q is not a valid IPv6 address: %s", h, msg)
	}
	return nil
}

// splitHostPort splits "example.com:443" or "1.2.3.4:80" (one colon, a
// numeric port); IPv6 literals have more colons.
func splitHostPort(s string) (host, port string, err error) {
	i := strings.LastIndexByte(s, ':')
	host, port = s[:i], s[i+1:]
	if strings.Contains(host, ":") || host == "" {
		return "", "", fmt.Errorf("not host:port")
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "", "", fmt.Errorf("not host:port")
	}
	return host, port, nil
}

// CheckAddr refuses a destination that no trace can have: the unspecified
// address (0.0.0.0, ::), a multicast group (224.0.0.0/4, ff00::/8), the
// limited broadcast 255.255.255.255, or the broadcast address of one of
// the attached networks (the interfaces' prefixes; nil to skip that
// rule). Probes to those either never leave, or are answered by many
// hosts or by none, and a trace would show rounds of "???" instead of
// saying why. The decision is pure: the caller reads the interfaces.
func CheckAddr(a netip.Addr, attached []netip.Prefix) error {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return fmt.Errorf("no address")
	case a.IsUnspecified():
		return fmt.Errorf("%s is the unspecified address (\"any\"), not a host: give the address of the host to trace", a)
	case a.IsMulticast():
		return fmt.Errorf("%s is a multicast group address, which many hosts or none answer: give the address of one host", a)
	case a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return fmt.Errorf("%s is the broadcast address, which every host of the local network answers: give the address of one host", a)
	}
	if !a.Is4() {
		return nil // IPv6 has no broadcast
	}
	for _, p := range attached {
		p = p.Masked()
		if !p.Addr().Is4() || p.Bits() > 30 || !p.Contains(a) {
			continue // a /31 or /32 has no broadcast address (RFC 3021)
		}
		if a == lastAddr(p) {
			return fmt.Errorf("%s is the broadcast address of %s, a network this machine is attached to, which every host there answers: give the address of one host", a, p)
		}
	}
	return nil
}

// lastAddr is the highest address of an IPv4 prefix: its broadcast.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	for i := p.Bits(); i < 32; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return netip.AddrFrom4(b)
}
