package probe

import (
	"net/netip"
	"sync"
	"time"
)

// pending is a probe waiting for its answer.
type pending struct {
	dst  netip.Addr
	port uint16
	ttl  int
	sent time.Time
	idx  int           // the probe's index in its batch
	done chan<- answer // buffered for the whole batch: the matcher never blocks
}

// answer is a reply for the probe at index idx of a batch.
type answer struct {
	idx int
	r   Reply
}

// deliver hands r to the probe's batch. Only the one who took the probe
// from its table (or owns it, for TCP) delivers, so it happens once.
func (p *pending) deliver(r Reply) { p.done <- answer{p.idx, r} }

// table holds the probes in flight on one shared socket, keyed by the
// 16-bit sequence number each carries. Sequence numbers come from one counter
// per socket, so probes of many rounds and many targets never collide while
// fewer than 65,536 are in flight at once.
type table struct {
	mu   sync.Mutex
	next uint16
	m    map[uint16]*pending
	// skipZero avoids sequence values a backend cannot carry (0 is "no
	// checksum" when the sequence travels in the UDP checksum field).
	skipZero bool
}

func newTable(start uint16, skipZero bool) *table {
	return &table{next: start, m: make(map[uint16]*pending), skipZero: skipZero}
}

// add registers p under a fresh sequence number. It must be called before
// the packet is sent: a fast reply must find its probe.
func (t *table) add(p *pending) (uint16, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := 0; i < 1<<16; i++ {
		seq := t.next
		t.next++
		if t.skipZero && (seq == 0 || seq == 0xFFFF) {
			continue
		}
		if _, busy := t.m[seq]; busy {
			continue
		}
		t.m[seq] = p
		return seq, true
	}
	return 0, false
}

// take removes and returns the probe for seq, if still waiting.
func (t *table) take(seq uint16) *pending {
	t.mu.Lock()
	p := t.m[seq]
	delete(t.m, seq)
	t.mu.Unlock()
	return p
}

// peek returns the probe for seq without removing it.
func (t *table) peek(seq uint16) *pending {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[seq]
}

// takeOldest removes the earliest-sent probe to dst:port. It serves replies
// that carry no sequence number (a UDP service answering from an open port).
func (t *table) takeOldest(dst netip.Addr, port uint16) *pending {
	t.mu.Lock()
	defer t.mu.Unlock()
	var best *pending
	var bestSeq uint16
	for seq, p := range t.m {
		if p.dst == dst && p.port == port && (best == nil || p.sent.Before(best.sent)) {
			best, bestSeq = p, seq
		}
	}
	if best != nil {
		delete(t.m, bestSeq)
	}
	return best
}

// rtt turns a send time and a receive time into a round-trip time. A kernel
// receive timestamp is wall clock, so it is paired with the wall reading of
// sent; without one, the monotonic readings of sent and now are used. A
// negative result (the wall clock stepped) falls back to the monotonic clock.
func rtt(sent, kernelTS, now time.Time) (time.Duration, bool) {
	if !kernelTS.IsZero() {
		if d := kernelTS.Sub(sent.Round(0)); d >= 0 {
			return d, true
		}
	}
	d := now.Sub(sent)
	if d < 0 {
		d = 0
	}
	return d, false
}
