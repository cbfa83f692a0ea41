package hopstat

import (
	"math"
	"slices"
	"time"
)

// Ring keeps the most recent RTTs of a series in fixed space, for the
// statistics that need the samples themselves (median, percentiles).
// The zero Ring keeps nothing.
type Ring struct {
	buf  []time.Duration
	next int
	full bool
}

// NewRing returns a Ring that keeps the last n values.
func NewRing(n int) Ring {
	if n <= 0 {
		return Ring{}
	}
	return Ring{buf: make([]time.Duration, n)}
}

// Add records v, forgetting the oldest value when full.
func (r *Ring) Add(v time.Duration) {
	if len(r.buf) == 0 {
		return
	}
	r.buf[r.next] = v
	r.next++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
}

// Len returns how many values are kept.
func (r *Ring) Len() int {
	if r.full {
		return len(r.buf)
	}
	return r.next
}

// AppendTo appends the kept values, oldest first, to dst.
func (r *Ring) AppendTo(dst []time.Duration) []time.Duration {
	if r.full {
		dst = append(dst, r.buf[r.next:]...)
	}
	return append(dst, r.buf[:r.next]...)
}

// Percentile returns the q-quantile (0..1) of values by linear
// interpolation between closest ranks (the method of numpy's default and
// of Excel's PERCENTILE.INC). values is sorted in place. Zero when empty.
func Percentile(values []time.Duration, q float64) time.Duration {
	slices.Sort(values)
	return percentileSorted(values, q)
}

// percentileSorted is Percentile of values already sorted.
func percentileSorted(values []time.Duration, q float64) time.Duration {
	if len(values) == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	pos := q * float64(len(values)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(values)-1)
	frac := pos - float64(lo)
	return values[lo] + time.Duration(math.Round(frac*float64(values[hi]-values[lo])))
}
