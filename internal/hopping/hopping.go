// Package hopping sends direct hop pings: beside a target's TTL-limited
// probes, one ICMP echo request to the own address of every hop that
// answered recently. A router answers echo requests from another queue,
// usually under another limit, than the time-exceeded messages a
// traceroute reads, so the two loss figures of one hop tell a router that
// rate-limits its replies from loss on the way to it (package diagnose
// compares them).
//
// Plan is pure: it learns each TTL's address from rounds and says what to
// ping. Send sends one batch through the same probe.Prober as the
// traceroute, with the target's send gap, timeout and size, so the pings
// are rate-limited like every other probe: at most one per hop per round.
// Runner does it for every target of a monitor whose settings ask for it
// and hands the results to a diagnose.Watcher.
//
// It reaches the prober and the engine below it and package diagnose; it
// must not import anything that shows or stores results.
package hopping

import (
	"context"
	"net/netip"
	"time"

	"github.com/pingerplot/pingerplot/internal/diagnose"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// DefaultForget is how many rounds a hop's address is pinged after it was
// last seen answering: a router that rate-limits its time-exceeded
// messages may go unseen for several rounds, and its echo replies are
// what tells why, so it is not dropped at its first miss; an address that
// has been gone for longer left the path.
const DefaultForget = 30

// directTTL is the TTL of a direct ping: an ordinary ping's, enough for
// any hop of a path that a traceroute's 30 hops reach.
const directTTL = 64

// Target is one hop to ping: the TTL it answered at and its address.
type Target struct {
	TTL  int
	Addr netip.Addr
}

// Plan remembers the latest address that answered at each TTL of one
// target's path. The zero value is ready; it is not safe for concurrent
// use (one target's rounds come one at a time).
type Plan struct {
	// Forget is how many rounds an address stays planned after it last
	// answered; 0 means DefaultForget.
	Forget int

	seen  []seen // index TTL-1
	round int    // the latest round observed
	end   int    // the latest round's end (0: it did not end)
	dest  netip.Addr
}

type seen struct {
	addr  netip.Addr
	round int
}

// Observe learns the addresses that answered in round r. A router's
// answer (time exceeded) names a hop; the destination's own answer is not
// a hop to ping: its TTL-limited probes are already echo requests to it.
func (p *Plan) Observe(r trace.Round) {
	p.round++
	p.end = r.EndTTL
	if r.Reached {
		p.dest = r.Hops[len(r.Hops)-1].Reply.From
	}
	for _, h := range r.Hops {
		if h.Reply.Kind != probe.TimeExceeded || !h.Reply.From.IsValid() || h.TTL < 1 {
			continue
		}
		for len(p.seen) < h.TTL {
			p.seen = append(p.seen, seen{})
		}
		p.seen[h.TTL-1] = seen{addr: h.Reply.From, round: p.round}
	}
}

// Targets returns the hops to ping now, in TTL order: each TTL's latest
// address seen within Forget rounds, below the path's end when the latest
// round found one, each address once (its lowest TTL), never the
// destination.
func (p *Plan) Targets() []Target {
	forget := p.Forget
	if forget <= 0 {
		forget = DefaultForget
	}
	var out []Target
	done := make(map[netip.Addr]bool, len(p.seen))
	for i, s := range p.seen {
		ttl := i + 1
		if !s.addr.IsValid() || p.round-s.round >= forget || (p.end != 0 && ttl >= p.end) ||
			s.addr == p.dest || done[s.addr] {
			continue
		}
		done[s.addr] = true
		out = append(out, Target{TTL: ttl, Addr: s.addr})
	}
	return out
}

// Reset forgets every address: the target's path or probe settings
// changed.
func (p *Plan) Reset() { *p = Plan{Forget: p.Forget} }

// SendConfig is how one batch of direct pings is sent: the target's own
// probe settings, so that the pings are paced and sized as its
// traceroute's probes.
type SendConfig struct {
	Gap     time.Duration // between the pings of the batch (trace.Config.SendGap)
	Timeout time.Duration // per ping; 0 means trace.DefaultTimeout
	Size    int           // payload bytes; 0 means trace.DefaultSize
}

// Send sends one echo request to each target through pr, cfg.Gap apart,
// and returns their outcomes in the order of targets. A ping the local
// system refused to send (Failed) is left out: it asked the network
// nothing. The error is ctx's or the prober's (closed).
func Send(ctx context.Context, pr probe.Prober, targets []Target, cfg SendConfig) ([]diagnose.Direct, error) {
	if len(targets) == 0 {
		return nil, nil
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = trace.DefaultTimeout
	}
	if cfg.Size <= 0 {
		cfg.Size = trace.DefaultSize
	}
	ps := make([]probe.Probe, len(targets))
	for i, t := range targets {
		ps[i] = probe.Probe{Dst: t.Addr, TTL: directTTL, Mode: probe.ICMP, Size: cfg.Size, Timeout: cfg.Timeout}
	}
	replies := make([]probe.Reply, len(targets))
	got := make([]bool, len(targets))
	err := pr.ProbeAll(ctx, ps, cfg.Gap, func(i int, r probe.Reply) bool {
		replies[i], got[i] = r, true
		return true
	})
	if err != nil {
		return nil, err
	}
	out := make([]diagnose.Direct, 0, len(targets))
	for i, t := range targets {
		r := replies[i]
		if !got[i] || r.Kind == probe.Failed {
			continue
		}
		d := diagnose.Direct{TTL: t.TTL, Addr: t.Addr}
		// Only the hop's own echo reply counts: a router on the way
		// answering (time exceeded, unreachable) is not the hop answering.
		if r.Kind == probe.Reached && r.From == t.Addr {
			d.RTT = r.RTT
		} else {
			d.Lost = true
		}
		out = append(out, d)
	}
	return out, nil
}
