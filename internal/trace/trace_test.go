package trace

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
)

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

func TestRoundFindsPathInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2), ms(3), ms(4))
		dst := net.Hops[3].Addr
		tr, err := New(net, Config{Target: dst, Timeout: time.Second}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var seen []int
		r, err := tr.Round(context.Background(), 1, func(h Hop) { seen = append(seen, h.TTL) })
		if err != nil {
			t.Fatal(err)
		}
		if !r.Reached || r.EndTTL != 4 {
			t.Fatalf("Reached=%v EndTTL=%d; want true 4", r.Reached, r.EndTTL)
		}
		if len(r.Hops) != 4 {
			t.Fatalf("got %d hops; want 4", len(r.Hops))
		}
		for i, h := range r.Hops {
			if h.TTL != i+1 || h.Reply.From != net.Hops[i].Addr {
				t.Errorf("hop %d = ttl %d from %v; want ttl %d from %v", i, h.TTL, h.Reply.From, i+1, net.Hops[i].Addr)
			}
		}
		if len(seen) != 4 {
			t.Errorf("onHop saw %v; want 4 hops", seen)
		}
		// All TTLs in flight at once: the round lasts the slowest answer, not the sum.
		if d := r.End.Sub(r.Start); d != ms(4) {
			t.Errorf("round took %v; want 4ms", d)
		}
	})
}

func TestRoundWithSilentHopsTakesOneTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2), ms(3), ms(4), ms(5))
		net.Hops[1].Silent = true
		net.Hops[2].Silent = true
		tr, _ := New(net, Config{Target: net.Hops[4].Addr, Timeout: 500 * time.Millisecond}, nil)
		r, err := tr.Round(context.Background(), 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		if d := r.End.Sub(r.Start); d != 500*time.Millisecond {
			t.Errorf("round with two silent hops took %v; want one timeout (500ms)", d)
		}
		if r.Hops[1].Reply.Kind != probe.Timeout || r.Hops[2].Reply.Kind != probe.Timeout {
			t.Errorf("silent hops = %v, %v; want timeouts", r.Hops[1].Reply.Kind, r.Hops[2].Reply.Kind)
		}
	})
}

func TestLaterRoundsProbeOnlyPastThePathEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(1), ms(1))
		tr, _ := New(net, Config{Target: net.Hops[2].Addr, MaxHops: 30}, nil)
		if _, err := tr.Round(context.Background(), 1, nil); err != nil {
			t.Fatal(err)
		}
		before := len(net.Sent())
		if before != 30 {
			t.Fatalf("first round sent %d probes; want 30 (all TTLs)", before)
		}
		if _, err := tr.Round(context.Background(), 2, nil); err != nil {
			t.Fatal(err)
		}
		if got, want := len(net.Sent())-before, 3; got != want {
			t.Errorf("second round sent %d probes; want %d", got, want)
		}
	})
}

func TestPlanTTLs(t *testing.T) {
	base := Config{FirstTTL: 1, MaxHops: 30}
	tests := []struct {
		name        string
		cfg         Config
		knownEnd    int
		grow        bool
		first, last int
	}{
		{"unknown path", base, 0, false, 1, 30},
		{"known short path", base, 6, false, 1, 6},
		{"path grew", base, 6, true, 1, 30},
		{"path at max", base, 30, false, 1, 30},
		{"final hop only", Config{FirstTTL: 1, MaxHops: 30, FinalHopOnly: true}, 6, false, 30, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, l := planTTLs(tt.cfg, tt.knownEnd, tt.grow)
			if f != tt.first || l != tt.last {
				t.Errorf("planTTLs = %d..%d; want %d..%d", f, l, tt.first, tt.last)
			}
		})
	}
}

func TestUnreachableEndsThePath(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2), ms(3), ms(4))
		net.Hops[1].Unreachable = true
		tr, _ := New(net, Config{Target: net.Hops[3].Addr}, nil)
		r, _ := tr.Round(context.Background(), 1, nil)
		if r.EndTTL != 2 || r.Reached {
			t.Errorf("EndTTL=%d Reached=%v; want 2 false", r.EndTTL, r.Reached)
		}
	})
}

func TestConfigValidation(t *testing.T) {
	dst := probetest.Path(1).Hops[0].Addr
	bad := []Config{
		{},
		{Target: dst, MaxHops: 256},
		{Target: dst, Size: -1},
		{Target: dst, FirstTTL: 40},
		{Target: dst, Timeout: -time.Second},
	}
	for _, c := range bad {
		if _, err := c.WithDefaults(); err == nil {
			t.Errorf("WithDefaults(%+v) = nil error; want one", c)
		}
	}
	c, err := Config{Target: dst, Mode: probe.TCP}.WithDefaults()
	if err != nil || c.Port != DefaultTCPPort || c.MaxHops != 30 || c.Size != DefaultSize {
		t.Errorf("defaults = %+v, %v", c, err)
	}
}

