package geo

import (
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	b := bucket{rate: 0.5, burst: 2}
	start := time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)
	for i, step := range []struct {
		after time.Duration // since start
		wait  time.Duration
	}{
		{0, 0},                              // the burst
		{0, 0},                              //
		{0, 2 * time.Second},                // empty: the next token in 1/rate
		{0, 4 * time.Second},                // queued behind it
		{10 * time.Second, 0},               // the queued two used theirs at 2s and 4s;
		{10 * time.Second, 0},               // 6 s since then refilled the burst
		{10 * time.Second, 2 * time.Second}, //
		{time.Hour, 0},                      // never more than the burst saved
		{time.Hour, 0},                      //
		{time.Hour, 2 * time.Second},        //
	} {
		if got := b.take(start.Add(step.after)); got != step.wait {
			t.Errorf("step %d (after %v): take = %v; want %v", i, step.after, got, step.wait)
		}
	}
	b.refund()
	if got := b.take(start.Add(time.Hour)); got != 2*time.Second {
		t.Errorf("after a refund: take = %v; want 2s (the refunded token)", got)
	}
}
