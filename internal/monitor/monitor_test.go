package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
	"github.com/pingerplot/pingerplot/internal/trace"
)

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

// harness runs a monitor inside a synctest bubble and records everything
// it publishes.
type harness struct {
	t       *testing.T
	m       *Monitor
	updates <-chan Update
	seen    []Update
	stop    context.CancelFunc
	done    chan error
}

func start(t *testing.T, p probe.Prober) *harness {
	t.Helper()
	return startWith(t, Config{Prober: p})
}

func startWith(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{t: t, m: New(cfg), done: make(chan error, 1)}
	h.updates, _ = h.m.Subscribe(1 << 16)
	ctx, cancel := context.WithCancel(context.Background())
	h.stop = cancel
	go func() { h.done <- h.m.Run(ctx) }()
	return h
}

func (h *harness) add(t Target) ID {
	h.t.Helper()
	id, err := h.m.Add(t)
	if err != nil {
		h.t.Fatalf("Add(%+v): %v", t, err)
	}
	return id
}

// finish stops Run, closes the monitor and collects what was published.
// synctest.Test then fails if any goroutine of the monitor is left.
func (h *harness) finish() {
	h.t.Helper()
	h.stop()
	if err := <-h.done; err != nil {
		h.t.Errorf("Run = %v; want nil after its context ended", err)
	}
	h.m.Close()
	h.drain()
}

func (h *harness) drain() {
	for {
		select {
		case u, ok := <-h.updates:
			if !ok {
				return
			}
			h.seen = append(h.seen, u)
		default:
			return
		}
	}
}

// rounds returns the rounds published for id.
func (h *harness) rounds(id ID) []RoundDone {
	h.drain()
	var out []RoundDone
	for _, u := range h.seen {
		if u.Round != nil && u.Round.Target == id {
			out = append(out, *u.Round)
		}
	}
	return out
}

// events returns id's published events of the given kinds as
// "round N: message", N being the last round published before it.
func (h *harness) events(id ID, kinds ...EventKind) []string {
	h.drain()
	var out []string
	round := 0
	for _, u := range h.seen {
		switch {
		case u.Round != nil && u.Round.Target == id:
			round = u.Round.Round.Index
		case u.Event != nil && u.Event.Target == id && slices.Contains(kinds, u.Event.Kind):
			out = append(out, fmt.Sprintf("round %d: %s", round, u.Event.Message))
		}
	}
	return out
}

// setHops changes the fake path between rounds. probetest.Network.Probe
// reads Hops without its lock once a probe's wait is over, so the test
// first takes the target's lock, which the round goroutine released after
// its last probe: that orders the write after those reads for the race
// detector (synctest's clock alone does not).
func (h *harness) setHops(n *probetest.Network, id ID, hops []probetest.Hop) {
	synctest.Wait()
	h.m.Snapshot(id, false)
	n.SetHops(hops)
}

func pathTarget(n *probetest.Network, s Settings) Target {
	return Target{Host: "dest", Addr: n.Hops[len(n.Hops)-1].Addr, Settings: s}
}

func TestIntervalRespected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2), ms(5))
		begin := time.Now()
		h := start(t, net)
		id := h.add(pathTarget(net, Settings{Interval: time.Second}))
		first := begin.Add(spread(id, time.Second))
		time.Sleep(first.Sub(begin) + 9*time.Second + ms(10)) // the 10th round lasts 5 ms
		h.finish()
		rs := h.rounds(id)
		if len(rs) != 10 {
			t.Fatalf("%d rounds in 9 s after the first; want 10", len(rs))
		}
		for i, r := range rs {
			if want := first.Add(time.Duration(i) * time.Second); r.Round.Index != i+1 || !r.Round.Start.Equal(want) {
				t.Errorf("round %d: index %d, start %v; want %d, %v", i, r.Round.Index, r.Round.Start, i+1, want)
			}
		}
		if st := h.m.Stats(); st.Missed != 0 || st.Rounds != 10 || st.Probes != 10*3 {
			t.Errorf("Stats() = %+v; want 10 rounds, 30 probes, none missed", st)
		}
	})
}

