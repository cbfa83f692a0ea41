package probe

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeEvents is winEvents in memory: waitAny blocks on a condition variable
// until one of its events is set.
type fakeEvents struct {
	mu        sync.Mutex
	cond      *sync.Cond
	next      uintptr
	signalled map[uintptr]bool
	closed    map[uintptr]bool
}

func newFakeEvents() *fakeEvents {
	f := &fakeEvents{next: 100, signalled: map[uintptr]bool{}, closed: map[uintptr]bool{}}
	f.cond = sync.NewCond(&f.mu)
	return f
}

func (f *fakeEvents) newEvent() (uintptr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	return f.next, nil
}

func (f *fakeEvents) set(ev uintptr) error {
	f.mu.Lock()
	f.signalled[ev] = true
	f.mu.Unlock()
	f.cond.Broadcast()
	return nil
}

func (f *fakeEvents) reset(ev uintptr) error {
	f.mu.Lock()
	delete(f.signalled, ev)
	f.mu.Unlock()
	return nil
}

func (f *fakeEvents) closeEvent(ev uintptr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed[ev] {
		return errors.New("event closed twice")
	}
	f.closed[ev] = true
	return nil
}

func (f *fakeEvents) waitAny(evs []uintptr) (int, error) {
	if len(evs) > 64 {
		return 0, errors.New("more than 64 handles")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		for i, ev := range evs {
			if f.closed[ev] {
				return 0, errors.New("wait on a closed event")
			}
			if f.signalled[ev] {
				return i, nil
			}
		}
		f.cond.Wait()
	}
}

// fakeICMP is the system side: it records queued requests and completes
// them when a test says so, with a Reply scripted per TTL.
type fakeICMP struct {
	ev     *fakeEvents
	mu     sync.Mutex
	queued []*echoSlot
	newReq chan struct{}
	result map[*echoSlot]Reply
}

func newFakeICMP(ev *fakeEvents) *fakeICMP {
	return &fakeICMP{ev: ev, newReq: make(chan struct{}, 4096), result: map[*echoSlot]Reply{}}
}

func (f *fakeICMP) send(s *echoSlot) (bool, Reply) {
	s.req.sent = time.Now()
	f.mu.Lock()
	f.queued = append(f.queued, s)
	f.mu.Unlock()
	f.newReq <- struct{}{}
	return true, Reply{}
}

func (f *fakeICMP) complete(s *echoSlot, now time.Time) Reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.result[s]
	delete(f.result, s)
	return r
}

// finish completes the queued request of the probe with index idx.
func (f *fakeICMP) finish(t *testing.T, idx int, r Reply) {
	t.Helper()
	f.mu.Lock()
	var s *echoSlot
	for i, q := range f.queued {
		if q.req.idx == idx {
			s = q
			f.queued = slices.Delete(f.queued, i, i+1)
			break
		}
	}
	if s == nil {
		f.mu.Unlock()
		t.Fatalf("no request queued for probe %d", idx)
	}
	f.result[s] = r
	f.mu.Unlock()
	f.ev.set(s.ev)
}

func (f *fakeICMP) waitQueued(n int) {
	for range n {
		<-f.newReq
	}
}

func echoProbes(n int) []Probe {
	ps := make([]Probe, n)
	for i := range ps {
		ps[i] = Probe{Dst: netip.MustParseAddr("192.0.2.9"), TTL: i + 1, Mode: ICMP, Timeout: time.Minute}
	}
	return ps
}

func hopReply(i int) Reply {
	return Reply{Kind: TimeExceeded, From: netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}), RTT: time.Duration(i+1) * time.Millisecond}
}

