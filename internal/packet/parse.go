package packet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// IP holds what a tracer needs from an IPv4 or IPv6 header. Parsers fill it
// from the wire; AppendIPv4 builds one from it.
type IP struct {
	Version uint8  // 4 or 6; 0 when there is no header
	TOS     uint8  // IPv4 type of service or IPv6 traffic class
	Flow    uint32 // IPv6 flow label
	// Len is the packet length the header claims: the IPv4 total length or
	// 40 + the IPv6 payload length. A quote may hold fewer bytes.
	Len      int
	ID       uint16 // IPv4 identification
	DF       bool   // IPv4 don't-fragment flag
	TTL      uint8  // TTL or hop limit
	Protocol uint8  // upper-layer protocol, after any IPv6 extension headers
	Src, Dst netip.Addr
}

// Echo is an ICMP or ICMPv6 header read as an echo request or reply. In a
// quote of another ICMP type, ID and Seq are just bytes 4..7.
type Echo struct {
	Type, Code uint8
	Checksum   uint16
	ID, Seq    uint16
	Data       []byte // what follows the 8-byte header (as much as was quoted)
}

// UDP is a UDP header and the payload that came with it.
type UDP struct {
	Src, Dst uint16 // ports
	Len      uint16 // the length field: header plus payload as sent
	Checksum uint16
	Payload  []byte // as much of the payload as was quoted
}

// TCP is the part of a TCP header every ICMP error quotes (RFC 792
// guarantees only the first 8 bytes of the transport header).
type TCP struct {
	Src, Dst uint16 // ports
	Seq      uint32
}

// Quote is the original datagram an ICMP error carries: the probe as the
// router saw it, which is how a reply is matched to its probe. Which of
// Echo, UDP and TCP is set depends on IP.Protocol.
type Quote struct {
	IP   IP
	Echo Echo // IP.Protocol is ICMP or ICMPv6
	UDP  UDP  // IP.Protocol is UDP
	TCP  TCP  // IP.Protocol is TCP
	// Transport is the quoted bytes from the transport header on, without
	// any RFC 4884 zero padding, for protocols this package does not parse.
	Transport []byte
}

// Message is one parsed ICMPv4 or ICMPv6 message. Slices alias the input.
type Message struct {
	Type, Code uint8
	Checksum   uint16 // as received; not verified (see ParseICMPv4)
	// IP is the outer IPv4 header. ParseICMPv6 leaves it zero: Linux
	// delivers ICMPv6 without its IPv6 header (the source comes from
	// recvfrom, the hop limit from IPV6_HOPLIMIT).
	IP IP
	// Echo is set for echo requests and replies.
	Echo Echo
	// MTU is the next-hop MTU of an ICMPv4 "fragmentation needed" or an
	// ICMPv6 "packet too big".
	MTU uint32
	// Pointer is the offset of the offending byte in a parameter problem.
	Pointer uint32
	// Quote is the original datagram of an error message (destination
	// unreachable, time exceeded, parameter problem, packet too big, and for
	// ICMPv4 source quench and redirect). Quote.IP.Version is 0 for other
	// messages.
	Quote Quote
	// Ext is the RFC 4884 extension structure that followed the original
	// datagram, nil if there was none. It may be malformed; MPLS and
	// Interfaces are set only from a well-formed one.
	Ext []byte
	// MPLS is the label stack an MPLS router attached (RFC 4950).
	MPLS []MPLSLabel
	// Interfaces are the RFC 5837 interface information objects the
	// router attached.
	Interfaces []InterfaceInfo
}

// ParseICMPv4 parses what a Linux raw IPPROTO_ICMP socket delivers: an IPv4
// packet, header and options included, carrying an ICMP message.
//
// The ICMP checksum is not verified: a router that quotes a probe has
// nothing to gain from a wrong checksum, a damaged packet that still parses
// is caught by the caller's match on the quoted destination and probe id,
// and dropping replies from sloppy routers would show them as lossy.
func ParseICMPv4(b []byte) (Message, error) {
	ip, hlen, _, err := parseIPv4(b)
	if err != nil {
		return Message{}, fmt.Errorf("outer %v", err)
	}
	if ip.Protocol != ProtoICMP {
		return Message{}, fmt.Errorf("ipv4 packet carries protocol %d, not icmp", ip.Protocol)
	}
	// Linux has already trimmed the packet to its total length; the length
	// field itself is not trusted, as BSD kernels rewrite it.
	m, err := parseICMP(b[hlen:], false)
	if err != nil {
		return Message{}, err
	}
	m.IP = ip
	return m, nil
}

