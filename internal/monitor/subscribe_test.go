package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// slowReader is a durable subscriber that takes pause for each update,
// catching up from the monitor's history on every Gap, as the recorder
// does. It records each round as "direct", "caught up" or "lost".
type slowReader struct {
	m        *Monitor
	direct   map[ID][]trace.Round
	recover  map[ID][]trace.Round
	lost     map[ID]int
	events   map[ID][]uint64 // Seqs of events seen or caught up
	lostEvts int
	gaps     int
}

func (r *slowReader) run(updates <-chan Update, pause time.Duration) {
	for u := range updates {
		time.Sleep(pause)
		switch {
		case u.Round != nil:
			r.direct[u.Round.Target] = append(r.direct[u.Round.Target], u.Round.Round)
		case u.Event != nil:
			r.events[u.Event.Target] = append(r.events[u.Event.Target], u.Event.Seq)
		case u.Gap != nil:
			r.gaps++
			for _, g := range u.Gap.Targets {
				if g.Rounds() > 0 {
					rs, err := r.m.Rounds(g.Target, g.FirstRound, g.LastRound)
					if err != nil {
						panic(err)
					}
					r.recover[g.Target] = append(r.recover[g.Target], rs...)
					r.lost[g.Target] += g.Rounds() - len(rs)
				}
				found := 0
				for _, e := range r.m.Events(g.Target) {
					if e.Seq >= g.FirstSeq && e.Seq <= g.LastSeq {
						r.events[g.Target] = append(r.events[g.Target], e.Seq)
						found++
					}
				}
				r.lostEvts += g.Events - found
			}
		}
	}
}

func TestDurableSubscriberCatchesUp(t *testing.T) {
	tests := []struct {
		name    string
		history int // rounds each hop keeps
		pause   time.Duration
		// wantLost: whether some rounds must be lost for good (the history
		// is shorter than the reader's lag).
		wantLost bool
	}{
		{name: "history covers the lag", history: 600, pause: 700 * time.Millisecond},
		{name: "history shorter than the lag", history: 2, pause: 3 * time.Second, wantLost: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := New(Config{})
				net := probetest.Path(ms(1), ms(2), ms(3))
				net.Hops[1].Lose = func(n int) bool { return n%3 == 1 }
				m.cfg.Prober = net
				// The reference subscriber takes everything; the slow one
				// holds 4 updates.
				all, _ := m.SubscribeWith(SubscriberConfig{Name: "reference", Buffer: 1 << 14})
				slow, _ := m.SubscribeWith(SubscriberConfig{Name: "slow", Buffer: 4, Durable: true})
				r := &slowReader{m: m, direct: map[ID][]trace.Round{}, recover: map[ID][]trace.Round{},
					lost: map[ID]int{}, events: map[ID][]uint64{}}
				readerDone := make(chan struct{})
				go func() { defer close(readerDone); r.run(slow, tc.pause) }()

				ctx, cancel := context.WithCancel(context.Background())
				runDone := make(chan error, 1)
				go func() { runDone <- m.Run(ctx) }()
				var ids []ID
				for i := range 3 {
					id, err := m.Add(Target{ID: ID(fmt.Sprintf("t%d", i)), Host: "dest", Addr: net.Hops[2].Addr,
						Settings: Settings{Interval: time.Second, History: tc.history}})
					if err != nil {
						t.Fatal(err)
					}
					ids = append(ids, id)
				}
				time.Sleep(30 * time.Second)
				if err := m.Pause(ids[0]); err != nil {
					t.Fatal(err)
				}
				time.Sleep(5 * time.Second)
				cancel()
				<-runDone
				m.Close()
				<-readerDone

				want := map[ID][]trace.Round{}
				wantEvents := map[ID]int{}
				for u := range all {
					if u.Round != nil {
						want[u.Round.Target] = append(want[u.Round.Target], u.Round.Round)
					}
					if u.Event != nil {
						wantEvents[u.Event.Target]++
					}
				}
				totalLost := 0
				for _, id := range ids {
					got := map[int]trace.Round{}
					for _, rd := range r.direct[id] {
						got[rd.Index] = rd
					}
					for _, rd := range r.recover[id] {
						if _, dup := got[rd.Index]; dup {
							t.Errorf("%s: round %d delivered and caught up; want once", id, rd.Index)
						}
						got[rd.Index] = rd
					}
					if n := len(got) + r.lost[id]; n != len(want[id]) {
						t.Errorf("%s: %d rounds delivered or caught up + %d lost = %d; want %d published",
							id, len(got), r.lost[id], n, len(want[id]))
					}
					for _, w := range want[id] {
						g, ok := got[w.Index]
						if !ok {
							continue
						}
						if a, b := roundKey(g), roundKey(w); a != b {
							t.Errorf("%s round %d: got %s; want %s", id, w.Index, a, b)
						}
					}
					if len(r.recover[id]) == 0 {
						t.Errorf("%s: no round caught up; the test did not make the reader fall behind", id)
					}
					if got := len(r.events[id]); got > wantEvents[id] {
						t.Errorf("%s: %d events; want at most %d", id, got, wantEvents[id])
					}
					totalLost += r.lost[id]
				}
				if !tc.wantLost && r.lostEvts != 0 {
					t.Errorf("%d events lost; want 0 (the event log keeps them)", r.lostEvts)
				}
				if tc.wantLost != (totalLost > 0) {
					t.Errorf("%d rounds lost for good; want lost: %v", totalLost, tc.wantLost)
				}
				seen := 0
				for _, id := range ids {
					seen += len(r.events[id])
				}
				if total := wantEvents[ids[0]] + wantEvents[ids[1]] + wantEvents[ids[2]]; seen+r.lostEvts != total {
					t.Errorf("events: %d seen or caught up + %d lost; want %d published", seen, r.lostEvts, total)
				}
				var slowDrops uint64
				for _, s := range m.Stats().Subscribers {
					switch s.Name {
					case "slow":
						slowDrops = s.Dropped
					case "reference":
						if s.Dropped != 0 {
							t.Errorf("reference subscriber dropped %d; want 0", s.Dropped)
						}
					}
				}
				if slowDrops == 0 || r.gaps == 0 {
					t.Errorf("slow subscriber: %d dropped, %d gaps; want both > 0", slowDrops, r.gaps)
				}
			})
		})
	}
}

