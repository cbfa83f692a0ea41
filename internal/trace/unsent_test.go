package trace

import (
	"context"
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe"
)

// refusing is a prober whose local system refuses every probe at or
// above TTL from (a route that is missing), and answers below it as a
// router would.
type refusing struct {
	from int
	err  error
}

func (r refusing) Probe(_ context.Context, p probe.Probe) (probe.Reply, error) {
	if p.TTL >= r.from {
		return probe.Reply{Kind: probe.Failed, Err: r.err}, nil
	}
	return probe.Reply{Kind: probe.TimeExceeded, From: netip.MustParseAddr("10.0.0.2"), RTT: time.Millisecond}, nil
}

func (r refusing) ProbeAll(ctx context.Context, ps []probe.Probe, gap time.Duration, on func(int, probe.Reply) bool) error {
	return probe.ProbeEach(ctx, r.Probe, ps, gap, on)
}
func (refusing) Prepare(probe.Mode, bool, bool) error { return nil }
func (refusing) Backend() string                      { return "refusing" }
func (refusing) Close() error                         { return nil }

func TestRoundUnsent(t *testing.T) {
	noRoute := errors.New("send to 10.77.5.1: no route to that network from this host: " + syscall.ENETUNREACH.Error())
	tests := []struct {
		name        string
		from        int
		wantN       int
		wantNothing bool
	}{
		{"nothing leaves", 1, 5, true},
		{"refused past hop 2", 3, 3, false},
		{"all sent", 99, 0, false},
	}
	for _, tt := range tests {
		tr, err := New(refusing{from: tt.from, err: noRoute}, Config{Target: netip.MustParseAddr("10.77.5.1"), MaxHops: 5}, nil)
		if err != nil {
			t.Fatal(err)
		}
		// With onHop, as trace prints: a round whose every TTL answers
		// and none ends the path must emit each hop once, and no more.
		emitted := 0
		r, err := tr.Round(context.Background(), 1, func(Hop) { emitted++ })
		if err != nil {
			t.Fatal(err)
		}
		if emitted != len(r.Hops) {
			t.Errorf("%s: onHop called %d times; want once per hop (%d)", tt.name, emitted, len(r.Hops))
		}
		n, first := r.Unsent()
		if n != tt.wantN || r.NothingSent() != tt.wantNothing {
			t.Errorf("%s: Unsent() = %d, NothingSent() = %v; want %d, %v", tt.name, n, r.NothingSent(), tt.wantN, tt.wantNothing)
		}
		if (n > 0) != (first != nil) || (first != nil && first != noRoute) {
			t.Errorf("%s: Unsent() error = %v; want %v when a probe was refused", tt.name, first, noRoute)
		}
	}
}