// ParseICMPv6 parses what a Linux raw IPPROTO_ICMPV6 socket delivers: an
// ICMPv6 message starting at its header.
func ParseICMPv6(b []byte) (Message, error) {
	return parseICMP(b, true)
}

// ParseEcho parses an ICMP or ICMPv6 echo request or reply starting at its
// header. That is what a Linux ping socket reads, both from its normal queue
// (the reply; the kernel has matched the id already) and from its error
// queue (the quoted request, followed by as much of its payload as the
// router quoted).
func ParseEcho(b []byte) (Echo, error) {
	if len(b) < ICMPHeaderLen {
		return Echo{}, fmt.Errorf("icmp echo of %d bytes is shorter than its header", len(b))
	}
	switch b[0] {
	case ICMPv4Echo, ICMPv4EchoReply, ICMPv6Echo, ICMPv6EchoReply:
		return parseEchoHeader(b), nil
	}
	return Echo{}, fmt.Errorf("icmp type %d is not an echo", b[0])
}

// ParseTCP parses the start of a TCP header: what a Linux TCP socket reads
// from its error queue after an ICMP error (the quoted header onwards).
func ParseTCP(b []byte) (TCP, error) {
	if len(b) < 8 {
		return TCP{}, fmt.Errorf("tcp header of %d bytes is too short to hold ports and sequence", len(b))
	}
	return TCP{
		Src: binary.BigEndian.Uint16(b),
		Dst: binary.BigEndian.Uint16(b[2:]),
		Seq: binary.BigEndian.Uint32(b[4:]),
	}, nil
}

func parseEchoHeader(b []byte) Echo {
	return Echo{
		Type:     b[0],
		Code:     b[1],
		Checksum: binary.BigEndian.Uint16(b[2:]),
		ID:       binary.BigEndian.Uint16(b[4:]),
		Seq:      binary.BigEndian.Uint16(b[6:]),
		Data:     b[8:],
	}
}

// parseICMP parses an ICMPv4 (v6 false) or ICMPv6 message starting at its header.
func parseICMP(b []byte, v6 bool) (Message, error) {
	if len(b) < ICMPHeaderLen {
		return Message{}, fmt.Errorf("icmp message of %d bytes is shorter than its header", len(b))
	}
	m := Message{Type: b[0], Code: b[1], Checksum: binary.BigEndian.Uint16(b[2:])}
	// extLen is the RFC 4884 length of the original datagram field in bytes,
	// or -1 for messages that have no such field.
	extLen := -1
	if !v6 {
		switch m.Type {
		case ICMPv4Echo, ICMPv4EchoReply:
			m.Echo = parseEchoHeader(b)
			return m, nil
		case ICMPv4Unreachable:
			extLen = int(b[5]) * 4
			if m.Code == 4 { // fragmentation needed (RFC 1191)
				m.MTU = uint32(binary.BigEndian.Uint16(b[6:]))
			}
		case ICMPv4TimeExceeded:
			extLen = int(b[5]) * 4
		case ICMPv4ParamProblem:
			extLen = int(b[5]) * 4
			m.Pointer = uint32(b[4])
		case ICMPv4SourceQuench, ICMPv4Redirect:
		default:
			return m, nil
		}
	} else {
		switch m.Type {
		case ICMPv6Echo, ICMPv6EchoReply:
			m.Echo = parseEchoHeader(b)
			return m, nil
		case ICMPv6Unreachable, ICMPv6TimeExceeded:
			extLen = int(b[4]) * 8
		case ICMPv6PacketTooBig:
			m.MTU = binary.BigEndian.Uint32(b[4:])
		case ICMPv6ParamProblem:
			m.Pointer = binary.BigEndian.Uint32(b[4:])
		default:
			return m, nil
		}
	}
	dgram := b[ICMPHeaderLen:]
	if extLen >= 0 {
		var ext Extensions
		dgram, m.Ext, ext = splitExt(dgram, extLen)
		m.MPLS, m.Interfaces = ext.MPLS, ext.Interfaces
	}
	q, err := parseQuote(dgram, v6)
	if err != nil {
		return Message{}, fmt.Errorf("icmp type %d code %d: quoted datagram: %v", m.Type, m.Code, err)
	}
	m.Quote = q
	return m, nil
}

