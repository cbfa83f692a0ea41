package hopstat

import (
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

func TestRestoreAcc(t *testing.T) {
	series := [][]op{
		nil,
		{loss, loss},
		{7 * ms},
		{10 * ms, loss, 14 * ms, 11 * ms, 15 * ms},
		{100 * ms, 10 * ms, 1 * ms, loss},
	}
	more := []op{12 * ms, loss, 9 * ms, 30 * ms}
	for _, s := range series {
		var whole, first Acc
		feed := func(a *Acc, ops []op) {
			for _, o := range ops {
				if o == loss {
					a.AddLoss()
				} else {
					a.Add(o)
				}
			}
		}
		feed(&whole, s)
		feed(&whole, more)
		feed(&first, s)
		restored := RestoreAcc(first.Stats())
		if got, want := restored.Stats(), first.Stats(); got != want {
			t.Errorf("RestoreAcc(%+v).Stats() = %+v; want the same", want, got)
		}
		feed(&restored, more)
		if got, want := restored.Stats(), whole.Stats(); !closeStats(got, want) {
			t.Errorf("after %v: restored then %v = %+v; want %+v", s, more, got, want)
		}
	}
}

// closeStats compares Stats allowing the nanosecond a restore can cost
// (see RestoreAcc).
func closeStats(a, b Stats) bool {
	near := func(x, y time.Duration) bool { return x-y <= 1 && y-x <= 1 }
	return a.Sent == b.Sent && a.Recv == b.Recv && a.Last == b.Last && a.Best == b.Best &&
		a.Worst == b.Worst && a.JitterMax == b.JitterMax && a.P50 == b.P50 && a.P95 == b.P95 &&
		near(a.Avg, b.Avg) && near(a.StdDev, b.StdDev) && near(a.Jitter, b.Jitter)
}

// TestPathRestoreRoundTrip folds rounds, exports the hops, restores them
// into a new Path, folds more rounds into both and expects the same hops
// as folding everything: the session save/load guarantee.
func TestPathRestoreRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const window = 16
	round := func() []Sample {
		var s []Sample
		for ttl := 1; ttl <= 6; ttl++ {
			rtt := time.Duration(ttl)*ms + time.Duration(rng.IntN(5000))*time.Microsecond
			switch {
			case rng.IntN(10) == 0:
				s = append(s, lost(ttl))
			case ttl == 6:
				s = append(s, reached(ttl, rtt))
			case ttl == 3: // ECMP: two responders, unequal shares
				s = append(s, hit(ttl, []netip.Addr{ecmA, ecmB, ecmA}[rng.IntN(3)], rtt))
			default:
				s = append(s, hit(ttl, netip.AddrFrom4([4]byte{10, 0, byte(ttl), 1}), rtt))
			}
		}
		return s
	}
	var rounds [][]Sample
	for range 300 {
		rounds = append(rounds, round())
	}
	whole := Path{Window: window}
	first := Path{Window: window}
	recent := map[int][]time.Duration{}
	for i, r := range rounds {
		whole.AddRound(r)
		if i < 200 {
			first.AddRound(r)
			for _, s := range r {
				if !s.Lost {
					recent[s.TTL] = append(recent[s.TTL], s.RTT)
				}
			}
		}
	}
	restored := Path{Window: window}
	restored.Restore(first.Rounds(), first.Hops(), recent)
	if got, want := restored.Hops(), first.Hops(); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored Hops() = %+v;\nwant %+v", got, want)
	}
	for _, r := range rounds[200:] {
		restored.AddRound(r)
	}
	got, want := restored.Hops(), whole.Hops()
	if restored.Rounds() != whole.Rounds() || restored.DestTTL() != whole.DestTTL() || len(got) != len(want) {
		t.Fatalf("restored: %d rounds, dest %d, %d hops; want %d, %d, %d",
			restored.Rounds(), restored.DestTTL(), len(got), whole.Rounds(), whole.DestTTL(), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.TTL != w.TTL || g.Reached != w.Reached || !closeStats(g.Stats, w.Stats) || len(g.Responders) != len(w.Responders) {
			t.Errorf("hop %d = %+v; want %+v", w.TTL, g, w)
			continue
		}
		for j := range w.Responders {
			if g.Responders[j].Addr != w.Responders[j].Addr || !closeStats(g.Responders[j].Stats, w.Responders[j].Stats) {
				t.Errorf("hop %d responder %d = %+v; want %+v", w.TTL, j, g.Responders[j], w.Responders[j])
			}
		}
	}
}

func TestPathSetWindowKeepsRecent(t *testing.T) {
	p := Path{Window: 4}
	for _, v := range []time.Duration{1, 2, 3, 4, 5} {
		p.AddRound([]Sample{hit(1, r1, v*ms)})
	}
	p.SetWindow(2) // keeps 4 and 5
	if h := p.Hops()[0]; h.Stats.P50 != 4500*time.Microsecond {
		t.Errorf("after SetWindow(2), P50 = %v; want 4.5ms", h.Stats.P50)
	}
	p.SetWindow(10) // keeps 4 and 5, room for more
	p.AddRound([]Sample{hit(1, r1, 6*ms)})
	if h := p.Hops()[0]; h.Stats.P50 != 5*ms {
		t.Errorf("after SetWindow(10) and one more, P50 = %v; want 5ms", h.Stats.P50)
	}
	if n := testing.AllocsPerRun(10, func() { p.AddRound([]Sample{hit(1, r1, 6*ms)}) }); n != 0 {
		t.Errorf("AddRound after SetWindow allocates %v times; want 0", n)
	}
}
