package packet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// ICMP types and protocol numbers this package builds and parses.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58

	ICMPv4EchoReply    = 0
	ICMPv4Unreachable  = 3
	ICMPv4SourceQuench = 4
	ICMPv4Redirect     = 5
	ICMPv4Echo         = 8
	ICMPv4TimeExceeded = 11
	ICMPv4ParamProblem = 12

	ICMPv6Unreachable  = 1
	ICMPv6PacketTooBig = 2
	ICMPv6TimeExceeded = 3
	ICMPv6ParamProblem = 4
	ICMPv6Echo         = 128
	ICMPv6EchoReply    = 129
)

// Header lengths.
const (
	IPv4HeaderLen = 20 // without options
	IPv6HeaderLen = 40 // without extension headers
	ICMPHeaderLen = 8
	UDPHeaderLen  = 8
)

// AppendEcho appends an ICMP echo request to b: an ICMPv4 one (type 8) when
// v6 is false, an ICMPv6 one (type 128) when it is true.
//
// The ICMPv4 checksum is filled in. The ICMPv6 checksum covers a pseudo
// header with both addresses, so it is left 0 here: Linux computes it for
// ping sockets and for raw ICMPv6 sockets (RFC 3542 §3.1 makes that
// mandatory). Call SetICMPv6Checksum on the result when the addresses are
// known and the checksum must be right before the kernel sees it.
func AppendEcho(b []byte, v6 bool, id, seq uint16, payload []byte) []byte {
	typ := uint8(ICMPv4Echo)
	if v6 {
		typ = ICMPv6Echo
	}
	start := len(b)
	b = append(b, typ, 0, 0, 0, byte(id>>8), byte(id), byte(seq>>8), byte(seq))
	b = append(b, payload...)
	if !v6 {
		binary.BigEndian.PutUint16(b[start+2:], Checksum(b[start:]))
	}
	return b
}

// SetICMPv6Checksum fills in the checksum of the ICMPv6 message m (which
// starts at the ICMPv6 header) for a packet from src to dst.
func SetICMPv6Checksum(m []byte, src, dst netip.Addr) error {
	if len(m) < 4 {
		return errors.New("icmpv6 message shorter than its header")
	}
	if !src.Is6() || !dst.Is6() || src.Is4In6() || dst.Is4In6() {
		return fmt.Errorf("icmpv6 checksum needs two IPv6 addresses, got %v and %v", src, dst)
	}
	m[2], m[3] = 0, 0
	binary.BigEndian.PutUint16(m[2:], ^Sum(PseudoSum(src, dst, ProtoICMPv6, len(m)), m))
	return nil
}

// udpFamily checks that src and dst are of one family and returns whether
// it is IPv6.
func udpFamily(src, dst netip.AddrPort) (v6 bool, err error) {
	s, d := src.Addr().Unmap(), dst.Addr().Unmap()
	switch {
	case s.Is4() && d.Is4():
		return false, nil
	case s.Is6() && d.Is6():
		return true, nil
	}
	return false, fmt.Errorf("udp needs two addresses of one family, got %v and %v", src.Addr(), dst.Addr())
}

// AppendUDP appends a UDP header and payload from src to dst to b, with a
// correct checksum over the IPv4 or IPv6 pseudo header.
func AppendUDP(b []byte, src, dst netip.AddrPort, payload []byte) ([]byte, error) {
	if _, err := udpFamily(src, dst); err != nil {
		return b, err
	}
	n := UDPHeaderLen + len(payload)
	if n > 0xffff {
		return b, fmt.Errorf("udp datagram of %d bytes is too long", n)
	}
	start := len(b)
	b = appendUDPHeader(b, src.Port(), dst.Port(), n)
	b = append(b, payload...)
	c := ^Sum(PseudoSum(src.Addr(), dst.Addr(), ProtoUDP, n), b[start:])
	if c == 0 {
		// A computed 0 is sent as its ones-complement twin: 0 on the wire
		// means "no checksum" in IPv4 and is invalid in IPv6 (RFC 768, 8200).
		c = 0xffff
	}
	binary.BigEndian.PutUint16(b[start+6:], c)
	return b, nil
}

// AppendParisUDP appends a UDP datagram whose checksum field holds check, a
// value the caller chooses (Paris traceroute carries the probe's sequence
// number there, where load balancers do not look). To keep the checksum
// valid the datagram's payload is a 2-byte compensation word followed by
// payload, so the UDP length is 10 + len(payload).
//
// check must not be 0: that means "no checksum" to IPv4 and is invalid in
// IPv6, where the destination would drop the probe silently.
func AppendParisUDP(b []byte, src, dst netip.AddrPort, check uint16, payload []byte) ([]byte, error) {
	if _, err := udpFamily(src, dst); err != nil {
		return b, err
	}
	if check == 0 {
		return b, errors.New("paris udp checksum must not be 0")
	}
	n := UDPHeaderLen + 2 + len(payload)
	if n > 0xffff {
		return b, fmt.Errorf("udp datagram of %d bytes is too long", n)
	}
	start := len(b)
	b = appendUDPHeader(b, src.Port(), dst.Port(), n)
	b = append(b, 0, 0) // the compensation word, summed as 0 for now
	b = append(b, payload...)
	s := Sum(PseudoSum(src.Addr(), dst.Addr(), ProtoUDP, n), b[start:])
	// A receiver sums everything, check and W included, and wants 0xFFFF
	// (negative zero): so W must be the complement of s + check.
	w := ^Add(s, check)
	binary.BigEndian.PutUint16(b[start+6:], check)
	binary.BigEndian.PutUint16(b[start+8:], w)
	return b, nil
}

func appendUDPHeader(b []byte, sport, dport uint16, n int) []byte {
	return append(b, byte(sport>>8), byte(sport), byte(dport>>8), byte(dport), byte(n>>8), byte(n), 0, 0)
}

// AppendIPv4 appends a 20-byte IPv4 header (no options) for a packet with
// payloadLen bytes after the header, as sent on a raw socket with IP_HDRINCL.
// It uses h's TOS, ID, DF, TTL, Protocol, Src and Dst and fills in the
// version, header length, total length and header checksum; other fields
// of h are ignored.
//
// Linux rewrites the checksum and total length of such packets itself and
// fills in the ID only when it is 0, so a probe that carries its identity in
// the ID (Dublin traceroute) must use a non-zero one (raw(7)). The total
// length is written in network byte order, as Linux wants; BSD-derived
// kernels differ and are not this function's concern.
func AppendIPv4(b []byte, h IP, payloadLen int) ([]byte, error) {
	src, dst := h.Src.Unmap(), h.Dst.Unmap()
	if !src.Is4() || !dst.Is4() {
		return b, fmt.Errorf("ipv4 header needs two IPv4 addresses, got %v and %v", h.Src, h.Dst)
	}
	total := IPv4HeaderLen + payloadLen
	if payloadLen < 0 || total > 0xffff {
		return b, fmt.Errorf("ipv4 payload length %d out of range", payloadLen)
	}
	var flags byte
	if h.DF {
		flags = 0x40
	}
	start := len(b)
	b = append(b,
		0x45, h.TOS, byte(total>>8), byte(total),
		byte(h.ID>>8), byte(h.ID), flags, 0,
		h.TTL, h.Protocol, 0, 0)
	s, d := src.As4(), dst.As4()
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	binary.BigEndian.PutUint16(b[start+10:], Checksum(b[start:]))
	return b, nil
}