// origDgramMin is the least length of the original datagram field when
// extensions follow it (RFC 4884 §4.1); pre-RFC 4884 routers put their
// extensions right after it, with the length attribute left 0.
const origDgramMin = 128

// splitExt splits an ICMP error's data into the original datagram field
// and the extension structure, given the RFC 4884 length attribute in bytes.
func splitExt(data []byte, length int) (dgram, ext []byte, parsed Extensions) {
	switch {
	case length == 0:
		// Either no extensions, or a non-compliant router. Only a
		// well-formed structure at 128 is taken as one, so that a long
		// quote of a probe's payload is not mistaken for extensions.
		if len(data) < origDgramMin+extHeaderLen {
			return data, nil, Extensions{}
		}
		e, err := ParseExtensions(data[origDgramMin:])
		if err != nil {
			return data, nil, Extensions{}
		}
		return data[:origDgramMin], data[origDgramMin:], e
	case length >= len(data):
		// No extensions (or a length that overstates the data, which is
		// read as no extensions rather than thrown away).
		return data, nil, Extensions{}
	case length < origDgramMin:
		// Compliant senders pad to 128 before extensions; a shorter length
		// with data beyond it means the datagram ends at length and any
		// extension still starts at 128.
		if len(data) < origDgramMin+extHeaderLen {
			return data[:length], nil, Extensions{}
		}
		dgram, ext = data[:length], data[origDgramMin:]
	default:
		dgram, ext = data[:length], data[length:]
	}
	e, _ := ParseExtensions(ext) // malformed extensions do not spoil the quote
	return dgram, ext, e
}

// parseQuote parses an original datagram quoted in an ICMP error.
func parseQuote(b []byte, v6 bool) (Quote, error) {
	if len(b) == 0 {
		return Quote{}, errors.New("empty")
	}
	var (
		q       Quote
		hlen    int
		fragOff uint16
		err     error
	)
	switch {
	case !v6 && b[0]>>4 == 4:
		q.IP, hlen, fragOff, err = parseIPv4(b)
	case v6 && b[0]>>4 == 6:
		q.IP, hlen, fragOff, err = parseIPv6(b)
	case v6:
		return Quote{}, fmt.Errorf("ip version %d in an icmpv6 error", b[0]>>4)
	default:
		return Quote{}, fmt.Errorf("ip version %d in an icmpv4 error", b[0]>>4)
	}
	if err != nil {
		return Quote{}, err
	}
	if fragOff != 0 {
		return Quote{}, errors.New("a non-first fragment, without a transport header")
	}
	// Drop the zero padding RFC 4884 adds to short datagrams, when the
	// header's own length is plausible. A jumbogram's 0 is left alone.
	if q.IP.Len > hlen && q.IP.Len < len(b) {
		b = b[:q.IP.Len]
	}
	t := b[hlen:]
	q.Transport = t
	name := ""
	switch q.IP.Protocol {
	case ProtoICMP, ProtoICMPv6:
		name = "icmp"
	case ProtoUDP:
		name = "udp"
	case ProtoTCP:
		name = "tcp"
	default:
		return q, nil
	}
	if len(t) < 8 {
		return Quote{}, fmt.Errorf("quoted %s header truncated to %d bytes", name, len(t))
	}
	switch q.IP.Protocol {
	case ProtoICMP, ProtoICMPv6:
		q.Echo = parseEchoHeader(t)
	case ProtoUDP:
		u := UDP{
			Src:      binary.BigEndian.Uint16(t),
			Dst:      binary.BigEndian.Uint16(t[2:]),
			Len:      binary.BigEndian.Uint16(t[4:]),
			Checksum: binary.BigEndian.Uint16(t[6:]),
		}
		p := t[UDPHeaderLen:]
		if n := int(u.Len) - UDPHeaderLen; n >= 0 && n < len(p) {
			p = p[:n]
		}
		u.Payload = p
		q.UDP = u
	case ProtoTCP:
		q.TCP, _ = ParseTCP(t)
	}
	return q, nil
}

