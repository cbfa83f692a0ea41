package probe

// The request pool of the Windows ICMP backend, with the operating system
// behind an interface so it is tested on every OS with a fake.
//
// IcmpSendEcho2 with an event handle is overlapped: it queues the request
// and returns; the event is signalled when the answer, an error or the
// timeout completes it, and the reply buffer must stay untouched until
// then. A probe in flight is therefore a slot: an event and a reply buffer
// of its own. Slots are grouped under waiters, each one goroutine that
// blocks in WaitForMultipleObjects on its busy slots' events plus one wake
// event (64 handles, the system's limit, so 63 slots a waiter). A thousand
// probes in flight cost 16 threads blocked in the kernel, not a thousand
// goroutines, timers and threads, and a slot is reused as soon as its
// request completes.

import (
	"context"
	"errors"
	"sync"
	"time"
)

const (
	slotsPerWaiter = 63 // MAXIMUM_WAIT_OBJECTS (64) less the wake event
	maxEchoWaiters = 16 // at most 1,008 echo requests in flight per prober
	// echoGrace is how long past its timeout a request may stay silent
	// before the batch calls it lost itself. The API completes every
	// request at its timeout; this is a backstop, not the rule.
	echoGrace = time.Second
)

// winEvents is what the pool needs from the operating system. Handles are
// opaque numbers. Windows implements it with manual-reset events and
// WaitForMultipleObjects; tests with a fake.
type winEvents interface {
	newEvent() (uintptr, error) // a manual-reset event, not signalled
	set(ev uintptr) error
	reset(ev uintptr) error
	closeEvent(ev uintptr) error
	// waitAny blocks until one of evs (at most 64) is signalled and
	// returns the index of the first signalled one.
	waitAny(evs []uintptr) (int, error)
}

// echoSlot is one request's event and buffers. The system owns buf (and
// scratch, which holds the request's payload, options and addresses)
// while the slot is busy.
type echoSlot struct {
	ev      uintptr
	buf     []byte
	scratch []byte
	w       *echoWaiter
	req     echoRequest
}

// echoRequest is the probe a busy slot carries.
type echoRequest struct {
	idx  int
	pr   Probe
	sent time.Time
	done chan<- answer // buffered for the whole batch: a waiter never blocks
}

type echoWaiter struct {
	wake  uintptr
	slots int         // slots created under this waiter
	busy  []*echoSlot // slots with a request in flight, waited on
}

// echoPool hands out slots and runs the waiters.
type echoPool struct {
	os winEvents
	// complete reads a completed request's outcome from its slot; now is
	// the time the waiter woke for it.
	complete func(s *echoSlot, now time.Time) Reply
	now      func() time.Time // monotonic clock for completions
	maxW     int

	mu      sync.Mutex
	waiters []*echoWaiter
	free    []*echoSlot
	all     []*echoSlot
	closed  bool
	freed   chan struct{} // a slot was freed (capacity 1: a hint, never blocks)
	wg      sync.WaitGroup
	inUse   int // busy slots, for tests and Backend
	maxUsed int
}

func newEchoPool(ev winEvents, complete func(*echoSlot, time.Time) Reply, now func() time.Time, maxWaiters int) *echoPool {
	if now == nil {
		now = time.Now
	}
	return &echoPool{os: ev, complete: complete, now: now, maxW: maxWaiters, freed: make(chan struct{}, 1)}
}

