package hopstat

import (
	"math"
	"time"
)

// RestoreAcc rebuilds an accumulator from the Stats it exported, so that a
// saved session goes on counting where it stopped. Welford's state comes
// back as mean = Avg and m2 = StdDev²·(Recv−1), the jitter sum as
// Jitter·(Recv−1). Stats are rounded to whole nanoseconds, so figures
// folded after a restore can differ from an uninterrupted run by about a
// nanosecond; the counts, Last, Best, Worst and JitterMax are exact.
func RestoreAcc(s Stats) Acc {
	a := Acc{sent: s.Sent, recv: s.Recv, refused: min(s.Refused, s.Recv)}
	if s.Recv == 0 {
		return a
	}
	a.last, a.best, a.worst = s.Last, s.Best, s.Worst
	a.mean = float64(s.Avg)
	if s.Recv > 1 {
		sd := float64(s.StdDev)
		a.m2 = sd * sd * float64(s.Recv-1)
		a.jsum = time.Duration(math.Round(float64(s.Jitter) * float64(s.Recv-1)))
		a.jmax = s.JitterMax
	}
	return a
}

// Restore replaces p's state with hops, as Hops returned them after rounds
// rounds, so that rounds folded next continue the same statistics. recent,
// if not nil, holds each TTL's most recent RTTs (oldest first) to refill
// the percentile window. Hop and responder order is kept: responders with
// as many replies as each other stay in the order hops gives them.
//
// Hops lists TTLs up to the destination only, so the statistics of TTLs
// past it (left from a path that was longer) do not come back.
func (p *Path) Restore(rounds int, hops []Hop, recent map[int][]time.Duration) {
	*p = Path{Window: p.Window, rounds: rounds}
	for _, h := range hops {
		if h.TTL < 1 || h.TTL > MaxTTL {
			continue
		}
		if h.TTL > len(p.ttls) {
			p.ttls = append(p.ttls, make([]ttlAcc, h.TTL-len(p.ttls))...)
		}
		p.probed = max(p.probed, h.TTL)
		if h.Reached {
			p.dest = h.TTL
		}
		t := &p.ttls[h.TTL-1]
		t.acc = RestoreAcc(h.Stats)
		t.resp = make([]respAcc, len(h.Responders))
		for i, r := range h.Responders {
			// Hops orders ties by the round last seen, most recent first;
			// counting down from rounds keeps the saved order.
			t.resp[i] = respAcc{addr: r.Addr, acc: RestoreAcc(r.Stats), seen: rounds - i}
		}
		if p.Window > 0 {
			t.recent = NewSortedRing(p.Window)
			for _, v := range recent[h.TTL] {
				t.recent.Add(v)
			}
		}
	}
}

// SetWindow changes how many recent RTTs each TTL keeps for percentiles,
// keeping the most recent ones (assigning Window would drop them all at
// the next round). A TTL never answered gets its window at its first reply.
func (p *Path) SetWindow(n int) {
	n = max(n, 0)
	if n == p.Window {
		return
	}
	p.Window = n
	var buf []time.Duration
	for i := range p.ttls {
		t := &p.ttls[i]
		buf = t.recent.AppendTo(buf[:0])
		t.recent = NewSortedRing(n)
		for _, v := range buf[max(0, len(buf)-n):] {
			t.recent.Add(v)
		}
	}
}
