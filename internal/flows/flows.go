// Package flows keeps the statistics of several flows to one target (ECMP
// flow enumeration, as Dublin traceroute does it) and groups the flows that
// share a path.
//
// A flow is one flow identifier of the probes (probe.Probe.Flow: a source
// port for UDP): every probe of a flow carries the same header fields a load
// balancer hashes, so it follows one of the equal-cost paths, and different
// flows may follow different ones. Each flow keeps its own per-hop
// statistics (a hopstat.Path). Paths groups the flows by the sequence of
// addresses that answered at each TTL and gives each distinct path its share
// of the flows, its per-hop statistics (the flows' counters merged) and its
// loss at the destination, and marks the path whose destination loss stands
// out above the others'.
//
// Rules:
//
//   - A flow's signature is, for each TTL of its hops (hopstat.Path.Hops),
//     the address that answered it most often, or none; flows with equal
//     signatures share a path. A flow that has folded no round yet is in no
//     path and counts in no share.
//   - A path's Share is its flows over all flows with at least one round.
//   - A path's hop statistics add its flows' counters (sent, received,
//     refused), take the best of the bests and the worst of the worsts,
//     weight the means by replies and pool the variances; Last is the most
//     recent flow's, and the percentiles, which cannot be merged from
//     summaries, are left zero.
//   - DestLossPct is the loss at the destination's TTL when the path
//     reached it, else 100.
//   - Lossy marks a path whose DestLossPct is at least LossyMargin
//     percentage points above the least lossy path's. With one path nothing
//     is marked: there is nothing to compare it with.
//
// It is pure: time comes in as an argument, and it must not import socket
// code nor anything that shows or stores results.
package flows

import (
	"cmp"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/pingerplot/pingerplot/internal/hopstat"
)

// LossyMargin is how many percentage points of destination loss a path
// must have above the least lossy path to be marked Lossy: less is within
// what chance gives a few dozen probes.
const LossyMargin = 5.0

// MaxFlows bounds how many flows a Set keeps: each is one source port (or
// socket) per target, and beyond a few dozen ECMP paths are found already.
const MaxFlows = 256

// Set keeps the statistics of N flows to one target. The zero Set has no
// flows; use New. A Set is not safe for concurrent use.
type Set struct {
	flows []flow
}

type flow struct {
	path hopstat.Path
	last time.Time // when its most recent round was folded
}

// New returns a Set of n flows (0 to n-1), each keeping window recent RTTs
// per TTL for its percentiles (hopstat.Path.Window).
func New(n, window int) (*Set, error) {
	if n < 1 || n > MaxFlows {
		return nil, fmt.Errorf("flows %d out of range 1-%d", n, MaxFlows)
	}
	s := &Set{flows: make([]flow, n)}
	for i := range s.flows {
		s.flows[i].path.Window = window
	}
	return s, nil
}

// Len returns the number of flows.
func (s *Set) Len() int { return len(s.flows) }

// AddRound folds one round of flow f's samples, taken at now.
func (s *Set) AddRound(now time.Time, f int, samples []hopstat.Sample) error {
	if f < 0 || f >= len(s.flows) {
		return fmt.Errorf("flow %d out of range 0-%d", f, len(s.flows)-1)
	}
	s.flows[f].path.AddRound(samples)
	s.flows[f].last = now
	return nil
}

// Flow returns flow f's own per-hop statistics.
func (s *Set) Flow(f int) []hopstat.Hop {
	if f < 0 || f >= len(s.flows) {
		return nil
	}
	return s.flows[f].path.Hops()
}

// Hop is one TTL of a distinct path.
type Hop struct {
	TTL int
	// Addr answered this TTL most often in each of the path's flows; the
	// zero Addr when nothing answered.
	Addr    netip.Addr
	Stats   hopstat.Stats
	Reached bool // the destination answered at this TTL
}

// Path is one distinct path: the flows whose hops answered from the same
// addresses.
type Path struct {
	Hops  []Hop
	Flows []int   // the flows on this path, ascending
	Share float64 // Flows over all flows with a round, 0 to 1
	// Reached: the destination answered the path's flows.
	Reached bool
	// DestLossPct is the loss at the destination, 100 if never reached.
	DestLossPct float64
	// LastSeen is when one of its flows last folded a round.
	LastSeen time.Time
	// Lossy: its destination loss stands out (see the package rules).
	Lossy bool
}