func TestSpreadIsDeterministicAndSpread(t *testing.T) {
	seen := map[time.Duration]bool{}
	for i := range 100 {
		id := ID(fmt.Sprintf("10.0.0.%d", i))
		d := spread(id, time.Second)
		if d < 0 || d >= time.Second || d != spread(id, time.Second) {
			t.Fatalf("spread(%q) = %v; want a fixed value in [0, 1s)", id, d)
		}
		seen[d/(100*time.Millisecond)] = true
	}
	if len(seen) < 8 {
		t.Errorf("100 targets' first rounds fall in %d of 10 tenths of the interval; want them spread", len(seen))
	}
}

func TestSlowRoundDelaysTheNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), 2500*time.Millisecond)
		h := start(t, net)
		id := h.add(pathTarget(net, Settings{Interval: time.Second, Trace: traceTimeout(3 * time.Second)}))
		// Rounds of 2.5 s end at 2.5, 5, 7.5 and 10 s; the fifth is in flight.
		time.Sleep(spread(id, time.Second) + 11*time.Second)
		h.finish()
		rs := h.rounds(id)
		if len(rs) != 4 {
			t.Fatalf("%d rounds of 2.5 s in 11 s; want 4", len(rs))
		}
		for i := 1; i < len(rs); i++ {
			prev, cur := rs[i-1].Round, rs[i].Round
			if !cur.Start.Equal(prev.End) {
				t.Errorf("round %d started %v after the previous one ended; want at once", cur.Index, cur.Start.Sub(prev.End))
			}
		}
		if st := h.m.Stats(); st.Missed != 4 {
			t.Errorf("Missed = %d; want 4 (every round after the first started 1.5 s late)", st.Missed)
		}
	})
}

func traceTimeout(d time.Duration) (c traceConfig) {
	c.Timeout = d
	return c
}

func TestPauseResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2))
		h := start(t, net)
		id := h.add(pathTarget(net, Settings{Interval: time.Second}))
		time.Sleep(spread(id, time.Second) + 4*time.Second + ms(500))
		if err := h.m.Pause(id); err != nil {
			t.Fatal(err)
		}
		sent := len(net.Sent())
		time.Sleep(30 * time.Second)
		snap, _ := h.m.Snapshot(id, true)
		if got := len(net.Sent()); got != sent {
			t.Errorf("a paused target sent %d probes in 30 s; want 0", got-sent)
		}
		if snap.State != Paused || snap.Rounds != 5 || len(snap.Hops) != 2 || len(snap.Hops[1].History) != 5 {
			t.Errorf("paused snapshot: state %v, %d rounds, hops %d; want paused, 5 rounds and their history", snap.State, snap.Rounds, len(snap.Hops))
		}
		resumed := time.Now()
		if err := h.m.Resume(id); err != nil {
			t.Fatal(err)
		}
		time.Sleep(ms(100))
		rs := h.rounds(id)
		if last := rs[len(rs)-1].Round; last.Index != 6 || !last.Start.Equal(resumed) {
			t.Errorf("after Resume: round %d at %v; want round 6 at once", last.Index, last.Start.Sub(resumed))
		}
		if err := h.m.Pause(id); err != nil { // twice: no second event
			t.Fatal(err)
		}
		h.m.Pause(id)
		h.finish()
		var kinds []EventKind
		for _, e := range h.m.Events(id) {
			kinds = append(kinds, e.Kind)
		}
		if want := []EventKind{Added, PausedEvent, ResumedEvent, PausedEvent}; !slices.Equal(kinds, want) {
			t.Errorf("events %v; want %v", kinds, want)
		}
	})
}