// A round is assembled from completions in whatever order they come, each
// answer under its own probe's index.
func TestEchoPoolOutOfOrder(t *testing.T) {
	ev := newFakeEvents()
	sys := newFakeICMP(ev)
	pool := newEchoPool(ev, sys.complete, nil, maxEchoWaiters)
	order := []int{3, 1, 4, 0, 2}
	ps := echoProbes(len(order))
	got := make(chan int, len(order))
	next := make(chan struct{})
	go func() {
		sys.waitQueued(len(ps))
		for _, i := range order {
			sys.finish(t, i, hopReply(i))
			<-next
		}
	}()
	var seen []int
	err := pool.probeAll(context.Background(), nil, ps, 0, func(i int, r Reply) bool {
		if want := hopReply(i); r.Kind != want.Kind || r.From != want.From || r.RTT != want.RTT {
			t.Errorf("probe %d: reply %+v; want %+v", i, r, want)
		}
		if r.Sent.IsZero() {
			t.Errorf("probe %d: Sent not set", i)
		}
		seen = append(seen, i)
		got <- i
		next <- struct{}{}
		return true
	}, sys.send)
	if err != nil {
		t.Fatalf("probeAll = %v; want nil", err)
	}
	if !slices.Equal(seen, order) {
		t.Errorf("answers in order %v; want %v", seen, order)
	}
	if err := pool.close(); err != nil {
		t.Errorf("close = %v", err)
	}
	if inUse, maxUsed, waiters := pool.stats(); inUse != 0 || maxUsed != len(ps) || waiters != 1 {
		t.Errorf("stats = %d in use, %d at most, %d waiters; want 0, %d, 1", inUse, maxUsed, waiters, len(ps))
	}
	if n := len(ev.closed); n != len(ps)+1 {
		t.Errorf("%d events closed; want %d (slots and the wake event)", n, len(ps)+1)
	}
}

// onReply false abandons the rest: probeAll returns at once, the system
// still owns the other requests, and their slots come back when they
// complete, their answers dropped.
func TestEchoPoolAbandon(t *testing.T) {
	ev := newFakeEvents()
	sys := newFakeICMP(ev)
	pool := newEchoPool(ev, sys.complete, nil, maxEchoWaiters)
	ps := echoProbes(4)
	go func() {
		sys.waitQueued(len(ps))
		sys.finish(t, 2, Reply{Kind: Reached})
	}()
	calls := 0
	err := pool.probeAll(context.Background(), nil, ps, 0, func(i int, r Reply) bool {
		calls++
		return false
	}, sys.send)
	if err != nil || calls != 1 {
		t.Fatalf("probeAll = %v after %d answers; want nil after 1", err, calls)
	}
	if inUse, _, _ := pool.stats(); inUse != 3 {
		t.Errorf("%d slots in use after abandoning; want 3 still owned by the system", inUse)
	}
	for _, i := range []int{0, 1, 3} {
		sys.finish(t, i, Reply{Kind: Timeout})
	}
	if err := pool.close(); err != nil { // waits for the waiters, which free the slots first
		t.Errorf("close = %v", err)
	}
	if inUse, _, _ := pool.stats(); inUse != 0 {
		t.Errorf("%d slots in use after the system completed them; want 0", inUse)
	}
}

