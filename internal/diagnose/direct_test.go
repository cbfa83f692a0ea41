package diagnose

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
)

// withDirect adds to each round of rounds (simulated over hs from round
// from on) one echo request to every router's own address, as direct hop
// pings send them: lost when a link on the way to the router loses it
// (each link its own chance, as in simulate) or the router drops its echo
// reply (echoLoss, by TTL).
func withDirect(seed uint64, rounds []Round, hs []simHop, from int, echoLoss map[int]float64) []Round {
	rng := rand.New(rand.NewPCG(seed, 11))
	for i := range rounds {
		if i < from {
			continue
		}
		for ttl := 1; ttl < len(hs); ttl++ {
			h := hs[ttl-1]
			if h.silent {
				continue // never answered: no address to ping
			}
			lost := rng.Float64() < echoLoss[ttl]
			for u := range ttl {
				if hs[u].linkLoss > 0 && rng.Float64() < hs[u].linkLoss {
					lost = true
				}
			}
			p := Direct{TTL: ttl, Addr: h.addr, Lost: lost}
			if !lost {
				p.RTT = h.rtt
			}
			rounds[i].Direct = append(rounds[i].Direct, p)
		}
	}
	return rounds
}

func hintOf(d Diagnosis, ttl int, k HintKind) (Hint, bool) {
	for _, h := range d.Hints {
		if h.TTL == ttl && h.Kind == k {
			return h, true
		}
	}
	return Hint{}, false
}

func TestAnalyzeDirectPings(t *testing.T) {
	clean := path(5)
	rateLimited2 := with(clean, 2, func(h *simHop) { h.replyLoss = 0.6 })
	lossInto3RateLimited := with(clean, 3, func(h *simHop) { h.linkLoss = 0.3; h.replyLoss = 0.7 })
	lossInto4After3RateLimited := with(with(clean, 3, func(h *simHop) { h.replyLoss = 0.7 }), 4, func(h *simHop) { h.linkLoss = 0.3 })
	// Hop 4 answers fewer than half of its probes, so the path "answers up
	// to hop 3"; only its direct pings can say why.
	destSilent4RateLimited := with(with(clean, 5, func(h *simHop) { h.drops = true }), 4, func(h *simHop) { h.replyLoss = 0.6 })
	for _, tc := range []struct {
		name       string
		hops       []simHop
		directFrom int // the first round with direct pings (fewer pings: fewer samples)
		echoLoss   map[int]float64
		what       What
		ttl, from  int
		conf       Confidence
		hintAt     int    // a rate-limited hint at this hop, 0: none anywhere
		evidence   string // in that hint's evidence
		notInHint  string // never in that hint's evidence
		text       string // in the diagnosis text
	}{
		{name: "rate-limited hop with clean echo replies", hops: rateLimited2, what: Healthy, conf: High,
			hintAt: 2, evidence: "its echo replies are clean: 0 of 60 lost"},
		{name: "rate-limited hop whose echo replies are limited too", hops: rateLimited2, echoLoss: map[int]float64{2: 0.6},
			what: Healthy, conf: High, hintAt: 2, evidence: "about as many", notInHint: "clean"},
		{name: "loss into a rate-limited hop is confirmed by its echo requests", hops: lossInto3RateLimited,
			what: Loss, ttl: 3, from: 2, conf: High, text: "echo requests to hop 3's own address are lost as often",
			hintAt: 3, evidence: "its echo replies lose less", notInHint: "clean"},
		{name: "clean echo replies of a rate-limited hop place the loss after it", hops: lossInto4After3RateLimited,
			what: Loss, ttl: 4, from: 3, conf: High, hintAt: 3, evidence: "its echo replies are clean"},
		{name: "only the direct pings can tell: the destination drops echo requests", hops: destSilent4RateLimited,
			what: DestinationSilent, ttl: 3, conf: High, hintAt: 4, evidence: "its echo replies are clean: 0 of 60 lost"},
		{name: "too few direct pings say nothing", hops: destSilent4RateLimited, directFrom: 45,
			what: DestinationSilent, ttl: 3, conf: High},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rounds := withDirect(3, simulate(3, 60, phase{0, tc.hops}), tc.hops, tc.directFrom, tc.echoLoss)
			d := Analyze(rounds, Options{})
			t.Logf("%s (%s): %s", d.Key(), d.Confidence, d.Text)
			for _, h := range d.Hints {
				t.Logf("  hop %d %s: %s", h.TTL, h.Kind, h.Evidence)
			}
			if d.What != tc.what || d.Where.TTL != tc.ttl {
				t.Fatalf("got %s at hop %d; want %s at hop %d", d.What, d.Where.TTL, tc.what, tc.ttl)
			}
			if tc.what == Loss && d.Where.From != tc.from {
				t.Errorf("Where.From = %d; want %d", d.Where.From, tc.from)
			}
			if d.Confidence != tc.conf {
				t.Errorf("confidence %s; want %s", d.Confidence, tc.conf)
			}
			if !strings.Contains(d.Text, tc.text) {
				t.Errorf("text %q; want it to contain %q", d.Text, tc.text)
			}
			if tc.hintAt == 0 {
				for _, h := range d.Hints {
					if h.Kind == HintRateLimited {
						t.Errorf("rate-limited hint at hop %d (%s); want none", h.TTL, h.Evidence)
					}
				}
				return
			}
			h, ok := hintOf(d, tc.hintAt, HintRateLimited)
			if !ok {
				t.Fatalf("no rate-limited hint at hop %d; hints %+v", tc.hintAt, d.Hints)
			}
			if !strings.Contains(h.Evidence, tc.evidence) {
				t.Errorf("evidence %q; want it to contain %q", h.Evidence, tc.evidence)
			}
			if tc.notInHint != "" && strings.Contains(h.Evidence, tc.notInHint) {
				t.Errorf("evidence %q; want no %q", h.Evidence, tc.notInHint)
			}
		})
	}
}

