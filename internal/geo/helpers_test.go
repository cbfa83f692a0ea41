package geo

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// writeMMDB writes a MaxMind DB with one record per network and returns
// its path. Reserved networks are allowed: the tests place private
// routers in cities, as a company's own database would.
func writeMMDB(t *testing.T, dir, name, dbType string, records map[string]mmdbtype.Map) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, IncludeReservedNetworks: true, IPVersion: 6, RecordSize: 28})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range records {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatalf("insert %s: %v", cidr, err)
		}
	}
	path := filepath.Join(dir, name)
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
	return path
}

// maxmindCity is a record in MaxMind's GeoLite2-City schema.
func maxmindCity(city, country, cc string, lat, lon float64) mmdbtype.Map {
	return mmdbtype.Map{
		"city":         mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(city), "de": mmdbtype.String(city + "-de")}},
		"country":      mmdbtype.Map{"iso_code": mmdbtype.String(cc), "names": mmdbtype.Map{"en": mmdbtype.String(country)}},
		"location":     mmdbtype.Map{"latitude": mmdbtype.Float64(lat), "longitude": mmdbtype.Float64(lon), "accuracy_radius": mmdbtype.Uint16(20)},
		"subdivisions": mmdbtype.Slice{mmdbtype.Map{"names": mmdbtype.Map{"en": mmdbtype.String(city + " Region")}}},
	}
}

// maxmindASN is a record in MaxMind's GeoLite2-ASN schema.
func maxmindASN(asn uint32, org string) mmdbtype.Map {
	return mmdbtype.Map{"autonomous_system_number": mmdbtype.Uint32(asn), "autonomous_system_organization": mmdbtype.String(org)}
}

// testDBs writes a city and an ASN database in MaxMind's schemas, with
// public and private ranges, and returns their paths.
func testDBs(t *testing.T, dir string) (city, asn string) {
	t.Helper()
	city = writeMMDB(t, dir, "test-city.mmdb", "GeoLite2-City", map[string]mmdbtype.Map{
		"1.1.1.0/24":     maxmindCity("Sydney", "Australia", "AU", -33.8688, 151.2093),
		"10.0.1.0/24":    maxmindCity("Paris", "France", "FR", 48.8566, 2.3522),
		"10.0.2.0/24":    maxmindCity("Tokyo", "Japan", "JP", 35.6762, 139.6503),
		"192.168.0.0/16": maxmindCity("Null Island", "", "", 0, 0),
		"2001:db8::/32":  maxmindCity("Berlin", "Germany", "DE", 52.52, 13.405),
	})
	asn = writeMMDB(t, dir, "test-asn.mmdb", "GeoLite2-ASN", map[string]mmdbtype.Map{
		"1.1.1.0/24":    maxmindASN(13335, "Cloudflare, Inc."),
		"10.0.0.0/8":    maxmindASN(64512, "Lab WAN"),
		"2001:db8::/32": maxmindASN(64496, "Documentation AS"),
	})
	return city, asn
}

// fakeWhois is ipwho.is on loopback. It fails the test when it is sent a
// special-purpose address, by its own list (not the package's table).
type fakeWhois struct {
	t *testing.T

	mu     sync.Mutex
	seen   []string
	status int               // non-zero: answer with this HTTP status
	header map[string]string // extra headers
	body   func(ip string) string
	block  bool // hang until the request is canceled
}

// neverOnline are ranges no online request may carry, written out here
// independently of specialRanges.
var neverOnline = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.0.0.0/24"), netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("198.18.0.0/15"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("224.0.0.0/3"), netip.MustParsePrefix("::/8"), netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("2002::/16"), netip.MustParsePrefix("fc00::/7"), netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("ff00::/8"), netip.MustParsePrefix("64:ff9b::/32"),
}

func (f *fakeWhois) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ip := strings.TrimPrefix(r.URL.Path, "/")
	a, err := netip.ParseAddr(ip)
	if err != nil {
		f.t.Errorf("fake ipwho.is was asked %q: not an address", r.URL.Path)
		http.Error(w, "bad", http.StatusBadRequest)
		return
	}
	for _, p := range neverOnline {
		if p.Contains(a) || a.Is4In6() {
			f.t.Errorf("special-purpose address %s was sent online (in %s)", a, p)
		}
	}
	f.mu.Lock()
	f.seen = append(f.seen, ip)
	status, body, block, header := f.status, f.body, f.block, f.header
	f.mu.Unlock()
	if block {
		<-r.Context().Done()
		return
	}
	for k, v := range header {
		w.Header().Set(k, v)
	}
	if status != 0 && status != http.StatusOK {
		http.Error(w, http.StatusText(status), status)
		return
	}
	if body == nil {
		body = whoisJSON
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, body(ip))
}

func (f *fakeWhois) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seen...)
}

func (f *fakeWhois) set(fn func(f *fakeWhois)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// whoisJSON is an answer shaped like ipwho.is's.
func whoisJSON(ip string) string {
	return fmt.Sprintf(`{"ip":%q,"success":true,"type":"IPv4","continent":"Oceania","country":"Australia","country_code":"AU",`+
		`"region":"New South Wales","city":"Sydney","latitude":-33.8688,"longitude":151.2093,"is_eu":false,`+
		`"connection":{"asn":13335,"org":"Cloudflare, Inc.","isp":"Cloudflare, Inc.","domain":"cloudflare.com"},`+
		`"timezone":{"id":"Australia/Sydney"}}`, ip)
}

// startWhois serves f on 127.0.0.1.
func startWhois(t *testing.T) (*fakeWhois, *httptest.Server) {
	t.Helper()
	f := &fakeWhois{t: t}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// handlerTransport serves requests in memory, for tests in a synctest
// bubble (a real socket would keep the fake clock from advancing).
type handlerTransport struct{ h http.Handler }

func (ht handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	ht.h.ServeHTTP(rec, r)
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	return rec.Result(), nil
}

// clock is a settable clock for tests outside a synctest bubble.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
