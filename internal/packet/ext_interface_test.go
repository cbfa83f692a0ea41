package packet

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// ifObject builds an RFC 5837 interface information object by hand, as
// section 4 lays it out: length, class 2, C-Type (role in bits 0-1, then
// two reserved bits, then the ifIndex, IP address, name and MTU flags),
// and the sub-objects in that order.
func ifObject(role InterfaceRole, flags uint8, subs ...[]byte) []byte {
	body := bytes.Join(subs, nil)
	b := binary.BigEndian.AppendUint16(nil, uint16(objHeaderLen+len(body)))
	b = append(b, classInterface, uint8(role)<<6|flags)
	return append(b, body...)
}

// extOf wraps objects in an extension header without a checksum.
func extOf(objs ...[]byte) []byte {
	return append([]byte{extVersion << 4, 0, 0, 0}, bytes.Join(objs, nil)...)
}

func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// addrSub is an IP address sub-object: AFI, reserved, address.
func addrSub(afi uint16, addr []byte) []byte {
	return append(binary.BigEndian.AppendUint16(nil, afi), append([]byte{0, 0}, addr...)...)
}

// nameSub is an interface name sub-object: its length octet (itself
// included, a multiple of 4) and the name padded with NULs.
func nameSub(n int, name string) []byte {
	b := append([]byte{byte(n)}, name...)
	for len(b) < n {
		b = append(b, 0)
	}
	return b
}

