package diagnose

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// events records what a Watcher reports, with the round it came after.
type events struct {
	mu    sync.Mutex
	round int
	got   []string
	at    []int
}

func (e *events) Report(id monitor.ID, kind monitor.EventKind, msg string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if kind != monitor.DiagnosisChanged {
		return fmt.Errorf("kind %s; want %s", kind, monitor.DiagnosisChanged)
	}
	e.got = append(e.got, string(id)+" "+msg)
	e.at = append(e.at, e.round)
	return nil
}

// toTrace turns a simulated round back into a tracer's round.
func toTrace(r Round) trace.Round {
	out := trace.Round{Index: r.Index, Start: r.Time, End: r.Time.Add(time.Second / 2)}
	for _, p := range r.Probes {
		h := trace.Hop{TTL: p.TTL, Reply: probe.Reply{Kind: probe.Timeout}}
		if !p.Lost {
			h.Reply = probe.Reply{Kind: probe.TimeExceeded, From: p.From, RTT: p.RTT}
			if p.Reached {
				h.Reply.Kind = probe.Reached
				out.EndTTL, out.Reached = p.TTL, true
			}
		}
		out.Hops = append(out.Hops, h)
	}
	return out
}

func feed(w *Watcher, ev *events, id monitor.ID, rounds []Round) {
	snap := monitor.Snapshot{Target: monitor.Target{ID: id, Addr: addr(10, 0, 5, 1),
		Settings: monitor.Settings{Trace: trace.Config{Mode: probe.ICMP}}}}
	for _, r := range rounds {
		ev.mu.Lock()
		ev.round = r.Index
		ev.mu.Unlock()
		w.Handle(monitor.Update{Round: &monitor.RoundDone{Target: id, Round: toTrace(r), Snapshot: snap}})
	}
}

// TestWatcherFindsLossAndRecovers: a clean path, then loss on the link into
// hop 4, then clean again. One event for the loss, within 60 rounds of its
// start, and one for the recovery; nothing else.
func TestWatcherFindsLossAndRecovers(t *testing.T) {
	clean := path(5)
	lossy := with(clean, 4, func(h *simHop) { h.linkLoss = 0.25 })
	rounds := simulate(3, 400, phase{0, clean}, phase{100, lossy}, phase{200, clean})
	ev := &events{}
	w := NewWatcher(WatcherConfig{Window: 120, Reporter: ev, Now: func() time.Time { return t0 }})
	feed(w, ev, "t", rounds)
	t.Logf("events: %q at rounds %v", ev.got, ev.at)
	// Loss (perhaps first unplaced, then placed as more rounds come),
	// then healthy once the loss is over.
	if len(ev.got) < 2 || len(ev.got) > 3 {
		t.Fatalf("got %d events %q; want 2 or 3 (loss, maybe its place found, then healthy)", len(ev.got), ev.got)
	}
	if !strings.HasPrefix(ev.got[0], "t loss (") || ev.at[0] <= 100 || ev.at[0] > 160 {
		t.Errorf("first event %q after round %d; want loss within 60 rounds of round 101", ev.got[0], ev.at[0])
	}
	last := len(ev.got) - 1
	if want := "loss starts on the link into hop 4"; !strings.Contains(ev.got[last-1], want) || ev.at[last-1] > 160 {
		t.Errorf("event %q after round %d; want %q within 60 rounds of round 101", ev.got[last-1], ev.at[last-1], want)
	}
	if !strings.HasPrefix(ev.got[last], "t healthy (") || ev.at[last] > 260 {
		t.Errorf("last event %q after round %d; want healthy within 60 rounds of round 201", ev.got[last], ev.at[last])
	}
	d, ok := w.Latest("t")
	if !ok || d.What != Healthy || !d.At.Equal(t0) {
		t.Errorf("Latest = %s at %v, %v; want healthy at the injected clock's %v", d.What, d.At, ok, t0)
	}
	if _, ok := w.Latest("other"); ok {
		t.Error("Latest of an unknown target reported ok; want false")
	}
	w.Handle(monitor.Update{Event: &monitor.Event{Target: "t", Kind: monitor.Removed}})
	if _, ok := w.Latest("t"); ok {
		t.Error("a removed target still has a diagnosis")
	}
}

