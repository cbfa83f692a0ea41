package packet

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"unicode/utf8"

	"golang.org/x/net/icmp"
)

// The fuzz targets take one []byte so that packets captured in the lab can
// be dropped into testdata/fuzz/<FuzzName>/ as seeds.

// seedsV4 are hand-built packets as a raw IPv4 ICMP socket reads them.
func seedsV4(f *testing.F) [][]byte {
	wrap := func(m []byte) []byte { return ipv4Packet(f, ProtoICMP, router4, me4, 250, 1, m) }
	quote := func(proto uint8, tr []byte) []byte { return ipv4Packet(f, proto, me4, target4, 1, 2, tr) }
	reply := AppendEcho(nil, false, 1, 2, []byte("abcd"))
	reply[0] = ICMPv4EchoReply
	ext := mplsExt(true, MPLSLabel{Label: 16014, TC: 5, TTL: 254}, MPLSLabel{Label: 3, S: true, TTL: 1})
	return [][]byte{
		wrap(icmpError(11, 0, [4]byte{}, quote(ProtoICMP, echoProbe4))),
		wrap(icmpError(11, 0, [4]byte{}, quote(ProtoUDP, udpProbe))),
		wrap(icmpError(11, 0, [4]byte{}, quote(ProtoUDP, udpProbe)[:28])),
		wrap(icmpError(11, 0, [4]byte{}, quote(ProtoTCP, tcpProbe)[:28])),
		wrap(icmpError(11, 0, [4]byte{}, quote(ProtoTCP, tcpProbe)[:24])),
		wrap(reply),
		wrap(icmpError(3, 3, [4]byte{}, quote(ProtoUDP, udpProbe))),
		wrap(icmpError(3, 4, [4]byte{0, 0, 5, 0x78}, quote(ProtoUDP, udpProbe))),
		wrap(icmpError(11, 0, [4]byte{0, 32}, pad(quote(ProtoUDP, udpProbe), 128), ext)),
		wrap(icmpError(11, 0, [4]byte{}, pad(quote(ProtoUDP, udpProbe), 128), ext)),
		wrap(icmpError(12, 0, [4]byte{20, 40}, quote(ProtoUDP, udpHeader(1, 2, 3, make([]byte, 150))), ext)),
	}
}

// seedsV6 are hand-built messages as a raw ICMPv6 socket reads them.
func seedsV6() [][]byte {
	quote := func(proto uint8, exts []ext6, tr []byte) []byte { return ipv6Packet(me6, target6, 1, proto, exts, tr) }
	ext := mplsExt(true, MPLSLabel{Label: 16014, TC: 5, TTL: 254, S: true})
	hbh := []ext6{{typ: ipv6HopByHop, body: make([]byte, 6)}, {typ: ipv6Fragment, body: []byte{0, 1, 0, 0, 0, 1}}}
	return [][]byte{
		icmpError(3, 0, [4]byte{}, quote(ProtoICMPv6, nil, echoProbe6)),
		icmpError(3, 0, [4]byte{}, quote(ProtoUDP, hbh, udpProbe)),
		icmpError(3, 0, [4]byte{}, quote(ProtoTCP, nil, tcpProbe[:8])),
		icmpError(1, 4, [4]byte{}, quote(ProtoUDP, nil, udpProbe)),
		icmpError(2, 0, [4]byte{0, 0, 5, 0}, quote(ProtoUDP, nil, udpProbe)),
		icmpError(129, 0, [4]byte{0, 1, 0, 2}, []byte("data")),
		icmpError(3, 0, [4]byte{16}, pad(quote(ProtoUDP, nil, udpProbe), 128), ext),
		icmpError(1, 4, [4]byte{}, pad(quote(ProtoUDP, nil, udpProbe), 128), ext),
	}
}

func checkMessage(t *testing.T, b []byte, m Message, v6 bool) {
	t.Helper()
	want := uint8(4)
	if v6 {
		want = 6
	}
	if v := m.Quote.IP.Version; v != 0 && v != want {
		t.Fatalf("quote has IP version %d in an ICMPv%d message", v, want)
	}
	for _, l := range m.MPLS {
		if l.Label >= 1<<20 || l.TC > 7 {
			t.Fatalf("impossible MPLS label %+v", l)
		}
	}
	if len(m.Ext) > len(b) || len(m.Quote.Transport) > len(b) || len(m.Echo.Data) > len(b) {
		t.Fatalf("slices longer than the input")
	}
	if m.Quote.IP.Version != 0 && m.Echo.Data != nil {
		t.Fatalf("both an echo and a quote")
	}
}

func FuzzParseICMPv4(f *testing.F) {
	for _, s := range seedsV4(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseICMPv4(b)
		if err != nil {
			return
		}
		checkMessage(t, b, m, false)
		if m.IP.Version != 4 || m.IP.Protocol != ProtoICMP {
			t.Fatalf("outer header %+v is not IPv4 ICMP", m.IP)
		}
		body := b[int(b[0]&0x0f)*4:]
		if m.Type != body[0] || m.Code != body[1] {
			t.Fatalf("type/code %d/%d; want %d/%d", m.Type, m.Code, body[0], body[1])
		}
		// Echo replies and requests agree with x/net.
		if m.Type == ICMPv4EchoReply || m.Type == ICMPv4Echo {
			xm, err := icmp.ParseMessage(ProtoICMP, body)
			if err != nil {
				t.Fatalf("x/net cannot parse an echo we parsed: %v", err)
			}
			e, ok := xm.Body.(*icmp.Echo)
			if !ok || e.ID != int(m.Echo.ID) || e.Seq != int(m.Echo.Seq) || !bytes.Equal(e.Data, m.Echo.Data) {
				t.Fatalf("x/net reads %+v; we read %+v", xm.Body, m.Echo)
			}
		}
	})
}

