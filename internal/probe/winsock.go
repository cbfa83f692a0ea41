package probe

// The pure half of the Windows TCP/UDP backend (sock_windows.go,
// tcp_windows.go, raw_windows.go): what a Winsock error means for a probe,
// the refusals a user reads, source-port allocation, and the matching of a
// raw ICMP socket's messages to probes. It has no build tag so its tests run
// on Linux, where the backend itself cannot.

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/pingerplot/pingerplot/internal/packet"
)

// Winsock error numbers (winerror.h). They are spelled out here, not taken
// from golang.org/x/sys/windows, so that the mapping builds and is tested
// on every OS.
const (
	wsaEACCES        = 10013
	wsaEADDRINUSE    = 10048
	wsaEADDRNOTAVAIL = 10049
	wsaENETDOWN      = 10050
	wsaENETUNREACH   = 10051
	wsaECONNABORTED  = 10053
	wsaECONNRESET    = 10054
	wsaETIMEDOUT     = 10060
	wsaECONNREFUSED  = 10061
	wsaEHOSTDOWN     = 10064
	wsaEHOSTUNREACH  = 10065
)

// connectOutcome says what the Winsock error that ended a TCP connect
// attempt means for a probe. why is the text of Reply.Err for Unreachable
// and Failed, in the user's terms.
//
// A refusal is the destination's RST: the host answered, so the probe
// reached it, but nothing listens on the port, and a service check must
// call that down (Closed), the same rule as the Linux backend.
func connectOutcome(code uint32) (k Kind, closed bool, why string) {
	switch code {
	case 0:
		return Reached, false, ""
	case wsaECONNREFUSED:
		return Reached, true, ""
	case wsaETIMEDOUT:
		// The stack gave up on its own SYN (only one is sent, see
		// tcp_windows.go) before our timeout did.
		return Timeout, false, ""
	case wsaENETUNREACH:
		return Unreachable, false, "network unreachable: no route from this host, or a router answered that it has none"
	case wsaEHOSTUNREACH, wsaEHOSTDOWN:
		return Unreachable, false, "host unreachable: a router answered that it cannot deliver to the destination"
	case wsaEACCES:
		return Failed, false, "the connection was refused by this computer (a firewall rule or security software blocks it)"
	case wsaEADDRNOTAVAIL:
		return Failed, false, "the destination address cannot be connected to (a broadcast or unspecified address?)"
	case wsaENETDOWN:
		return Failed, false, "the network is down on this computer"
	case wsaECONNABORTED, wsaECONNRESET:
		return Failed, false, "the connection attempt was aborted by this computer"
	}
	return Failed, false, fmt.Sprintf("connect failed with Winsock error %d", code)
}

// sockRefusal is the error Prepare and ProbeAll give for a TCP or UDP probe
// this process cannot send on Windows, or nil when it can. Tracing needs a
// raw ICMP socket (administrator rights) to read the routers' answers; a
// TCP service check (final hop only) needs none, since the connect itself
// tells "up", "port closed" and "no answer" apart. A UDP probe's "reached"
// is the destination's ICMP port unreachable, which Windows hands to no
// ordinary socket in a form that names the probe, so UDP needs the raw
// socket even for the final hop.
func sockRefusal(mode Mode, v6, finalHopOnly, admin bool) error {
	if admin || (mode == TCP && finalHopOnly) {
		return nil
	}
	fam := wsFamily(v6)
	if mode == UDP && finalHopOnly {
		return fmt.Errorf("UDP/%s probes on Windows need administrator rights, even for the final hop only: "+
			"the destination's answer is an ICMP port unreachable, which only a raw socket can read. "+
			"Run PingerPlot as administrator, or use ICMP (the default), or a TCP final-hop-only check of a service", fam)
	}
	return fmt.Errorf("%s/%s traces on Windows need administrator rights (the routers' answers arrive on a raw ICMP socket): "+
		"run PingerPlot as administrator, or use ICMP (the default), or final-hop-only for a TCP service check", upperMode(mode), fam)
}

func upperMode(m Mode) string {
	switch m {
	case TCP:
		return "TCP"
	case UDP:
		return "UDP"
	}
	return "ICMP"
}

func wsFamily(v6 bool) string {
	if v6 {
		return "IPv6"
	}
	return "IPv4"
}

// checkSockProbe validates a TCP or UDP probe and fills its defaults.
func checkSockProbe(pr Probe) (Probe, error) {
	if !pr.Dst.IsValid() {
		return pr, errors.New("no destination address")
	}
	pr.Dst = pr.Dst.Unmap()
	if pr.TTL < 1 || pr.TTL > 255 {
		return pr, fmt.Errorf("TTL %d out of range 1-255", pr.TTL)
	}
	if pr.Mode != TCP && pr.Mode != UDP {
		return pr, fmt.Errorf("mode %v is not TCP or UDP", pr.Mode)
	}
	if pr.Port == 0 {
		return pr, errors.New("port 0 cannot be probed")
	}
	if pr.Timeout <= 0 {
		pr.Timeout = time.Second
	}
	return pr, nil
}

// portPool hands out the source ports of TCP trace probes. A router's time
// exceeded quotes the probe's TCP ports, and the source port is the only
// part of them that tells two probes to the same service apart, so each
// probe in flight needs its own, known before its SYN leaves: the port is
// chosen here and bound explicitly. Ports go round-robin through the range,
// so a port is not reused at once (a late answer to the previous probe on
// it cannot be mistaken for one to the next). A port the system refuses to
// bind (in use, or reserved) is simply skipped by the caller taking the next.
//
// A portPool is not safe for concurrent use; its owner locks it.
type portPool struct {
	lo, hi uint16 // inclusive
	next   uint16
	busy   map[uint16]bool
}

