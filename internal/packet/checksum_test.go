package packet

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"net/netip"
	"testing"
)

func TestChecksum(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want uint16
	}{
		{"empty", nil, 0xffff},
		{"rfc1071 example", []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, ^uint16(0xddf2)},
		{"odd length pads a zero", []byte{0x01}, ^uint16(0x0100)},
		{"carry wraps around", []byte{0xff, 0xff, 0x00, 0x02}, ^uint16(0x0002)},
		{"all ones", []byte{0xff, 0xff, 0xff, 0xff}, 0x0000},
		{"ipv4 header with its checksum", []byte{
			0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61,
			0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Checksum(tt.in); got != tt.want {
				t.Errorf("Checksum(% x) = %#04x; want %#04x", tt.in, got, tt.want)
			}
		})
	}
}

func TestChecksumMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 0; n < 300; n++ {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		if got, want := Checksum(b), naiveChecksum(b); got != want {
			t.Fatalf("Checksum(%d random bytes) = %#04x; want %#04x", n, got, want)
		}
	}
}

func TestSumInPieces(t *testing.T) {
	b := []byte("a message summed in even pieces, then an odd tail!")
	whole := Sum(0, b)
	for cut := 0; cut <= len(b); cut += 2 {
		if got := Sum(Sum(0, b[:cut]), b[cut:]); got != whole {
			t.Errorf("Sum split at %d = %#04x; want %#04x", cut, got, whole)
		}
	}
}

func TestAdjust(t *testing.T) {
	tests := []struct {
		name     string
		old, new uint16
	}{
		{"up", 0x0001, 0x0002},
		{"down", 0x8000, 0x0001},
		{"to zero", 0x1234, 0x0000},
		{"to ones", 0x0000, 0xffff},
		{"same", 0xabcd, 0xabcd},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte{0x08, 0x00, 0x12, 0x34, byte(tt.old >> 8), byte(tt.old), 0x00, 0x07}
			c := Checksum(b)
			binary.BigEndian.PutUint16(b[4:], tt.new)
			// Equal modulo 0xFFFF: RFC 1624 may give the other zero.
			got, want := Adjust(c, tt.old, tt.new), Checksum(b)
			if got != want && !(got|want == 0xffff && got&want == 0) {
				t.Errorf("Adjust(%#04x, %#04x, %#04x) = %#04x; want %#04x", c, tt.old, tt.new, got, want)
			}
		})
	}
}

func TestPseudoSum(t *testing.T) {
	tests := []struct {
		name     string
		src, dst netip.Addr
		proto    uint8
		n        int
		spelled  []byte
	}{
		{"ipv4 udp", me4, target4, ProtoUDP, 18, pseudoHeader(me4, target4, ProtoUDP, 18)},
		{"ipv4-mapped is ipv4", netip.AddrFrom16(me4.As16()), target4, ProtoTCP, 20, pseudoHeader(me4, target4, ProtoTCP, 20)},
		{"ipv6 icmpv6", me6, target6, ProtoICMPv6, 64, pseudoHeader(me6, target6, ProtoICMPv6, 64)},
		{"ipv6 long", me6, target6, ProtoUDP, 70000, pseudoHeader(me6, target6, ProtoUDP, 70000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := PseudoSum(tt.src, tt.dst, tt.proto, tt.n), ^naiveChecksum(tt.spelled)
			if got != want {
				t.Errorf("PseudoSum(%v, %v, %d, %d) = %#04x; want %#04x", tt.src, tt.dst, tt.proto, tt.n, got, want)
			}
		})
	}
}

func TestParisWord(t *testing.T) {
	for _, sum := range []uint16{0, 1, 0x1234, 0xfffe, 0xffff} {
		for _, v := range []uint16{0, 1, 0x7fff, 0x8000, 0xfffe, 0xffff} {
			w := ParisWord(v, sum)
			// The sum is only defined modulo 0xFFFF.
			if got := Add(v, w); got%0xffff != sum%0xffff {
				t.Errorf("Add(%#04x, ParisWord(%#04x, %#04x) = %#04x) = %#04x; want %#04x", v, v, sum, w, got, sum)
			}
		}
	}
}

// TestParisEchoConstantChecksum builds echo requests the way a Linux ping
// socket's kernel would (the kernel picks the id and computes the checksum
// over header and payload): with W = ParisWord(seq, k) first in the
// payload, every sequence number gives the same, valid checksum.
func TestParisEchoConstantChecksum(t *testing.T) {
	tests := []struct {
		name string
		v6   bool
		id   uint16
		k    uint16
		rest []byte
	}{
		{"v4 zero payload", false, 0x1234, 0xbeef, make([]byte, 54)},
		{"v4 odd payload", false, 0xffff, 0, []byte("pingerplot!")},
		{"v4 id zero", false, 0, 0xffff, make([]byte, 6)},
		{"v6", true, 0x0042, 0x5555, []byte("abcdefgh")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var first uint16
			for seq := 0; seq <= 0xffff; seq += 7 {
				payload := binary.BigEndian.AppendUint16(nil, ParisWord(uint16(seq), tt.k))
				payload = append(payload, tt.rest...)
				b := AppendEcho(nil, tt.v6, tt.id, uint16(seq), payload)
				b[2], b[3] = 0, 0 // as the kernel does: it ignores what we wrote
				c := Checksum(b)
				binary.BigEndian.PutUint16(b[2:], c)
				if Checksum(b) != 0 {
					t.Fatalf("seq %d: checksum %#04x does not verify", seq, c)
				}
				if seq == 0 {
					first = c
				} else if c != first {
					t.Fatalf("seq %d: checksum %#04x; want the constant %#04x", seq, c, first)
				}
			}
		})
	}
}

func TestParisEchoByAppendEcho(t *testing.T) {
	// The same property through AppendEcho's own ICMPv4 checksum.
	var sums []uint16
	for _, seq := range []uint16{0, 1, 2, 1000, 0x8000, 0xfffe, 0xffff} {
		p := binary.BigEndian.AppendUint16(nil, ParisWord(seq, 0x4242))
		b := AppendEcho(nil, false, 77, seq, append(p, "data"...))
		sums = append(sums, binary.BigEndian.Uint16(b[2:]))
		if naiveChecksum(b) != 0 {
			t.Errorf("seq %d: echo % x does not verify", seq, b)
		}
	}
	for i, s := range sums {
		if s != sums[0] {
			t.Errorf("checksum %d = %#04x; want %#04x like the first", i, s, sums[0])
		}
	}
	if !bytes.Equal(AppendEcho(nil, false, 1, 2, nil), AppendEcho(nil, false, 1, 2, []byte{})) {
		t.Error("nil and empty payloads differ")
	}
}
