package monitor

import (
	"net/netip"
	"time"
)

// slot is one Sample as a hop's history stores it: 12 bytes and no
// pointers, so a week of history costs little and the garbage collector
// never scans it. The address is an index into the hop's address table,
// the time comes from the target's table of round start times and the RTT
// is packed into 32 bits (packRTT).
type slot struct {
	rtt   uint32 // packRTT
	round uint32
	addr  uint16 // 1 + index into hopHistory.addrs; 0 for none
	flags uint8
	// kind is 1 + the reply's probe.Kind, for rebuilding rounds (Rounds);
	// 0 when unknown (samples restored from a session), which the flags
	// stand in for.
	kind uint8
}

// rttCoarse marks a packed RTT counted in microseconds.
const rttCoarse = 1 << 31

// packRTT keeps an RTT below 2.1 s to the nanosecond, as measured, and a
// longer one (a probe timeout may be set to minutes) to the microsecond,
// up to 35 minutes.
func packRTT(d time.Duration) uint32 {
	switch {
	case d <= 0:
		return 0
	case d < rttCoarse:
		return uint32(d)
	}
	return rttCoarse | uint32(min(d/time.Microsecond, rttCoarse-1))
}

// duration unpacks the slot's RTT.
func (s slot) duration() time.Duration {
	if s.rtt&rttCoarse != 0 {
		return time.Duration(s.rtt&^rttCoarse) * time.Microsecond
	}
	return time.Duration(s.rtt)
}

const (
	slotLost uint8 = 1 << iota
	slotReached
	slotClosed // a TCP destination refused the connection (probe.Reply.Closed)
)

// maxAddrs bounds a hop's address table; samples from addresses past it
// keep their RTT but lose their address. Real hops have a handful.
const maxAddrs = 1<<16 - 1

// hopHistory is one TTL's most recent samples: a ring that grows on demand
// up to its limit, so short runs do not pay for a long history.
type hopHistory struct {
	slots []slot // oldest at next once len(slots) reached the limit
	next  int
	addrs []netip.Addr
	hint  int // index of the address used last: most samples repeat it
}

func (h *hopHistory) addrIndex(a netip.Addr) uint16 {
	if !a.IsValid() {
		return 0
	}
	if h.hint < len(h.addrs) && h.addrs[h.hint] == a {
		return uint16(h.hint + 1)
	}
	for i, x := range h.addrs {
		if x == a {
			h.hint = i
			return uint16(i + 1)
		}
	}
	if len(h.addrs) >= maxAddrs {
		return 0
	}
	h.addrs = append(h.addrs, a)
	h.hint = len(h.addrs) - 1
	return uint16(len(h.addrs))
}

// add appends s, forgetting the oldest sample past limit entries.
func (h *hopHistory) add(limit int, s slot) {
	if len(h.slots) < limit {
		if len(h.slots) == cap(h.slots) {
			// Grow by hand: append's growth could overshoot the limit.
			grown := make([]slot, len(h.slots), min(limit, max(16, 2*cap(h.slots))))
			copy(grown, h.slots)
			h.slots = grown
		}
		h.slots = append(h.slots, s)
		return
	}
	h.slots[h.next] = s
	h.next = (h.next + 1) % len(h.slots)
}

// ordered calls f for each kept slot, oldest first.
func (h *hopHistory) ordered(f func(slot)) {
	for _, s := range h.slots[h.next:] {
		f(s)
	}
	for _, s := range h.slots[:h.next] {
		f(s)
	}
}

// resize keeps the most recent limit samples.
func (h *hopHistory) resize(limit int) {
	if len(h.slots) <= limit && cap(h.slots) <= limit && h.next == 0 {
		return
	}
	kept := make([]slot, 0, min(limit, len(h.slots)))
	skip := len(h.slots) - limit
	h.ordered(func(s slot) {
		if skip > 0 {
			skip--
			return
		}
		kept = append(kept, s)
	})
	h.slots, h.next = kept, 0
}

func (h *hopHistory) sample(s slot, times *roundTimes) Sample {
	out := Sample{Round: int(s.round), Time: times.at(int(s.round)), RTT: s.duration(),
		Lost: s.flags&slotLost != 0, Reached: s.flags&slotReached != 0, Refused: s.flags&slotClosed != 0}
	if s.addr != 0 {
		out.From = h.addrs[s.addr-1]
	}
	return out
}

// appendSamples appends the samples of rounds after since, oldest first.
func (h *hopHistory) appendSamples(dst []Sample, since int, times *roundTimes) []Sample {
	h.ordered(func(s slot) {
		if int(s.round) > since {
			dst = append(dst, h.sample(s, times))
		}
	})
	return dst
}

// roundTimes remembers the start time of each of the last rounds, indexed
// by round number modulo its size, as Unix nanoseconds (no pointers).
type roundTimes struct {
	rounds []uint32
	starts []int64
}

func newRoundTimes(n int) roundTimes {
	return roundTimes{rounds: make([]uint32, n), starts: make([]int64, n)}
}

func (t *roundTimes) set(round int, start time.Time) {
	if len(t.rounds) == 0 || start.IsZero() {
		return
	}
	i := round % len(t.rounds)
	t.rounds[i], t.starts[i] = uint32(round), start.UnixNano()
}

// at returns the start of round, or the zero time if it is not kept.
func (t *roundTimes) at(round int) time.Time {
	if len(t.rounds) == 0 {
		return time.Time{}
	}
	i := round % len(t.rounds)
	if t.rounds[i] != uint32(round) || round == 0 {
		return time.Time{}
	}
	return time.Unix(0, t.starts[i]).UTC()
}

// resized returns a table of n rounds holding what t knows of them.
func (t *roundTimes) resized(n int) roundTimes {
	out := newRoundTimes(n)
	if n == 0 {
		return out
	}
	for i, r := range t.rounds {
		// Rounds that share a slot in a smaller table: the newest wins.
		if j := int(r) % n; r != 0 && r > out.rounds[j] {
			out.rounds[j], out.starts[j] = r, t.starts[i]
		}
	}
	return out
}