// TestWatcherHysteresis: a new what/where is adopted only after it was
// found Hysteresis rounds running; alternation never is.
func TestWatcherHysteresis(t *testing.T) {
	mk := func(w What, ttl int) Diagnosis { return Diagnosis{What: w, Where: Where{TTL: ttl}} }
	h, l3, l4 := mk(Healthy, 0), mk(Loss, 3), mk(Loss, 4)
	for _, tc := range []struct {
		name    string
		seq     []Diagnosis
		changes int
		final   string
	}{
		{"steady", []Diagnosis{h, h, h, h, h}, 0, h.Key()},
		{"enough data is no news", []Diagnosis{mk(NotEnoughData, 0), h, h, h}, 0, h.Key()},
		{"a blip is ignored", []Diagnosis{h, l3, l3, h, h}, 0, h.Key()},
		{"alternation never changes", []Diagnosis{h, l3, h, l3, h, l3, h, l3}, 0, h.Key()},
		{"two wheres alternating never change", []Diagnosis{h, l3, l4, l3, l4, l3, l4}, 0, h.Key()},
		{"three rounds adopt", []Diagnosis{h, l3, l3, l3, l3}, 1, l3.Key()},
		{"and back", []Diagnosis{h, l3, l3, l3, h, h, h}, 2, h.Key()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := NewWatcher(WatcherConfig{})
			st := &watched{}
			changes := 0
			for _, d := range tc.seq {
				if w.adopt(st, d) {
					changes++
				}
			}
			if changes != tc.changes || st.latest.Key() != tc.final {
				t.Errorf("got %d changes ending at %s; want %d ending at %s", changes, st.latest.Key(), tc.changes, tc.final)
			}
		})
	}
}

// TestWatcherConcurrentReaders: Latest while rounds are handled (run with -race).
func TestWatcherConcurrentReaders(t *testing.T) {
	rounds := simulate(4, 80, phase{0, path(4)})
	w := NewWatcher(WatcherConfig{Window: 40})
	ev := &events{}
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
					d, _ := w.Latest("a")
					_ = d.Text
				}
			}
		}()
	}
	feed(w, ev, "a", rounds)
	close(done)
	wg.Wait()
	if d, _ := w.Latest("a"); d.What != Healthy {
		t.Errorf("got %s; want healthy", d.What)
	}
}

// TestWatcherStride: below MaxAnalyses rounds a second every round is
// analysed; above it each target is analysed every stride-th round (the
// rate over the bound, rounded up), and a loss is still found, later by
// that stride. The clock advances with the rounds, 10 targets at 100
// rounds a second each (1,000 a second) against a bound of 250: stride 4.
func TestWatcherStride(t *testing.T) {
	clean := path(5)
	lossy := with(clean, 4, func(h *simHop) { h.linkLoss = 0.25 })
	for _, tc := range []struct {
		name       string
		max        int
		wantStride int
	}{{"under the bound", 2000, 1}, {"over the bound", 250, 4}} {
		t.Run(tc.name, func(t *testing.T) {
			const targets = 10
			now := t0
			ev := &events{}
			w := NewWatcher(WatcherConfig{Window: 120, Reporter: ev, MaxAnalyses: tc.max, Now: func() time.Time { return now }})
			rounds := simulate(5, 400, phase{0, clean}, phase{100, lossy})
			analysed := map[time.Time]bool{}
			for i, r := range rounds {
				for k := range targets {
					now = now.Add(time.Millisecond)
					id := monitor.ID(fmt.Sprintf("t%d", k))
					if k == 0 {
						feed(w, ev, id, []Round{r})
					} else {
						feed(w, &events{}, id, []Round{r})
					}
				}
				if d, ok := w.Latest("t0"); ok && i >= 200 && i < 300 {
					analysed[d.At] = true
				}
			}
			// The clock reads distinct times per round, so distinct At
			// values of t0 over 100 of its rounds count its analyses.
			if got, want := len(analysed), 100/tc.wantStride; got < want-1 || got > want+1 {
				t.Errorf("%d analyses of t0 in 100 of its rounds; want %d (stride %d)", got, want, tc.wantStride)
			}
			if w.stride != tc.wantStride {
				t.Errorf("stride %d; want %d", w.stride, tc.wantStride)
			}
			if len(ev.got) == 0 || !strings.HasPrefix(ev.got[0], "t0 loss (") {
				t.Fatalf("events %q; want the loss found", ev.got)
			}
			if limit := 100 + 60*tc.wantStride; ev.at[0] > limit {
				t.Errorf("loss found after round %d; want by round %d", ev.at[0], limit)
			}
			t.Logf("stride %d: loss found after round %d", w.stride, ev.at[0])
		})
	}
}