// A destination that drops one probe has not moved: the round ends at its
// TTL with the destination lost, even when a probe sent further (in a round
// probing past it) reached it, and the next round probes no further.
func TestLostDestinationDoesNotLengthenThePath(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2), ms(3))
		// Round 1 asks the destination 8 times (TTLs 3..10); the probes of
		// rounds 2 and 3 (its 9th and 10th) are lost.
		drop := map[int]bool{8: true, 9: true}
		net.Hops[2].Lose = func(n int) bool { return drop[n] }
		tr, _ := New(net, Config{Target: net.Hops[2].Addr, MaxHops: 10, Timeout: 100 * time.Millisecond}, nil)
		r1, _ := tr.Round(context.Background(), 1, nil)
		if !r1.Reached || r1.EndTTL != 3 {
			t.Fatalf("round 1: reached %v at %d; want reached at 3", r1.Reached, r1.EndTTL)
		}
		before := len(net.Sent())
		r2, _ := tr.Round(context.Background(), 2, nil)
		if got := len(net.Sent()) - before; got != 3 {
			t.Errorf("round 2 sent %d probes; want 3 (up to the known end)", got)
		}
		if r2.Reached || r2.EndTTL != 3 || r2.Hops[2].Reply.Kind != probe.Timeout {
			t.Errorf("round 2: reached %v, EndTTL %d, hop 3 %v; want the destination lost at 3", r2.Reached, r2.EndTTL, r2.Hops[2].Reply.Kind)
		}
		r3, _ := tr.Round(context.Background(), 3, nil)
		if r3.Reached || r3.EndTTL != 3 || len(r3.Hops) != 3 {
			t.Errorf("round 3: reached %v, EndTTL %d, %d hops; want the destination lost again at 3", r3.Reached, r3.EndTTL, len(r3.Hops))
		}
		r4, _ := tr.Round(context.Background(), 4, nil)
		if !r4.Reached || r4.EndTTL != 3 {
			t.Errorf("round 4: reached %v at %d; want reached at 3", r4.Reached, r4.EndTTL)
		}
	})
}

// A router answering where the destination was means the path grew: the
// next round probes up to MaxHops and finds the new end.
func TestLongerPathIsFound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2), ms(3))
		tr, _ := New(net, Config{Target: net.Hops[2].Addr, MaxHops: 10}, nil)
		if r, _ := tr.Round(context.Background(), 1, nil); r.EndTTL != 3 {
			t.Fatalf("EndTTL %d; want 3", r.EndTTL)
		}
		longer := probetest.Path(ms(1), ms(2), ms(3), ms(4))
		net.SetHops(longer.Hops)
		r2, _ := tr.Round(context.Background(), 2, nil)
		if r2.Reached || r2.Hops[len(r2.Hops)-1].Reply.Kind != probe.TimeExceeded {
			t.Fatalf("round 2 = %+v; want a router at TTL 3 and no destination", r2)
		}
		r3, _ := tr.Round(context.Background(), 3, nil)
		if !r3.Reached || r3.EndTTL != 4 {
			t.Errorf("round 3: reached %v at %d; want the new end at 4", r3.Reached, r3.EndTTL)
		}
	})
}

// TestFinalHopOnlyIsOneHop: a final-hop-only probe leaves with TTL
// MaxHops (it must reach a destination at any distance) but the round
// shows the destination as hop 1 of a one-hop path, its refusal intact.
func TestFinalHopOnlyIsOneHop(t *testing.T) {
	tests := []struct {
		name       string
		refuse     bool
		wantClosed bool
	}{
		{name: "open port", refuse: false, wantClosed: false},
		{name: "closed port", refuse: true, wantClosed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				net := probetest.Path(ms(1), ms(2), ms(3))
				if tt.refuse {
					net.Hops[2].Refuse = probetest.Always
				}
				tr, err := New(net, Config{Target: net.Hops[2].Addr, Mode: probe.TCP, MaxHops: 30, FinalHopOnly: true}, nil)
				if err != nil {
					t.Fatal(err)
				}
				for round := 1; round <= 2; round++ {
					var seen []int
					r, err := tr.Round(context.Background(), round, func(h Hop) { seen = append(seen, h.TTL) })
					if err != nil {
						t.Fatal(err)
					}
					if !r.Reached || r.EndTTL != 1 || len(r.Hops) != 1 || r.Hops[0].TTL != 1 {
						t.Fatalf("round %d: Reached=%v EndTTL=%d hops=%+v; want the destination as hop 1 alone", round, r.Reached, r.EndTTL, r.Hops)
					}
					if got := r.Hops[0].Reply.Closed; got != tt.wantClosed {
						t.Errorf("round %d: Closed = %v; want %v", round, got, tt.wantClosed)
					}
					if len(seen) != 1 || seen[0] != 1 {
						t.Errorf("round %d: onHop saw TTLs %v; want [1]", round, seen)
					}
				}
				sent := net.Sent()
				if len(sent) != 2 || sent[0].TTL != 30 || sent[1].TTL != 30 || !sent[0].FinalHopOnly {
					t.Errorf("sent %+v; want two final-hop-only probes with TTL 30", sent)
				}
			})
		})
	}
}