func newPortPool(lo, hi, start uint16) *portPool {
	if start < lo || start > hi {
		start = lo
	}
	return &portPool{lo: lo, hi: hi, next: start, busy: make(map[uint16]bool)}
}

// take returns the next port not in use by a probe in flight; ok is false
// when every port of the range is.
func (p *portPool) take() (port uint16, ok bool) {
	n := int(p.hi) - int(p.lo) + 1
	for range n {
		port = p.next
		if p.next == p.hi {
			p.next = p.lo
		} else {
			p.next++
		}
		if !p.busy[port] {
			p.busy[port] = true
			return port, true
		}
	}
	return 0, false
}

// release returns a port to the pool.
func (p *portPool) release(port uint16) { delete(p.busy, port) }

// tcpTracePorts is the range TCP trace probes take their source ports from:
// the upper half of the IANA dynamic range. Windows picks its own ephemeral
// ports from the whole dynamic range (49152-65535 by default), so a port
// may be taken already; binding it fails and the next one is tried.
const (
	tcpTracePortLo = 57344
	tcpTracePortHi = 65535
)

// quoteKey is what identifies a TCP or UDP probe in the datagram an ICMP
// error quotes.
type quoteKey struct {
	mode         Mode // TCP or UDP
	dst          netip.Addr
	sport, dport uint16
	// check is the quoted UDP checksum, which carries a UDP probe's
	// sequence number (see udpProbePayload).
	check uint16
}

// quoteOf reads the probe an ICMP error quotes. ok is false for messages
// that quote no TCP or UDP datagram (echo replies, other protocols).
func quoteOf(m packet.Message) (quoteKey, bool) {
	q := m.Quote
	if q.IP.Version == 0 {
		return quoteKey{}, false
	}
	switch q.IP.Protocol {
	case packet.ProtoUDP:
		return quoteKey{mode: UDP, dst: q.IP.Dst.Unmap(), sport: q.UDP.Src, dport: q.UDP.Dst, check: q.UDP.Checksum}, true
	case packet.ProtoTCP:
		return quoteKey{mode: TCP, dst: q.IP.Dst.Unmap(), sport: q.TCP.Src, dport: q.TCP.Dst}, true
	}
	return quoteKey{}, false
}

// parseRawICMP parses one message read from a Winsock raw ICMP (v6: ICMPv6)
// socket. Microsoft's "TCP/IP raw sockets" page says an IPv4 raw socket
// receives the IP header in front of each datagram and an IPv6 one only
// what follows the last IPv6 header. The IPv4 case also accepts a message
// without its header (read through an API that strips it): no ICMP type
// starts with the IPv4 version nibble, so the first byte tells them apart.
// from is the sender recvfrom reported; it is the responder of an ICMPv6
// message and of a headerless ICMPv4 one.
func parseRawICMP(b []byte, v6 bool, from netip.Addr) (packet.Message, netip.Addr, error) {
	if v6 {
		m, err := packet.ParseICMPv6(b)
		return m, from.Unmap(), err
	}
	if len(b) > 0 && b[0]>>4 == 4 {
		m, err := packet.ParseICMPv4(b)
		return m, m.IP.Src, err
	}
	if !from.Unmap().Is4() {
		return packet.Message{}, netip.Addr{}, errors.New("headerless icmp message without an IPv4 sender")
	}
	// Rebuild the outer header the parser expects: only its length,
	// protocol and source are read.
	h, err := packet.AppendIPv4(make([]byte, 0, packet.IPv4HeaderLen+len(b)),
		packet.IP{TTL: 64, Protocol: packet.ProtoICMP, Src: from.Unmap(), Dst: netip.IPv4Unspecified()}, len(b))
	if err != nil {
		return packet.Message{}, netip.Addr{}, err
	}
	m, err := packet.ParseICMPv4(append(h, b...))
	return m, m.IP.Src, err
}

// udpQuotedSeq reads a UDP probe's sequence number from the datagram an
// ICMP error quotes: from the token after the compensation word when the
// router quoted that far (RFC 1812 routers quote up to 576 bytes), else
// from the UDP checksum. The token comes first because the checksum is the
// stack's to compute: Linux behind a virtual interface (veth, as in Wine in
// the lab) leaves it unfinished for offload, and a router on that link
// quotes the partial sum, the same for every probe of the flow. The
// checksum is the answer for routers that quote only the 8 bytes RFC 792
// requires.
func udpQuotedSeq(m packet.Message, magic uint32) (uint16, bool) {
	if p := m.Quote.UDP.Payload; len(p) >= 2+packet.TokenLen {
		if seq, ok := packet.Token(p[2:], magic); ok {
			return seq, true
		}
	}
	c := m.Quote.UDP.Checksum
	return c, c != 0
}

// udpProbePayload returns the payload of a UDP probe sent from an ordinary
// socket bound to src to dst, chosen so that the UDP checksum the stack
// computes over it equals seq: the probe's sequence number then travels in
// the first 8 bytes of the UDP header, which every router quotes (RFC 792),
// and the flow's ports never change (Paris traceroute). The payload is a
// 2-byte compensation word, then a token (magic and seq) for a second check,
// padded to size bytes. seq must not be 0.
func udpProbePayload(src, dst netip.AddrPort, seq uint16, size int, magic uint32) ([]byte, error) {
	body := make([]byte, max(size-2, packet.TokenLen))
	packet.PutToken(body, seq, magic)
	dgram, err := packet.AppendParisUDP(nil, src, dst, seq, body)
	if err != nil {
		return nil, err
	}
	return dgram[packet.UDPHeaderLen:], nil
}
