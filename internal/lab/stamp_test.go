package lab

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

const testIPOff = 10 + 14 // virtio header, Ethernet header

var (
	stampRouter4 = netip.MustParseAddr("10.0.1.2")
	stampRouter6 = netip.MustParseAddr("fd00:0:0:1::2")
	stampClient4 = netip.MustParseAddr("10.0.0.1")
	stampClient6 = netip.MustParseAddr("fd00::1")
)

// stampFrame4 builds a cable frame: a zero virtio header, Ethernet, and
// an IPv4 packet from src carrying an ICMP message of type typ that
// quotes a datagram of quoteLen bytes.
func stampFrame4(src netip.Addr, typ uint8, quoteLen int) []byte {
	icmpMsg := make([]byte, 8+quoteLen)
	icmpMsg[0] = typ
	for i := range quoteLen {
		icmpMsg[8+i] = byte(i + 1)
	}
	binary.BigEndian.PutUint16(icmpMsg[2:], ^sum16(0, icmpMsg))
	ip := make([]byte, 20, 20+len(icmpMsg))
	ip[0], ip[8], ip[9] = 0x45, 64, 1
	binary.BigEndian.PutUint16(ip[2:], uint16(20+len(icmpMsg)))
	copy(ip[12:], src.AsSlice())
	copy(ip[16:], stampClient4.AsSlice())
	binary.BigEndian.PutUint16(ip[10:], ^sum16(0, ip))
	f := append(make([]byte, 10), make([]byte, 12)...)
	f = append(f, 0x08, 0x00)
	return append(append(f, ip...), icmpMsg...)
}

// stampFrame6 is stampFrame4 for IPv6 (ICMPv6 time exceeded is type 3).
func stampFrame6(src netip.Addr, typ uint8, quoteLen int) []byte {
	icmpMsg := make([]byte, 8+quoteLen)
	icmpMsg[0] = typ
	for i := range quoteLen {
		icmpMsg[8+i] = byte(i + 1)
	}
	ip := make([]byte, 40)
	ip[0], ip[6], ip[7] = 0x60, 58, 64
	binary.BigEndian.PutUint16(ip[4:], uint16(len(icmpMsg)))
	copy(ip[8:], src.AsSlice())
	copy(ip[24:], stampClient6.AsSlice())
	binary.BigEndian.PutUint16(icmpMsg[2:], ^icmp6Sum(ip, icmpMsg))
	f := append(make([]byte, 10), make([]byte, 12)...)
	f = append(f, 0x86, 0xdd)
	return append(append(f, ip...), icmpMsg...)
}

func icmp6Sum(ip, m []byte) uint16 {
	var ph [8]byte
	binary.BigEndian.PutUint32(ph[:], uint32(len(m)))
	ph[7] = 58
	return sum16(sum16(sum16(0, ip[8:40]), ph[:]), m)
}

var testStamp = Stamp{
	MPLS: []MPLSLabel{{Label: 24001, TC: 5, TTL: 1}, {Label: 16, S: true, TTL: 255}},
	Interfaces: []InterfaceInfo{
		{Role: RoleIncoming, IfIndex: 12, HasIfIndex: true, Addr: netip.MustParseAddr("192.0.2.1"), Name: "ge-0/0/1", MTU: 1500},
		{Role: RoleOutgoing, Addr: netip.MustParseAddr("2001:db8::9"), Name: "xe-1/0/0.100"},
	},
}

func testStamper(t *testing.T) *stamper {
	t.Helper()
	ext, err := testStamp.encode()
	if err != nil {
		t.Fatal(err)
	}
	st, err := parseStamp(strings.Fields(formatStamp(stampRouter4, stampRouter6, ext))[1:])
	if err != nil || st == nil {
		t.Fatalf("parseStamp(formatStamp(...)) = %v, %v; want a stamper", st, err)
	}
	return st
}

// stampIt runs the stamper on a copy of frame in a buffer as large as the
// cable's.
func stampIt(st *stamper, frame []byte) ([]byte, bool) {
	buf := make([]byte, 65536)
	copy(buf, frame)
	n, ok := st.frame(buf, len(frame), testIPOff)
	return buf[:n], ok
}

