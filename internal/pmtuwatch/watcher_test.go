package pmtuwatch

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/pmtu"
	"github.com/pingerplot/pingerplot/internal/probe"
)

// fhop is a router of a scripted path and the MTU of the link after it
// (0: 1500).
type fhop struct {
	addr netip.Addr
	mtu  int
}

// path is a scripted IPv4 network: routers, then the destination.
type path struct {
	mu   sync.Mutex
	hops []fhop
	sent []probe.Probe
}

func (n *path) setHops(hs []fhop) { n.mu.Lock(); n.hops = hs; n.mu.Unlock() }

func (n *path) count() int { n.mu.Lock(); defer n.mu.Unlock(); return len(n.sent) }

func (n *path) reply(pr probe.Probe) probe.Reply {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, pr)
	if !pr.DontFragment {
		return probe.Reply{Kind: probe.Failed, Err: errors.New("probe without DontFragment")}
	}
	size := pr.Size + 28
	for k, h := range n.hops {
		if pr.TTL == k+1 {
			return probe.Reply{Kind: probe.TimeExceeded, From: h.addr}
		}
		if h.mtu != 0 && size > h.mtu {
			return probe.Reply{Kind: probe.Unreachable, From: h.addr, ICMPType: 3, ICMPCode: 4, MTU: uint32(h.mtu)}
		}
	}
	return probe.Reply{Kind: probe.Reached, From: pr.Dst}
}

// netProber is a scripted path behind the whole probe.Prober interface.
type netProber struct {
	*path
	refuse error // Prepare's answer
}

func (n netProber) Probe(ctx context.Context, p probe.Probe) (probe.Reply, error) {
	return n.reply(p), nil
}

func (n netProber) ProbeAll(ctx context.Context, ps []probe.Probe, gap time.Duration, onReply func(int, probe.Reply) bool) error {
	for i, pr := range ps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !onReply(i, n.reply(pr)) {
			return nil
		}
	}
	return nil
}
func (n netProber) Prepare(probe.Mode, bool, bool) error { return n.refuse }
func (n netProber) Backend() string                      { return "scripted" }
func (n netProber) Close() error                         { return nil }

func a(s string) netip.Addr { return netip.MustParseAddr(s) }

// routers4 returns n routers 10.0.k.2, with link k's MTU mtus[k] if given.
func routers4(n int, mtus map[int]int) []fhop {
	hs := make([]fhop, n)
	for i := range hs {
		hs[i] = fhop{addr: netip.AddrFrom4([4]byte{10, 0, byte(i), 2}), mtu: mtus[i]}
	}
	return hs
}

type events []string

func (e *events) Report(id monitor.ID, kind monitor.EventKind, msg string) error {
	*e = append(*e, fmt.Sprintf("%s %s: %s", id, kind, msg))
	return nil
}

