package tui

import (
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeSize is a window whose size a test sets.
type fakeSize struct {
	mu   sync.Mutex
	w, h int
	err  error
}

func (f *fakeSize) set(w, h int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.w, f.h, f.err = w, h, err
}

func (f *fakeSize) size() (int, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.w, f.h, f.err
}

func TestPollResize(t *testing.T) {
	type step struct {
		w, h   int
		err    error
		signal bool // a value is delivered within one poll
	}
	fail := errors.New("no console")
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"unchanged", []step{{80, 24, nil, false}, {80, 24, nil, false}}},
		{"wider", []step{{100, 24, nil, true}, {100, 24, nil, false}}},
		{"taller then back", []step{{80, 40, nil, true}, {80, 24, nil, true}}},
		{"a failed read is no change", []step{{0, 0, fail, false}, {80, 24, nil, false}, {120, 30, nil, true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &fakeSize{w: 80, h: 24}
				ch, stop := pollResize(f.size, ResizePoll)
				defer stop()
				for i, s := range tc.steps {
					f.set(s.w, s.h, s.err)
					time.Sleep(ResizePoll)
					synctest.Wait()
					var got bool
					select {
					case <-ch:
						got = true
					default:
					}
					if got != s.signal {
						t.Errorf("step %d (%dx%d, %v): resized = %v; want %v", i, s.w, s.h, s.err, got, s.signal)
					}
				}
			})
		})
	}
}

// TestPollResizeCoalesces: several changes before the UI reads are one
// pending value, and stop ends the poller.
func TestPollResizeCoalesces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeSize{w: 80, h: 24}
		ch, stop := pollResize(f.size, ResizePoll)
		for _, w := range []int{90, 100, 110} {
			f.set(w, 24, nil)
			time.Sleep(ResizePoll)
		}
		synctest.Wait()
		n := 0
		for len(ch) > 0 {
			<-ch
			n++
		}
		if n != 1 {
			t.Errorf("pending resize values = %d; want 1", n)
		}
		stop() // returns only once the goroutine ended; synctest fails on a leak
	})
}
