package hopping

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/diagnose"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/trace"
)

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// round builds a trace round: "" is a lost probe, a trailing "!" the
// destination's answer.
func round(index int, hops ...string) trace.Round {
	r := trace.Round{Index: index}
	for i, h := range hops {
		hop := trace.Hop{TTL: i + 1, Reply: probe.Reply{Kind: probe.Timeout}}
		switch {
		case h == "":
		case h[len(h)-1] == '!':
			hop.Reply = probe.Reply{Kind: probe.Reached, From: ip(h[:len(h)-1])}
			r.EndTTL, r.Reached = i+1, true
		default:
			hop.Reply = probe.Reply{Kind: probe.TimeExceeded, From: ip(h)}
		}
		r.Hops = append(r.Hops, hop)
	}
	return r
}

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		name   string
		forget int
		rounds []trace.Round
		want   string
	}{
		{name: "every router of the latest round, not the destination",
			rounds: []trace.Round{round(1, "10.0.1.1", "10.0.2.1", "10.0.3.1!")},
			want:   "[{1 10.0.1.1} {2 10.0.2.1}]"},
		{name: "a hop missing from the latest round is still pinged",
			rounds: []trace.Round{round(1, "10.0.1.1", "10.0.2.1", "10.0.3.1!"), round(2, "10.0.1.1", "", "10.0.3.1!")},
			want:   "[{1 10.0.1.1} {2 10.0.2.1}]"},
		{name: "until it has been gone for Forget rounds", forget: 2,
			rounds: []trace.Round{round(1, "10.0.1.1", "10.0.2.1", "10.0.3.1!"), round(2, "10.0.1.1", "", "10.0.3.1!"),
				round(3, "10.0.1.1", "", "10.0.3.1!")},
			want: "[{1 10.0.1.1}]"},
		{name: "a new address at a TTL replaces the old",
			rounds: []trace.Round{round(1, "10.0.1.1", "10.0.2.1", "10.0.3.1!"), round(2, "10.0.1.1", "10.9.2.1", "10.0.3.1!")},
			want:   "[{1 10.0.1.1} {2 10.9.2.1}]"},
		{name: "a shorter path drops the TTLs at and past its end",
			rounds: []trace.Round{round(1, "10.0.1.1", "10.0.2.1", "10.0.3.1", "10.0.4.1!"), round(2, "10.0.1.1", "10.0.4.1!")},
			want:   "[{1 10.0.1.1}]"},
		{name: "a destination that does not answer: every router",
			rounds: []trace.Round{round(1, "10.0.1.1", "10.0.2.1", "", "")},
			want:   "[{1 10.0.1.1} {2 10.0.2.1}]"},
		{name: "an address at two TTLs (a loop) once",
			rounds: []trace.Round{round(1, "10.0.1.1", "10.0.2.1", "10.0.1.1", "")},
			want:   "[{1 10.0.1.1} {2 10.0.2.1}]"},
		{name: "nothing answered", rounds: []trace.Round{round(1, "", "", "")}, want: "[]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Plan{Forget: tc.forget}
			for _, r := range tc.rounds {
				p.Observe(r)
			}
			if got := fmt.Sprint(p.Targets()); got != tc.want {
				t.Errorf("Targets() = %s; want %s", got, tc.want)
			}
			p.Reset()
			if got := p.Targets(); len(got) != 0 {
				t.Errorf("Targets() after Reset = %v; want none", got)
			}
		})
	}
}

// echoNet answers echo requests by address: lose says which are lost,
// routers names an address that answers for another (time exceeded).
type echoNet struct {
	mu     sync.Mutex
	lose   map[netip.Addr]bool
	other  map[netip.Addr]probe.Reply
	sent   []probe.Probe
	sentAt []time.Time
}

func (n *echoNet) Probe(ctx context.Context, p probe.Probe) (probe.Reply, error) {
	n.mu.Lock()
	n.sent = append(n.sent, p)
	n.sentAt = append(n.sentAt, time.Now())
	lost, other, ok := n.lose[p.Dst], probe.Reply{}, false
	if n.other != nil {
		other, ok = n.other[p.Dst]
	}
	n.mu.Unlock()
	if ok {
		return other, nil
	}
	wait := time.Millisecond
	if lost {
		wait = p.Timeout
	}
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		return probe.Reply{}, ctx.Err()
	}
	if lost {
		return probe.Reply{Kind: probe.Timeout}, nil
	}
	return probe.Reply{Kind: probe.Reached, From: p.Dst, RTT: time.Millisecond}, nil
}

func (n *echoNet) ProbeAll(ctx context.Context, ps []probe.Probe, gap time.Duration, onReply func(int, probe.Reply) bool) error {
	return probe.ProbeEach(ctx, n.Probe, ps, gap, onReply)
}
func (n *echoNet) Prepare(probe.Mode, bool, bool) error { return nil }
func (n *echoNet) Backend() string                      { return "echo test network" }
func (n *echoNet) Close() error                         { return nil }

func TestSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &echoNet{lose: map[netip.Addr]bool{ip("10.0.2.1"): true},
			other: map[netip.Addr]probe.Reply{
				ip("10.0.3.1"): {Kind: probe.TimeExceeded, From: ip("10.0.1.1")},
				ip("10.0.4.1"): {Kind: probe.Failed},
			}}
		targets := []Target{{1, ip("10.0.1.1")}, {2, ip("10.0.2.1")}, {3, ip("10.0.3.1")}, {4, ip("10.0.4.1")}}
		got, err := Send(context.Background(), n, targets, SendConfig{Gap: 20 * time.Millisecond, Timeout: 300 * time.Millisecond, Size: 100})
		if err != nil {
			t.Fatal(err)
		}
		want := []diagnose.Direct{
			{TTL: 1, Addr: ip("10.0.1.1"), RTT: time.Millisecond},
			{TTL: 2, Addr: ip("10.0.2.1"), Lost: true},
			{TTL: 3, Addr: ip("10.0.3.1"), Lost: true}, // another router answered: not the hop
			// 10.0.4.1 was never sent: left out
		}
		if !slices.Equal(got, want) {
			t.Errorf("Send = %+v; want %+v", got, want)
		}
		for i, p := range n.sent {
			if p.Mode != probe.ICMP || p.TTL != directTTL || p.Size != 100 || p.Timeout != 300*time.Millisecond || p.Dst != targets[i].Addr {
				t.Errorf("probe %d = %+v; want an ICMP echo to %s, TTL %d, size 100, timeout 300ms", i, p, targets[i].Addr, directTTL)
			}
			if i > 0 {
				if gap := n.sentAt[i].Sub(n.sentAt[i-1]); gap != 20*time.Millisecond {
					t.Errorf("gap before probe %d = %v; want the send gap 20ms", i, gap)
				}
			}
		}
	})
}

// sink records what a Runner hands over.
type sink struct {
	mu  sync.Mutex
	got map[monitor.ID][]int // round indexes
	n   map[monitor.ID]int   // pings
}

func (s *sink) AddDirect(id monitor.ID, index int, ps []diagnose.Direct) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got[id] = append(s.got[id], index)
	s.n[id] += len(ps)
}

func TestRunner(t *testing.T) {
	for _, tc := range []struct {
		name       string
		all        bool
		on         map[monitor.ID]bool
		wantRounds map[monitor.ID][]int
	}{
		{name: "only targets that ask", on: map[monitor.ID]bool{"a": true},
			wantRounds: map[monitor.ID][]int{"a": {1, 2, 3}}},
		{name: "every target with All", all: true,
			wantRounds: map[monitor.ID][]int{"a": {1, 2, 3}, "b": {1, 2, 3}}},
		{name: "none", wantRounds: map[monitor.ID][]int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				n := &echoNet{}
				s := &sink{got: map[monitor.ID][]int{}, n: map[monitor.ID]int{}}
				r := &Runner{Prober: n, Sink: s, All: tc.all}
				ch := make(chan monitor.Update)
				done := make(chan struct{})
				go func() { r.Run(context.Background(), ch); close(done) }()
				for i := 1; i <= 3; i++ {
					for _, id := range []monitor.ID{"a", "b"} {
						snap := monitor.Snapshot{Target: monitor.Target{ID: id, Addr: ip("10.0.3.1"),
							Settings: monitor.Settings{PingHops: tc.on[id], Trace: trace.Config{Timeout: time.Second}}}}
						ch <- monitor.Update{Round: &monitor.RoundDone{Target: id, Round: round(i, "10.0.1.1", "10.0.2.1", "10.0.3.1!"), Snapshot: snap}}
					}
					time.Sleep(time.Second) // the interval: the batch is done
				}
				close(ch)
				<-done
				for id, want := range tc.wantRounds {
					if got := s.got[id]; !slices.Equal(got, want) || s.n[id] != 2*len(want) {
						t.Errorf("target %s: pings after rounds %v, %d pings; want after %v, %d", id, got, s.n[id], want, 2*len(want))
					}
				}
				for id, got := range s.got {
					if _, ok := tc.wantRounds[id]; !ok {
						t.Errorf("target %s: pings after rounds %v; want none", id, got)
					}
				}
			})
		})
	}
}

// TestRunnerOneBatchInFlight: a round that ends while its target's batch
// still waits (a lost ping, a long timeout) sends no second batch beside
// it, so direct pings never outpace the rounds.
func TestRunnerOneBatchInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := &echoNet{lose: map[netip.Addr]bool{ip("10.0.2.1"): true}}
		s := &sink{got: map[monitor.ID][]int{}, n: map[monitor.ID]int{}}
		r := &Runner{Prober: n, Sink: s, All: true}
		ch := make(chan monitor.Update)
		done := make(chan struct{})
		go func() { r.Run(context.Background(), ch); close(done) }()
		snap := monitor.Snapshot{Target: monitor.Target{ID: "a", Addr: ip("10.0.3.1"),
			Settings: monitor.Settings{Trace: trace.Config{Timeout: 2500 * time.Millisecond}}}}
		for i := 1; i <= 6; i++ {
			ch <- monitor.Update{Round: &monitor.RoundDone{Target: "a", Round: round(i, "10.0.1.1", "10.0.2.1", "10.0.3.1!"), Snapshot: snap}}
			time.Sleep(time.Second)
		}
		time.Sleep(3 * time.Second)
		close(ch)
		<-done
		// A batch lasts 2.5 s (the lost ping's timeout): rounds 1 and 4.
		if got, want := s.got["a"], []int{1, 4}; !slices.Equal(got, want) {
			t.Errorf("pings after rounds %v; want %v", got, want)
		}
		if got := len(n.sent); got != 4 {
			t.Errorf("%d pings sent; want 4 (two batches of two hops)", got)
		}
	})
}
