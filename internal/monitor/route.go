package monitor

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// RouteWindow is W of the route-change rule (see the package doc): how
// many rounds an address (or a path length) stays "known" after it was
// last seen.
const RouteWindow = 20

// seen is a value in a tracker's window.
type seen[K comparable] struct {
	v    K
	last int // round it was last seen in
	hits int // rounds it was seen in since it entered the window
}

// tracker applies the route-change rule to one series of values: the
// addresses answering at one TTL, or the destination's TTL. It is pure and
// its memory is bounded by RouteWindow.
type tracker[K comparable] struct {
	current, lastObs, pending K
	has, hasObs, hasPending   bool
	window                    []seen[K] // in order of first appearance
	announced                 []K       // the multipath members said last
}

// verdict is what one observation means: a change (from → to), or a
// multipath member set to announce, or nothing.
type verdict[K comparable] struct {
	changed   bool
	from, to  K
	multipath []K
}

// observe records that v answered in round (rounds increase; rounds where
// nothing answered are simply not observed).
func (t *tracker[K]) observe(round int, v K) verdict[K] {
	t.prune(round)
	i := slices.IndexFunc(t.window, func(s seen[K]) bool { return s.v == v })
	inWindow := i >= 0
	returning := inWindow && t.hasObs && v != t.lastObs
	if inWindow {
		t.window[i].last = round
		t.window[i].hits++
	} else {
		t.window = append(t.window, seen[K]{v: v, last: round, hits: 1})
	}
	t.lastObs, t.hasObs = v, true

	var out verdict[K]
	switch {
	case !t.has: // the first answer: the baseline, not a change
		t.current, t.has = v, true
	case t.hasPending && v == t.pending: // a new value's second round: a change
		out = verdict[K]{changed: true, from: t.current, to: v}
		t.current, t.hasPending = v, false
	case v == t.current:
		t.hasPending = false
	case !inWindow: // new: wait for a second round before calling it a change
		t.pending, t.hasPending = v, true
	default: // a known value back: multipath (below), not a change
		t.current, t.hasPending = v, false
	}
	if returning && t.newMembers() {
		var members []K
		for _, s := range t.window {
			if s.hits >= 2 {
				members = append(members, s.v)
			}
		}
		out.multipath = members
		t.announced = members
	}
	return out
}

// newMembers reports whether the window has two or more multipath members
// (values seen in two rounds or more) and one of them was not announced.
// It allocates nothing: ECMP hops ask it every round.
func (t *tracker[K]) newMembers() bool {
	n, fresh := 0, false
	for _, s := range t.window {
		if s.hits >= 2 {
			n++
			fresh = fresh || !slices.Contains(t.announced, s.v)
		}
	}
	return n >= 2 && fresh
}

// prune forgets values not seen in the last RouteWindow rounds, and
// multipath members with them, so that a member set announced long ago
// can be announced again when it comes back.
func (t *tracker[K]) prune(round int) {
	t.window = slices.DeleteFunc(t.window, func(s seen[K]) bool { return s.last <= round-RouteWindow })
	t.announced = slices.DeleteFunc(t.announced, func(m K) bool {
		return !slices.ContainsFunc(t.window, func(s seen[K]) bool { return s.v == m })
	})
}

// routes applies the rule to every TTL of a target and to its path length.
type routes struct {
	ttls   []tracker[netip.Addr] // index TTL-1
	length tracker[int]
}

// hopAnswer is who answered at a TTL in a round.
type hopAnswer struct {
	TTL  int
	From netip.Addr
}

// routeEvent is a route-change finding, before it is dated and worded.
type routeEvent struct {
	Kind     EventKind // RouteChange, Multipath or PathLength
	TTL      int       // 0 for the path length
	From, To netip.Addr
	Addrs    []netip.Addr // multipath members at TTL
	FromLen  int
	ToLen    int
	Lengths  []int // multipath path lengths
}

// observe folds one round: the answers at each TTL (lost probes left out)
// and the destination's TTL (0 when it did not answer).
func (r *routes) observe(round int, answers []hopAnswer, destTTL int) []routeEvent {
	var out []routeEvent
	for _, a := range answers {
		if !a.From.IsValid() || a.TTL < 1 || a.TTL > 255 {
			continue
		}
		if a.TTL > len(r.ttls) {
			r.ttls = append(r.ttls, make([]tracker[netip.Addr], a.TTL-len(r.ttls))...)
		}
		v := r.ttls[a.TTL-1].observe(round, a.From)
		if v.changed {
			out = append(out, routeEvent{Kind: RouteChange, TTL: a.TTL, From: v.from, To: v.to})
		}
		if v.multipath != nil {
			out = append(out, routeEvent{Kind: Multipath, TTL: a.TTL, Addrs: v.multipath})
		}
	}
	if destTTL > 0 {
		v := r.length.observe(round, destTTL)
		if v.changed {
			out = append(out, routeEvent{Kind: PathLength, FromLen: v.from, ToLen: v.to})
		}
		if v.multipath != nil {
			out = append(out, routeEvent{Kind: Multipath, Lengths: v.multipath})
		}
	}
	return out
}

// message words a finding for people; names, if not nil, adds host names.
func (e routeEvent) message(names func(netip.Addr) string) string {
	addr := func(a netip.Addr) string {
		if names != nil {
			if n := names(a); n != "" {
				return a.String() + " (" + n + ")"
			}
		}
		return a.String()
	}
	switch {
	case e.Kind == RouteChange:
		return fmt.Sprintf("hop %d: %s → %s", e.TTL, addr(e.From), addr(e.To))
	case e.Kind == PathLength:
		return fmt.Sprintf("path length %d → %d hops", e.FromLen, e.ToLen)
	case e.TTL == 0:
		ls := make([]string, len(e.Lengths))
		for i, l := range e.Lengths {
			ls[i] = fmt.Sprint(l)
		}
		return fmt.Sprintf("path length: multipath, %d lengths: %s hops", len(ls), strings.Join(ls, ", "))
	}
	as := make([]string, len(e.Addrs))
	for i, a := range e.Addrs {
		as[i] = addr(a)
	}
	return fmt.Sprintf("hop %d: multipath, %d addresses: %s", e.TTL, len(as), strings.Join(as, ", "))
}
