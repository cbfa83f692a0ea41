package monitor

import (
	"context"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe"
)

// fakePath is a zero-latency network for the long and the scale tests:
// ProbeAll answers every probe at once on the caller's goroutine, with no
// timer, goroutine or record per probe, so the monitor's own cost is what
// gets measured (probetest spends a goroutine and a timer per probe and
// keeps every probe it was sent). Each destination registered with add
// has a path of hops TTLs: routers 10.<ttl>.0.1, one ECMP hop alternating
// between two routers round by round, some loss at TTL 2 and at the
// destination, and RTTs that vary a little.
type fakePath struct {
	hops   int
	rounds map[netip.Addr]*atomic.Uint64 // filled before use, then read-only
}

const fakeECMPTTL = 3

func newFakePath(hops int) *fakePath {
	return &fakePath{hops: hops, rounds: make(map[netip.Addr]*atomic.Uint64)}
}

func (f *fakePath) add(dst netip.Addr) { f.rounds[dst] = new(atomic.Uint64) }

func (f *fakePath) reply(p probe.Probe, round uint64) probe.Reply {
	r := probe.Reply{Kind: probe.TimeExceeded, Sent: time.Now(),
		RTT: time.Duration(p.TTL)*time.Millisecond + time.Duration(round%7)*100*time.Microsecond}
	switch {
	case p.TTL >= f.hops:
		if round%50 == 49 { // 2% lost at the destination
			return probe.Reply{Kind: probe.Timeout, Sent: r.Sent}
		}
		r.Kind, r.From = probe.Reached, p.Dst
	case p.TTL == 2 && round%20 == 7: // 5% lost at a rate-limiting router
		return probe.Reply{Kind: probe.Timeout, Sent: r.Sent}
	case p.TTL == fakeECMPTTL:
		r.From = netip.AddrFrom4([4]byte{10, byte(p.TTL), 0, byte(1 + round%2)})
	default:
		r.From = netip.AddrFrom4([4]byte{10, byte(p.TTL), 0, 1})
	}
	return r
}

func (f *fakePath) ProbeAll(ctx context.Context, ps []probe.Probe, _ time.Duration, onReply func(int, probe.Reply) bool) error {
	if len(ps) == 0 {
		return nil
	}
	round := f.rounds[ps[0].Dst].Add(1)
	for i, p := range ps {
		if !onReply(i, f.reply(p, round)) {
			break
		}
	}
	return ctx.Err()
}

func (f *fakePath) Probe(ctx context.Context, p probe.Probe) (probe.Reply, error) {
	return f.reply(p, f.rounds[p.Dst].Load()), ctx.Err()
}
func (f *fakePath) Prepare(probe.Mode, bool, bool) error { return nil }
func (f *fakePath) Backend() string                      { return "fake zero-latency path" }
func (f *fakePath) Close() error                         { return nil }
