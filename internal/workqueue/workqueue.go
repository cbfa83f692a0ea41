// Package workqueue holds the background half of a non-blocking cache: the
// keys waiting to be looked up, the bounded set of goroutines that look
// them up, and the count of lookups pending for callers that want to wait
// for the answers.
//
// A cache built on it answers from what it has and hands a miss to a
// Queue, so no caller ever waits for a lookup; Pending lets a report wait
// briefly, by choice, before it prints.
package workqueue

import (
	"context"
	"sync"
)

// Queue hands keys to at most a fixed number of goroutines and holds a
// bounded number more until one is free. Its goroutines run only while
// there is work, so an idle cache costs nothing.
//
// A Queue is guarded by its owner's lock: Add and Drop must be called
// with it held, and run is called with it held. That lets the owner's
// bookkeeping and the hand-over of the next key happen in one critical
// section, as they would in a hand-written worker loop.
type Queue[K any] struct {
	mu      sync.Locker
	workers int
	limit   int
	run     func(K)

	wg      sync.WaitGroup // one per goroutine
	active  int            // goroutines running
	waiting []K
}

// New returns a Queue guarded by mu that runs at most workers keys at
// once (at least 1) and holds at most limit more (at least 1).
//
// run does one key's work. It is called with mu held and must return with
// mu held; it unlocks mu while it waits for the lookup, so that the cache
// stays readable meanwhile. Every key Add accepts reaches run unless Drop
// takes it first: a key handed straight to a new goroutine reaches run even
// if the owner closes meanwhile, so run checks the owner's state itself.
func New[K any](mu sync.Locker, workers, limit int, run func(K)) *Queue[K] {
	return &Queue[K]{mu: mu, workers: max(workers, 1), limit: max(limit, 1), run: run}
}

// Add hands k to a free goroutine, starting one, or else queues it. It
// reports false, doing nothing, when every goroutine is busy and the queue
// is full: the caller sheds the load and asks again later rather than
// letting the queue grow with every new key.
func (q *Queue[K]) Add(k K) bool {
	if q.active < q.workers {
		q.active++
		q.wg.Add(1)
		go q.work(k)
		return true
	}
	if len(q.waiting) >= q.limit {
		return false
	}
	q.waiting = append(q.waiting, k)
	return true
}

// Drop empties the queue and returns what was in it, for the owner to
// forget. The keys already handed to goroutines are not affected.
func (q *Queue[K]) Drop() []K {
	dropped := q.waiting
	q.waiting = nil
	return dropped
}

// Wait waits for the goroutines to end. It must be called without the lock
// held, after the owner has stopped calling Add and has dropped the queue,
// for otherwise it may wait for as long as keys keep arriving.
func (q *Queue[K]) Wait() {
	q.wg.Wait()
}

// work runs k, then whatever is queued, and ends when the queue is empty:
// no goroutine idles waiting for work.
func (q *Queue[K]) work(k K) {
	defer q.wg.Done()
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		q.run(k)
		if len(q.waiting) == 0 {
			q.active--
			return
		}
		k = q.waiting[0]
		q.waiting = q.waiting[1:]
	}
}

// Pending counts the lookups queued or running, so that a caller can wait
// until there are none. Its zero value has none pending.
type Pending struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0
}

// Add counts one more pending lookup.
func (p *Pending) Add() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == 0 {
		p.idle = make(chan struct{})
	}
	p.n++
}

// Done counts one pending lookup less; it must follow an Add.
func (p *Pending) Done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n--
	if p.n == 0 {
		close(p.idle)
	}
}

// Wait blocks until nothing is pending or ctx is done.
func (p *Pending) Wait(ctx context.Context) {
	p.mu.Lock()
	idle := p.idle
	if p.n == 0 {
		idle = nil
	}
	p.mu.Unlock()
	if idle == nil {
		return
	}
	select {
	case <-idle:
	case <-ctx.Done():
	}
}