// parseIPv4 parses an IPv4 header with its options. It returns the header
// length and the fragment offset (in 8-byte units).
func parseIPv4(b []byte) (ip IP, hlen int, fragOff uint16, err error) {
	if len(b) < IPv4HeaderLen {
		return IP{}, 0, 0, fmt.Errorf("ipv4 header truncated to %d bytes", len(b))
	}
	if v := b[0] >> 4; v != 4 {
		return IP{}, 0, 0, fmt.Errorf("ipv4 header has version %d", v)
	}
	hlen = int(b[0]&0x0f) * 4
	if hlen < IPv4HeaderLen || hlen > len(b) {
		return IP{}, 0, 0, fmt.Errorf("ipv4 header length %d does not fit %d bytes", hlen, len(b))
	}
	flags := binary.BigEndian.Uint16(b[6:])
	ip = IP{
		Version:  4,
		TOS:      b[1],
		Len:      int(binary.BigEndian.Uint16(b[2:])),
		ID:       binary.BigEndian.Uint16(b[4:]),
		DF:       flags&0x4000 != 0,
		TTL:      b[8],
		Protocol: b[9],
		Src:      netip.AddrFrom4([4]byte(b[12:16])),
		Dst:      netip.AddrFrom4([4]byte(b[16:20])),
	}
	return ip, hlen, flags & 0x1fff, nil
}

// IPv6 extension headers walked to find the upper-layer protocol.
const (
	ipv6HopByHop = 0
	ipv6Routing  = 43
	ipv6Fragment = 44
	ipv6AH       = 51
	ipv6DestOpts = 60
)

// parseIPv6 parses an IPv6 header and walks its extension headers. It
// returns the length of all of them and the fragment offset (in 8-byte
// units) of a fragment header, if any.
func parseIPv6(b []byte) (ip IP, hlen int, fragOff uint16, err error) {
	if len(b) < IPv6HeaderLen {
		return IP{}, 0, 0, fmt.Errorf("ipv6 header truncated to %d bytes", len(b))
	}
	if v := b[0] >> 4; v != 6 {
		return IP{}, 0, 0, fmt.Errorf("ipv6 header has version %d", v)
	}
	vtf := binary.BigEndian.Uint32(b)
	ip = IP{
		Version: 6,
		TOS:     uint8(vtf >> 20),
		Flow:    vtf & 0xfffff,
		Len:     IPv6HeaderLen + int(binary.BigEndian.Uint16(b[4:])),
		TTL:     b[7],
		Src:     netip.AddrFrom16([16]byte(b[8:24])),
		Dst:     netip.AddrFrom16([16]byte(b[24:40])),
	}
	next, off := b[6], IPv6HeaderLen
	// Every extension header is at least 8 bytes long, so the walk ends.
	for {
		var n int
		switch next {
		case ipv6HopByHop, ipv6Routing, ipv6DestOpts:
			if off+2 <= len(b) {
				n = (int(b[off+1]) + 1) * 8
			}
		case ipv6Fragment:
			n = 8
		case ipv6AH:
			if off+2 <= len(b) {
				n = (int(b[off+1]) + 2) * 4
			}
		default:
			ip.Protocol = next
			return ip, off, fragOff, nil
		}
		if n == 0 || off+n > len(b) {
			return IP{}, 0, 0, fmt.Errorf("ipv6 extension header %d truncated", next)
		}
		if next == ipv6Fragment {
			fragOff = binary.BigEndian.Uint16(b[off+2:]) >> 3
		}
		next, off = b[off], off+n
	}
}
