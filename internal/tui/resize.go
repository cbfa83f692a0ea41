package tui

import (
	"os"
	"sync"
	"time"
)

// resized is the value pollResize delivers: Config.Resize carries
// os.Signal because on Unix it is SIGWINCH itself.
type resized struct{}

func (resized) Signal()        {}
func (resized) String() string { return "window resized" }

// ResizePoll is how often pollResize asks for the window's size: often
// enough that a drag of the window's edge redraws while it happens, rare
// enough to cost nothing (one console call).
const ResizePoll = 250 * time.Millisecond

// pollResize delivers a value whenever size reports a different width or
// height than at its previous call, for consoles that send no signal on
// a resize (Windows). A failed call counts as no change. The channel
// holds one pending value: a redraw reads the size anew, so several
// changes before it are one. stop ends the polling and waits for it.
func pollResize(size func() (int, int, error), every time.Duration) (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	done := make(chan struct{})
	var wg sync.WaitGroup
	w0, h0, _ := size()
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			w, h, err := size()
			if err != nil || (w == w0 && h == h0) {
				continue
			}
			w0, h0 = w, h
			select {
			case ch <- resized{}:
			default:
			}
		}
	})
	return ch, func() { close(done); wg.Wait() }
}