func FuzzParseICMPv6(f *testing.F) {
	for _, s := range seedsV6() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseICMPv6(b)
		if err != nil {
			return
		}
		checkMessage(t, b, m, true)
		if m.IP.Version != 0 {
			t.Fatalf("ICMPv6 message with an outer header %+v", m.IP)
		}
		if m.Type != b[0] || m.Code != b[1] {
			t.Fatalf("type/code %d/%d; want %d/%d", m.Type, m.Code, b[0], b[1])
		}
	})
}

func FuzzParseExtensions(f *testing.F) {
	f.Add(mplsExt(true, MPLSLabel{Label: 16014, TC: 5, TTL: 254}, MPLSLabel{Label: 3, S: true, TTL: 1}))
	f.Add(mplsExt(false, MPLSLabel{Label: 1, S: true}))
	f.Add([]byte{0x20, 0, 0, 0})
	f.Add([]byte{0x20, 0, 0, 0, 0, 12, 2, 10, 0, 0, 0, 1, 0, 0, 0, 2})
	f.Add(AppendExtensions(nil, Extensions{Interfaces: []InterfaceInfo{
		{Role: RoleIncoming, IfIndex: 7, HasIfIndex: true, Addr: netip.MustParseAddr("192.0.2.1"), Name: "ge-0/0/1", MTU: 1500},
		{Role: RoleNextHop, Addr: netip.MustParseAddr("2001:db8::1")},
	}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseExtensions(b)
		if err != nil {
			if e.MPLS != nil || e.Interfaces != nil {
				t.Fatalf("extensions %+v with error %v", e, err)
			}
			return
		}
		if len(e.MPLS)*4+len(e.Interfaces)*4 > len(b) {
			t.Fatalf("%d labels and %d interfaces from %d bytes", len(e.MPLS), len(e.Interfaces), len(b))
		}
		for _, in := range e.Interfaces {
			if len(in.Name) > 3*MaxInterfaceName || !utf8.ValidString(in.Name) {
				t.Fatalf("interface name %q is not clean text of at most %d bytes", in.Name, MaxInterfaceName-1)
			}
		}
		for _, l := range e.MPLS {
			if l.Label >= 1<<20 || l.TC > 7 {
				t.Fatalf("impossible MPLS label %+v", l)
			}
		}
	})
}

// FuzzErrorQueue covers the parsers of unprivileged error-queue data: the
// quoted echo of a ping socket, the quoted TCP header, and the UDP token.
func FuzzErrorQueue(f *testing.F) {
	f.Add(echoProbe4)
	f.Add(echoProbe6)
	f.Add(tcpProbe)
	f.Add(tcpProbe[:8])
	f.Add(udpToken)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, err := ParseEcho(b); err == nil {
			if len(b) < 8 || !bytes.Equal(e.Data, b[8:]) || e.Seq != binary.BigEndian.Uint16(b[6:]) {
				t.Fatalf("ParseEcho(% x) = %+v", b, e)
			}
		}
		if tc, err := ParseTCP(b); (err == nil) != (len(b) >= 8) {
			t.Fatalf("ParseTCP(% x) = %+v, %v", b, tc, err)
		}
		if len(b) < TokenLen {
			if _, ok := Token(b, 0); ok {
				t.Fatalf("Token(% x) ok on a short input", b)
			}
			return
		}
		magic := binary.BigEndian.Uint32(b)
		if seq, ok := Token(b, magic); !ok || seq != binary.BigEndian.Uint16(b[4:]) {
			t.Fatalf("Token(% x, %#x) = %d, %v", b, magic, seq, ok)
		}
		c := append([]byte(nil), b...)
		PutToken(c, ^binary.BigEndian.Uint16(b[4:]), ^magic)
		if seq, ok := Token(c, ^magic); !ok || seq != ^binary.BigEndian.Uint16(b[4:]) {
			t.Fatalf("PutToken/Token round trip gave %d, %v", seq, ok)
		}
	})
}

// FuzzChecksumTricks checks the Paris builders for any sequence number and
// payload: the first two bytes are the sequence, the rest the payload.
func FuzzChecksumTricks(f *testing.F) {
	f.Add([]byte{0, 1})
	f.Add([]byte{0xff, 0xff, 1, 2, 3})
	f.Add(append([]byte{0x80, 0}, make([]byte, 64)...))
	src, dst := netip.AddrPortFrom(me6, 1), netip.AddrPortFrom(target6, 2)
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 2 {
			return
		}
		seq, payload := binary.BigEndian.Uint16(b), b[2:]
		if len(payload) > 1000 {
			payload = payload[:1000]
		}
		// ICMP: the checksum is the one of seq 0 with the same constant.
		e0 := AppendEcho(nil, false, 9, 0, append(binary.BigEndian.AppendUint16(nil, ParisWord(0, 0x1234)), payload...))
		e := AppendEcho(nil, false, 9, seq, append(binary.BigEndian.AppendUint16(nil, ParisWord(seq, 0x1234)), payload...))
		if naiveChecksum(e) != 0 || !bytes.Equal(e[2:4], e0[2:4]) {
			t.Fatalf("paris echo seq %d: checksum % x; want % x and valid", seq, e[2:4], e0[2:4])
		}
		if seq == 0 {
			return
		}
		u, err := AppendParisUDP(nil, src, dst, seq, payload)
		if err != nil {
			t.Fatal(err)
		}
		if naiveChecksum(pseudoHeader(me6, target6, ProtoUDP, len(u)), u) != 0 || binary.BigEndian.Uint16(u[6:]) != seq {
			t.Fatalf("paris udp seq %d does not verify: % x", seq, u)
		}
	})
}
