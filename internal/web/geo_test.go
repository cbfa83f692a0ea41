package web

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/geo"
)

// placeDB is an offline database that places two of the scripted path's
// addresses (private ones, as a company's own .mmdb would) and knows the
// AS of one.
type placeDB struct{}

func (placeDB) Name() string { return "test.mmdb" }
func (placeDB) Lookup(_ context.Context, a netip.Addr) (geo.Info, error) {
	switch a.String() {
	case "10.0.1.1":
		return geo.Info{Located: true, Lat: 48.85, Lon: 2.35, City: "Paris", CountryCode: "FR", Source: "test.mmdb"}, nil
	case "10.0.3.1":
		return geo.Info{Located: true, Lat: 40.71, Lon: -74.0, City: "New York", CountryCode: "US", ASN: 64500, ASName: "Example Net", Source: "test.mmdb", ASSource: "test.mmdb"}, nil
	}
	return geo.Info{}, nil
}

// spy is an online provider that records what it was asked.
type spy struct {
	mu   sync.Mutex
	seen []netip.Addr
}

func (s *spy) Name() string { return "spy" }
func (s *spy) Lookup(_ context.Context, a netip.Addr) (geo.Info, error) {
	s.mu.Lock()
	s.seen = append(s.seen, a)
	s.mu.Unlock()
	return geo.Info{}, nil
}

func TestGeoMapAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		online := &spy{}
		res := geo.New(geo.Config{Offline: placeDB{}, Online: online})
		defer res.Close()
		e := newEnv(t, func(c *Config) { c.Geo = res })
		e.start()
		s := e.add("dest.example", map[string]any{"interval": 1})
		e.waitRounds(s.ID, 2, time.Minute)
		e.must(200, "GET", "/api/targets/"+s.ID+"/geo", nil) // starts the lookups
		res.Wait(context.Background())
		ans := decodeInto[geoAnswer](t, e.must(200, "GET", "/api/targets/"+s.ID+"/geo", nil))
		if !ans.Available || ans.Online || ans.OnlineAllowed {
			t.Errorf("available %v online %v allowed %v; want available, online off and not allowed by default", ans.Available, ans.Online, ans.OnlineAllowed)
		}
		byAddr := map[string]geoHop{}
		for _, h := range ans.Hops {
			byAddr[h.Addr] = h
		}
		if h := byAddr["10.0.1.1"]; !h.Located || h.City != "Paris" || h.Lat == nil || *h.Lat != 48.85 {
			t.Errorf("hop 1 = %+v; want located in Paris", h)
		}
		if h := byAddr["10.0.3.1"]; !h.Destination || h.ASN != 64500 || h.Status != "located" {
			t.Errorf("destination = %+v; want located, AS64500", h)
		}
		if h := byAddr["10.0.2.1"]; h.Located || h.Status == "located" || h.Reason == "" {
			t.Errorf("hop 2 = %+v; want listed beside the map with a reason", h)
		}
		// The AS column of the hop table comes from the same cache.
		d := decodeInto[map[string]any](t, e.must(200, "GET", "/api/targets/"+s.ID, nil))
		hops := d["hops"].([]any)
		if asn := hops[len(hops)-1].(map[string]any)["asn"]; asn != float64(64500) {
			t.Errorf("destination hop asn = %v; want 64500", asn)
		}
		// Opening the map without the user's consent sends nothing online.
		e.must(200, "PUT", "/api/geo", map[string]bool{"map_open": true})
		if res.Online() {
			t.Error("online lookups on without online_lookups allowed")
		}
		online.mu.Lock()
		n := len(online.seen)
		online.mu.Unlock()
		if n != 0 {
			t.Errorf("the online provider was asked %d times; want none (private addresses, and no consent)", n)
		}
		e.must(400, "PUT", "/api/geo", "not json")
		e.must(404, "GET", "/api/targets/nope/geo", nil)
	})
}
