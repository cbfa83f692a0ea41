package monitor

import (
	"context"
	"slices"
	"testing"
	"time"
)

// A subscriber working through a backlog yields once per consumeSlice of
// handling, and not between updates it had to wait for.
func TestConsumeYieldsDuringABacklog(t *testing.T) {
	var clock time.Time
	now := func() time.Time { return clock }
	step := consumeSlice * 4 / 10 // each update takes 0.4 of a slice

	t.Run("backlog", func(t *testing.T) {
		ch := make(chan Update, 10)
		for range 10 {
			ch <- Update{}
		}
		close(ch)
		var handled, yields []int
		n := 0
		consume(context.Background(), ch, func(Update) { n++; clock = clock.Add(step); handled = append(handled, n) },
			now, func() { yields = append(yields, n) })
		if n != 10 {
			t.Fatalf("handled %d updates, want 10", n)
		}
		// 0.4, 0.8, 1.2 slices: a yield after every third update.
		if want := []int{3, 6, 9}; !slices.Equal(yields, want) {
			t.Errorf("yielded after updates %v, want %v", yields, want)
		}
	})
	t.Run("no backlog", func(t *testing.T) {
		ch := make(chan Update) // unbuffered: every update is waited for
		done := make(chan struct{})
		yields := 0
		go func() {
			defer close(done)
			consume(context.Background(), ch, func(Update) { clock = clock.Add(step) }, now, func() { yields++ })
		}()
		for range 10 {
			ch <- Update{}
		}
		close(ch)
		<-done
		if yields != 0 {
			t.Errorf("yielded %d times between updates it waited for, want 0", yields)
		}
	})
}
