package geo

import "time"

// bucket is a token bucket: it refills rate tokens a second and saves at
// most burst. It is pure (the caller passes now) and not safe for
// concurrent use; IPWhois guards it with its mutex.
type bucket struct {
	rate   float64 // tokens per second, > 0
	burst  float64 // at least 1
	tokens float64 // may go negative: callers queue for future tokens
	last   time.Time
}

// take takes one token at now and returns how long the caller must wait
// before the token is its to use: 0 when one was saved. Callers that take
// while the bucket is empty are spaced 1/rate apart, in order.
func (b *bucket) take(now time.Time) time.Duration {
	if b.last.IsZero() {
		b.tokens, b.last = b.burst, now
	}
	if now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

// refund gives back a token taken by a caller that gave up waiting.
func (b *bucket) refund() { b.tokens = min(b.burst, b.tokens+1) }
