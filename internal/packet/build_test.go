package packet

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

func TestAppendEchoMatchesXNet(t *testing.T) {
	tests := []struct {
		name    string
		v6      bool
		id, seq uint16
		payload []byte
	}{
		{"v4 empty", false, 1, 2, nil},
		{"v4 payload", false, 0xabcd, 0x1234, []byte("hello, router")},
		{"v4 odd payload", false, 0xffff, 0xffff, []byte{1, 2, 3}},
		{"v6 payload", true, 7, 9, []byte("hello, router")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: int(tt.id), Seq: int(tt.seq), Data: tt.payload}}
			var psh []byte
			if tt.v6 {
				m.Type = ipv6.ICMPTypeEchoRequest
				psh = icmp.IPv6PseudoHeader(me6.AsSlice(), target6.AsSlice())
			}
			want, err := m.Marshal(psh)
			if err != nil {
				t.Fatal(err)
			}
			prefix := []byte("keep")
			got := AppendEcho(append([]byte(nil), prefix...), tt.v6, tt.id, tt.seq, tt.payload)
			if !bytes.HasPrefix(got, prefix) {
				t.Fatalf("AppendEcho clobbered the buffer's prefix: % x", got)
			}
			got = got[len(prefix):]
			if tt.v6 {
				if c := binary.BigEndian.Uint16(got[2:]); c != 0 {
					t.Errorf("AppendEcho v6 checksum = %#04x; want 0 for the kernel to fill", c)
				}
				if err := SetICMPv6Checksum(got, me6, target6); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(got, want) {
				t.Errorf("AppendEcho = % x; want % x (x/net)", got, want)
			}
		})
	}
}

func TestSetICMPv6ChecksumErrors(t *testing.T) {
	echo := AppendEcho(nil, true, 1, 1, nil)
	tests := []struct {
		name     string
		m        []byte
		src, dst netip.Addr
	}{
		{"short", []byte{128, 0, 0}, me6, target6},
		{"ipv4 source", echo, me4, target6},
		{"mapped destination", echo, me6, netip.AddrFrom16(target4.As16())},
		{"zero address", echo, netip.Addr{}, target6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := SetICMPv6Checksum(tt.m, tt.src, tt.dst); err == nil {
				t.Errorf("SetICMPv6Checksum(% x, %v, %v) = nil; want an error", tt.m, tt.src, tt.dst)
			}
		})
	}
}

func TestAppendUDP(t *testing.T) {
	tests := []struct {
		name     string
		src, dst netip.AddrPort
		payload  []byte
	}{
		{"v4", netip.AddrPortFrom(me4, 40000), netip.AddrPortFrom(target4, 33434), []byte("probe payload")},
		{"v4 empty", netip.AddrPortFrom(me4, 1), netip.AddrPortFrom(target4, 2), nil},
		{"v4 odd", netip.AddrPortFrom(me4, 53), netip.AddrPortFrom(target4, 53), []byte{0xff}},
		{"v6", netip.AddrPortFrom(me6, 40000), netip.AddrPortFrom(target6, 443), []byte("probe payload")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := AppendUDP(nil, tt.src, tt.dst, tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			checkUDP(t, b, tt.src, tt.dst)
			if got := b[UDPHeaderLen:]; !bytes.Equal(got, tt.payload) && len(tt.payload) > 0 {
				t.Errorf("payload = % x; want % x", got, tt.payload)
			}
		})
	}
}

// checkUDP verifies a UDP datagram's ports, length and checksum with the
// independent checksum code.
func checkUDP(t *testing.T, b []byte, src, dst netip.AddrPort) {
	t.Helper()
	if len(b) < UDPHeaderLen {
		t.Fatalf("udp datagram of %d bytes", len(b))
	}
	if sp, dp := binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:]); sp != src.Port() || dp != dst.Port() {
		t.Errorf("ports = %d -> %d; want %d -> %d", sp, dp, src.Port(), dst.Port())
	}
	if n := int(binary.BigEndian.Uint16(b[4:])); n != len(b) {
		t.Errorf("udp length = %d; want %d", n, len(b))
	}
	if c := binary.BigEndian.Uint16(b[6:]); c == 0 {
		t.Errorf("udp checksum is 0")
	}
	if c := naiveChecksum(pseudoHeader(src.Addr(), dst.Addr(), ProtoUDP, len(b)), b); c != 0 {
		t.Errorf("udp datagram % x does not verify: sum is off by %#04x", b, c)
	}
}

