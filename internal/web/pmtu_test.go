package web

import (
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe/result"
)

// TestTargetPathMTU: the list, the detail and the stream's summaries carry
// the lookup's path MTU as the path_mtu object, with the report's fields
// and the dashboard's words; a target the lookup does not know, or a
// server without a lookup, has null.
func TestTargetPathMTU(t *testing.T) {
	hop := netip.MustParseAddr("10.0.1.2")
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	lookup := func(id monitor.ID) (result.PathMTU, bool) {
		return result.PathMTU{MTU: 1400, Max: 1500, HopTTL: 2, HopAddr: hop, Reported: true, Probes: 34, At: at}, id == "dest.example"
	}
	type pathMTUOut struct {
		MTU      int    `json:"mtu"`
		Max      int    `json:"max"`
		HopTTL   int    `json:"hop_ttl"`
		HopAddr  string `json:"hop_addr"`
		Reported bool   `json:"reported"`
		Probes   int    `json:"probes"`
		At       string `json:"at"`
		Summary  string `json:"summary"`
	}
	type withPMTU struct {
		ID      string      `json:"id"`
		PathMTU *pathMTUOut `json:"path_mtu"`
	}
	want := pathMTUOut{MTU: 1400, Max: 1500, HopTTL: 2, HopAddr: "10.0.1.2", Reported: true, Probes: 34,
		At: "2026-01-02T03:04:05Z", Summary: "1400 bytes (drops at hop 2, 10.0.1.2)"}
	tests := []struct {
		name   string
		lookup func(monitor.ID) (result.PathMTU, bool)
		id     string
		want   *pathMTUOut
	}{
		{"known", lookup, "dest.example", &want},
		{"unknown to the lookup", lookup, "other.example", nil},
		{"no lookup", nil, "dest.example", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.PathMTU = tt.lookup })
			e.add(tt.id, nil)
			list := decodeInto[[]withPMTU](t, e.must(http.StatusOK, "GET", "/api/targets", nil))
			det := decodeInto[withPMTU](t, e.must(http.StatusOK, "GET", "/api/targets/"+tt.id, nil))
			if len(list) != 1 {
				t.Fatalf("got %d targets; want 1", len(list))
			}
			for _, got := range []withPMTU{list[0], det} {
				switch {
				case (got.PathMTU == nil) != (tt.want == nil):
					t.Errorf("%s: path_mtu %+v; want %+v", got.ID, got.PathMTU, tt.want)
				case got.PathMTU != nil && *got.PathMTU != *tt.want:
					t.Errorf("%s: path_mtu %+v; want %+v", got.ID, *got.PathMTU, *tt.want)
				}
			}
		})
	}
}
