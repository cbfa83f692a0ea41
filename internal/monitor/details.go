package monitor

import (
	"net/netip"

	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// ResponderDetails is what one responder at a TTL last said beyond its
// address: the latest non-empty result.Details of its replies (MPLS
// labels, RFC 5837 interfaces, what its quote shows arrived).
type ResponderDetails struct {
	Addr netip.Addr
	result.Details
}

// MaxDetailResponders caps how many responders' details a TTL keeps; the
// one seen least recently makes room. ECMP rarely shows more than a
// handful of routers at one TTL, and the cap bounds a target's memory
// when a hop answers from ever new addresses.
const MaxDetailResponders = 16

// DetailsLog keeps, per TTL and responder, the latest non-empty details.
// Details change rarely (a label stack is stable until the LSP changes),
// so the latest one is what a user asks for; statistics of them would say
// nothing more. The zero value is empty and ready. A DetailsLog is not
// safe for concurrent use.
type DetailsLog struct {
	byTTL [][]detailsEntry // index TTL-1
	seq   uint64
}

type detailsEntry struct {
	ResponderDetails
	seen uint64 // seq of the latest update, to evict the stalest
}

// Observe records what the replies of a round said.
func (l *DetailsLog) Observe(r trace.Round) {
	for i := range r.Hops {
		h := &r.Hops[i]
		l.Set(h.TTL, h.Reply.From, h.Reply.Details)
	}
}

// Set records d as the latest details of from at ttl. Empty details, an
// invalid address and a TTL outside 1-hopstat.MaxTTL change nothing, so a
// reply without extensions does not hide the labels of an earlier one.
func (l *DetailsLog) Set(ttl int, from netip.Addr, d result.Details) {
	if ttl < 1 || ttl > hopstat.MaxTTL || !from.IsValid() || d.Empty() {
		return
	}
	if ttl > len(l.byTTL) {
		l.byTTL = append(l.byTTL, make([][]detailsEntry, ttl-len(l.byTTL))...)
	}
	l.seq++
	es := l.byTTL[ttl-1]
	for i := range es {
		if es[i].Addr == from {
			es[i].Details, es[i].seen = d, l.seq
			return
		}
	}
	e := detailsEntry{ResponderDetails{Addr: from, Details: d}, l.seq}
	if len(es) < MaxDetailResponders {
		l.byTTL[ttl-1] = append(es, e)
		return
	}
	stalest := 0
	for i := range es {
		if es[i].seen < es[stalest].seen {
			stalest = i
		}
	}
	es[stalest] = e
}

// At returns a copy of the details kept for ttl, in the order the
// responders were first seen; nil when none. The Details' slices are
// shared: replies are immutable once a round is published.
func (l *DetailsLog) At(ttl int) []ResponderDetails {
	if ttl < 1 || ttl > len(l.byTTL) || len(l.byTTL[ttl-1]) == 0 {
		return nil
	}
	es := l.byTTL[ttl-1]
	out := make([]ResponderDetails, len(es))
	for i := range es {
		out[i] = es[i].ResponderDetails
	}
	return out
}

// Restore sets the details of ttl from a saved snapshot's hop.
func (l *DetailsLog) Restore(ttl int, ds []ResponderDetails) {
	for _, d := range ds {
		l.Set(ttl, d.Addr, d.Details)
	}
}

// Reset forgets every TTL's details (hop numbers changed meaning).
func (l *DetailsLog) Reset() {
	l.byTTL = nil
}
