package geo

import "net/netip"

// specialRange is one entry of the table of addresses that are never sent
// to an online provider.
type specialRange struct {
	prefix netip.Prefix
	name   string // as the IANA registry names it, with its RFC
}

// specialRanges lists every entry of the IANA "IPv4 Special-Purpose
// Address Registry" and "IPv6 Special-Purpose Address Registry" (the
// registries RFC 6890 set up, updated by RFC 8190), as of 2025, plus the
// multicast blocks of the "IPv4 Multicast Address Space Registry" and the
// "Internet Protocol Version 6 Address Space" registry.
//
// The rule is simple on purpose: an address in any entry is never sent
// online. Most entries are not globally reachable, so a public service
// cannot know anything about them, and the question itself would tell it
// about the user's network. The few that the registries mark globally
// reachable are anycast service addresses (PCP, TURN, AS112, AMT), ORCHID
// identifiers or drone tags: no router on a path has a location there
// worth leaking the question for. Teredo (2001::/32) and 6to4 (2002::/16)
// carry an IPv4 address of the user's own site or relay inside; they are
// never sent either.
//
// Two translations happen before the check (queryAddr): an IPv4-mapped
// address (::ffff:0:0/96) is checked, and looked up, as the IPv4 address
// it carries, and so is an address in the NAT64 well-known prefix
// 64:ff9b::/96 (RFC 6052), whose IPv4 part is a real router; the NAT64
// local-use prefix 64:ff9b:1::/48 (RFC 8215) is never sent.
//
// Beyond the table, an IPv6 address outside 2000::/3, the only block IANA
// has allocated as global unicast, is never sent (notSpecialV6Global).
//
// Offline databases may answer for any address, these included: that is
// how a company's own .mmdb places its private WAN routers.
var specialRanges = func() []specialRange {
	raw := []struct{ prefix, name string }{
		// IANA IPv4 Special-Purpose Address Registry.
		{"0.0.0.0/8", `"This network" (RFC 791)`},
		{"0.0.0.0/32", `"This host on this network" (RFC 1122)`},
		{"10.0.0.0/8", "Private-Use (RFC 1918)"},
		{"100.64.0.0/10", "Shared Address Space, CGNAT (RFC 6598)"},
		{"127.0.0.0/8", "Loopback (RFC 1122)"},
		{"169.254.0.0/16", "Link Local (RFC 3927)"},
		{"172.16.0.0/12", "Private-Use (RFC 1918)"},
		{"192.0.0.0/24", "IETF Protocol Assignments (RFC 6890)"},
		{"192.0.0.0/29", "IPv4 Service Continuity Prefix (RFC 7335)"},
		{"192.0.0.8/32", "IPv4 dummy address (RFC 7600)"},
		{"192.0.0.9/32", "Port Control Protocol Anycast (RFC 7723)"},
		{"192.0.0.10/32", "Traversal Using Relays around NAT Anycast (RFC 8155)"},
		{"192.0.0.170/32", "NAT64/DNS64 Discovery (RFC 8880)"},
		{"192.0.0.171/32", "NAT64/DNS64 Discovery (RFC 8880)"},
		{"192.0.2.0/24", "Documentation, TEST-NET-1 (RFC 5737)"},
		{"192.31.196.0/24", "AS112-v4 (RFC 7535)"},
		{"192.52.193.0/24", "AMT (RFC 7450)"},
		{"192.88.99.0/24", "Deprecated 6to4 Relay Anycast (RFC 7526)"},
		{"192.88.99.2/32", "6a44-relay anycast address (RFC 6751)"},
		{"192.168.0.0/16", "Private-Use (RFC 1918)"},
		{"192.175.48.0/24", "Direct Delegation AS112 Service (RFC 7534)"},
		{"198.18.0.0/15", "Benchmarking (RFC 2544)"},
		{"198.51.100.0/24", "Documentation, TEST-NET-2 (RFC 5737)"},
		{"203.0.113.0/24", "Documentation, TEST-NET-3 (RFC 5737)"},
		{"240.0.0.0/4", "Reserved (RFC 1112)"},
		{"255.255.255.255/32", "Limited Broadcast (RFC 919)"},
		// IPv4 Multicast Address Space Registry.
		{"224.0.0.0/4", "Multicast (RFC 5771)"},

		// IANA IPv6 Special-Purpose Address Registry.
		{"::1/128", "Loopback Address (RFC 4291)"},
		{"::/128", "Unspecified Address (RFC 4291)"},
		// The next two are listed for completeness: queryAddr turns their
		// addresses into IPv4 ones before the table is consulted.
		{"::ffff:0:0/96", "IPv4-mapped Address (RFC 4291)"},
		{"64:ff9b::/96", "IPv4-IPv6 Translation, NAT64 well-known prefix (RFC 6052)"},
		{"64:ff9b:1::/48", "IPv4-IPv6 Translation, local use (RFC 8215)"},
		{"100::/64", "Discard-Only Address Block (RFC 6666)"},
		{"100:0:0:1::/64", "Dummy IPv6 Prefix (RFC 9780)"},
		{"2001::/23", "IETF Protocol Assignments (RFC 2928)"},
		{"2001::/32", "TEREDO (RFC 4380)"},
		{"2001:1::1/128", "Port Control Protocol Anycast (RFC 7723)"},
		{"2001:1::2/128", "Traversal Using Relays around NAT Anycast (RFC 8155)"},
		{"2001:1::3/128", "DNS-SD Service Registration Protocol Anycast (RFC 9665)"},
		{"2001:2::/48", "Benchmarking (RFC 5180)"},
		{"2001:3::/32", "AMT (RFC 7450)"},
		{"2001:4:112::/48", "AS112-v6 (RFC 7535)"},
		{"2001:10::/28", "Deprecated, previously ORCHID (RFC 4843)"},
		{"2001:20::/28", "ORCHIDv2 (RFC 7343)"},
		{"2001:30::/28", "Drone Remote ID Protocol Entity Tags (RFC 9374)"},
		{"2001:db8::/32", "Documentation (RFC 3849)"},
		{"2002::/16", "6to4 (RFC 3056)"},
		{"2620:4f:8000::/48", "Direct Delegation AS112 Service (RFC 7534)"},
		{"3fff::/20", "Documentation (RFC 9637)"},
		{"5f00::/16", "Segment Routing (SRv6) SIDs (RFC 9602)"},
		{"fc00::/7", "Unique-Local (RFC 4193)"},
		{"fe80::/10", "Link-Local Unicast (RFC 4291)"},
		// Internet Protocol Version 6 Address Space registry.
		{"ff00::/8", "Multicast (RFC 4291)"},
	}
	out := make([]specialRange, len(raw))
	for i, r := range raw {
		out[i] = specialRange{netip.MustParsePrefix(r.prefix), r.name}
	}
	return out
}()

// globalUnicastV6 is the only IPv6 block allocated as global unicast.
var globalUnicastV6 = netip.MustParsePrefix("2000::/3")

// notSpecialV6Global names IPv6 addresses outside 2000::/3 that no entry
// of the table covers.
const notSpecialV6Global = "Not IPv6 global unicast, outside 2000::/3 (RFC 4291)"

// SpecialPurpose reports whether addr is a special-purpose address, one
// that is never sent to an online provider, and the name of its range
// (the most specific entry). The check applies to the address a provider
// would be asked about: an IPv4-mapped address or one in 64:ff9b::/96 is
// checked as the IPv4 address inside. An invalid address is special.
func SpecialPurpose(addr netip.Addr) (name string, ok bool) {
	if !addr.IsValid() {
		return "invalid address", true
	}
	q := queryAddr(addr)
	best := -1
	for i, r := range specialRanges {
		if r.prefix.Contains(q) && (best < 0 || r.prefix.Bits() > specialRanges[best].prefix.Bits()) {
			best = i
		}
	}
	if best >= 0 {
		return specialRanges[best].name, true
	}
	if q.Is6() && !globalUnicastV6.Contains(q) {
		return notSpecialV6Global, true
	}
	return "", false
}