// TestDirectRateLimited is the rule's test over exact counts: a
// two-proportion test with minimum samples, so the same gap in
// percentage points decides differently with other counts.
func TestDirectRateLimited(t *testing.T) {
	for _, tc := range []struct {
		lost, sent, dl, ds int
		want               bool
		words              string
	}{
		{30, 60, 0, 60, true, "its echo replies are clean: 0 of 60 lost"},
		{30, 60, 0, 19, false, ""}, // too few direct pings
		{30, 19, 0, 60, false, ""}, // too few TTL-limited probes
		{4, 60, 0, 60, false, "about as many"},
		{30, 60, 25, 60, false, "about as many"},
		{12, 60, 2, 60, true, "its echo replies are clean: 2 of 60 lost"}, // z 2.84
		{10, 60, 2, 60, false, "about as many"},                           // z 2.43: not significant
		{50, 100, 20, 100, true, "its echo replies lose less: 20 of 100 lost (20%)"},
	} {
		h := &hopData{ttl: 2}
		for i := range tc.sent {
			h.obs = append(h.obs, obs{round: i, lost: i < tc.lost})
		}
		for i := range tc.ds {
			h.direct = append(h.direct, obs{round: i, lost: i < tc.dl})
		}
		words, ok := h.directRateLimited(tc.lost, tc.sent)
		if ok != tc.want || !strings.Contains(words, tc.words) {
			t.Errorf("directRateLimited(%d of %d, direct %d of %d) = %q, %v; want %v and %q",
				tc.lost, tc.sent, tc.dl, tc.ds, words, ok, tc.want, tc.words)
		}
	}
}

// TestDirectCorroborates: direct pings confirm a loss placed on the link
// into the hop only when they lose about as much as the destination and
// significantly more than the clean hop before.
func TestDirectCorroborates(t *testing.T) {
	for _, tc := range []struct {
		name               string
		dl, ds             int
		lost, sent, bl, bs int
		want               bool
	}{
		{"as lossy as the destination, the hop before clean", 18, 60, 18, 60, 0, 60, true},
		{"as lossy, no hop before (first link)", 18, 60, 18, 60, 0, 0, true},
		{"too few direct pings", 6, 19, 18, 60, 0, 60, false},
		{"too few direct losses", 4, 60, 6, 60, 0, 60, false},
		{"far cleaner than the destination", 1, 60, 18, 60, 0, 60, false},
		{"far lossier than the destination: echo replies limited too", 50, 60, 18, 60, 0, 60, false},
		{"no lossier than the hop before", 18, 60, 18, 60, 15, 60, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &analysis{hops: []hopData{{ttl: 1}}}
			for i := range tc.ds {
				a.hops[0].direct = append(a.hops[0].direct, obs{round: i, lost: i < tc.dl, from: netip.MustParseAddr("10.0.1.1")})
			}
			if _, _, got := a.directCorroborates(1, 0, tc.lost, tc.sent, tc.bl, tc.bs); got != tc.want {
				t.Errorf("directCorroborates(direct %d of %d, dest %d of %d, before %d of %d) = %v; want %v",
					tc.dl, tc.ds, tc.lost, tc.sent, tc.bl, tc.bs, got, tc.want)
			}
		})
	}
}

// TestDirectOnlyBeforeDestination: direct pings recorded at or past the
// destination's TTL are not a hop's.
func TestDirectOnlyBeforeDestination(t *testing.T) {
	hs := path(4)
	rounds := simulate(5, 30, phase{0, hs})
	for i := range rounds {
		rounds[i].Direct = append(rounds[i].Direct, Direct{TTL: 4, Addr: hs[3].addr, Lost: true}, Direct{TTL: 9, Addr: hs[3].addr, Lost: true})
	}
	d := Analyze(rounds, Options{Now: func() time.Time { return t0 }})
	if d.What != Healthy || len(d.Hints) != 0 {
		t.Errorf("got %s with hints %+v; want healthy with none", d.What, d.Hints)
	}
}

// TestWatcherAddDirect: direct pings handed to the Watcher after their
// round are read by the next diagnosis; pings for a round it does not hold
// (or a target it does not know) change nothing.
func TestWatcherAddDirect(t *testing.T) {
	hs := with(path(5), 2, func(h *simHop) { h.replyLoss = 0.6 })
	rounds := withDirect(3, simulate(3, 60, phase{0, hs}), hs, 0, nil)
	for _, tc := range []struct {
		name  string
		shift int // added to each round's index when its pings are handed over
		id    monitor.ID
		clean bool // the hint's evidence names clean echo replies
	}{
		{name: "each round's pings", id: "t", clean: true},
		{name: "pings for rounds it does not hold", shift: 1000, id: "t"},
		{name: "pings of another target", id: "other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := NewWatcher(WatcherConfig{Now: func() time.Time { return t0 }})
			ev := &events{}
			for _, r := range rounds {
				direct := r.Direct
				r.Direct = nil
				feed(w, ev, "t", []Round{r})
				w.AddDirect(tc.id, r.Index+tc.shift, direct)
			}
			d, _ := w.Latest("t")
			h, ok := hintOf(d, 2, HintRateLimited)
			if !ok {
				t.Fatalf("no rate-limited hint at hop 2; hints %+v", d.Hints)
			}
			// The last round's pings came after the last diagnosis: 59.
			if got := strings.Contains(h.Evidence, "its echo replies are clean: 0 of 59 lost"); got != tc.clean {
				t.Errorf("evidence %q names clean echo replies: %v; want %v", h.Evidence, got, tc.clean)
			}
		})
	}
}