// roundKey is what a round rebuilt from history keeps of it.
func roundKey(r trace.Round) string {
	s := fmt.Sprintf("#%d end %d reached %v:", r.Index, r.EndTTL, r.Reached)
	for _, h := range r.Hops {
		s += fmt.Sprintf(" %d %v %v %v", h.TTL, h.Reply.Kind, h.Reply.From, h.Reply.RTT)
	}
	return s
}

func TestGapAtCloseIsDelivered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2))
		m := New(Config{Prober: net})
		slow, _ := m.SubscribeWith(SubscriberConfig{Name: "slow", Buffer: 2, Durable: true})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		if _, err := m.Add(Target{ID: "a", Host: "a", Addr: net.Hops[1].Addr, Settings: Settings{Interval: time.Second}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Second) // nobody reads: everything past 2 updates is dropped
		cancel()
		<-done
		m.Close()
		var n int
		var gap *Gap
		for u := range slow {
			n++
			if u.Gap != nil {
				gap = u.Gap
			}
		}
		if n != 3 || gap == nil {
			t.Fatalf("%d updates, gap %v; want 2 and then the Gap", n, gap)
		}
		if len(gap.Targets) != 1 || gap.Targets[0].Rounds() < 8 {
			t.Errorf("gap %+v; want target a with the rounds of 10 s", gap.Targets)
		}
	})
}

func TestRoundsRebuildKinds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2), ms(3))
		net.Hops[0].Silent = true
		net.Hops[1].Unreachable = true
		h := start(t, net)
		id := h.add(Target{Host: "d", Addr: net.Hops[2].Addr, Settings: Settings{Interval: time.Second, History: 5}})
		time.Sleep(8 * time.Second)
		h.finish()
		want := h.rounds(id)
		got, err := h.m.Rounds(id, 1, len(want))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 || got[0].Index != len(want)-4 {
			t.Fatalf("Rounds(1, %d) = %d rounds from %d; want the last 5", len(want), len(got), got[0].Index)
		}
		for i, g := range got {
			w := want[len(want)-5+i].Round
			if a, b := roundKey(g), roundKey(w); a != b {
				t.Errorf("round %d: got %s; want %s", w.Index, a, b)
			}
			if !g.Start.Equal(w.Start) {
				t.Errorf("round %d: start %v; want %v", w.Index, g.Start, w.Start)
			}
			if g.Hops[0].Reply.Kind != probe.Timeout || g.Hops[1].Reply.Kind != probe.Unreachable {
				t.Errorf("round %d: kinds %v, %v; want timeout, unreachable", w.Index, g.Hops[0].Reply.Kind, g.Hops[1].Reply.Kind)
			}
		}
		if _, err := h.m.Rounds("nobody", 1, 2); err == nil {
			t.Errorf("Rounds of an unknown target: nil error; want one")
		}
	})
}

func TestReport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, probetest.Path(ms(1)))
		id := h.add(Target{Host: "x", Addr: netip.MustParseAddr("10.0.1.1")})
		if err := h.m.Report(id, RecordGap, "3 rounds not recorded"); err != nil {
			t.Fatalf("Report: %v", err)
		}
		if err := h.m.Report(id, RouteChange, "no"); err == nil {
			t.Errorf("Report(route_change): nil error; want one (only record kinds)")
		}
		if err := h.m.Report("nobody", RecordError, "x"); err == nil {
			t.Errorf("Report(unknown target): nil error; want one")
		}
		h.finish()
		if err := h.m.Report(id, RecordGap, "after close"); !errors.Is(err, ErrClosed) {
			t.Errorf("Report after Close = %v; want ErrClosed (no subscriber would get it)", err)
		}
		if got := h.events(id, RecordGap); len(got) != 1 {
			t.Errorf("record_gap events %q; want one", got)
		}
		evs := h.m.Events(id)
		if last := evs[len(evs)-1]; last.Kind != RecordGap || last.Message != "3 rounds not recorded" {
			t.Errorf("last kept event %+v; want the record_gap", last)
		}
	})
}
