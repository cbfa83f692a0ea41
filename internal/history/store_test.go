package history_test

import (
	"context"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/history/historytest"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/trace"
)

var t0 = time.Date(2026, 3, 4, 21, 0, 0, 0, time.UTC)

// clock is a fake clock for Options.Now, safe from the writer's goroutine.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func openStore(t *testing.T, o history.Options) *history.Store {
	t.Helper()
	if o.Path == "" {
		o.Path = filepath.Join(history.ScratchDir(t), "history.db")
	}
	if o.Now == nil {
		// Just past the rounds: a later clock would age them out.
		c := &clock{now: t0.Add(48 * time.Hour)}
		o.Now = c.Now
	}
	st, err := history.Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func readRounds(t *testing.T, st *history.Store, key string, from, to time.Time) []trace.Round {
	t.Helper()
	var out []trace.Round
	if err := st.Rounds(context.Background(), key, from, to, func(r trace.Round) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatalf("Rounds: %v", err)
	}
	return out
}

// sameRound compares what the store keeps of a round: index, start and
// end to the ms, end TTL, and each probe's TTL, kind, responder, RTT to
// the µs and Closed.
func sameRound(t *testing.T, got, want trace.Round) {
	t.Helper()
	if got.Index != want.Index || !got.Start.Equal(want.Start.Truncate(time.Millisecond)) ||
		got.EndTTL != want.EndTTL || got.Reached != want.Reached {
		t.Fatalf("round %d: got index %d start %v end TTL %d reached %v; want %d %v %d %v", want.Index,
			got.Index, got.Start, got.EndTTL, got.Reached, want.Index, want.Start, want.EndTTL, want.Reached)
	}
	wantEnd := time.Time{}
	if !want.End.IsZero() {
		wantEnd = want.Start.Truncate(time.Millisecond).Add(want.End.Sub(want.Start).Truncate(time.Millisecond))
	}
	if !got.End.Equal(wantEnd) {
		t.Fatalf("round %d: got end %v; want %v", want.Index, got.End, wantEnd)
	}
	if len(got.Hops) != len(want.Hops) {
		t.Fatalf("round %d: got %d hops; want %d", want.Index, len(got.Hops), len(want.Hops))
	}
	for i, w := range want.Hops {
		g := got.Hops[i]
		wr := w.Reply
		rtt := wr.RTT.Truncate(time.Microsecond)
		if wr.Kind == probe.Timeout || wr.Kind == probe.Failed {
			rtt = 0
		}
		if g.TTL != w.TTL || g.Reply.Kind != wr.Kind || g.Reply.From != wr.From || g.Reply.RTT != rtt || g.Reply.Closed != wr.Closed {
			t.Fatalf("round %d hop %d: got ttl %d %v from %v rtt %v closed %v; want ttl %d %v from %v rtt %v closed %v", want.Index, i,
				g.TTL, g.Reply.Kind, g.Reply.From, g.Reply.RTT, g.Reply.Closed, w.TTL, wr.Kind, wr.From, rtt, wr.Closed)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	v6 := netip.MustParseAddr("2001:db8::7")
	odd := func() []trace.Round {
		// Rounds the generator does not make: gaps in TTLs, every kind,
		// an unknown end, sub-ms starts, out-of-order indexes.
		at := t0.Add(1234567 * time.Microsecond)
		mk := func(i int, d time.Duration, hops ...trace.Hop) trace.Round {
			return trace.Round{Index: i, Start: at.Add(d), Hops: hops}
		}
		h := func(ttl int, k probe.Kind, from netip.Addr, rtt time.Duration, closed bool) trace.Hop {
			return trace.Hop{TTL: ttl, Reply: probe.Reply{Kind: k, From: from, RTT: rtt, Closed: closed}}
		}
		a := netip.MustParseAddr("192.0.2.1")
		r1 := mk(7, 0, h(3, probe.TimeExceeded, a, 1500*time.Microsecond+999, false), h(5, probe.Unreachable, v6, 20*time.Millisecond, false))
		r1.EndTTL = 5
		r1.End = r1.Start.Add(25*time.Millisecond + 700*time.Microsecond)
		r2 := mk(3, 999*time.Millisecond, h(1, probe.Failed, netip.Addr{}, 0, false), h(2, probe.Timeout, netip.Addr{}, 0, false),
			h(3, probe.Reached, a, 900*time.Millisecond, true))
		r2.EndTTL, r2.Reached = 3, true
		r3 := mk(100000, 59*time.Second, h(1, probe.TimeExceeded, netip.Addr{}, 5*time.Millisecond, false), h(2, probe.Reached, v6, 3*time.Second, false))
		r3.EndTTL, r3.Reached = 2, true
		r3.End = r3.Start.Add(3 * time.Second)
		return []trace.Round{r1, r2, r3}
	}
	cases := []struct {
		name   string
		rounds []trace.Round
	}{
		{"steady path", (&historytest.Gen{Hops: historytest.Path(12, nil), Start: t0}).Rounds(200)},
		{"loss and ECMP", (&historytest.Gen{Hops: func() []historytest.Hop {
			p := historytest.Path(8, map[int]float64{3: 0.3, 8: 0.1})
			p[4].Alt = netip.MustParseAddr("10.9.9.9")
			p[5].Addr = netip.Addr{}
			return p
		}(), Start: t0, Interval: 100 * time.Millisecond, Seed: 2}).Rounds(3000)},
		{"closed port, first TTL 4", (&historytest.Gen{Hops: historytest.Path(6, nil), Start: t0, FirstTTL: 4, Closed: true}).Rounds(130)},
		{"odd rounds", odd()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := openStore(t, history.Options{})
			historytest.Fill(t, st, "web", "example.net", c.rounds)
			got := readRounds(t, st, "web", t0.Add(-time.Hour), t0.Add(24*time.Hour))
			if len(got) != len(c.rounds) {
				t.Fatalf("got %d rounds; want %d", len(got), len(c.rounds))
			}
			want := c.rounds
			if c.name == "odd rounds" {
				// Stored by start time.
				want = []trace.Round{c.rounds[0], c.rounds[1], c.rounds[2]}
			}
			for i := range want {
				sameRound(t, got[i], want[i])
			}
			ti, err := st.Target(context.Background(), "web")
			if err != nil {
				t.Fatal(err)
			}
			if ti.Rounds != int64(len(c.rounds)) || ti.Host != "example.net" {
				t.Errorf("target: got %d rounds, host %q; want %d, example.net", ti.Rounds, ti.Host, len(c.rounds))
			}
			if s := st.Status(); s.Rounds != int64(len(c.rounds)) || s.LastError != "" {
				t.Errorf("status: got %d rounds, error %q; want %d, none", s.Rounds, s.LastError, len(c.rounds))
			}
		})
	}
}

// TestAge: historytest.Age makes a closed file's rounds, rollups and
// events look older by the same amount.
func TestAge(t *testing.T) {
	rounds := (&historytest.Gen{Hops: historytest.Path(5, nil), Start: t0}).Rounds(300)
	path := filepath.Join(history.ScratchDir(t), "history.db")
	st := openStore(t, history.Options{Path: path})
	historytest.Fill(t, st, "web", "example.net", rounds)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	for _, by := range []time.Duration{24 * time.Hour, 90 * time.Second} {
		if err := historytest.Age(path, by); err != nil {
			t.Fatalf("Age(%v): %v", by, err)
		}
	}
	shift := 24*time.Hour + 90*time.Second
	st = openStore(t, history.Options{Path: path})
	got := readRounds(t, st, "web", t0.Add(-shift), t0.Add(-shift).Add(time.Hour))
	if len(got) != len(rounds) || !got[0].Start.Equal(t0.Add(-shift)) {
		t.Fatalf("%d rounds from %v; want %d from %v", len(got), got[0].Start, len(rounds), t0.Add(-shift))
	}
	sum, err := st.Summary(context.Background(), "web", t0.Add(-shift), t0.Add(-shift).Add(7*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rounds != len(rounds) || sum.Exact {
		t.Errorf("7 h summary of the aged file: %d rounds, exact %v; want %d from the rollups", sum.Rounds, sum.Exact, len(rounds))
	}
	ti, _ := st.Target(context.Background(), "web")
	if !ti.First.Equal(t0.Add(-shift)) {
		t.Errorf("target's first round %v; want %v", ti.First, t0.Add(-shift))
	}
}