func TestParseInterfaces(t *testing.T) {
	v4 := []byte{192, 0, 2, 1}
	v6 := netip.MustParseAddr("2001:db8::7").AsSlice()
	name63 := strings.Repeat("x", 63)
	for _, tc := range []struct {
		name    string
		in      []byte
		want    []InterfaceInfo
		wantErr string
	}{
		{name: "incoming, every sub-object",
			in: extOf(ifObject(RoleIncoming, ifHasIfIndex|ifHasAddr|ifHasName|ifHasMTU,
				u32(12), addrSub(afiIPv4, v4), nameSub(12, "ge-0/0/1"), u32(1500))),
			want: []InterfaceInfo{{Role: RoleIncoming, IfIndex: 12, HasIfIndex: true, Addr: netip.MustParseAddr("192.0.2.1"), Name: "ge-0/0/1", MTU: 1500}}},
		{name: "outgoing, IPv6 address only",
			in:   extOf(ifObject(RoleOutgoing, ifHasAddr, addrSub(afiIPv6, v6))),
			want: []InterfaceInfo{{Role: RoleOutgoing, Addr: netip.MustParseAddr("2001:db8::7")}}},
		{name: "sub-IP, name only",
			in:   extOf(ifObject(RoleSubIP, ifHasName, nameSub(8, "eth0"))),
			want: []InterfaceInfo{{Role: RoleSubIP, Name: "eth0"}}},
		{name: "next hop, ifIndex and MTU",
			in:   extOf(ifObject(RoleNextHop, ifHasIfIndex|ifHasMTU, u32(0), u32(9000))),
			want: []InterfaceInfo{{Role: RoleNextHop, HasIfIndex: true, MTU: 9000}}},
		{name: "role alone",
			in:   extOf(ifObject(RoleOutgoing, 0)),
			want: []InterfaceInfo{{Role: RoleOutgoing}}},
		{name: "longest name",
			in:   extOf(ifObject(RoleIncoming, ifHasName, nameSub(64, name63))),
			want: []InterfaceInfo{{Role: RoleIncoming, Name: name63}}},
		{name: "name exactly filling its length",
			in:   extOf(ifObject(RoleIncoming, ifHasName, nameSub(4, "abc"))),
			want: []InterfaceInfo{{Role: RoleIncoming, Name: "abc"}}},
		{name: "control characters and bad UTF-8 shown as replacements",
			in:   extOf(ifObject(RoleIncoming, ifHasName, nameSub(8, "a\x1b[2\xff"))),
			want: []InterfaceInfo{{Role: RoleIncoming, Name: "a\uFFFD[2\uFFFD"}}},
		{name: "reserved bits ignored",
			in:   extOf(ifObject(RoleIncoming, 0x30|ifHasMTU, u32(1280))),
			want: []InterfaceInfo{{Role: RoleIncoming, MTU: 1280}}},
		{name: "incoming and outgoing, both in order",
			in: extOf(ifObject(RoleIncoming, ifHasIfIndex, u32(1)),
				ifObject(RoleOutgoing, ifHasIfIndex, u32(2))),
			want: []InterfaceInfo{{Role: RoleIncoming, IfIndex: 1, HasIfIndex: true}, {Role: RoleOutgoing, IfIndex: 2, HasIfIndex: true}}},
		{name: "unknown address family skipped, the next object read",
			in: extOf(ifObject(RoleIncoming, ifHasAddr, addrSub(25, []byte{1, 2, 3, 4, 5, 6})),
				ifObject(RoleOutgoing, ifHasMTU, u32(1500))),
			want: []InterfaceInfo{{Role: RoleOutgoing, MTU: 1500}}},

		{name: "ifIndex truncated", in: extOf(ifObject(RoleIncoming, ifHasIfIndex, []byte{0, 1})), wantErr: "ifIndex truncated"},
		{name: "address header truncated", in: extOf(ifObject(RoleIncoming, ifHasAddr, []byte{0, 1})), wantErr: "address sub-object header truncated"},
		{name: "IPv4 address truncated", in: extOf(ifObject(RoleIncoming, ifHasAddr, addrSub(afiIPv4, v4[:2]))), wantErr: "truncated"},
		{name: "IPv6 address as long as IPv4", in: extOf(ifObject(RoleIncoming, ifHasAddr, addrSub(afiIPv6, v4))), wantErr: "family 2 truncated"},
		{name: "name missing", in: extOf(ifObject(RoleIncoming, ifHasName)), wantErr: "name sub-object missing"},
		{name: "name length 0", in: extOf(ifObject(RoleIncoming, ifHasName, []byte{0, 0, 0, 0})), wantErr: "length 0"},
		{name: "name length not a multiple of 4", in: extOf(ifObject(RoleIncoming, ifHasName, nameSub(6, "eth0"), []byte{0, 0})), wantErr: "length 6"},
		{name: "name longer than 64", in: extOf(ifObject(RoleIncoming, ifHasName, nameSub(68, "x"))), wantErr: "length 68"},
		{name: "name beyond the object", in: extOf(ifObject(RoleIncoming, ifHasName, nameSub(8, "eth0")[:4])), wantErr: "within 4 bytes"},
		{name: "MTU truncated", in: extOf(ifObject(RoleIncoming, ifHasMTU, []byte{5, 0xdc})), wantErr: "MTU truncated"},
		{name: "bytes after the last sub-object", in: extOf(ifObject(RoleIncoming, ifHasMTU, u32(1500), u32(0))), wantErr: "4 bytes after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseExtensions(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseExtensions(% x) = %+v, %v; want an error containing %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got.Interfaces, tc.want) || got.MPLS != nil {
				t.Errorf("ParseExtensions(% x) = %+v, %v; want interfaces %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

// TestAppendExtensionsRoundTrip: what AppendExtensions writes parses back
// to what it was given, and it does not allocate when b has room.
func TestAppendExtensionsRoundTrip(t *testing.T) {
	long := strings.Repeat("n", 80)
	for _, tc := range []struct {
		name string
		in   Extensions
		want Extensions // zero: the same as in
	}{
		{name: "labels", in: Extensions{MPLS: []MPLSLabel{{Label: 24001, TC: 5, TTL: 1}, {Label: 16, S: true, TTL: 255}}}},
		{name: "every interface field", in: Extensions{Interfaces: []InterfaceInfo{
			{Role: RoleIncoming, IfIndex: 12, HasIfIndex: true, Addr: netip.MustParseAddr("192.0.2.1"), Name: "ge-0/0/1", MTU: 1500},
			{Role: RoleOutgoing, Addr: netip.MustParseAddr("2001:db8::1"), Name: "eth1"},
			{Role: RoleSubIP, Name: "vlan100"},
			{Role: RoleNextHop, Addr: netip.MustParseAddr("10.9.9.9")},
		}}},
		{name: "labels and interfaces", in: Extensions{MPLS: []MPLSLabel{{Label: 1<<20 - 1, TC: 7, S: true, TTL: 0}},
			Interfaces: []InterfaceInfo{{Role: RoleIncoming, IfIndex: 0, HasIfIndex: true}}}},
		{name: "name cut to 63 bytes", in: Extensions{Interfaces: []InterfaceInfo{{Role: RoleIncoming, Name: long}}},
			want: Extensions{Interfaces: []InterfaceInfo{{Role: RoleIncoming, Name: long[:63]}}}},
		{name: "header only", in: Extensions{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want.MPLS == nil && want.Interfaces == nil {
				want = tc.in
			}
			b := AppendExtensions([]byte{0xee}, tc.in)
			if b[0] != 0xee {
				t.Fatalf("AppendExtensions overwrote the slice's first byte")
			}
			if Checksum(b[1:]) != 0 {
				t.Errorf("checksum does not verify: % x", b[1:])
			}
			got, err := ParseExtensions(b[1:])
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("ParseExtensions(AppendExtensions(%+v)) = %+v, %v; want %+v", tc.in, got, err, want)
			}
			buf := make([]byte, 0, 512)
			if n := testing.AllocsPerRun(20, func() { buf = AppendExtensions(buf[:0], tc.in) }); n != 0 {
				t.Errorf("AppendExtensions allocates %v times per call with room in b; want 0", n)
			}
		})
	}
}

// TestInterfacesMatchXNet checks both directions against x/net's
// independent RFC 5837 code: x/net parses what AppendExtensions writes,
// and ParseExtensions reads what x/net marshals.
func TestInterfacesMatchXNet(t *testing.T) {
	in := InterfaceInfo{Role: RoleOutgoing, IfIndex: 42, HasIfIndex: true, Addr: netip.MustParseAddr("198.51.100.9"), Name: "xe-1/2/3.0", MTU: 4470}
	b := icmpError(11, 0, [4]byte{0, 32}, make([]byte, 128), AppendExtensions(nil, Extensions{Interfaces: []InterfaceInfo{in}}))
	m, err := icmp.ParseMessage(1, b)
	if err != nil {
		t.Fatal(err)
	}
	te, ok := m.Body.(*icmp.TimeExceeded)
	if !ok || len(te.Extensions) != 1 {
		t.Fatalf("x/net parsed %#v; want one extension", m.Body)
	}
	xi, ok := te.Extensions[0].(*icmp.InterfaceInfo)
	if !ok || xi.Interface == nil || xi.Addr == nil {
		t.Fatalf("x/net extension is %#v; want interface information with an address", te.Extensions[0])
	}
	if xi.Type>>6 != int(RoleOutgoing) || xi.Interface.Index != 42 || xi.Interface.Name != in.Name || xi.Interface.MTU != 4470 || !xi.Addr.IP.Equal(net.IP(in.Addr.AsSlice())) {
		t.Errorf("x/net reads role %d, %+v, %v; want %+v", xi.Type>>6, *xi.Interface, xi.Addr, in)
	}

	// x/net marshals the same object. Its Type is the whole C-Type: it
	// writes the role and the sub-object flags as given.
	xb, err := (&icmp.Message{Type: ipv4.ICMPTypeTimeExceeded, Body: &icmp.TimeExceeded{
		Data: make([]byte, 128),
		Extensions: []icmp.Extension{&icmp.InterfaceInfo{Class: 2, Type: int(RoleOutgoing)<<6 | ifHasIfIndex | ifHasAddr | ifHasName | ifHasMTU,
			Interface: &net.Interface{Index: 42, Name: in.Name, MTU: 4470}, Addr: &net.IPAddr{IP: net.IP(in.Addr.AsSlice())}}},
	}}).Marshal(nil)
	if err != nil {
		t.Fatalf("x/net marshal: %v", err)
	}
	got, err := ParseExtensions(xb[ICMPHeaderLen+128:])
	if err != nil || !reflect.DeepEqual(got.Interfaces, []InterfaceInfo{in}) {
		t.Errorf("ParseExtensions(x/net's % x) = %+v, %v; want %+v", xb[ICMPHeaderLen+128:], got, err, in)
	}
}

// TestMessageInterfaces: an ICMPv6 time exceeded carrying RFC 4884
// extensions (length in 64-bit words, the quote padded to 128 bytes)
// yields its labels and interfaces beside the quote.
func TestMessageInterfaces(t *testing.T) {
	want := Extensions{
		MPLS:       []MPLSLabel{{Label: 3001, S: true, TTL: 1}},
		Interfaces: []InterfaceInfo{{Role: RoleIncoming, IfIndex: 5, HasIfIndex: true, Addr: netip.MustParseAddr("2001:db8:2::1"), Name: "eth2", MTU: 1500}},
	}
	q := pad(ipv6Packet(me6, target6, 1, ProtoUDP, nil, udpProbe), 128)
	m, err := ParseICMPv6(icmpError(ICMPv6TimeExceeded, 0, [4]byte{128 / 8}, q, AppendExtensions(nil, want)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.MPLS, want.MPLS) || !reflect.DeepEqual(m.Interfaces, want.Interfaces) {
		t.Errorf("ParseICMPv6 = MPLS %+v, interfaces %+v; want %+v", m.MPLS, m.Interfaces, want)
	}
	if m.Quote.UDP.Dst != 33434 {
		t.Errorf("quoted UDP destination port = %d; want 33434", m.Quote.UDP.Dst)
	}
}
