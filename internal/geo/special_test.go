package geo

import (
	"net/netip"
	"strings"
	"testing"
)

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	p = p.Masked()
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// midAddr is an address inside p other than its ends, where there is one.
func midAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	if p.Bits() < a.BitLen()-1 {
		return a.Next()
	}
	return a
}

func TestSpecialPurposeEveryEntry(t *testing.T) {
	for _, r := range specialRanges {
		switch r.prefix.String() {
		case "::ffff:0.0.0.0/96", "64:ff9b::/96":
			continue // translated first: TestSpecialPurposeTranslated
		}
		for _, a := range []netip.Addr{r.prefix.Masked().Addr(), midAddr(r.prefix), lastAddr(r.prefix)} {
			if name, ok := SpecialPurpose(a); !ok || name == "" {
				t.Errorf("SpecialPurpose(%s) = %q, %v; want special (%s)", a, name, ok, r.name)
			}
		}
	}
}

func TestSpecialPurposeTranslated(t *testing.T) {
	for _, tc := range []struct {
		addr    string
		special bool
		name    string
	}{
		{"::ffff:10.1.2.3", true, "Private-Use"},
		{"::ffff:8.8.8.8", false, ""},
		{"64:ff9b::10.1.2.3", true, "Private-Use"},
		{"64:ff9b::192.0.2.1", true, "TEST-NET-1"},
		{"64:ff9b::8.8.8.8", false, ""},
		{"64:ff9b:1::8.8.8.8", true, "local use"},
	} {
		name, ok := SpecialPurpose(netip.MustParseAddr(tc.addr))
		if ok != tc.special || !strings.Contains(name, tc.name) {
			t.Errorf("SpecialPurpose(%s) = %q, %v; want %v containing %q", tc.addr, name, ok, tc.special, tc.name)
		}
	}
}

func TestSpecialPurposeNames(t *testing.T) {
	for _, tc := range []struct{ addr, name string }{
		{"10.0.0.1", "Private-Use (RFC 1918)"},
		{"172.31.255.255", "Private-Use (RFC 1918)"},
		{"192.168.1.1", "Private-Use (RFC 1918)"},
		{"100.64.0.1", "Shared Address Space, CGNAT (RFC 6598)"},
		{"127.0.0.1", "Loopback (RFC 1122)"},
		{"169.254.1.1", "Link Local (RFC 3927)"},
		{"0.0.0.0", `"This host on this network" (RFC 1122)`},
		{"0.1.2.3", `"This network" (RFC 791)`},
		{"192.0.0.9", "Port Control Protocol Anycast (RFC 7723)"},
		{"192.0.0.100", "IETF Protocol Assignments (RFC 6890)"},
		{"192.0.2.1", "Documentation, TEST-NET-1 (RFC 5737)"},
		{"198.19.255.255", "Benchmarking (RFC 2544)"},
		{"224.0.0.1", "Multicast (RFC 5771)"},
		{"240.0.0.1", "Reserved (RFC 1112)"},
		{"255.255.255.255", "Limited Broadcast (RFC 919)"},
		{"::", "Unspecified Address (RFC 4291)"},
		{"::1", "Loopback Address (RFC 4291)"},
		{"fe80::1%eth0", "Link-Local Unicast (RFC 4291)"},
		{"fd00::1", "Unique-Local (RFC 4193)"},
		{"ff02::1", "Multicast (RFC 4291)"},
		{"2001:db8::1", "Documentation (RFC 3849)"},
		{"2001::1", "TEREDO (RFC 4380)"},
		{"2001:1::1", "Port Control Protocol Anycast (RFC 7723)"},
		{"2001:2::1", "Benchmarking (RFC 5180)"},
		{"2001:1ff::1", "IETF Protocol Assignments (RFC 2928)"},
		{"2002:c000:201::1", "6to4 (RFC 3056)"},
		{"3fff::1", "Documentation (RFC 9637)"},
		{"5f00::1", "Segment Routing (SRv6) SIDs (RFC 9602)"},
		{"4000::1", notSpecialV6Global},
		{"fec0::1", notSpecialV6Global},
	} {
		name, ok := SpecialPurpose(netip.MustParseAddr(tc.addr))
		if !ok || name != tc.name {
			t.Errorf("SpecialPurpose(%s) = %q, %v; want %q", tc.addr, name, ok, tc.name)
		}
	}
	if name, ok := SpecialPurpose(netip.Addr{}); !ok {
		t.Errorf("SpecialPurpose(invalid) = %q, false; want special", name)
	}
}

// TestSpecialPurposePublic checks addresses next to the ranges, which must
// go online.
func TestSpecialPurposePublic(t *testing.T) {
	for _, a := range []string{
		"1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0",
		"126.255.255.255", "128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0",
		"192.0.1.255", "192.0.3.0", "192.167.255.255", "192.169.0.0", "198.17.255.255", "198.20.0.0",
		"198.51.99.255", "198.51.101.0", "203.0.112.255", "203.0.114.0", "223.255.255.255",
		"2606:4700:4700::1111", "2001:200::1", "2001:4860:4860::8888", "2003::1", "2620:4f:7fff::1",
		"3ffe::1", "3fff:1000::1", "2a00:1450::1",
	} {
		if name, ok := SpecialPurpose(netip.MustParseAddr(a)); ok {
			t.Errorf("SpecialPurpose(%s) = %q, true; want a public address", a, name)
		}
	}
}
