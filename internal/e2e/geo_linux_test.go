//go:build linux

package e2e

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/pingerplot/pingerplot/internal/lab"
)

// labPlace is where the browser test's location database puts one of the
// lab's addresses.
type labPlace struct {
	City, Region, Country, CC string
	Lat, Lon                  float64
	ASN                       uint32
	ASName                    string
}

// The lab's IPv4 path, hop by hop, as the test database places it: the
// routers and the target in four cities far enough apart to tell apart on
// a world map (Paris and Frankfurt close enough to share a fan of markers).
var labPath4 = []labPlace{
	{City: "New York", Region: "New York", Country: "United States", CC: "US", Lat: 40.7128, Lon: -74.006, ASN: 64512, ASName: "PingerPlot Lab WAN"},
	{City: "Paris", Region: "Île-de-France", Country: "France", CC: "FR", Lat: 48.8566, Lon: 2.3522, ASN: 64512, ASName: "PingerPlot Lab WAN"},
	{City: "Frankfurt am Main", Region: "Hesse", Country: "Germany", CC: "DE", Lat: 50.1109, Lon: 8.6821, ASN: 64512, ASName: "PingerPlot Lab WAN"},
	{City: "Tokyo", Region: "Tokyo", Country: "Japan", CC: "JP", Lat: 35.6762, Lon: 139.6503, ASN: 64500, ASName: "PingerPlot Lab Target"},
}

// labGeoDB writes, into the geo folder of the config directory that
// XDG_CONFIG_HOME=xdg gives (what `pingerplot ui` reads for uid 65534), an
// .mmdb in MaxMind's City layout plus the ASN keys that places each of the
// lab's IPv4 routers and the target in a city of labPath4, and the IPv6
// target in the target's city. The IPv6 routers (fd00::/8, Unique-Local)
// are left out, so the Map tab has hops to explain. It returns the file.
// Reserved networks must be allowed: the lab's addresses are private, as a
// company's own WAN database's would be (docs/geo.md).
func labGeoDB(t *testing.T, l *lab.Lab, xdg string) string {
	t.Helper()
	addrs := append(append([]netip.Addr{}, l.Hops4...), l.TargetAddr4)
	if len(addrs) != len(labPath4) {
		t.Fatalf("the lab has %d IPv4 hops; the test database places %d", len(addrs), len(labPath4))
	}
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "PingerPlot-Lab-City", IncludeReservedNetworks: true, IPVersion: 6, RecordSize: 28})
	if err != nil {
		t.Fatal(err)
	}
	insert := func(a netip.Addr, p labPlace) {
		_, n, err := net.ParseCIDR(netip.PrefixFrom(a, a.BitLen()).String())
		if err != nil {
			t.Fatal(err)
		}
		rec := mmdbtype.Map{
			"city":                           mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(p.City)}},
			"subdivisions":                   mmdbtype.Slice{mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(p.Region)}}},
			"country":                        mmdbtype.Map{"iso_code": mmdbtype.String(p.CC), "names": mmdbtype.Map{"en": mmdbtype.String(p.Country)}},
			"location":                       mmdbtype.Map{"latitude": mmdbtype.Float64(p.Lat), "longitude": mmdbtype.Float64(p.Lon), "accuracy_radius": mmdbtype.Uint16(10)},
			"autonomous_system_number":       mmdbtype.Uint32(p.ASN),
			"autonomous_system_organization": mmdbtype.String(p.ASName),
		}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatalf("insert %s: %v", a, err)
		}
	}
	for i, a := range addrs {
		insert(a, labPath4[i])
	}
	insert(l.TargetAddr6, labPath4[len(labPath4)-1])

	dir := filepath.Join(xdg, "pingerplot", "geo")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// the unprivileged ui must reach and read it: every level 0755
	for d := dir; strings.HasPrefix(d, xdg) && d != filepath.Dir(xdg); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "00-lab.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
