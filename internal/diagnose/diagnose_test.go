package diagnose

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// simHop is one hop of a simulated path: the router (or, last, the
// destination) and the link into it.
type simHop struct {
	addr      netip.Addr
	rtt       time.Duration // round trip to it with no jitter
	jitter    time.Duration // uniform ± on each reply
	linkLoss  float64       // forward loss on the link into it: every probe crossing it
	replyLoss float64       // the hop drops its own reply (rate limiting)
	silent    bool          // it never replies
	drops     bool          // (destination) it drops this probe type
}

// phase is the path from round from on.
type phase struct {
	from int
	hops []simHop
}

var t0 = time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)

func addr(a, b, c, d byte) netip.Addr { return netip.AddrFrom4([4]byte{a, b, c, d}) }

// path returns n hops with RTT 1 ms per hop at 10.0.<i>.1, the last the destination.
func path(n int) []simHop {
	hs := make([]simHop, n)
	for i := range hs {
		hs[i] = simHop{addr: addr(10, 0, byte(i+1), 1), rtt: time.Duration(i+1) * time.Millisecond}
	}
	return hs
}

// with returns a copy of hs with hop ttl changed by f.
func with(hs []simHop, ttl int, f func(*simHop)) []simHop {
	out := append([]simHop(nil), hs...)
	f(&out[ttl-1])
	return out
}

// simulate runs n rounds, one a second, over the phases (the first must
// start at 0). Each TTL's probe crosses the links up to its hop, each with
// its own chance of loss, as separate packets do.
func simulate(seed uint64, n int, phases ...phase) []Round {
	rng := rand.New(rand.NewPCG(seed, 7))
	var out []Round
	for i := range n {
		hs := phases[0].hops
		for _, p := range phases {
			if i >= p.from {
				hs = p.hops
			}
		}
		r := Round{Index: i + 1, Time: t0.Add(time.Duration(i) * time.Second)}
		// As the tracer does: a round ends at the destination's TTL once
		// it is known; only a destination that never answers is probed
		// past.
		last := len(hs)
		if hs[len(hs)-1].drops {
			last += 2
		}
		for ttl := 1; ttl <= last; ttl++ {
			h := hs[min(ttl, len(hs))-1]
			dest := ttl >= len(hs)
			p := Probe{TTL: ttl, Lost: true}
			through := true
			for u := 0; u < min(ttl, len(hs)); u++ {
				if hs[u].linkLoss > 0 && rng.Float64() < hs[u].linkLoss {
					through = false
				}
			}
			if through && !h.silent && !(dest && h.drops) && !(h.replyLoss > 0 && rng.Float64() < h.replyLoss) {
				j := time.Duration(0)
				if h.jitter > 0 {
					j = time.Duration((rng.Float64()*2 - 1) * float64(h.jitter))
				}
				p = Probe{TTL: ttl, From: h.addr, RTT: max(h.rtt+j, 10*time.Microsecond), Reached: dest}
			}
			r.Probes = append(r.Probes, p)
			if p.Reached {
				break
			}
		}
		out = append(out, r)
	}
	return out
}

// addDelay adds d to the round trip of every hop from ttl on.
func addDelay(hs []simHop, ttl int, d time.Duration) []simHop {
	out := append([]simHop(nil), hs...)
	for i := ttl - 1; i < len(out); i++ {
		out[i].rtt += d
	}
	return out
}

func addJitter(hs []simHop, ttl int, j time.Duration) []simHop {
	out := append([]simHop(nil), hs...)
	for i := ttl - 1; i < len(out); i++ {
		out[i].jitter += j
	}
	return out
}

func hasHint(d Diagnosis, ttl int, k HintKind) bool {
	for _, h := range d.Hints {
		if h.TTL == ttl && h.Kind == k {
			return true
		}
	}
	return false
}