func TestUpdateAtNextRound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2))
		h := start(t, net)
		id := h.add(pathTarget(net, Settings{Interval: time.Second}))
		time.Sleep(spread(id, time.Second) + 2*time.Second + ms(500)) // rounds 1-3
		err := h.m.Update(id, Settings{Interval: 5 * time.Second, Alert: alert.Rules{Latency: 50 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.m.Update(id, Settings{Interval: 5 * time.Second, Alert: alert.Rules{Latency: 50 * time.Millisecond}}); err != nil {
			t.Fatal(err) // the same again: no event
		}
		if err := h.m.Update(id, Settings{Interval: -1}); err == nil || !strings.Contains(err.Error(), "interval -1ns must be positive") {
			t.Errorf("Update with a negative interval: %v; want an error", err)
		}
		time.Sleep(20 * time.Second)
		h.finish()
		rs := h.rounds(id)
		for i := 3; i < len(rs); i++ {
			if d := rs[i].Round.Start.Sub(rs[i-1].Round.Start); d != 5*time.Second {
				t.Errorf("round %d started %v after round %d; want 5s", rs[i].Round.Index, d, rs[i-1].Round.Index)
			}
		}
		if got := rs[len(rs)-1].Snapshot.Interval; got != 5*time.Second {
			t.Errorf("snapshot interval %v; want 5s", got)
		}
		got := h.events(id, SettingsChanged)
		want := []string{"round 3: settings: interval 1s → 5s, latency alert off → 50 ms"}
		if !slices.Equal(got, want) {
			t.Errorf("events %q; want %q", got, want)
		}
		if tg := h.m.Targets(); len(tg) != 1 || tg[0].Alert.Latency != 50*time.Millisecond || tg[0].Alert.Window != alert.DefaultWindow {
			t.Errorf("Targets() = %+v; want the new settings with defaults", tg)
		}
	})
}

func TestSlowSubscriberNeverBlocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2))
		m := New(Config{Prober: net})
		stuck, _ := m.Subscribe(1) // never read
		_, unsubscribe := m.Subscribe(1)
		unsubscribe()
		unsubscribe()
		id, _ := m.Add(pathTarget(net, Settings{Interval: time.Second}))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- m.Run(ctx) }()
		time.Sleep(spread(id, time.Second) + 99*time.Second + ms(500))
		cancel()
		<-done
		st := m.Stats()
		if st.Rounds != 100 || st.Dropped < 99 || st.Missed != 0 {
			t.Errorf("Stats() = %+v; want 100 rounds on time and the stuck subscriber's updates dropped", st)
		}
		m.Close()
		n := 0
		for range stuck {
			n++
		}
		if n != 1 {
			t.Errorf("the stuck subscriber got %d updates, then its channel was closed; want 1", n)
		}
	})
}

func TestCloseEndsEverything(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), 400*time.Millisecond)
		m := New(Config{Prober: net})
		for i := range 20 {
			if _, err := m.Add(Target{Host: fmt.Sprint("t", i), Addr: net.Hops[1].Addr}); err != nil {
				t.Fatal(err)
			}
		}
		updates, _ := m.Subscribe(10)
		done := make(chan error)
		go func() { done <- m.Run(context.Background()) }()
		time.Sleep(3*time.Second + ms(200)) // rounds in flight
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Errorf("Run = %v after Close; want nil", err)
		}
		for range updates { // closed by Close
		}
		if _, err := m.Add(Target{Host: "late", Addr: net.Hops[1].Addr}); !errors.Is(err, ErrClosed) {
			t.Errorf("Add after Close: %v; want ErrClosed", err)
		}
		if err := m.Run(context.Background()); !errors.Is(err, ErrClosed) {
			t.Errorf("Run after Close: %v; want ErrClosed", err)
		}
		if got := len(m.Snapshots()); got != 20 {
			t.Errorf("%d snapshots after Close; want 20 (still readable)", got)
		}
		// synctest.Test fails if a goroutine the monitor started is left.
	})
}

