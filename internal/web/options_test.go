package web

import (
	"encoding/json"
	"testing"

	"github.com/pingerplot/pingerplot/internal/config"
)

// TestOptionsEndpoint checks GET /api/options: the option table as the
// config package has it, and the token required as for the rest.
func TestOptionsEndpoint(t *testing.T) {
	e := newEnv(t)
	if r := e.serve(newRequest("GET", "/api/options", nil)); r.code != 401 {
		t.Errorf("GET /api/options without the token = %v; want 401", r)
	}
	r := e.must(200, "GET", "/api/options", nil)
	var got []struct {
		Key     string   `json:"key"`
		Type    string   `json:"type"`
		Min     *float64 `json:"min"`
		Max     *float64 `json:"max"`
		MinOpen bool     `json:"min_open"`
		Modes   []string `json:"modes"`
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatalf("GET /api/options: %v in %s", err, r.body)
	}
	table := config.Table()
	if len(got) != len(table) {
		t.Fatalf("got %d options; want %d", len(got), len(table))
	}
	for i, op := range table {
		g := got[i]
		if g.Key != op.Key || g.Type != op.Type || g.MinOpen != op.MinOpen || !sameBound(g.Min, op.Min) || !sameBound(g.Max, op.Max) || len(g.Modes) != len(op.Modes) {
			t.Errorf("option %d: got %+v; want key %s, type %s, min %v, max %v, min_open %v, modes %v",
				i, g, op.Key, op.Type, deref(op.Min), deref(op.Max), op.MinOpen, op.Modes)
		}
	}
	for _, tt := range []struct {
		key string
		max float64
	}{{"history", 1 << 20}, {"port", 65535}, {"interval", 86400}} {
		for _, g := range got {
			if g.Key == tt.key && (g.Max == nil || *g.Max != tt.max) {
				t.Errorf("%s max = %v; want %g", tt.key, deref(g.Max), tt.max)
			}
		}
	}
}

func sameBound(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