func TestAnalyzeRules(t *testing.T) {
	clean := path(5)
	rerouted := with(clean, 2, func(h *simHop) { h.addr = addr(10, 9, 2, 1) })
	for _, tc := range []struct {
		name      string
		n         int
		phases    []phase
		opt       Options
		what      What
		ttl       int // Where.TTL
		from      int // Where.From, -1: not checked
		sinceAt   int // the round Since must be within 3 rounds of; -1: the window's start
		minConf   Confidence
		maxConf   Confidence
		hints     map[int]HintKind
		noHintsAt []int
	}{
		{name: "too few rounds", n: 12, phases: []phase{{0, clean}}, what: NotEnoughData, from: -1, sinceAt: -2, minConf: Low, maxConf: Low},
		{name: "clean path", n: 60, phases: []phase{{0, clean}}, what: Healthy, from: -1, sinceAt: -2, minConf: High, maxConf: High,
			noHintsAt: []int{1, 2, 3, 4, 5}},
		{name: "hop 2 rate-limits its replies", n: 60, phases: []phase{{0, with(clean, 2, func(h *simHop) { h.replyLoss = 0.6 })}},
			what: Healthy, from: -1, sinceAt: -2, minConf: High, maxConf: High, hints: map[int]HintKind{2: HintRateLimited}},
		{name: "hop 2 never answers", n: 60, phases: []phase{{0, with(clean, 2, func(h *simHop) { h.silent = true })}},
			what: Healthy, from: -1, sinceAt: -2, minConf: High, maxConf: High, hints: map[int]HintKind{2: HintSilent}},
		{name: "loss on the last link", n: 60, phases: []phase{{0, with(clean, 5, func(h *simHop) { h.linkLoss = 0.25 })}},
			what: Loss, ttl: 5, from: 4, sinceAt: -1, minConf: High, maxConf: High},
		{name: "loss from the link into hop 3 carries on", n: 60, phases: []phase{{0, with(clean, 3, func(h *simHop) { h.linkLoss = 0.3 })}},
			what: Loss, ttl: 3, from: 2, sinceAt: -1, minConf: High, maxConf: High,
			hints: map[int]HintKind{3: HintCarried, 4: HintCarried}},
		{name: "loss into hop 3, which also rate-limits", n: 60,
			phases: []phase{{0, with(clean, 3, func(h *simHop) { h.linkLoss = 0.3; h.replyLoss = 0.7 })}},
			what:   Loss, ttl: 3, from: 2, sinceAt: -1, minConf: Low, maxConf: Medium},
		{name: "loss that grows: 15 % into hop 3 and 15 % more into hop 5", n: 300,
			phases: []phase{{0, with(with(clean, 3, func(h *simHop) { h.linkLoss = 0.15 }), 5, func(h *simHop) { h.linkLoss = 0.15 })}},
			what:   Loss, ttl: 3, from: 2, sinceAt: -1, minConf: Medium, maxConf: High},
		{name: "loss on the first link", n: 60, phases: []phase{{0, with(clean, 1, func(h *simHop) { h.linkLoss = 0.3 })}},
			what: Loss, ttl: 1, from: 0, sinceAt: -1, minConf: Medium, maxConf: Medium},
		{name: "loss starting late is found within 60 rounds", n: 260,
			phases: []phase{{0, clean}, {200, with(clean, 4, func(h *simHop) { h.linkLoss = 0.25 })}},
			what:   Loss, ttl: 4, from: 3, sinceAt: 200, minConf: Medium, maxConf: High},
		{name: "loss that no hop places", n: 60, phases: []phase{{0, with(with(with(with(clean, 1, func(h *simHop) { h.replyLoss = 0.5 }),
			2, func(h *simHop) { h.replyLoss = 0.5 }), 3, func(h *simHop) { h.replyLoss = 0.5 }), 3, func(h *simHop) { h.linkLoss = 0.2 })}},
			what: Loss, ttl: 0, from: 0, sinceAt: -1, minConf: Low, maxConf: Medium},
		{name: "latency step into hop 3", n: 100, phases: []phase{{0, clean}, {40, addDelay(clean, 3, 20*time.Millisecond)}},
			what: Latency, ttl: 3, from: 2, sinceAt: 40, minConf: High, maxConf: High, hints: map[int]HintKind{3: HintLatencyStep}},
		{name: "a latency step that ended is healthy", n: 140,
			phases: []phase{{0, clean}, {40, addDelay(clean, 3, 20*time.Millisecond)}, {100, clean}},
			what:   Healthy, from: -1, sinceAt: -2, minConf: High, maxConf: High},
		{name: "latency step on the last link", n: 100, phases: []phase{{0, clean}, {40, addDelay(clean, 5, 20*time.Millisecond)}},
			what: Latency, ttl: 5, from: 4, sinceAt: 40, minConf: High, maxConf: High},
		{name: "jitter from hop 4", n: 100,
			phases: []phase{{0, addJitter(clean, 1, 100*time.Microsecond)}, {40, addJitter(addJitter(clean, 1, 100*time.Microsecond), 4, 15*time.Millisecond)}},
			what:   Jitter, ttl: 4, from: 3, sinceAt: 40, minConf: Medium, maxConf: High},
		{name: "route change at hop 2", n: 80, phases: []phase{{0, clean}, {40, rerouted}},
			what: RouteChange, ttl: 2, from: -1, sinceAt: 40, minConf: High, maxConf: High},
		{name: "path breaks after hop 3", n: 60, phases: []phase{{0, clean}, {40, with(clean, 4, func(h *simHop) { h.linkLoss = 1 })}},
			what: PathBroken, ttl: 3, from: -1, sinceAt: 40, minConf: High, maxConf: High},
		{name: "destination drops echo requests", n: 60, phases: []phase{{0, with(clean, 5, func(h *simHop) { h.drops = true })}},
			what: DestinationSilent, ttl: 4, from: -1, sinceAt: -1, minConf: High, maxConf: High},
		{name: "silent all window but answered before: broken", n: 60, opt: Options{EverAnswered: true},
			phases: []phase{{0, with(clean, 5, func(h *simHop) { h.drops = true })}},
			what:   PathBroken, ttl: 4, from: -1, sinceAt: -1, minConf: Medium, maxConf: Medium},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rounds := simulate(1, tc.n, tc.phases...)
			d := Analyze(rounds, tc.opt)
			t.Logf("%s: %s", d.Key(), d.Text)
			if d.What != tc.what || (tc.what != NotEnoughData && tc.what != Healthy && d.Where.TTL != tc.ttl) {
				t.Fatalf("got %s at hop %d; want %s at hop %d (%s)", d.What, d.Where.TTL, tc.what, tc.ttl, d.Text)
			}
			if tc.from >= 0 && d.Where.From != tc.from {
				t.Errorf("Where.From = %d; want %d", d.Where.From, tc.from)
			}
			switch {
			case tc.sinceAt == -1 && !d.Since.Equal(t0):
				t.Errorf("Since = %v; want the window's start %v", d.Since, t0)
			case tc.sinceAt >= 0:
				want := t0.Add(time.Duration(tc.sinceAt) * time.Second)
				if diff := d.Since.Sub(want); diff < -3*time.Second || diff > 3*time.Second {
					t.Errorf("Since = %v; want within 3 rounds of %v", d.Since, want)
				}
			}
			rank := map[Confidence]int{Low: 0, Medium: 1, High: 2}
			if rank[d.Confidence] < rank[tc.minConf] || rank[d.Confidence] > rank[tc.maxConf] {
				t.Errorf("confidence %s; want %s to %s", d.Confidence, tc.minConf, tc.maxConf)
			}
			for ttl, k := range tc.hints {
				if !hasHint(d, ttl, k) {
					t.Errorf("no %q hint at hop %d; hints %+v", k, ttl, d.Hints)
				}
			}
			for _, ttl := range tc.noHintsAt {
				for _, h := range d.Hints {
					if h.TTL == ttl {
						t.Errorf("hint %q at hop %d on a clean path", h.Kind, ttl)
					}
				}
			}
			if d.Text == "" {
				t.Error("empty text")
			}
		})
	}
}