// Close waits for requests the system still owns before closing events.
func TestEchoPoolCloseWaitsForRequests(t *testing.T) {
	ev := newFakeEvents()
	sys := newFakeICMP(ev)
	pool := newEchoPool(ev, sys.complete, nil, maxEchoWaiters)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		sys.waitQueued(1)
		cancel()
	}()
	if err := pool.probeAll(ctx, nil, echoProbes(1), 0, func(int, Reply) bool { return true }, sys.send); !errors.Is(err, context.Canceled) {
		t.Fatalf("probeAll = %v; want context.Canceled", err)
	}
	closed := make(chan error)
	go func() { closed <- pool.close() }()
	select {
	case err := <-closed:
		t.Fatalf("close returned %v while a request was in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	sys.finish(t, 0, Reply{Kind: Timeout})
	if err := <-closed; err != nil {
		t.Errorf("close = %v", err)
	}
	if err := pool.probeAll(context.Background(), nil, echoProbes(1), 0, func(int, Reply) bool { return true }, sys.send); !errors.Is(err, ErrClosed) {
		t.Errorf("probeAll after close = %v; want ErrClosed", err)
	}
}

// Many probes share few waiters; past the limit, sends wait for a slot.
func TestEchoPoolWaitersAndLimit(t *testing.T) {
	tests := []struct {
		name        string
		probes      int
		maxWaiters  int
		wantWaiters int
		wantMaxUsed int
	}{
		{"130 probes need 3 waiters", 130, maxEchoWaiters, 3, 130},
		{"one waiter: 63 in flight, the rest wait", 70, 1, 1, slotsPerWaiter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := newFakeEvents()
			sys := newFakeICMP(ev)
			pool := newEchoPool(ev, sys.complete, nil, tt.maxWaiters)
			ps := echoProbes(tt.probes)
			go func() {
				// Keep at most hold requests unanswered, finishing the oldest.
				hold, sent := min(tt.probes, tt.wantMaxUsed), 0
				for finished := 0; finished < tt.probes; finished++ {
					for sent < tt.probes && sent-finished < hold {
						<-sys.newReq
						sent++
					}
					sys.mu.Lock()
					idx := sys.queued[0].req.idx
					sys.mu.Unlock()
					sys.finish(t, idx, hopReply(idx))
				}
			}()
			answered := 0
			err := pool.probeAll(context.Background(), nil, ps, 0, func(i int, r Reply) bool {
				answered++
				return true
			}, sys.send)
			if err != nil || answered != tt.probes {
				t.Errorf("probeAll = %v after %d answers; want nil after %d", err, answered, tt.probes)
			}
			pool.close()
			_, maxUsed, waiters := pool.stats()
			if waiters != tt.wantWaiters || maxUsed != tt.wantMaxUsed {
				t.Errorf("%d waiters, %d slots at most; want %d, %d", waiters, maxUsed, tt.wantWaiters, tt.wantMaxUsed)
			}
		})
	}
}

// A request the system never completes is called lost by the batch's own
// backstop, its timeout plus echoGrace after it was sent.
func TestEchoPoolBackstop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ev := newFakeEvents()
		sys := newFakeICMP(ev)
		pool := newEchoPool(ev, sys.complete, nil, maxEchoWaiters)
		ps := echoProbes(2)
		ps[0].Timeout, ps[1].Timeout = time.Second, time.Second
		go func() {
			sys.waitQueued(2)
			sys.finish(t, 1, hopReply(1))
		}()
		start := time.Now()
		var kinds []Kind
		err := pool.probeAll(context.Background(), nil, ps, 0, func(i int, r Reply) bool {
			kinds = append(kinds, r.Kind)
			return true
		}, sys.send)
		if err != nil || !slices.Equal(kinds, []Kind{TimeExceeded, Timeout}) {
			t.Errorf("probeAll = %v, kinds %v; want nil, [time-exceeded timeout]", err, kinds)
		}
		if d := time.Since(start); d != time.Second+echoGrace {
			t.Errorf("backstop fired after %v; want %v", d, time.Second+echoGrace)
		}
		sys.finish(t, 0, Reply{Kind: Timeout})
		pool.close()
	})
}

// A request that fails (or completes) within the call is resolved at once
// and its slot reused; invalid probes fail without a slot.
func TestEchoPoolImmediate(t *testing.T) {
	ev := newFakeEvents()
	pool := newEchoPool(ev, func(*echoSlot, time.Time) Reply { return Reply{} }, nil, maxEchoWaiters)
	ps := echoProbes(3)
	ps[1].TTL = 0
	send := func(s *echoSlot) (bool, Reply) {
		s.req.sent = time.Now()
		return false, Reply{Kind: Failed, Err: errors.New("refused")}
	}
	var got []string
	err := pool.probeAll(context.Background(), nil, ps, 0, func(i int, r Reply) bool {
		got = append(got, r.Err.Error())
		return true
	}, send)
	want := []string{"refused", "TTL 0 out of range 1-255", "refused"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("probeAll = %v, errors %q; want nil, %q", err, got, want)
	}
	if inUse, maxUsed, _ := pool.stats(); inUse != 0 || maxUsed != 1 {
		t.Errorf("stats: %d in use, %d at most; want 0, 1 (one slot reused)", inUse, maxUsed)
	}
	pool.close()
}