func TestAppendParisUDP(t *testing.T) {
	v4s, v4d := netip.AddrPortFrom(me4, 40000), netip.AddrPortFrom(target4, 33434)
	v6s, v6d := netip.AddrPortFrom(me6, 40000), netip.AddrPortFrom(target6, 33434)
	tests := []struct {
		name     string
		src, dst netip.AddrPort
		check    uint16
		payload  []byte
	}{
		{"v4 seq 1", v4s, v4d, 1, nil},
		{"v4 seq 0xffff", v4s, v4d, 0xffff, []byte("x")},
		{"v4 payload", v4s, v4d, 0x1234, []byte("pingerplot paris")},
		{"v6 seq 1", v6s, v6d, 1, make([]byte, 32)},
		{"v6 seq 0x8000", v6s, v6d, 0x8000, []byte{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := AppendParisUDP([]byte{0xaa}, tt.src, tt.dst, tt.check, tt.payload)
			if err != nil {
				t.Fatal(err)
			}
			if b[0] != 0xaa {
				t.Fatalf("AppendParisUDP clobbered the buffer's prefix")
			}
			b = b[1:]
			checkUDP(t, b, tt.src, tt.dst)
			if c := binary.BigEndian.Uint16(b[6:]); c != tt.check {
				t.Errorf("checksum field = %#04x; want the chosen %#04x", c, tt.check)
			}
			if got := b[UDPHeaderLen+2:]; !bytes.Equal(got, tt.payload) && len(tt.payload) > 0 {
				t.Errorf("payload after the word = % x; want % x", got, tt.payload)
			}
		})
	}
	// Every sequence number gives a valid datagram.
	for seq := 1; seq <= 0xffff; seq += 97 {
		b, err := AppendParisUDP(nil, v6s, v6d, uint16(seq), []byte("abc"))
		if err != nil {
			t.Fatal(err)
		}
		if c := naiveChecksum(pseudoHeader(me6, target6, ProtoUDP, len(b)), b); c != 0 {
			t.Fatalf("seq %d: datagram does not verify", seq)
		}
	}
}

func TestAppendUDPErrors(t *testing.T) {
	v4, v6 := netip.AddrPortFrom(me4, 1), netip.AddrPortFrom(target6, 2)
	big := make([]byte, 0xffff)
	tests := []struct {
		name  string
		paris bool
		src   netip.AddrPort
		dst   netip.AddrPort
		check uint16
		pl    []byte
	}{
		{"mixed families", false, v4, v6, 0, nil},
		{"zero addresses", false, netip.AddrPort{}, netip.AddrPort{}, 0, nil},
		{"too long", false, v4, netip.AddrPortFrom(target4, 2), 0, big},
		{"paris mixed", true, v4, v6, 1, nil},
		{"paris zero checksum", true, v4, netip.AddrPortFrom(target4, 2), 0, nil},
		{"paris too long", true, v4, netip.AddrPortFrom(target4, 2), 1, big[:0xffff-9]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			var b []byte
			if tt.paris {
				b, err = AppendParisUDP(nil, tt.src, tt.dst, tt.check, tt.pl)
			} else {
				b, err = AppendUDP(nil, tt.src, tt.dst, tt.pl)
			}
			if err == nil {
				t.Errorf("got % x, nil; want an error", b)
			}
			if len(b) != 0 {
				t.Errorf("got %d bytes with the error; want the buffer untouched", len(b))
			}
		})
	}
}

func TestAppendIPv4(t *testing.T) {
	tests := []struct {
		name string
		h    IP
		n    int
	}{
		{"udp probe", IP{TOS: 0x10, ID: 0xbeef, DF: true, TTL: 3, Protocol: ProtoUDP, Src: me4, Dst: target4}, 30},
		{"no df", IP{ID: 1, TTL: 255, Protocol: ProtoICMP, Src: me4, Dst: target4}, 0},
		{"mapped addresses", IP{ID: 2, TTL: 1, Protocol: ProtoTCP, Src: netip.AddrFrom16(me4.As16()), Dst: target4}, 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := AppendIPv4(nil, tt.h, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) != IPv4HeaderLen {
				t.Fatalf("header is %d bytes; want %d", len(b), IPv4HeaderLen)
			}
			if c := naiveChecksum(b); c != 0 {
				t.Errorf("header % x does not verify", b)
			}
			h, err := ipv4.ParseHeader(b)
			if err != nil {
				t.Fatal(err)
			}
			want := ipv4.Header{
				Version: 4, Len: 20, TOS: int(tt.h.TOS), TotalLen: 20 + tt.n, ID: int(tt.h.ID),
				TTL: int(tt.h.TTL), Protocol: int(tt.h.Protocol), Checksum: h.Checksum,
				Src: tt.h.Src.Unmap().AsSlice(), Dst: tt.h.Dst.Unmap().AsSlice(),
			}
			if tt.h.DF {
				want.Flags = ipv4.DontFragment
			}
			if h.String() != want.String() {
				t.Errorf("x/net reads %v; want %v", h, &want)
			}
			got, hlen, _, err := parseIPv4(b)
			if err != nil || hlen != 20 {
				t.Fatalf("parseIPv4 = %v, %d; want nil, 20", err, hlen)
			}
			tt.h.Len, tt.h.Version = 20+tt.n, 4
			tt.h.Src, tt.h.Dst = tt.h.Src.Unmap(), tt.h.Dst.Unmap()
			if got != tt.h {
				t.Errorf("parseIPv4 = %+v; want %+v", got, tt.h)
			}
		})
	}
}

func TestAppendIPv4Errors(t *testing.T) {
	tests := []struct {
		name string
		h    IP
		n    int
	}{
		{"ipv6 source", IP{Src: me6, Dst: target4}, 0},
		{"zero destination", IP{Src: me4}, 0},
		{"negative length", IP{Src: me4, Dst: target4}, -1},
		{"too long", IP{Src: me4, Dst: target4}, 0xffff - 19},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if b, err := AppendIPv4(nil, tt.h, tt.n); err == nil {
				t.Errorf("AppendIPv4(%+v, %d) = % x, nil; want an error", tt.h, tt.n, b)
			}
		})
	}
}
