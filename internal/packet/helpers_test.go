package packet

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// Addresses used across the tests (documentation ranges, RFC 5737/3849).
var (
	me4     = netip.MustParseAddr("192.0.2.10")
	router4 = netip.MustParseAddr("198.51.100.1")
	target4 = netip.MustParseAddr("203.0.113.7")
	me6     = netip.MustParseAddr("2001:db8::10")
	target6 = netip.MustParseAddr("2001:db8:ffff::7")
)

// naiveChecksum is an independent RFC 1071 checksum for the tests: sum
// 16-bit words in a wide integer, fold once at the end, complement.
func naiveChecksum(parts ...[]byte) uint16 {
	var all []byte
	for _, p := range parts {
		all = append(all, p...)
	}
	if len(all)%2 == 1 {
		all = append(all, 0)
	}
	var s uint64
	for i := 0; i < len(all); i += 2 {
		s += uint64(all[i])<<8 | uint64(all[i+1])
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// pseudoHeader spells out the RFC 768 / RFC 8200 pseudo header bytes.
func pseudoHeader(src, dst netip.Addr, proto uint8, n int) []byte {
	if src.Is4() {
		s, d := src.As4(), dst.As4()
		b := append(s[:], d[:]...)
		return append(b, 0, proto, byte(n>>8), byte(n))
	}
	s, d := src.As16(), dst.As16()
	b := append(s[:], d[:]...)
	return append(b, byte(n>>24), byte(n>>16), byte(n>>8), byte(n), 0, 0, 0, proto)
}

// ipv4Packet builds an IPv4 packet around payload with AppendIPv4.
func ipv4Packet(t testing.TB, proto uint8, src, dst netip.Addr, ttl uint8, id uint16, payload []byte) []byte {
	t.Helper()
	b, err := AppendIPv4(nil, IP{TTL: ttl, ID: id, DF: true, Protocol: proto, Src: src, Dst: dst}, len(payload))
	if err != nil {
		t.Fatal(err)
	}
	return append(b, payload...)
}

// ext6 is one IPv6 extension header for ipv6Packet.
type ext6 struct {
	typ  uint8
	body []byte // bytes after the next-header byte (and length byte, except for fragments)
}

// ipv6Packet builds an IPv6 packet with the given extension headers.
func ipv6Packet(src, dst netip.Addr, hop uint8, proto uint8, exts []ext6, payload []byte) []byte {
	var chain []byte
	for i, e := range exts {
		next := proto
		if i+1 < len(exts) {
			next = exts[i+1].typ
		}
		switch e.typ {
		case ipv6Fragment:
			h := make([]byte, 8)
			h[0] = next
			copy(h[2:], e.body)
			chain = append(chain, h...)
		default:
			n := (2 + len(e.body) + 7) / 8 * 8
			h := make([]byte, n)
			h[0], h[1] = next, byte(n/8-1)
			if e.typ == ipv6AH {
				h[1] = byte(n/4 - 2) // AH counts 4-byte units (RFC 4302)
			}
			copy(h[2:], e.body)
			chain = append(chain, h...)
		}
	}
	first := proto
	if len(exts) > 0 {
		first = exts[0].typ
	}
	b := make([]byte, IPv6HeaderLen)
	binary.BigEndian.PutUint32(b, 6<<28|0x01<<20|0x2345)
	binary.BigEndian.PutUint16(b[4:], uint16(len(chain)+len(payload)))
	b[6], b[7] = first, hop
	s, d := src.As16(), dst.As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	b = append(b, chain...)
	return append(b, payload...)
}

// icmpError builds an ICMP error header (type, code, the 4 "unused"
// bytes rest) followed by data, with a correct ICMPv4 checksum.
func icmpError(typ, code uint8, rest [4]byte, data ...[]byte) []byte {
	b := []byte{typ, code, 0, 0, rest[0], rest[1], rest[2], rest[3]}
	for _, d := range data {
		b = append(b, d...)
	}
	binary.BigEndian.PutUint16(b[2:], naiveChecksum(b))
	return b
}

// udpHeader builds a UDP header and payload with an arbitrary checksum.
func udpHeader(sport, dport, check uint16, payload []byte) []byte {
	n := UDPHeaderLen + len(payload)
	b := []byte{byte(sport >> 8), byte(sport), byte(dport >> 8), byte(dport), byte(n >> 8), byte(n), byte(check >> 8), byte(check)}
	return append(b, payload...)
}

// tcpSYN builds a 20-byte TCP SYN header.
func tcpSYN(sport, dport uint16, seq uint32) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b, sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	binary.BigEndian.PutUint32(b[4:], seq)
	b[12], b[13] = 5<<4, 0x02
	binary.BigEndian.PutUint16(b[14:], 64240)
	return b
}

// mplsExt builds an RFC 4884 extension structure with one MPLS object, with
// its checksum filled in when sum is true.
func mplsExt(sum bool, labels ...MPLSLabel) []byte {
	b := []byte{extVersion << 4, 0, 0, 0}
	n := objHeaderLen + 4*len(labels)
	b = append(b, byte(n>>8), byte(n), classMPLS, cTypeIncoming)
	for _, l := range labels {
		e := l.Label<<12 | uint32(l.TC&7)<<9 | uint32(l.TTL)
		if l.S {
			e |= 1 << 8
		}
		b = binary.BigEndian.AppendUint32(b, e)
	}
	if sum {
		binary.BigEndian.PutUint16(b[2:], naiveChecksum(b))
	}
	return b
}

// pad returns b zero-padded to n bytes.
func pad(b []byte, n int) []byte {
	if len(b) >= n {
		return b
	}
	return append(append([]byte(nil), b...), make([]byte, n-len(b))...)
}

func cat(bs ...[]byte) []byte {
	var out []byte
	for _, b := range bs {
		out = append(out, b...)
	}
	return out
}
