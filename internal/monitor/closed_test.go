package monitor

import (
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// TestClosedPort: a TCP service check of a port that refuses (RST) is
// never "up": the target is closed from the first refusal, refusals are
// counted apart from loss, there is no MOS, the closed alert raises on a
// full window of refusals and clears at the first accepted connection.
// The destination is hop 1 of a one-hop path.
func TestClosedPort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2), ms(5))
		var refusing atomic.Bool // read by the probes' goroutines
		refusing.Store(true)
		net.Hops[2].Refuse = func(int) bool { return refusing.Load() }
		h := start(t, net)
		id := h.add(pathTarget(net, Settings{Interval: time.Second,
			Trace: trace.Config{Mode: probe.TCP, Port: 443, FinalHopOnly: true},
			Alert: alert.Rules{LossPct: 20, Window: 4}}))
		time.Sleep(spread(id, time.Second) + ms(500)) // round 1
		snap, _ := h.m.Snapshot(id, false)
		if snap.State != Closed || snap.Dest.MOS != 0 || snap.Dest.LossPct != 0 || snap.Dest.Refused != 1 {
			t.Errorf("after the first refusal: state %v, dest %+v; want closed, no MOS, no loss, 1 refused", snap.State, snap.Dest)
		}
		time.Sleep(9 * time.Second) // rounds 2-10
		snap, _ = h.m.Snapshot(id, false)
		if len(snap.Hops) != 1 || snap.Hops[0].TTL != 1 || snap.Dest.TTL != 1 {
			t.Fatalf("hops %+v, dest TTL %d; want the destination alone as hop 1", snap.Hops, snap.Dest.TTL)
		}
		if st := snap.Hops[0].Stats; st.Sent != 10 || st.Recv != 10 || st.Refused != 10 || st.LossPct() != 0 {
			t.Errorf("hop 1 stats %+v; want 10 sent, 10 answered, 10 refused, 0%% loss", st)
		}
		if snap.State != Closed || !slices.Equal(snap.Dest.Active, []alert.Condition{alert.Closed}) || snap.Dest.MOS != 0 {
			t.Errorf("closed port: state %v, dest %+v; want closed, the closed alert, no MOS", snap.State, snap.Dest)
		}
		refusing.Store(false)
		time.Sleep(10 * time.Second) // rounds 11-20
		snap, _ = h.m.Snapshot(id, false)
		if snap.State != Running || snap.Dest.Active != nil || snap.Dest.MOS < 4 || snap.Dest.Refused != 0 {
			t.Errorf("port open again: state %v, dest %+v; want running, no alert, a MOS", snap.State, snap.Dest)
		}
		h.finish()
		got := h.events(id, AlertRaised, AlertCleared)
		want := []string{
			"round 4: closed alert: tcp port 443 is closed, the destination refuses every connection (100% of the answers among the last 4 probes refused the connection)",
			"round 11: closed alert cleared: tcp port 443 accepts connections again (75% of the answers among the last 4 probes refused the connection) after 7s",
		}
		if !slices.Equal(got, want) {
			t.Errorf("alert events %q; want %q", got, want)
		}
		for _, rd := range h.rounds(id) {
			if len(rd.Round.Hops) != 1 || rd.Round.Hops[0].TTL != 1 || rd.Round.EndTTL != 1 {
				t.Fatalf("round %d: hops %+v, end TTL %d; want one hop, TTL 1", rd.Round.Index, rd.Round.Hops, rd.Round.EndTTL)
			}
		}
	})
}

// TestClosedPortRestored: a saved closed target comes back closed, its
// refusals counted, and its raised closed alert held.
func TestClosedPortRestored(t *testing.T) {
	s := newState(testTarget(t, Settings{Trace: trace.Config{Mode: probe.TCP, FinalHopOnly: true}, Alert: alert.Rules{Window: 3}}), nil)
	var events []Event
	for range 5 {
		start := t0.Add(time.Duration(s.rounds) * time.Minute)
		r := trace.Round{Start: start, End: start.Add(ms(3)), EndTTL: 1, Reached: true,
			Hops: []trace.Hop{{TTL: 1, Reply: probe.Reply{Kind: probe.Reached, From: testDest, RTT: ms(3), Closed: true}}}}
		_, ev := s.apply(r.End, r)
		events = append(events, ev...)
	}
	saved := s.snapshot(true)
	r := restoreState(s.target, nil, saved.Hops, events, saved.Rounds, saved.Started)
	got := r.snapshot(false)
	if got.State != Closed || !slices.Equal(got.Dest.Active, []alert.Condition{alert.Closed}) || got.Dest.Refused != 3 ||
		got.Hops[0].Stats.Refused != 5 {
		t.Errorf("restored: state %v, dest %+v, hop stats %+v; want closed, the closed alert, 3 refused in the window, 5 in all",
			got.State, got.Dest, got.Hops[0].Stats)
	}
}
