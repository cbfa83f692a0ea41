package flowwatch

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// ecmp is a scripted network of two equal-cost branches: router 10.0.0.2,
// then 10.0.1.2 for even flows or 10.1.1.2 for odd ones, then the
// destination. The odd branch loses the destination's answers every
// other round of each flow.
type ecmp struct {
	mu     sync.Mutex
	rounds map[uint16]int // per flow, the TTL 1 probes seen
}

func (n *ecmp) reply(pr probe.Probe) probe.Reply {
	n.mu.Lock()
	defer n.mu.Unlock()
	if pr.TTL == 1 {
		n.rounds[pr.Flow]++
	}
	switch {
	case pr.TTL == 1:
		return probe.Reply{Kind: probe.TimeExceeded, From: netip.MustParseAddr("10.0.0.2"), RTT: time.Millisecond}
	case pr.TTL == 2 && pr.Flow%2 == 0:
		return probe.Reply{Kind: probe.TimeExceeded, From: netip.MustParseAddr("10.0.1.2"), RTT: time.Millisecond}
	case pr.TTL == 2:
		return probe.Reply{Kind: probe.TimeExceeded, From: netip.MustParseAddr("10.1.1.2"), RTT: time.Millisecond}
	case pr.Flow%2 == 1 && n.rounds[pr.Flow]%2 == 0:
		return probe.Reply{Kind: probe.Timeout}
	}
	return probe.Reply{Kind: probe.Reached, From: pr.Dst, RTT: 2 * time.Millisecond}
}

func (n *ecmp) Probe(ctx context.Context, p probe.Probe) (probe.Reply, error) { return n.reply(p), nil }
func (n *ecmp) ProbeAll(ctx context.Context, ps []probe.Probe, gap time.Duration, onReply func(int, probe.Reply) bool) error {
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
func (*ecmp) Prepare(probe.Mode, bool, bool) error { return nil }
func (*ecmp) Backend() string                      { return "scripted ECMP" }
func (*ecmp) Close() error                         { return nil }

// paths words Latest's paths: "share% hop,hop,hop [lossy]" each.
func paths(p Paths) string {
	var out []string
	for _, path := range p.Paths {
		var hops []string
		for _, h := range path.Hops {
			hops = append(hops, h.Addr.String())
		}
		s := fmt.Sprintf("%.0f%% %s", 100*path.Share, strings.Join(hops, ","))
		if path.Lossy {
			s += " lossy"
		}
		out = append(out, s)
	}
	return strings.Join(out, " | ")
}

func TestWatcher(t *testing.T) {
	dst := netip.MustParseAddr("192.0.2.9")
	tests := []struct {
		name        string
		cfg         Config
		flows       int
		mode        probe.Mode
		wantOK      bool
		wantPaths   string
		wantNote    string
		wantVaries  string
		wantRemoved bool
	}{
		{name: "udp flows split over both branches", flows: 4, mode: probe.UDP, wantOK: true,
			wantPaths: "50% 10.0.0.2,10.0.1.2,192.0.2.9 | 50% 10.0.0.2,10.1.1.2,192.0.2.9 lossy", wantVaries: "source port"},
		{name: "icmp names its echo identifier", flows: 2, mode: probe.ICMP, wantOK: true,
			wantPaths: "50% 10.0.0.2,10.0.1.2,192.0.2.9 | 50% 10.0.0.2,10.1.1.2,192.0.2.9 lossy", wantVaries: "echo identifier"},
		{name: "the engine's --flows wins over the setting", cfg: Config{All: 2}, flows: 0, mode: probe.UDP, wantOK: true,
			wantPaths: "50% 10.0.0.2,10.0.1.2,192.0.2.9 | 50% 10.0.0.2,10.1.1.2,192.0.2.9 lossy", wantVaries: "source port"},
		{name: "off", flows: 0, mode: probe.UDP},
		{name: "one flow is the table itself", flows: 1, mode: probe.UDP},
		{name: "tcp has no fixed flow", flows: 4, mode: probe.TCP, wantOK: true, wantNote: "TCP probes have no fixed flow"},
		{name: "a system that cannot vary flows", cfg: Config{Unsupported: "this system's probes ignore the flow"}, flows: 4, mode: probe.UDP,
			wantOK: true, wantNote: "this system's probes ignore the flow"},
		{name: "a removed target is forgotten", flows: 4, mode: probe.UDP, wantRemoved: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			net := &ecmp{rounds: map[uint16]int{}}
			tt.cfg.Prober = net
			w := New(tt.cfg)
			sn := monitor.Snapshot{Target: monitor.Target{ID: "t", Addr: dst}}
			sn.Settings.Flows = tt.flows
			sn.Settings.Trace = trace.Config{Mode: tt.mode, MaxHops: 5}
			cfg := sn.Settings.Trace
			cfg.Target = dst
			tr0, err := trace.New(net, cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for i := range 4 {
				r, err := tr0.Round(ctx, i, nil)
				if err != nil {
					t.Fatal(err)
				}
				if job := w.handle(monitor.Update{Round: &monitor.RoundDone{Target: "t", Round: r, Snapshot: sn}}); job != nil {
					job(ctx)
				}
			}
			if tt.wantRemoved {
				w.handle(monitor.Update{Event: &monitor.Event{Target: "t", Kind: monitor.Removed}})
			}
			got, ok := w.Latest("t")
			if ok != tt.wantOK {
				t.Fatalf("Latest ok = %v; want %v", ok, tt.wantOK)
			}
			if !ok {
				return
			}
			if tt.wantNote != "" {
				if !strings.Contains(got.Note, tt.wantNote) || len(got.Paths) != 0 {
					t.Errorf("Latest = note %q, %d paths; want a note naming %q and no path", got.Note, len(got.Paths), tt.wantNote)
				}
				return
			}
			if s := paths(got); s != tt.wantPaths {
				t.Errorf("paths = %s; want %s", s, tt.wantPaths)
			}
			if got.Varies != tt.wantVaries || got.Rounds != 4 || got.Note != "" {
				t.Errorf("Latest = varies %q, %d rounds, note %q; want %q, 4, none", got.Varies, got.Rounds, got.Note, tt.wantVaries)
			}
		})
	}
}

// TestWatcherRestartsOnChange checks that a new configuration (here the
// number of flows) starts the statistics afresh.
func TestWatcherRestartsOnChange(t *testing.T) {
	dst := netip.MustParseAddr("192.0.2.9")
	w := New(Config{Prober: &ecmp{rounds: map[uint16]int{}}})
	ctx := context.Background()
	sn := monitor.Snapshot{Target: monitor.Target{ID: "t", Addr: dst}}
	sn.Settings.Trace = trace.Config{Mode: probe.UDP, MaxHops: 5}
	for _, n := range []int{4, 4, 3} {
		sn.Settings.Flows = n
		if job := w.handle(monitor.Update{Round: &monitor.RoundDone{Target: "t", Snapshot: sn}}); job != nil {
			job(ctx)
		}
	}
	got, _ := w.Latest("t")
	if got.Count != 3 || got.Rounds != 1 {
		t.Errorf("after a change to 3 flows: count %d, %d rounds; want 3, 1", got.Count, got.Rounds)
	}
}
