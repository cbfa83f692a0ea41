package web

import (
	"fmt"
	"net/http"
	"net/netip"
	"testing"

	"github.com/pingerplot/pingerplot/internal/flows"
	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/monitor"
)

// TestTargetFlows: GET /api/targets/{id}/flows gives the lookup's paths in
// the report's form, a note when the flows cannot run, and enabled false
// with no path when the lookup does not know the target or there is none.
func TestTargetFlows(t *testing.T) {
	a := netip.MustParseAddr
	hop := func(ttl int, addr string, sent, recv int, reached bool) flows.Hop {
		return flows.Hop{TTL: ttl, Addr: a(addr), Reached: reached, Stats: hopstat.Stats{Sent: sent, Recv: recv, Avg: msec(2)}}
	}
	paths := []flows.Path{
		{Flows: []int{0, 2}, Share: 0.5, Reached: true, DestLossPct: 0,
			Hops: []flows.Hop{hop(1, "10.0.0.2", 10, 10, false), hop(2, "10.0.1.2", 10, 10, false), hop(3, "192.0.2.9", 10, 10, true)}},
		{Flows: []int{1, 3}, Share: 0.5, Reached: true, DestLossPct: 30, Lossy: true,
			Hops: []flows.Hop{hop(1, "10.0.0.2", 10, 10, false), hop(2, "10.1.1.2", 10, 7, false), hop(3, "192.0.2.9", 10, 7, true)}},
	}
	lookup := func(id monitor.ID) (Flows, bool) {
		switch id {
		case "dest.example":
			return Flows{Count: 4, Varies: "source port", Rounds: 10, Paths: paths}, true
		case "192.0.2.77":
			return Flows{Count: 4, Note: "TCP probes have no fixed flow"}, true
		}
		return Flows{}, false
	}
	type hopOut struct {
		TTL     int     `json:"ttl"`
		Addr    string  `json:"addr"`
		LossPct float64 `json:"loss_pct"`
	}
	type pathOut struct {
		SharePct    float64  `json:"share_pct"`
		Flows       []int    `json:"flows"`
		DestLossPct float64  `json:"dest_loss_pct"`
		Lossy       bool     `json:"lossy"`
		Hops        []hopOut `json:"hops"`
	}
	type out struct {
		Target  string    `json:"target"`
		Enabled bool      `json:"enabled"`
		Count   int       `json:"count"`
		Varies  string    `json:"varies"`
		Rounds  int       `json:"rounds"`
		Note    string    `json:"note"`
		Paths   []pathOut `json:"paths"`
	}
	tests := []struct {
		name   string
		lookup func(monitor.ID) (Flows, bool)
		id     string
		want   out
	}{
		{"known", lookup, "dest.example", out{Target: "dest.example", Enabled: true, Count: 4, Varies: "source port", Rounds: 10, Paths: []pathOut{
			{SharePct: 50, Flows: []int{0, 2}, Hops: []hopOut{{1, "10.0.0.2", 0}, {2, "10.0.1.2", 0}, {3, "192.0.2.9", 0}}},
			{SharePct: 50, Flows: []int{1, 3}, DestLossPct: 30, Lossy: true, Hops: []hopOut{{1, "10.0.0.2", 0}, {2, "10.1.1.2", 30}, {3, "192.0.2.9", 30}}},
		}}},
		{"cannot run", lookup, "192.0.2.77", out{Target: "192.0.2.77", Enabled: true, Count: 4, Note: "TCP probes have no fixed flow", Paths: []pathOut{}}},
		{"off", lookup, "other.example", out{Target: "other.example", Paths: []pathOut{}}},
		{"no lookup", nil, "dest.example", out{Target: "dest.example", Paths: []pathOut{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.Flows = tt.lookup })
			e.add(tt.id, nil)
			got := decodeInto[out](t, e.must(http.StatusOK, "GET", "/api/targets/"+tt.id+"/flows", nil))
			if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", tt.want); g != w {
				t.Errorf("got %s; want %s", g, w)
			}
		})
	}
	e := newEnv(t)
	e.must(http.StatusNotFound, "GET", "/api/targets/nothing.example/flows", nil)
}
