package packet

import (
	"encoding/binary"
	"net/netip"
)

// Sum adds b to the running ones-complement sum acc (RFC 1071) and returns
// the new sum, folded to 16 bits. Start with acc = 0. When a message is summed
// in pieces, every piece but the last must have an even length: an odd piece
// is padded with a zero byte, which would shift the bytes that follow it.
//
// The result is a sum, not a checksum: the checksum is its complement.
func Sum(acc uint16, b []byte) uint16 {
	s := uint64(acc)
	for len(b) >= 8 {
		s += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:]))
		b = b[8:]
	}
	for len(b) >= 2 {
		s += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return fold(s)
}

// fold reduces a wide sum to 16 bits with end-around carries. Summing 32-bit
// words and folding at the end gives the same result as summing 16-bit words,
// because 2^16 ≡ 1 modulo 0xFFFF.
func fold(s uint64) uint16 {
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// Add returns the ones-complement sum of a and b.
func Add(a, b uint16) uint16 { return fold(uint64(a) + uint64(b)) }

// Checksum returns the Internet checksum of b (RFC 1071): the complement of
// its ones-complement sum. A message that carries a correct checksum
// (IPv4 header, ICMPv4) checksums to 0.
func Checksum(b []byte) uint16 { return ^Sum(0, b) }

// Adjust returns checksum c updated for one 16-bit word of the summed data
// changing from old to new (RFC 1624, eqn. 3), without resumming the data.
func Adjust(c, old, new uint16) uint16 {
	return ^Add(Add(^c, ^old), new)
}

// PseudoSum returns the ones-complement sum of the pseudo header that UDP,
// TCP and ICMPv6 checksums cover: the IPv4 pseudo header (RFC 768) when both
// addresses are IPv4 (or IPv4-mapped IPv6), else the IPv6 one (RFC 8200
// §8.1). proto is the upper-layer protocol and length the upper-layer length
// (header plus data). Add the upper-layer bytes to the result with Sum.
func PseudoSum(src, dst netip.Addr, proto uint8, length int) uint16 {
	var s uint64
	if src.Unmap().Is4() && dst.Unmap().Is4() {
		a, b := src.Unmap().As4(), dst.Unmap().As4()
		s = uint64(binary.BigEndian.Uint32(a[:])) + uint64(binary.BigEndian.Uint32(b[:]))
	} else {
		// The zero Addr yields sixteen zero bytes; callers check families.
		a, b := src.As16(), dst.As16()
		for i := 0; i < 16; i += 4 {
			s += uint64(binary.BigEndian.Uint32(a[i:])) + uint64(binary.BigEndian.Uint32(b[i:]))
		}
	}
	// The IPv4 form has a 16-bit length and the IPv6 form a 32-bit one, but
	// both sum to the same value while the length fits in 16 bits.
	s += uint64(uint32(length)>>16) + uint64(uint32(length)&0xffff) + uint64(proto)
	return fold(s)
}

// ParisWord returns the 16-bit word W whose ones-complement sum with v is
// sum. This is the Paris-traceroute trick for keeping a checksum constant
// while a field changes: put v (a sequence number) in the field and W in a
// 2-byte-aligned word of the payload, and the message's checksum depends only
// on sum and the fields that do not change.
//
// For ICMP echo, use W = ParisWord(seq, k) as the first payload word with any
// constant k: every echo request with the same id and the rest of the payload
// fixed then has the same checksum, whoever computes it. That matters for
// Linux ping sockets, where the kernel sets the id and computes the checksum
// over the header and payload, so neither can be chosen directly.
func ParisWord(v, sum uint16) uint16 {
	// sum - v in ones-complement arithmetic is sum + ^v.
	return Add(sum, ^v)
}