// checkExtensions parses an extended ICMP message with x/net, an
// independent implementation, and compares what it finds with testStamp.
func checkExtensions(t *testing.T, proto int, m []byte, quoteLen int) {
	t.Helper()
	msg, err := icmp.ParseMessage(proto, m)
	if err != nil {
		t.Fatalf("x/net cannot parse the stamped message: %v", err)
	}
	te, ok := msg.Body.(*icmp.TimeExceeded)
	if !ok {
		t.Fatalf("stamped message is %T; want time exceeded", msg.Body)
	}
	if len(te.Data) != 128 {
		t.Errorf("original datagram field is %d bytes; want 128", len(te.Data))
	}
	for i := range min(quoteLen, 128) {
		if te.Data[i] != byte(i+1) {
			t.Fatalf("quote byte %d is %d; want %d (the quote must survive)", i, te.Data[i], byte(i+1))
		}
	}
	for i := quoteLen; i < 128; i++ {
		if te.Data[i] != 0 {
			t.Fatalf("padding byte %d is %d; want 0", i, te.Data[i])
		}
	}
	if len(te.Extensions) != 3 {
		t.Fatalf("x/net finds %d extension objects; want 3 (MPLS and two interfaces)", len(te.Extensions))
	}
	stack, ok := te.Extensions[0].(*icmp.MPLSLabelStack)
	if !ok || len(stack.Labels) != 2 {
		t.Fatalf("first object is %#v; want an MPLS stack of 2", te.Extensions[0])
	}
	for i, l := range stack.Labels {
		w := testStamp.MPLS[i]
		if uint32(l.Label) != w.Label || uint8(l.TC) != w.TC || l.S != w.S || uint8(l.TTL) != w.TTL {
			t.Errorf("label %d = %+v; want %+v", i, l, w)
		}
	}
	for i, e := range te.Extensions[1:] {
		in, ok := e.(*icmp.InterfaceInfo)
		if !ok {
			t.Fatalf("object %d is %T; want interface information", i+1, e)
		}
		w := testStamp.Interfaces[i]
		if uint8(in.Type>>6) != w.Role || in.Addr == nil || !in.Addr.IP.Equal(w.Addr.AsSlice()) || in.Interface == nil || in.Interface.Name != w.Name ||
			uint32(in.Interface.MTU) != w.MTU || uint32(in.Interface.Index) != w.IfIndex {
			t.Errorf("interface %d = role %d %+v %v; want %+v", i, in.Type>>6, in.Interface, in.Addr, w)
		}
	}
}

func TestStampIPv4(t *testing.T) {
	st := testStamper(t)
	for _, quoteLen := range []int{28, 64, 128, 200} {
		out, ok := stampIt(st, stampFrame4(stampRouter4, 11, quoteLen))
		if !ok {
			t.Fatalf("quote of %d: time exceeded from the router not stamped", quoteLen)
		}
		ip := out[testIPOff:]
		h, err := ipv4.ParseHeader(ip)
		if err != nil {
			t.Fatal(err)
		}
		if h.TotalLen != len(ip) {
			t.Errorf("quote of %d: total length %d; want the packet's %d", quoteLen, h.TotalLen, len(ip))
		}
		if c := ^sum16(0, ip[:20]); c != 0 {
			t.Errorf("quote of %d: IPv4 header checksum does not verify", quoteLen)
		}
		m := ip[20:]
		if c := ^sum16(0, m); c != 0 {
			t.Errorf("quote of %d: ICMP checksum does not verify", quoteLen)
		}
		if m[5] != 32 {
			t.Errorf("quote of %d: RFC 4884 length %d words; want 32 (128 bytes)", quoteLen, m[5])
		}
		checkExtensions(t, 1, m, quoteLen)
	}
}

func TestStampIPv6(t *testing.T) {
	st := testStamper(t)
	for _, quoteLen := range []int{48, 100, 128, 300} {
		out, ok := stampIt(st, stampFrame6(stampRouter6, 3, quoteLen))
		if !ok {
			t.Fatalf("quote of %d: time exceeded from the router not stamped", quoteLen)
		}
		ip := out[testIPOff:]
		m := ip[40:]
		if pl := int(binary.BigEndian.Uint16(ip[4:])); pl != len(m) {
			t.Errorf("quote of %d: payload length %d; want %d", quoteLen, pl, len(m))
		}
		if c := ^icmp6Sum(ip, m); c != 0 {
			t.Errorf("quote of %d: ICMPv6 checksum does not verify", quoteLen)
		}
		if m[4] != 16 {
			t.Errorf("quote of %d: RFC 4884 length %d words; want 16 (128 bytes)", quoteLen, m[4])
		}
		checkExtensions(t, 58, m, quoteLen)
	}
}