func TestWatcherSteps(t *testing.T) {
	dst := a("192.0.2.9")
	round := func(id monitor.ID, on bool, mode probe.Mode) monitor.Update {
		sn := monitor.Snapshot{Target: monitor.Target{ID: id, Addr: dst}}
		sn.Settings.PathMTU = on
		sn.Settings.Trace.Mode = mode
		return monitor.Update{Round: &monitor.RoundDone{Target: id, Snapshot: sn}}
	}
	event := func(id monitor.ID, k monitor.EventKind) monitor.Update {
		return monitor.Update{Event: &monitor.Event{Target: id, Kind: k}}
	}
	narrow := routers4(3, map[int]int{1: 1400})
	type step struct {
		after  time.Duration // since the start
		u      monitor.Update
		hops   []fhop // the path from this step on; nil keeps it
		run    bool   // a discovery must start, and is run to its end
		hold   bool   // a discovery must start and is left in flight
		finish bool   // the held discovery ends now (before u)
		want   string // Summary of Latest after the step; "" for none
		event  string // the event reported by this step; "" for none
	}
	tests := []struct {
		name  string
		all   bool
		steps []step
	}{
		{name: "first round discovers, later rounds wait for Every", steps: []step{
			{u: round("t", true, probe.ICMP), hops: narrow, run: true, want: "1400 bytes (drops at hop 2, 10.0.1.2)",
				event: "t path_mtu: path MTU 1400 bytes (drops at hop 2, 10.0.1.2)"},
			{after: time.Second, u: round("t", true, probe.ICMP), want: "1400 bytes (drops at hop 2, 10.0.1.2)"},
			{after: 9 * time.Minute, u: round("t", true, probe.ICMP), want: "1400 bytes (drops at hop 2, 10.0.1.2)"},
			// Every has passed: run again; the same result is no news.
			{after: 10*time.Minute + time.Second, u: round("t", true, probe.ICMP), run: true, want: "1400 bytes (drops at hop 2, 10.0.1.2)"},
			{after: 20*time.Minute + 2*time.Second, u: round("t", true, probe.ICMP), hops: routers4(3, nil), run: true,
				want: "1500 bytes (nothing smaller on the path)", event: "t path_mtu: path MTU 1500 bytes (nothing smaller on the path)"},
		}},
		{name: "a route change reruns after the rerun gap", steps: []step{
			{u: round("t", true, probe.UDP), hops: narrow, run: true, want: "1400 bytes (drops at hop 2, 10.0.1.2)",
				event: "t path_mtu: path MTU 1400 bytes (drops at hop 2, 10.0.1.2)"},
			{after: 10 * time.Second, u: event("t", monitor.RouteChange), hops: routers4(3, nil), want: "1400 bytes (drops at hop 2, 10.0.1.2)"},
			{after: 11 * time.Second, u: round("t", true, probe.UDP), want: "1400 bytes (drops at hop 2, 10.0.1.2)"},
			{after: 31 * time.Second, u: round("t", true, probe.UDP), run: true, want: "1500 bytes (nothing smaller on the path)",
				event: "t path_mtu: path MTU 1500 bytes (nothing smaller on the path)"},
		}},
		{name: "a path length change while in flight reruns after it", steps: []step{
			{u: round("t", true, probe.ICMP), hops: narrow, hold: true},
			{after: time.Second, u: round("t", true, probe.ICMP)}, // one at a time
			{after: 2 * time.Second, u: event("t", monitor.PathLength)},
			{after: 3 * time.Second, finish: true, u: round("t", true, probe.ICMP), want: "1400 bytes (drops at hop 2, 10.0.1.2)",
				event: "t path_mtu: path MTU 1400 bytes (drops at hop 2, 10.0.1.2)"},
			{after: 31 * time.Second, u: round("t", true, probe.ICMP), run: true, want: "1400 bytes (drops at hop 2, 10.0.1.2)"},
		}},
		{name: "off unless the setting or All", steps: []step{
			{u: round("t", false, probe.ICMP), hops: narrow},
			{after: time.Second, u: round("t", true, probe.ICMP), run: true, want: "1400 bytes (drops at hop 2, 10.0.1.2)",
				event: "t path_mtu: path MTU 1400 bytes (drops at hop 2, 10.0.1.2)"},
			// Switched off: the result is dropped, so nothing shows a stale one.
			{after: 2 * time.Second, u: round("t", false, probe.ICMP)},
		}},
		{name: "All covers every target; a TCP target is probed with ICMP", all: true, steps: []step{
			{u: round("t", false, probe.TCP), hops: narrow, run: true, want: "1400 bytes (drops at hop 2, 10.0.1.2)",
				event: "t path_mtu: path MTU 1400 bytes (drops at hop 2, 10.0.1.2)"},
		}},
		{name: "a removed target is forgotten", all: true, steps: []step{
			{u: round("t", true, probe.ICMP), hops: narrow, hold: true},
			{after: time.Second, u: event("t", monitor.Removed)},
			{after: 2 * time.Second, finish: true, u: event("u", monitor.RouteChange)},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			now := start
			net := &path{}
			var got events
			w := New(Config{Prober: netProber{path: net}, Reporter: &got, All: tt.all, Now: func() time.Time { return now }})
			var held func(context.Context)
			for i, s := range tt.steps {
				now = start.Add(s.after)
				if s.hops != nil {
					net.setHops(s.hops)
				}
				n := len(got)
				sent := net.count()
				if s.finish {
					if held == nil {
						t.Fatalf("step %d: no discovery in flight to finish", i)
					}
					held(context.Background())
					held = nil
				}
				job := w.handle(s.u)
				if gotJob, want := job != nil, s.run || s.hold; gotJob != want {
					t.Fatalf("step %d: discovery started: got %v; want %v", i, gotJob, want)
				}
				switch {
				case s.run:
					job(context.Background())
				case s.hold:
					held = job
				}
				if job == nil && !s.finish && net.count() != sent {
					t.Errorf("step %d: %d probes sent without a discovery", i, net.count()-sent)
				}
				id := monitor.ID("t")
				if s.u.Round != nil {
					id = s.u.Round.Target
				}
				p, ok := w.Latest(id)
				if gotSum := map[bool]string{true: pmtu.Summary(p)}[ok]; gotSum != s.want {
					t.Errorf("step %d: Latest: got %q; want %q", i, gotSum, s.want)
				}
				ev := strings.Join(got[n:], "; ")
				if ev != s.event {
					t.Errorf("step %d: events: got %q; want %q", i, ev, s.event)
				}
				if s.run || s.finish {
					for _, pr := range net.sent[sent:] { // the discovery has ended: no writer
						if pr.Mode != probe.ICMP && pr.Mode != probe.UDP {
							t.Errorf("step %d: a discovery probe of mode %v; want ICMP or UDP", i, pr.Mode)
						}
					}
				}
			}
		})
	}
}

func TestWatcherRefusedPrepare(t *testing.T) {
	var got events
	w := New(Config{Prober: netProber{path: &path{}, refuse: errors.New("no ping socket")}, Reporter: &got})
	sn := monitor.Snapshot{Target: monitor.Target{ID: "t", Addr: a("192.0.2.9")}}
	sn.Settings.PathMTU = true
	job := w.handle(monitor.Update{Round: &monitor.RoundDone{Target: "t", Snapshot: sn}})
	if job == nil {
		t.Fatal("no discovery started for the first round")
	}
	job(context.Background())
	p, ok := w.Latest("t")
	if !ok || p.Valid() || p.Err != "no ping socket" {
		t.Errorf("Latest: got %+v, %v; want a failed result saying why", p, ok)
	}
	if want := "t path_mtu: path MTU not found: no ping socket"; len(got) != 1 || got[0] != want {
		t.Errorf("events: got %q; want [%q]", got, want)
	}
}

var _ probe.Prober = netProber{}
