package hopstat

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

func TestRing(t *testing.T) {
	r := NewRing(3)
	if got := r.AppendTo(nil); len(got) != 0 {
		t.Fatalf("empty ring = %v; want nothing", got)
	}
	for i := 1; i <= 5; i++ {
		r.Add(time.Duration(i))
	}
	if got, want := r.AppendTo(nil), []time.Duration{3, 4, 5}; !slices.Equal(got, want) {
		t.Errorf("ring after 1..5 = %v; want %v", got, want)
	}
	var zero Ring
	zero.Add(1)
	if zero.Len() != 0 {
		t.Error("zero Ring kept a value; want none")
	}
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		name string
		in   []time.Duration
		q    float64
		want time.Duration
	}{
		{"empty", nil, 0.5, 0},
		{"one", []time.Duration{7}, 0.95, 7},
		{"odd median", []time.Duration{5, 1, 3}, 0.5, 3},
		{"even median interpolates", []time.Duration{4000, 1000, 3000, 2000}, 0.5, 2500},
		{"p95 of 1..20 us", seq(20), 0.95, 19050},
		{"q clamps", []time.Duration{1, 2}, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(slices.Clone(tt.in), tt.q); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v; want %v", tt.in, tt.q, got, tt.want)
			}
		})
	}
}

func seq(n int) []time.Duration {
	var v []time.Duration
	for i := 1; i <= n; i++ {
		v = append(v, time.Duration(i)*time.Microsecond)
	}
	return v
}

func TestPathWindowPercentiles(t *testing.T) {
	p := Path{Window: 4}
	a := netip.MustParseAddr("192.0.2.1")
	for _, ms := range []int{100, 1, 2, 3, 4} { // the 100 ms outlier falls out of the window
		p.AddRound([]Sample{{TTL: 1, From: a, RTT: time.Duration(ms) * time.Millisecond, Reached: true}})
	}
	p.AddRound([]Sample{{TTL: 1, Lost: true}})
	h := p.Hops()[0]
	if h.Stats.P50 != 2500*time.Microsecond {
		t.Errorf("P50 = %v; want 2.5ms (median of the last 4 replies)", h.Stats.P50)
	}
	if h.Stats.Sent != 6 || h.Stats.Recv != 5 {
		t.Errorf("sent/recv = %d/%d; want 6/5", h.Stats.Sent, h.Stats.Recv)
	}
}
