// Package hopstat folds rounds of probe results into per-hop statistics,
// the numbers an mtr-style display shows: loss, last/best/worst/average RTT,
// standard deviation and jitter, per TTL and per responding address.
//
// It owns the arithmetic and the rules below, nothing else. It is pure: it
// defines its own input type (Sample) and must not import socket code
// (internal/probe, internal/trace) nor anything that shows or stores
// results, so the rules can be tested with tables alone.
//
// Rules:
//
//   - A round is the samples of one sweep over the TTLs. The destination
//     answered at the lowest TTL of a sample with Reached set. Samples of
//     that round at higher TTLs are ignored: those probes reached the
//     destination too (or raced it) and are not hops.
//   - Hops lists TTL 1 up to the destination's TTL in the most recent round
//     where it answered. If it never answered, it lists up to the highest
//     TTL probed, silent ones included. TTLs never probed (below a first-TTL
//     setting) are left out.
//   - A hop that never answered is listed with 100% loss and no responder,
//     like mtr's "???".
//   - A hop's Stats count every probe sent at its TTL, so they carry the
//     loss. Each Responder's Stats count only the probes that address
//     answered: its Sent is its replies and its loss is 0. Several
//     responders at one TTL mean ECMP or a route change.
//   - RTT statistics use received probes only. StdDev is the sample
//     standard deviation (divided by n-1), as mtr computes it. Jitter is the
//     mean absolute difference between consecutive received RTTs, JitterMax
//     the largest one (mtr's Jmax). mtr's Javg divides the same sum by n,
//     counting the first reply as a zero difference, so for small counts
//     mtr's figure reads a little lower; both converge.
//   - A refused probe (Sample.Refused: a TCP destination answered RST,
//     nothing listens on the port) is an answer, not a loss: it counts in
//     Recv and its RTT in the RTT statistics, since the refusal did make
//     the round trip. Refused counts how many of Recv were refusals, so
//     that a service check can tell "the host answers" from "the service
//     answers" (Recv − Refused).
package hopstat

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
	"time"
)

// Sample is one probe's outcome at one TTL in one round.
type Sample struct {
	TTL     int
	From    netip.Addr // the responder; zero if lost
	RTT     time.Duration
	Lost    bool
	Reached bool // From is the destination (echo reply, port unreachable, TCP answer)
	// Refused: the destination refused the connection (TCP RST). Only
	// with Reached; the probe is answered, not lost.
	Refused bool
}

// Stats summarises a series of probes.
type Stats struct {
	Sent, Recv int
	// Refused counts the replies (of Recv) that were refusals: a TCP
	// destination's RST. Loss does not include them.
	Refused   int
	Last      time.Duration // RTT of the most recent reply
	Best      time.Duration
	Worst     time.Duration
	Avg       time.Duration
	StdDev    time.Duration // sample standard deviation (n-1)
	Jitter    time.Duration // mean |RTT[i] - RTT[i-1]| over consecutive replies
	JitterMax time.Duration // largest such difference
	// P50 and P95 are the median and 95th percentile of the most recent
	// replies (Path.Window of them); zero when no window is kept.
	P50, P95 time.Duration
}

// LossPct returns the percentage of probes lost, 0 when none were sent.
func (s Stats) LossPct() float64 {
	if s.Sent == 0 {
		return 0
	}
	return 100 * float64(s.Sent-s.Recv) / float64(s.Sent)
}

// Acc accumulates Stats one probe at a time in constant space. The zero
// Acc is empty and ready to use.
type Acc struct {
	sent, recv  int
	refused     int
	last        time.Duration
	best, worst time.Duration
	// Welford's running mean and sum of squared deviations, in
	// nanoseconds: stable where summing squares would cancel.
	mean, m2   float64
	jsum, jmax time.Duration
}

// Add records a reply with round-trip time rtt.
func (a *Acc) Add(rtt time.Duration) {
	a.sent++
	a.recv++
	if a.recv == 1 {
		a.best, a.worst = rtt, rtt
	} else {
		d := rtt - a.last
		if d < 0 {
			d = -d
		}
		a.jsum += d
		a.jmax = max(a.jmax, d)
		a.best = min(a.best, rtt)
		a.worst = max(a.worst, rtt)
	}
	a.last = rtt
	x := float64(rtt)
	delta := x - a.mean
	a.mean += delta / float64(a.recv)
	a.m2 += delta * (x - a.mean)
}

// AddRefused records a reply that was a refusal (TCP RST), with its
// round-trip time: an answer, counted apart.
func (a *Acc) AddRefused(rtt time.Duration) {
	a.Add(rtt)
	a.refused++
}

// AddLoss records a probe that got no reply.
func (a *Acc) AddLoss() { a.sent++ }

// Stats returns the statistics so far.
func (a *Acc) Stats() Stats {
	s := Stats{Sent: a.sent, Recv: a.recv, Refused: a.refused}
	if a.recv == 0 {
		return s
	}
	s.Last, s.Best, s.Worst = a.last, a.best, a.worst
	s.Avg = time.Duration(math.Round(a.mean))
	if a.recv > 1 {
		s.StdDev = time.Duration(math.Round(math.Sqrt(a.m2 / float64(a.recv-1))))
		s.Jitter = time.Duration(math.Round(float64(a.jsum) / float64(a.recv-1)))
		s.JitterMax = a.jmax
	}
	return s
}

