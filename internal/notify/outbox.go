package notify

import (
	"context"
	"sync"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
)

// outbox is the queue and the worker every notifier delivers through, so
// that Notify never waits for the network and probing never does either.
// Items are delivered one at a time, in order. A full queue drops its
// oldest item and the worker reports the drops per target; Close delivers
// what is queued for up to its timeout, then abandons the rest.
type outbox[T any] struct {
	cfg outboxConfig[T]

	wake   chan struct{} // a token: the queue or closed changed
	done   chan struct{} // closed when the worker has ended
	cancel context.CancelFunc

	mu      sync.Mutex
	queue   []T
	dropped map[monitor.ID]int // dropped for a full queue, not yet reported
	closed  bool
	lost    int // abandoned at close
}

type outboxConfig[T any] struct {
	size         int
	closeTimeout time.Duration
	target       func(T) monitor.ID
	deliver      func(context.Context, T)
	// dropped reports n items of one target dropped for a full queue;
	// abandoned reports one item not delivered before shutdown.
	dropped   func(id monitor.ID, n int)
	abandoned func(T)
}

// newOutbox starts the worker.
func newOutbox[T any](cfg outboxConfig[T]) *outbox[T] {
	ctx, cancel := context.WithCancel(context.Background())
	o := &outbox[T]{cfg: cfg, wake: make(chan struct{}, 1), done: make(chan struct{}), cancel: cancel,
		dropped: make(map[monitor.ID]int)}
	go o.run(ctx)
	return o
}

// push queues item; after close it does nothing.
func (o *outbox[T]) push(item T) {
	var zero T
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		return
	}
	if len(o.queue) >= o.cfg.size {
		o.dropped[o.cfg.target(o.queue[0])]++
		o.queue[0] = zero
		o.queue = o.queue[1:]
	}
	o.queue = append(o.queue, item)
	o.mu.Unlock()
	o.poke()
}

func (o *outbox[T]) poke() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// close stops taking items, delivers what is queued for up to the close
// timeout, then abandons the rest and waits for the worker. It returns how
// many were abandoned (0 for a second call).
func (o *outbox[T]) close() int {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		<-o.done
		return 0
	}
	o.closed = true
	o.mu.Unlock()
	o.poke()
	t := time.NewTimer(o.cfg.closeTimeout)
	defer t.Stop()
	select {
	case <-o.done:
	case <-t.C:
		o.cancel()
		<-o.done
	}
	o.cancel()
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lost
}

// run delivers queued items until close, and then until the queue is
// empty or ctx is cancelled.
func (o *outbox[T]) run(ctx context.Context) {
	defer close(o.done)
	for {
		item, ok := o.next(ctx)
		if !ok {
			return
		}
		if ctx.Err() != nil {
			o.abandon(item)
			continue
		}
		o.cfg.deliver(ctx, item)
	}
}

// abandon counts item as lost to a shutdown and reports it; deliver
// calls it too, for an item whose attempts the shutdown cut short.
func (o *outbox[T]) abandon(item T) {
	o.mu.Lock()
	o.lost++
	o.mu.Unlock()
	o.cfg.abandoned(item)
}

// next waits for the next item, reporting drops on the way. It returns
// false once closed with nothing left.
func (o *outbox[T]) next(ctx context.Context) (T, bool) {
	var zero T
	for {
		o.mu.Lock()
		var drops map[monitor.ID]int
		if len(o.dropped) > 0 {
			drops, o.dropped = o.dropped, make(map[monitor.ID]int)
		}
		item := zero
		ok := len(o.queue) > 0
		if ok {
			item = o.queue[0]
			o.queue[0] = zero
			o.queue = o.queue[1:]
		}
		closed := o.closed
		o.mu.Unlock()
		for id, n := range drops {
			o.cfg.dropped(id, n)
		}
		if ok {
			return item, true
		}
		if closed {
			return zero, false
		}
		select {
		case <-o.wake:
		case <-ctx.Done():
		}
	}
}