// Paths returns the distinct paths, the largest share first (ties: the
// path with the lowest flow first). The result shares nothing with s.
func (s *Set) Paths() []Path {
	type group struct {
		key   string
		flows []int
		hops  [][]hopstat.Hop // per flow
		addrs []Hop
	}
	var groups []*group
	byKey := map[string]*group{}
	active := 0
	for f := range s.flows {
		fl := &s.flows[f]
		if fl.path.Rounds() == 0 {
			continue
		}
		active++
		hops := fl.path.Hops()
		key, addrs := signature(hops)
		g := byKey[key]
		if g == nil {
			g = &group{key: key, addrs: addrs}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.flows = append(g.flows, f)
		g.hops = append(g.hops, hops)
	}
	paths := make([]Path, 0, len(groups))
	for _, g := range groups {
		p := Path{Flows: g.flows, Share: float64(len(g.flows)) / float64(active), DestLossPct: 100}
		for _, f := range g.flows {
			if t := s.flows[f].last; t.After(p.LastSeen) {
				p.LastSeen = t
			}
		}
		p.Hops = make([]Hop, len(g.addrs))
		for i, a := range g.addrs {
			per := make([]hopstat.Stats, 0, len(g.hops))
			var lastAt time.Time
			var last time.Duration
			for j, hops := range g.hops {
				// Flows of one group have the same TTLs, so hop i is TTL a.TTL.
				st := hops[i].Stats
				per = append(per, st)
				if t := s.flows[g.flows[j]].last; st.Recv > 0 && !t.Before(lastAt) {
					lastAt, last = t, st.Last
				}
			}
			h := a
			h.Stats = merge(per)
			h.Stats.Last = last
			p.Hops[i] = h
		}
		if n := len(p.Hops); n > 0 && p.Hops[n-1].Reached {
			p.Reached = true
			p.DestLossPct = p.Hops[n-1].Stats.LossPct()
		}
		paths = append(paths, p)
	}
	slices.SortStableFunc(paths, func(a, b Path) int {
		if c := cmp.Compare(len(b.Flows), len(a.Flows)); c != 0 {
			return c
		}
		return cmp.Compare(a.Flows[0], b.Flows[0])
	})
	markLossy(paths)
	return paths
}

// signature is a flow's path key and its hops' main responders.
func signature(hops []hopstat.Hop) (string, []Hop) {
	var b strings.Builder
	addrs := make([]Hop, len(hops))
	for i, h := range hops {
		var a netip.Addr
		if len(h.Responders) > 0 {
			a = h.Responders[0].Addr
		}
		addrs[i] = Hop{TTL: h.TTL, Addr: a, Reached: h.Reached}
		fmt.Fprintf(&b, "%d=%v;", h.TTL, a)
		if h.Reached {
			b.WriteString("reached")
		}
	}
	return b.String(), addrs
}

// merge combines the statistics of several flows at one TTL (see the
// package rules).
func merge(ss []hopstat.Stats) hopstat.Stats {
	var m hopstat.Stats
	var sum, jsum, jn float64
	for _, s := range ss {
		m.Sent += s.Sent
		m.Refused += s.Refused
		if s.Recv == 0 {
			continue
		}
		if m.Recv == 0 || s.Best < m.Best {
			m.Best = s.Best
		}
		m.Worst = max(m.Worst, s.Worst)
		m.JitterMax = max(m.JitterMax, s.JitterMax)
		m.Recv += s.Recv
		sum += float64(s.Avg) * float64(s.Recv)
		if s.Recv > 1 {
			jsum += float64(s.Jitter) * float64(s.Recv-1)
			jn += float64(s.Recv - 1)
		}
	}
	if m.Recv == 0 {
		return m
	}
	mean := sum / float64(m.Recv)
	m.Avg = time.Duration(math.Round(mean))
	if jn > 0 {
		m.Jitter = time.Duration(math.Round(jsum / jn))
	}
	if m.Recv > 1 {
		// Pooled: each flow's squared deviations about its own mean, plus
		// its mean's squared deviation about the merged mean per reply.
		var ss2 float64
		for _, s := range ss {
			if s.Recv == 0 {
				continue
			}
			sd, d := float64(s.StdDev), float64(s.Avg)-mean
			ss2 += sd*sd*float64(s.Recv-1) + d*d*float64(s.Recv)
		}
		m.StdDev = time.Duration(math.Round(math.Sqrt(ss2 / float64(m.Recv-1))))
	}
	return m
}

// markLossy sets Lossy on the paths whose destination loss stands out.
func markLossy(paths []Path) {
	if len(paths) < 2 {
		return
	}
	best := paths[0].DestLossPct
	for _, p := range paths[1:] {
		best = min(best, p.DestLossPct)
	}
	for i := range paths {
		paths[i].Lossy = paths[i].DestLossPct >= best+LossyMargin
	}
}
