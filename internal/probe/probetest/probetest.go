// Package probetest is a scripted network for tests that need no root and
// no sockets: a path of hops, each with its own latency, silence or loss.
// It works under testing/synctest, where its sleeps take no real time.
package probetest

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe"
)

// Hop is one router (or, last in a Path, the destination).
type Hop struct {
	Addr netip.Addr
	RTT  time.Duration
	// Silent hops never answer (a router that drops its time exceeded).
	Silent bool
	// Lose, if set, is asked for every probe answered at this hop; true
	// drops it. n counts this hop's probes from 0.
	Lose func(n int) bool
	// Unreachable makes the hop answer with destination unreachable.
	Unreachable bool
	// Refuse, if set on the destination, is asked for every TCP probe it
	// answers; true answers with a refusal (an RST: the host is there but
	// nothing listens on the port), which a backend reports as Reached
	// with Closed set. n counts this hop's probes from 0, as for Lose.
	Refuse func(n int) bool
	// Details are what this hop's answers carry beyond its address
	// (MPLS labels, interfaces, a quote's TOS), as a backend reports them.
	Details probe.Details
}

// Always is a Lose or Refuse that is true for every probe.
func Always(int) bool { return true }

// Network answers probes as the path Hops would. Hops[len-1] is the
// destination. It is safe for concurrent use.
type Network struct {
	mu    sync.Mutex
	Hops  []Hop
	count map[int]int
	sent  []probe.Probe
}

// SetHops replaces the path (a reroute) while probes run.
func (n *Network) SetHops(h []Hop) {
	n.mu.Lock()
	n.Hops = h
	n.mu.Unlock()
}

// Sent returns every probe sent so far.
func (n *Network) Sent() []probe.Probe {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]probe.Probe(nil), n.sent...)
}

func (n *Network) Probe(ctx context.Context, p probe.Probe) (probe.Reply, error) {
	if p.Timeout <= 0 {
		p.Timeout = time.Second
	}
	n.mu.Lock()
	if n.count == nil {
		n.count = make(map[int]int)
	}
	n.sent = append(n.sent, p)
	idx := min(p.TTL, len(n.Hops)) - 1
	last := idx == len(n.Hops)-1 // read under the lock: SetHops may run meanwhile
	h := n.Hops[idx]
	c := n.count[idx]
	n.count[idx]++
	n.mu.Unlock()

	sent := time.Now()
	lost := h.Silent || (h.Lose != nil && h.Lose(c)) || h.RTT >= p.Timeout
	wait := h.RTT
	if lost {
		wait = p.Timeout
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return probe.Reply{}, ctx.Err()
	case <-t.C:
	}
	if lost {
		return probe.Reply{Kind: probe.Timeout, Sent: sent}, nil
	}
	kind := probe.TimeExceeded
	switch {
	case h.Unreachable:
		kind = probe.Unreachable
	case last:
		kind = probe.Reached
	}
	// Only a TCP destination can refuse: the backends' contract for Closed.
	closed := kind == probe.Reached && p.Mode == probe.TCP && h.Refuse != nil && h.Refuse(c)
	return probe.Reply{Kind: kind, From: h.Addr, Sent: sent, RTT: h.RTT, Closed: closed, Details: h.Details}, nil
}

func (n *Network) Prepare(probe.Mode, bool, bool) error { return nil }
func (n *Network) Backend() string                      { return "probetest scripted network" }
func (n *Network) Close() error                         { return nil }

// Path builds a Network of hops with the given RTTs at addresses
// 10.0.<i>.1, the last being the destination.
func Path(rtts ...time.Duration) *Network {
	n := &Network{}
	for i, r := range rtts {
		n.Hops = append(n.Hops, Hop{Addr: netip.AddrFrom4([4]byte{10, 0, byte(i + 1), 1}), RTT: r})
	}
	return n
}

func (n *Network) ProbeAll(ctx context.Context, ps []probe.Probe, gap time.Duration, onReply func(int, probe.Reply) bool) error {
	return probe.ProbeEach(ctx, n.Probe, ps, gap, onReply)
}