// TestAnalyzeCleanNeverRaises runs many noisy but healthy paths (jitter,
// a stalled reply now and then, rare loss, a rate-limited hop): the
// diagnosis must stay healthy every time.
func TestAnalyzeCleanNeverRaises(t *testing.T) {
	base := addJitter(path(6), 1, 300*time.Microsecond)
	base = with(base, 3, func(h *simHop) { h.replyLoss = 0.3 })
	base = with(base, 6, func(h *simHop) { h.linkLoss = 0.005 })
	for seed := uint64(1); seed <= 200; seed++ {
		rounds := simulate(seed, 300, phase{0, base})
		rng := rand.New(rand.NewPCG(seed, 99))
		for i := range rounds {
			if rng.Float64() < 0.02 { // a VM stall: one round's replies 5-60 ms late
				stall := time.Duration(5+rng.IntN(56)) * time.Millisecond
				for j := range rounds[i].Probes {
					if !rounds[i].Probes[j].Lost {
						rounds[i].Probes[j].RTT += stall
					}
				}
			}
		}
		for _, n := range []int{20, 60, 300} {
			if d := Analyze(rounds[len(rounds)-n:], Options{}); d.What != Healthy {
				t.Fatalf("seed %d, %d rounds: got %s (%s) at hop %d; want healthy: %s", seed, n, d.What, d.Confidence, d.Where.TTL, d.Text)
			}
		}
	}
}

