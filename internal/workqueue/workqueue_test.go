package workqueue

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// owner is the smallest cache-like user of a Queue: run waits for release
// with the lock dropped, as a lookup would.
type owner struct {
	mu      sync.Mutex
	release chan struct{}
	running int
	most    int
	ran     []int
	q       *Queue[int]
}

func newOwner(workers, limit int) *owner {
	o := &owner{release: make(chan struct{})}
	o.q = New(&o.mu, workers, limit, o.runLocked)
	return o
}

func (o *owner) runLocked(k int) {
	o.running++
	o.most = max(o.most, o.running)
	o.mu.Unlock()
	<-o.release
	o.mu.Lock()
	o.running--
	o.ran = append(o.ran, k)
}

func (o *owner) add(k int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.q.Add(k)
}

func TestQueueBoundsAndSheds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newOwner(2, 3)
		var accepted []int
		for k := range 10 {
			if o.add(k) {
				accepted = append(accepted, k)
			}
		}
		synctest.Wait()
		if want := []int{0, 1, 2, 3, 4}; !slices.Equal(accepted, want) {
			t.Errorf("accepted %v; want %v (2 running, 3 queued, the rest shed)", accepted, want)
		}
		close(o.release)
		o.q.Wait()
		slices.Sort(o.ran)
		if !slices.Equal(o.ran, accepted) || o.most != 2 {
			t.Errorf("ran %v, at most %d at once; want %v, 2", o.ran, o.most, accepted)
		}
		// The goroutines have ended; a new key starts one again.
		o.ran = nil
		if !o.add(7) {
			t.Fatal("Add after the queue drained = false")
		}
		o.q.Wait()
		if !slices.Equal(o.ran, []int{7}) {
			t.Errorf("ran %v; want [7]", o.ran)
		}
	})
}

func TestQueueDrop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		o := newOwner(1, 4)
		for k := range 4 {
			o.add(k)
		}
		synctest.Wait()
		o.mu.Lock()
		dropped := o.q.Drop()
		o.mu.Unlock()
		if !slices.Equal(dropped, []int{1, 2, 3}) {
			t.Errorf("Drop = %v; want the queued [1 2 3]", dropped)
		}
		close(o.release)
		o.q.Wait()
		if !slices.Equal(o.ran, []int{0}) {
			t.Errorf("ran %v; want only the key in flight, [0]", o.ran)
		}
	})
}

func TestPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var p Pending
		p.Wait(t.Context()) // none pending: returns at once

		p.Add()
		p.Add()
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		p.Wait(ctx)
		if d := time.Since(start); d != time.Second {
			t.Errorf("Wait with lookups pending returned after %v; want its context's 1s", d)
		}

		go func() {
			time.Sleep(time.Minute)
			p.Done()
			time.Sleep(time.Minute)
			p.Done()
		}()
		start = time.Now()
		p.Wait(t.Context())
		if d := time.Since(start); d != 2*time.Minute {
			t.Errorf("Wait returned after %v; want 2m, when the last one is done", d)
		}
		p.Add() // pending again after idle
		done := make(chan struct{})
		go func() { p.Wait(t.Context()); close(done) }()
		synctest.Wait()
		select {
		case <-done:
			t.Error("Wait returned while one is pending")
		default:
		}
		p.Done()
		<-done
	})
}