func TestLatencyStepRaisesAndClears(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2), ms(10))
		h := start(t, net)
		id := h.add(pathTarget(net, Settings{Interval: time.Second, Alert: alert.Rules{Latency: 100 * time.Millisecond, Window: 10}}))
		time.Sleep(spread(id, time.Second) + 19*time.Second + ms(500)) // rounds 1-20
		slow := slices.Clone(net.Hops)
		slow[2].RTT = 300 * time.Millisecond
		h.setHops(net, id, slow)
		time.Sleep(20 * time.Second) // rounds 21-40
		if snap, _ := h.m.Snapshot(id, false); snap.State != Alerting {
			t.Errorf("during the step: state %v; want alert", snap.State)
		}
		fast := slices.Clone(slow)
		fast[2].RTT = ms(10)
		h.setHops(net, id, fast)
		time.Sleep(20 * time.Second) // rounds 41-60
		h.finish()
		got := h.events(id, AlertRaised, AlertCleared)
		// The mean of 10 reaches 100 ms with four slow replies,
		// (4·300 + 6·10)/10 = 126, and drops below with three left,
		// (3·300 + 7·10)/10 = 97.
		want := []string{
			"round 24: latency alert: 126 ms ≥ 100 ms (mean RTT of the replies among the last 10 probes)",
			"round 47: latency alert cleared: 97 ms < 100 ms after 23s",
		}
		if !slices.Equal(got, want) {
			t.Errorf("alert events %q; want %q", got, want)
		}
	})
}

func TestSilentDestinationNeverRaises(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2), ms(10))
		net.Hops[2].Silent = true
		h := start(t, net)
		id := h.add(pathTarget(net, Settings{Interval: time.Second, Alert: alert.Rules{LossPct: 5, Latency: ms(1), Window: 5}}))
		time.Sleep(spread(id, time.Second) + 30*time.Second)
		h.finish()
		if got := h.events(id, AlertRaised, AlertCleared, NoAnswerEvent); len(got) != 1 || !strings.HasPrefix(got[0], "round 3: destination does not answer this probe type (icmp)") {
			t.Errorf("events %q; want one no-answer event at round 3 and no alert", got)
		}
		snap, _ := h.m.Snapshot(id, false)
		if snap.State != NoAnswer || snap.Dest.LossPct != 100 || snap.Dest.TTL != 0 {
			t.Errorf("snapshot: state %v, dest %+v; want no-answer, 100%% loss", snap.State, snap.Dest)
		}
	})
}

func TestRouteChangeEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2), ms(3))
		h := start(t, net)
		id := h.add(pathTarget(net, Settings{Interval: time.Second}))
		time.Sleep(spread(id, time.Second) + 9*time.Second + ms(500)) // rounds 1-10
		rerouted := slices.Clone(net.Hops)
		rerouted[1].Addr = netip.MustParseAddr("10.9.2.1")
		h.setHops(net, id, rerouted)
		time.Sleep(10 * time.Second) // rounds 11-20
		longer := slices.Insert(slices.Clone(rerouted), 2, probetest.Hop{Addr: netip.MustParseAddr("10.9.3.1"), RTT: ms(3)})
		h.setHops(net, id, longer)
		time.Sleep(10 * time.Second) // rounds 21-30
		h.finish()
		got := h.events(id, RouteChange, Multipath, PathLength)
		want := []string{
			"round 12: hop 2: 10.0.2.1 → 10.9.2.1",
			// Round 21 probes up to the old end, TTL 3, and meets a router
			// there; round 22 probes further and confirms it. The length
			// needs two rounds that reach the destination: 22 and 23.
			"round 22: hop 3: 10.0.3.1 → 10.9.3.1",
			"round 23: path length 3 → 4 hops",
		}
		if !slices.Equal(got, want) {
			t.Errorf("route events %q; want %q", got, want)
		}
	})
}

