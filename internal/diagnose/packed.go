package diagnose

import (
	"net/netip"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// The Watcher keeps each target's window (300 rounds by default) packed:
// a Probe is 56 bytes and holds an address, which the garbage collector
// must scan; a packedProbe is 16 bytes without pointers, its responder an
// index into the target's table of addresses. At 5,000 targets the
// unpacked windows hold about 550 MB; packed, about 220.
// FromTrace's rules (what is lost, what is left out) apply unchanged:
// pack reads each hop through the same probeOf.

type packedProbe struct {
	rtt   time.Duration
	addr  uint16 // index into addrTable.list + 1; 0: no responder
	ttl   uint8
	flags uint8
}

const (
	pLost uint8 = 1 << iota
	pReached
	pUnreachable
)

type packedRound struct {
	index  int64
	time   int64 // Unix nanoseconds
	probes []packedProbe
	direct []Direct
}

// addrTable numbers one target's responders. A path has a handful; a
// table that fills (65,535 addresses, a target whose every probe draws a
// new one) starts over, which only costs the window's older rounds their
// responders' identity.
type addrTable struct {
	list  []netip.Addr
	index map[netip.Addr]uint16
}

func (t *addrTable) id(a netip.Addr) uint16 {
	if !a.IsValid() {
		return 0
	}
	if i, ok := t.index[a]; ok {
		return i
	}
	if len(t.list) >= 1<<16-1 {
		t.list, t.index = nil, nil
	}
	if t.index == nil {
		t.index = map[netip.Addr]uint16{}
	}
	t.list = append(t.list, a)
	t.index[a] = uint16(len(t.list))
	return uint16(len(t.list))
}

func (t *addrTable) addr(i uint16) netip.Addr {
	if i == 0 || int(i) > len(t.list) {
		return netip.Addr{}
	}
	return t.list[i-1]
}

// pack turns a tracer's round into its packed form, as FromTrace would
// read it.
func (t *addrTable) pack(r trace.Round) packedRound {
	n := 0
	for _, h := range r.Hops {
		if h.Reply.Kind != result.Failed {
			n++
		}
	}
	out := packedRound{index: int64(r.Index), time: r.Start.UnixNano(), probes: make([]packedProbe, 0, n)}
	for _, h := range r.Hops {
		p, ok := probeOf(h)
		if !ok {
			continue
		}
		var f uint8
		if p.Lost {
			f |= pLost
		}
		if p.Reached {
			f |= pReached
		}
		if p.Unreachable {
			f |= pUnreachable
		}
		out.probes = append(out.probes, packedProbe{rtt: p.RTT, addr: t.id(p.From), ttl: uint8(min(p.TTL, 255)), flags: f})
	}
	return out
}

// unpacked is the scratch an analysis reads: rounds whose probes share
// one backing array, both reused from one analysis to the next.
type unpacked struct {
	rounds []Round
	probes []Probe
}

// unpack fills u with the rounds of first then second, oldest first.
func (u *unpacked) unpack(first, second []packedRound, t *addrTable) {
	u.rounds, u.probes = u.rounds[:0], u.probes[:0]
	total := 0
	for _, part := range [2][]packedRound{first, second} {
		for i := range part {
			total += len(part[i].probes)
		}
	}
	if cap(u.probes) < total {
		u.probes = make([]Probe, 0, total)
	}
	for _, part := range [2][]packedRound{first, second} {
		for i := range part {
			pr := &part[i]
			start := len(u.probes)
			for _, p := range pr.probes {
				u.probes = append(u.probes, Probe{TTL: int(p.ttl), From: t.addr(p.addr), RTT: p.rtt,
					Lost: p.flags&pLost != 0, Reached: p.flags&pReached != 0, Unreachable: p.flags&pUnreachable != 0})
			}
			u.rounds = append(u.rounds, Round{Index: int(pr.index), Time: time.Unix(0, pr.time),
				Probes: u.probes[start:len(u.probes):len(u.probes)], Direct: pr.direct})
		}
	}
}
