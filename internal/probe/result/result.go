// Package result holds what a probe is and what answered it: the probe
// mode, the reply kind, the reply and its MPLS labels. It is a leaf (it
// imports only the wire formats' MPLS label), so the packages that show or
// store results use these types without importing the package that owns
// sockets. Package probe keeps aliases of every name here.
package result

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/pingerplot/pingerplot/internal/packet"
)

// Mode is the protocol a probe is sent with.
type Mode uint8

const (
	ICMP Mode = iota // ICMP echo request; destination answers with echo reply
	UDP              // UDP datagram to a (normally closed) port; destination answers port unreachable
	TCP              // TCP SYN to a port; destination answers SYN-ACK or RST
)

func (m Mode) String() string {
	switch m {
	case ICMP:
		return "icmp"
	case UDP:
		return "udp"
	case TCP:
		return "tcp"
	}
	return fmt.Sprintf("mode(%d)", m)
}

// ParseMode turns "icmp", "udp" or "tcp" into a Mode.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "icmp", "ICMP":
		return ICMP, nil
	case "udp", "UDP":
		return UDP, nil
	case "tcp", "TCP":
		return TCP, nil
	}
	return 0, fmt.Errorf("unknown probe mode %q (want icmp, udp or tcp)", s)
}

// MarshalText implements encoding.TextMarshaler so modes read well in JSON.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := ParseMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Kind says what answered a probe.
type Kind uint8

const (
	Timeout      Kind = iota // nothing answered within the timeout
	TimeExceeded             // a router on the way: ICMP time exceeded (TTL/hop limit reached 0)
	Reached                  // the destination itself: echo reply, port unreachable, SYN-ACK or RST
	Unreachable              // an ICMP destination unreachable other than the one that means "reached"
	Failed                   // the probe could not be sent; Reply.Err says why
)

func (k Kind) String() string {
	switch k {
	case Timeout:
		return "timeout"
	case TimeExceeded:
		return "time-exceeded"
	case Reached:
		return "reached"
	case Unreachable:
		return "unreachable"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("kind(%d)", k)
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Reply is what came back for one probe.
type Reply struct {
	Kind Kind
	// From is the responder: the router for TimeExceeded and Unreachable, the
	// destination (or whoever answered for it) for Reached. Zero for Timeout.
	From netip.Addr
	// ICMPType and ICMPCode are the raw ICMP type/code when the answer was
	// an ICMP message (zero for TCP connect results).
	ICMPType, ICMPCode uint8
	// Sent is the wall-clock time just before the packet was handed to the kernel.
	Sent time.Time
	// RTT is the round-trip time, from a kernel receive timestamp when the
	// kernel gave one (KernelTS true), else from the user-space clock.
	RTT      time.Duration
	KernelTS bool
	// Closed marks a Reached TCP probe that the destination refused (RST):
	// the host is there but nothing listens on the port, so a service check
	// must call it down, not up. Never set for other modes.
	Closed bool
	// MTU is the next-hop MTU an ICMPv4 "fragmentation needed" or an
	// ICMPv6 "packet too big" gave (Kind Unreachable), or the MTU the local
	// kernel refused a DontFragment probe with (Kind Failed, EMSGSIZE); 0
	// otherwise.
	MTU uint32
	// Details is what an ICMP error said beyond who answered. Embedded, so
	// r.MPLS reads as before; composite literals name it (Details: ...).
	Details
	// Err is set for Failed probes.
	Err error
}

// Details is what an ICMP error told beyond "who answered": its RFC 4884
// extensions, and what its quoted copy of the probe shows arrived at the
// router. The zero value means the reply said nothing more (an echo reply,
// a TCP answer, or an error without extensions).
type Details struct {
	// MPLS holds any RFC 4950 label stack the router attached.
	MPLS []MPLSLabel `json:",omitempty"`
	// Interfaces are the RFC 5837 interface information objects the router
	// attached: which interface the probe came in on, went out of, and so on.
	Interfaces []InterfaceInfo `json:",omitempty"`
	// Quoted says TOS and NAT were read from the quoted IP header. Only raw
	// sockets see it: the error queue of an unprivileged socket hands back
	// the probe's payload without its IP header.
	Quoted bool `json:",omitempty"`
	// TOS is the IPv4 TOS byte or the IPv6 traffic class as the router
	// received the probe: DSCP in the high six bits, ECN in the low two.
	TOS uint8 `json:",omitempty"`
	// NAT: the quoted header's source address, source port or UDP checksum
	// differs from what was sent, so a translator rewrote the probe before
	// this router (IPv4; Trippy's N column).
	NAT bool `json:",omitempty"`
	// NATChecked says the quote was of a probe whose translation can be
	// judged (an IPv4 UDP probe from a raw socket), so NAT false means
	// none was seen rather than that nobody looked.
	NATChecked bool `json:",omitempty"`
}

// Empty reports whether d carries nothing.
func (d Details) Empty() bool {
	return len(d.MPLS) == 0 && len(d.Interfaces) == 0 && !d.Quoted
}

// MPLSLabel is one RFC 4950 label stack entry.
type MPLSLabel = packet.MPLSLabel

// InterfaceInfo is one RFC 5837 interface information object.
type InterfaceInfo = packet.InterfaceInfo