// Responder is one address seen at a TTL, with the stats of its replies.
type Responder struct {
	Addr  netip.Addr
	Stats Stats
}

// Hop is one TTL of a path.
type Hop struct {
	TTL   int
	Stats Stats // every probe at this TTL
	// Responders are the addresses that answered at this TTL, most replies
	// first, then most recently seen first.
	Responders []Responder
	Reached    bool // the destination answered at this TTL
}

// MaxTTL is the highest TTL a Sample may carry; others are ignored.
const MaxTTL = 255

// Path folds the rounds of one target into per-hop statistics. The zero
// Path is empty and ready to use. A Path is not safe for concurrent use:
// its owner folds rounds and takes snapshots with Hops.
type Path struct {
	// Window is how many recent RTTs each TTL keeps for percentiles; 0
	// keeps none. Set it before the first round; later, SetWindow keeps
	// the values already kept.
	Window int

	ttls   []ttlAcc // index TTL-1
	rounds int
	dest   int // destination TTL in the most recent round that reached it; 0 if none did
	probed int // highest TTL counted in any round
}

type ttlAcc struct {
	acc    Acc
	resp   []respAcc
	recent SortedRing
}

type respAcc struct {
	addr netip.Addr
	acc  Acc
	seen int // the round it last answered in
}

// AddRound folds one round of samples, in any order. Folding allocates only
// when the path grows or a new responder appears.
func (p *Path) AddRound(samples []Sample) {
	p.rounds++
	reach := 0
	for _, s := range samples {
		if s.Reached && !s.Lost && s.TTL >= 1 && s.TTL <= MaxTTL && (reach == 0 || s.TTL < reach) {
			reach = s.TTL
		}
	}
	for _, s := range samples {
		if s.TTL < 1 || s.TTL > MaxTTL || (reach != 0 && s.TTL > reach) {
			continue
		}
		if s.TTL > len(p.ttls) {
			p.ttls = append(p.ttls, make([]ttlAcc, s.TTL-len(p.ttls))...)
		}
		p.probed = max(p.probed, s.TTL)
		t := &p.ttls[s.TTL-1]
		if p.Window > 0 && t.recent.Cap() != p.Window {
			t.recent = NewSortedRing(p.Window)
		}
		if s.Lost {
			t.acc.AddLoss()
			continue
		}
		refused := s.Refused && s.Reached
		t.acc.add(s.RTT, refused)
		t.recent.Add(s.RTT)
		if s.From.IsValid() {
			r := t.responder(s.From)
			r.acc.add(s.RTT, refused)
			r.seen = p.rounds
		}
	}
	if reach != 0 {
		p.dest = reach
	}
}

func (a *Acc) add(rtt time.Duration, refused bool) {
	if refused {
		a.AddRefused(rtt)
		return
	}
	a.Add(rtt)
}

// responder returns the accumulator for addr, adding one if it is new.
// A linear search: a TTL rarely has more than a handful of addresses.
func (t *ttlAcc) responder(addr netip.Addr) *respAcc {
	for i := range t.resp {
		if t.resp[i].addr == addr {
			return &t.resp[i]
		}
	}
	t.resp = append(t.resp, respAcc{addr: addr})
	return &t.resp[len(t.resp)-1]
}

// Rounds returns the number of rounds folded.
func (p *Path) Rounds() int { return p.rounds }

// DestTTL returns the TTL at which the destination answered in the most
// recent round where it answered, or 0 if it never has.
func (p *Path) DestTTL() int { return p.dest }

// Hops returns a snapshot of the path's hops in TTL order (see the package
// rules for which TTLs are listed). The result shares nothing with p.
func (p *Path) Hops() []Hop {
	n := p.probed
	if p.dest != 0 {
		n = p.dest
	}
	n = min(n, len(p.ttls))
	hops := make([]Hop, 0, n)
	for i := range n {
		t := &p.ttls[i]
		if t.acc.sent == 0 {
			continue
		}
		h := Hop{TTL: i + 1, Stats: t.acc.Stats(), Reached: i+1 == p.dest}
		if t.recent.Len() > 0 {
			h.Stats.P50 = t.recent.Percentile(0.5)
			h.Stats.P95 = t.recent.Percentile(0.95)
		}
		if len(t.resp) > 0 {
			order := slices.Clone(t.resp)
			slices.SortStableFunc(order, func(a, b respAcc) int {
				if c := cmp.Compare(b.acc.recv, a.acc.recv); c != 0 {
					return c
				}
				return cmp.Compare(b.seen, a.seen)
			})
			h.Responders = make([]Responder, len(order))
			for j := range order {
				h.Responders[j] = Responder{Addr: order[j].addr, Stats: order[j].acc.Stats()}
			}
		}
		hops = append(hops, h)
	}
	return hops
}
