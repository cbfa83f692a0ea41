package probe

import (
	"context"
	"time"
)

// batch is the bookkeeping every backend's ProbeAll shares: which probes
// of the call are answered, which still wait and until when, and the wait
// for the rest. Answers arrive on results from whoever matched them (a
// socket's reader, a TCP probe's goroutine, a waiter of the ICMP helper)
// and are handed to onReply on the calling goroutine, once per probe.
// A batch is used by one goroutine; only results is shared.
type batch struct {
	ps       []Probe
	onReply  func(int, Reply) bool
	results  chan answer // buffered for the whole batch: senders never block
	wait     []waiting
	resolved []bool
	left     int
	stopped  bool // onReply returned false: the rest is abandoned
	timer    *time.Timer
}

// waiting is a probe sent and not yet answered: it times out at deadline.
// A probe matched through a table (tbl not nil) times out only if it can
// still be taken from the table, so a reply and its timeout never both
// count.
type waiting struct {
	tbl      *table
	seq      uint16
	sent     time.Time
	deadline time.Time // zero: not waiting on a deadline (a goroutine answers)
}

func newBatch(ps []Probe, onReply func(int, Reply) bool) *batch {
	return &batch{ps: ps, onReply: onReply, results: make(chan answer, len(ps)),
		wait: make([]waiting, len(ps)), resolved: make([]bool, len(ps)), left: len(ps)}
}

// resolve reports probe i's answer, once; r.Sent defaults to when it was
// sent.
func (b *batch) resolve(i int, r Reply) {
	if b.resolved[i] || b.stopped {
		return
	}
	b.resolved[i] = true
	b.left--
	if r.Sent.IsZero() {
		r.Sent = b.wait[i].sent
	}
	if !b.onReply(i, r) {
		b.stopped = true
	}
}

// await marks probe i as sent and waiting until deadline, in tbl under seq
// when a table matches its reply.
func (b *batch) await(i int, tbl *table, seq uint16, sent, deadline time.Time) {
	b.wait[i] = waiting{tbl: tbl, seq: seq, sent: sent, deadline: deadline}
}

// gap waits d between two sends, or until ctx ends or closing closes.
func gapWait(ctx context.Context, closing <-chan struct{}, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-closing:
		return ErrClosed
	}
}

// run waits for the probes still out: answers as they come, timeouts as
// their deadlines pass, until every probe is resolved, onReply stops the
// batch, ctx ends or closing closes. One timer serves the whole batch.
func (b *batch) run(ctx context.Context, closing <-chan struct{}) error {
	for b.left > 0 && !b.stopped {
		var next time.Time
		for i, w := range b.wait {
			if !w.deadline.IsZero() && !b.resolved[i] && (next.IsZero() || w.deadline.Before(next)) {
				next = w.deadline
			}
		}
		var tc <-chan time.Time
		if !next.IsZero() {
			d := time.Until(next)
			if b.timer == nil {
				b.timer = time.NewTimer(d)
			} else {
				b.timer.Reset(d)
			}
			tc = b.timer.C
		}
		select {
		case a := <-b.results:
			b.resolve(a.idx, a.r)
		case <-tc:
			now := time.Now()
			for i, w := range b.wait {
				if w.deadline.IsZero() || b.resolved[i] || now.Before(w.deadline) {
					continue
				}
				if w.tbl == nil || w.tbl.take(w.seq) != nil {
					b.resolve(i, Reply{Kind: Timeout})
				}
			}
		case <-ctx.Done():
			return ctx.Err()
		case <-closing:
			return ErrClosed
		}
	}
	return nil
}

// release stops the timer and takes the probes abandoned in their tables
// out of them; a reply already matched lands in results and is dropped
// with the batch.
func (b *batch) release() {
	if b.timer != nil {
		b.timer.Stop()
	}
	for i, w := range b.wait {
		if w.tbl != nil && !b.resolved[i] {
			w.tbl.take(w.seq)
		}
	}
}