// TestStampLeavesOthers: only the router's own time-exceeded messages
// change.
func TestStampLeavesOthers(t *testing.T) {
	st := testStamper(t)
	other4, other6 := netip.MustParseAddr("10.0.2.2"), netip.MustParseAddr("fd00:0:0:2::2")
	extended := stampFrame4(stampRouter4, 11, 28)
	extended[testIPOff+20+5] = 7
	tcp := stampFrame4(stampRouter4, 11, 28)
	tcp[testIPOff+9] = 6
	for _, tc := range []struct {
		name  string
		frame []byte
	}{
		{"another router's v4", stampFrame4(other4, 11, 28)},
		{"another router's v6", stampFrame6(other6, 3, 48)},
		{"v4 port unreachable", stampFrame4(stampRouter4, 3, 28)},
		{"v4 echo reply", stampFrame4(stampRouter4, 0, 28)},
		{"v6 destination unreachable", stampFrame6(stampRouter6, 1, 48)},
		{"v6 echo reply", stampFrame6(stampRouter6, 129, 48)},
		{"already extended", extended},
		{"not ICMP", tcp},
		{"truncated", stampFrame4(stampRouter4, 11, 28)[:testIPOff+10]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, ok := stampIt(st, tc.frame)
			if ok || !bytes.Equal(out, tc.frame) {
				t.Errorf("frame changed (stamped %v): got % x; want it as it was", ok, out)
			}
		})
	}
}

// TestStampNoRoom: a buffer too small for the longer frame leaves the
// frame as it was.
func TestStampNoRoom(t *testing.T) {
	st := testStamper(t)
	f := stampFrame4(stampRouter4, 11, 28)
	buf := append([]byte(nil), f...)
	if n, ok := st.frame(buf, len(f), testIPOff); ok || n != len(f) || !bytes.Equal(buf, f) {
		t.Errorf("frame(no room) = %d, %v; want %d, false and the frame untouched", n, ok, len(f))
	}
}

// TestStampNoAllocs: the cable stamps every frame without allocating.
func TestStampNoAllocs(t *testing.T) {
	st := testStamper(t)
	f4, f6 := stampFrame4(stampRouter4, 11, 28), stampFrame6(stampRouter6, 3, 48)
	buf := make([]byte, 4096)
	if n := testing.AllocsPerRun(50, func() {
		copy(buf, f4)
		st.frame(buf, len(f4), testIPOff)
		copy(buf, f6)
		st.frame(buf, len(f6), testIPOff)
	}); n != 0 {
		t.Errorf("stamping allocates %v times per frame; want 0", n)
	}
}

func TestParseStamp(t *testing.T) {
	for _, tc := range []struct {
		in      string
		off     bool
		wantErr bool
	}{
		{in: "off", off: true},
		{in: "10.0.1.2 fd00::2 20000000"},
		{in: "- fd00::2 20000000"},
		{in: "10.0.1.2 - 20000000"},
		{in: "fd00::2 10.0.1.2 20000000", wantErr: true},
		{in: "10.0.1.2 fd00::2 2000000", wantErr: true},
		{in: "10.0.1.2 fd00::2 zz", wantErr: true},
		{in: "10.0.1.2 fd00::2", wantErr: true},
	} {
		st, err := parseStamp(strings.Fields(tc.in))
		if (err != nil) != tc.wantErr || (err == nil && (st == nil) != tc.off) {
			t.Errorf("parseStamp(%q) = %v, %v; want off %v, error %v", tc.in, st, err, tc.off, tc.wantErr)
		}
	}
}

func TestStampEncodeRejects(t *testing.T) {
	for _, s := range []Stamp{
		{MPLS: []MPLSLabel{{Label: 1 << 20}}},
		{MPLS: []MPLSLabel{{TC: 8}}},
		{Interfaces: []InterfaceInfo{{Role: 4}}},
		{Interfaces: []InterfaceInfo{{Name: strings.Repeat("x", 64)}}},
	} {
		if _, err := s.encode(); err == nil {
			t.Errorf("encode(%v) = nil error; want one", s)
		}
	}
}