// TestAnalyzeOverScriptedNetwork runs the tracer over probetest's scripted
// network: a silent hop and a hop whose replies are mostly lost, with a
// clean destination, read from real trace rounds through FromTrace.
func TestAnalyzeOverScriptedNetwork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
		net := probetest.Path(ms(1), ms(2), ms(3), ms(4), ms(5))
		net.Hops[1].Silent = true
		net.Hops[2].Lose = func(n int) bool { return n%3 != 0 } // two in three replies lost
		dst := net.Hops[4].Addr
		tr, err := trace.New(net, trace.Config{Target: dst, Timeout: 200 * time.Millisecond}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var rounds []Round
		for i := 1; i <= 60; i++ {
			r, err := tr.Round(context.Background(), i, nil)
			if err != nil {
				t.Fatal(err)
			}
			rounds = append(rounds, FromTrace(r))
		}
		d := Analyze(rounds, Options{Target: dst, Mode: probe.ICMP.String()})
		if d.What != Healthy {
			t.Fatalf("got %s: %s; want healthy", d.What, d.Text)
		}
		if !hasHint(d, 2, HintSilent) || !hasHint(d, 3, HintRateLimited) {
			t.Errorf("hints %+v; want hop 2 %q and hop 3 %q", d.Hints, HintSilent, HintRateLimited)
		}
	})
}

// TestFromTraceLeavesOutUnsent: a probe the system refused is not a loss.
func TestFromTraceLeavesOutUnsent(t *testing.T) {
	r := trace.Round{Index: 1, Start: t0, Hops: []trace.Hop{
		{TTL: 1, Reply: probe.Reply{Kind: probe.TimeExceeded, From: addr(10, 0, 1, 1), RTT: time.Millisecond}},
		{TTL: 2, Reply: probe.Reply{Kind: probe.Failed}},
		{TTL: 3, Reply: probe.Reply{Kind: probe.Timeout}},
		{TTL: 4, Reply: probe.Reply{Kind: probe.Unreachable, From: addr(10, 0, 4, 1)}},
		{TTL: 5, Reply: probe.Reply{Kind: probe.Reached, From: addr(10, 0, 5, 1)}},
	}}
	got := FromTrace(r)
	want := []Probe{
		{TTL: 1, From: addr(10, 0, 1, 1), RTT: time.Millisecond},
		{TTL: 3, Lost: true},
		{TTL: 4, From: addr(10, 0, 4, 1), Unreachable: true},
		{TTL: 5, From: addr(10, 0, 5, 1), Reached: true},
	}
	if len(got.Probes) != len(want) {
		t.Fatalf("got %d probes %+v; want %d", len(got.Probes), got.Probes, len(want))
	}
	for i := range want {
		if got.Probes[i] != want[i] {
			t.Errorf("probe %d = %+v; want %+v", i, got.Probes[i], want[i])
		}
	}
}

func TestStats(t *testing.T) {
	for _, tc := range []struct {
		k, n   int
		lo, hi float64
	}{{0, 20, 0, 0.161}, {15, 60, 0.158, 0.372}, {0, 0, 0, 1}} {
		lo, hi := wilson(tc.k, tc.n, 1.96)
		if diff(lo, tc.lo) > 0.002 || diff(hi, tc.hi) > 0.002 {
			t.Errorf("wilson(%d, %d) = %.3f-%.3f; want %.3f-%.3f", tc.k, tc.n, lo, hi, tc.lo, tc.hi)
		}
	}
	if z := twoPropZ(0, 60, 15, 60); diff(z, 4.14) > 0.01 {
		t.Errorf("twoPropZ(0/60, 15/60) = %.3f; want 4.14", z)
	}
	a := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8}
	b := []time.Duration{11, 12, 13, 14, 15, 16, 17, 18}
	if z := rankSumZ(a, b); diff(z, 3.36) > 0.01 {
		t.Errorf("rankSumZ = %.3f; want 3.36", z)
	}
	xs := append(append([]time.Duration{}, a...), b...)
	if k, _, ok := bestSplit(xs, 4); !ok || k != 8 {
		t.Errorf("bestSplit = %d, %v; want 8, true", k, ok)
	}
	if m, s := median([]time.Duration{5, 1, 3, 100}), spread([]time.Duration{1, 2, 3, 4, 1000}); m != 4 || s != 1 {
		t.Errorf("median = %v, spread = %v; want 4 and 1", m, s)
	}
}

func diff(a, b float64) float64 {
	if a > b {
		return a - b
	}
	return b - a
}