// acquire returns a free slot, creating one (and a waiter for it) while
// under the limits, else waiting for one to be freed.
func (p *echoPool) acquire(ctx context.Context) (*echoSlot, error) {
	for {
		s, err := p.tryAcquire()
		if s != nil || err != nil {
			return s, err
		}
		select {
		case <-p.freed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (p *echoPool) tryAcquire() (*echoSlot, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if n := len(p.free); n > 0 {
		s := p.free[n-1]
		p.free = p.free[:n-1]
		p.markBusyLocked()
		return s, nil
	}
	var w *echoWaiter
	for _, cand := range p.waiters {
		if cand.slots < slotsPerWaiter {
			w = cand
			break
		}
	}
	if w == nil {
		if len(p.waiters) >= p.maxW {
			return nil, nil
		}
		wake, err := p.os.newEvent()
		if err != nil {
			return nil, err
		}
		w = &echoWaiter{wake: wake}
		p.waiters = append(p.waiters, w)
		p.wg.Add(1)
		go p.run(w)
	}
	ev, err := p.os.newEvent()
	if err != nil {
		return nil, err
	}
	w.slots++
	s := &echoSlot{ev: ev, w: w}
	p.all = append(p.all, s)
	p.markBusyLocked()
	return s, nil
}

func (p *echoPool) markBusyLocked() {
	p.inUse++
	p.maxUsed = max(p.maxUsed, p.inUse)
}

// arm hands a slot whose request was queued to its waiter.
func (p *echoPool) arm(s *echoSlot) {
	p.mu.Lock()
	s.w.busy = append(s.w.busy, s)
	p.mu.Unlock()
	p.os.set(s.w.wake)
}

// release returns a slot whose request never reached the system, or
// completed within the call, to the free list.
func (p *echoPool) release(s *echoSlot) {
	p.os.reset(s.ev)
	s.req = echoRequest{}
	p.mu.Lock()
	p.free = append(p.free, s)
	p.inUse--
	p.mu.Unlock()
	select {
	case p.freed <- struct{}{}:
	default:
	}
}

// run is a waiter's loop. It ends once the pool is closed and none of its
// slots is busy: a request the system still owns keeps its waiter, so its
// buffers are never freed under the system.
func (p *echoPool) run(w *echoWaiter) {
	defer p.wg.Done()
	evs := make([]uintptr, 0, slotsPerWaiter+1)
	slots := make([]*echoSlot, 0, slotsPerWaiter)
	for {
		p.mu.Lock()
		if p.closed && len(w.busy) == 0 {
			p.mu.Unlock()
			return
		}
		slots = append(slots[:0], w.busy...)
		p.mu.Unlock()
		evs = append(evs[:0], w.wake)
		for _, s := range slots {
			evs = append(evs, s.ev)
		}
		i, err := p.os.waitAny(evs)
		now := p.now()
		if err != nil {
			// The wait itself failed (a handle closed under it): nothing
			// can be learnt of these requests any more. Their probes fail
			// with the reason, and their slots are retired, never reused,
			// since the system may still write to them.
			p.retire(w, slots, err)
			continue
		}
		if i <= 0 || i > len(slots) {
			p.os.reset(w.wake)
			continue
		}
		s := slots[i-1]
		r := p.complete(s, now)
		req := s.req
		p.mu.Lock()
		w.busy = removeSlot(w.busy, s)
		p.mu.Unlock()
		p.release(s)
		req.done <- answer{req.idx, r}
	}
}

func (p *echoPool) retire(w *echoWaiter, slots []*echoSlot, err error) {
	p.mu.Lock()
	for _, s := range slots {
		w.busy = removeSlot(w.busy, s)
		p.inUse--
	}
	p.mu.Unlock()
	for _, s := range slots {
		s.req.done <- answer{s.req.idx, Reply{Kind: Failed, Sent: s.req.sent,
			Err: errors.Join(errors.New("waiting for the ICMP echo request failed"), err)}}
	}
}

func removeSlot(busy []*echoSlot, s *echoSlot) []*echoSlot {
	for i, b := range busy {
		if b == s {
			busy[i] = busy[len(busy)-1]
			busy[len(busy)-1] = nil
			return busy[:len(busy)-1]
		}
	}
	return busy
}

// stats reports the slots in use now and at most so far, and the waiters.
func (p *echoPool) stats() (inUse, maxUsed, waiters int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inUse, p.maxUsed, len(p.waiters)
}

// close stops the pool: waiters end once their requests complete (the
// caller cancels them first to make that quick), then every event is
// closed. Slots acquired after close fail with ErrClosed.
func (p *echoPool) close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	waiters := append([]*echoWaiter(nil), p.waiters...)
	p.mu.Unlock()
	for _, w := range waiters {
		p.os.set(w.wake)
	}
	p.wg.Wait()
	var errs []error
	for _, w := range waiters {
		errs = append(errs, p.os.closeEvent(w.wake))
	}
	for _, s := range p.all {
		errs = append(errs, p.os.closeEvent(s.ev))
	}
	return errors.Join(errs...)
}

// echoSend queues the request a slot carries (s.req is filled, with
// s.req.sent to be stamped by the sender just before the system call). It
// returns pending true when the system owns the slot until its event is
// signalled, or the probe's outcome when the request completed or failed
// within the call.
type echoSend func(s *echoSlot) (pending bool, r Reply)

// probeAll sends ps (all ICMP) gap apart through send and reports each
// answer through onReply on the calling goroutine, in the order answers
// complete. Probes abandoned (onReply false, ctx, close) stay in flight in
// the system until their own timeout; their slots come back then and their
// answers are dropped.
func (p *echoPool) probeAll(ctx context.Context, closing <-chan struct{}, ps []Probe, gap time.Duration, onReply func(int, Reply) bool, send echoSend) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-closing:
		return ErrClosed
	default:
	}
	b := newBatch(ps, onReply)
	defer b.release()

	for i, pr := range ps {
		if b.stopped {
			return nil
		}
		if i > 0 && gap > 0 {
			if err := gapWait(ctx, closing, gap); err != nil {
				return err
			}
		}
		pr, err := checkEchoProbe(pr)
		if err != nil {
			b.resolve(i, Reply{Kind: Failed, Err: err})
			continue
		}
		s, err := p.acquire(ctx)
		if err != nil {
			if errors.Is(err, ErrClosed) || ctx.Err() != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return ErrClosed
			}
			b.resolve(i, Reply{Kind: Failed, Err: err})
			continue
		}
		s.req = echoRequest{idx: i, pr: pr, done: b.results}
		pending, r := send(s)
		if !pending {
			b.await(i, nil, 0, s.req.sent, time.Time{})
			p.release(s)
			b.resolve(i, r)
			continue
		}
		// Windows times each request itself; the deadline is a backstop
		// for one it never completes.
		b.await(i, nil, 0, s.req.sent, s.req.sent.Add(pr.Timeout+echoGrace))
		p.arm(s)
	}
	return b.run(ctx, closing)
}