func TestAddRemoveAndIDs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2))
		dst := net.Hops[1].Addr
		h := start(t, net)
		a := h.add(Target{Host: "example.net", Addr: dst})
		b := h.add(Target{Host: "example.net", Addr: dst})
		c := h.add(Target{Addr: dst})
		if a != "example.net" || b != "example.net (2)" || c != ID(dst.String()) {
			t.Errorf("IDs %q %q %q; want example.net, example.net (2), the address", a, b, c)
		}
		for _, bad := range []struct {
			t    Target
			want string
		}{
			{Target{Host: "nowhere"}, `target "nowhere": no address`},
			{Target{Host: "x", Addr: dst, Settings: Settings{Interval: -time.Second}}, `target "x": interval -1s must be positive`},
			{Target{Host: "x", Addr: dst, Settings: Settings{History: -1}}, `target "x": history -1 rounds out of range`},
			{Target{Host: "x", Addr: dst, Settings: Settings{Alert: alert.Rules{LossPct: 200}}}, `target "x": loss threshold 200% out of range`},
			{Target{Host: "x", Addr: dst, Settings: Settings{Trace: traceConfig{MaxHops: 300}}}, `target "x": max hops 300 out of range`},
		} {
			if _, err := h.m.Add(bad.t); err == nil || !strings.Contains(err.Error(), bad.want) {
				t.Errorf("Add(%+v) error = %v; want %q", bad.t, err, bad.want)
			}
		}
		time.Sleep(3 * time.Second)
		if err := h.m.Remove(b); err != nil {
			t.Fatal(err)
		}
		sent := len(net.Sent())
		time.Sleep(3 * time.Second)
		if got := len(net.Sent()) - sent; got != 2*3*2 {
			t.Errorf("%d probes in 3 s after removing one of three targets; want 12", got)
		}
		if err := h.m.Remove(b); !errors.Is(err, ErrUnknownTarget) {
			t.Errorf("Remove twice: %v; want ErrUnknownTarget", err)
		}
		if err := h.m.Pause("nope"); !errors.Is(err, ErrUnknownTarget) {
			t.Errorf("Pause(unknown): %v; want ErrUnknownTarget", err)
		}
		if _, ok := h.m.Snapshot(b, false); ok || h.m.Events(b) != nil {
			t.Errorf("a removed target still has a snapshot or events")
		}
		var ids []ID
		for _, tg := range h.m.Targets() {
			ids = append(ids, tg.ID)
		}
		if want := []ID{a, c}; !slices.Equal(ids, want) {
			t.Errorf("Targets() = %v; want %v", ids, want)
		}
		h.finish()
		if got := h.events(b, Removed); len(got) != 1 {
			t.Errorf("removed events %q; want one", got)
		}
	})
}

func TestRestoreContinues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2), ms(3))
		h := start(t, net)
		id := h.add(pathTarget(net, Settings{Interval: time.Second}))
		time.Sleep(spread(id, time.Second) + 9*time.Second + ms(500))
		saved, _ := h.m.Snapshot(id, true)
		events := h.m.Events(id)
		h.finish()

		h2 := start(t, net)
		rid, err := h2.m.Restore(saved.Target, saved.Hops, events, saved.Rounds, saved.Started)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(spread(rid, time.Second) + 4*time.Second + ms(500))
		h2.finish()
		rs := h2.rounds(rid)
		if len(rs) != 5 || rs[0].Round.Index != 11 {
			t.Fatalf("after restoring 10 rounds: %d rounds from %d; want 5 from 11", len(rs), rs[0].Round.Index)
		}
		snap := rs[4].Snapshot
		if snap.Rounds != 15 || !snap.Started.Equal(saved.Started) || snap.Hops[2].Stats.Sent != 15 {
			t.Errorf("restored target after 5 rounds: %d rounds since %v, %d sent at the destination; want 15 since %v, 15",
				snap.Rounds, snap.Started, snap.Hops[2].Stats.Sent, saved.Started)
		}
		if got := h2.m.Events(rid); len(got) != len(events) || got[0].Kind != Added {
			t.Errorf("restored events %+v; want the saved ones", got)
		}
	})
}

type traceConfig = trace.Config
