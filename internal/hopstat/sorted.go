package hopstat

import (
	"slices"
	"time"
)

// SortedRing keeps the most recent values of a series like Ring, and the
// same values in sorted order beside them, so that a percentile costs no
// sort: a monitor asks for P50 and P95 of every hop after every round. An
// Add moves at most n values (two binary searches and two copies); the
// zero SortedRing keeps nothing.
type SortedRing struct {
	ring   Ring
	sorted []time.Duration
}

// NewSortedRing returns a SortedRing that keeps the last n values.
func NewSortedRing(n int) SortedRing {
	if n <= 0 {
		return SortedRing{}
	}
	return SortedRing{ring: NewRing(n), sorted: make([]time.Duration, 0, n)}
}

// Cap returns how many values r keeps at most.
func (r *SortedRing) Cap() int { return len(r.ring.buf) }

// Len returns how many values are kept.
func (r *SortedRing) Len() int { return len(r.sorted) }

// Add records v, forgetting the oldest value when full.
func (r *SortedRing) Add(v time.Duration) {
	if r.Cap() == 0 {
		return
	}
	if r.ring.full {
		old := r.ring.buf[r.ring.next]
		i, _ := slices.BinarySearch(r.sorted, old)
		r.sorted = slices.Delete(r.sorted, i, i+1)
	}
	r.ring.Add(v)
	i, _ := slices.BinarySearch(r.sorted, v)
	r.sorted = slices.Insert(r.sorted, i, v)
}

// AppendTo appends the kept values, oldest first, to dst.
func (r *SortedRing) AppendTo(dst []time.Duration) []time.Duration { return r.ring.AppendTo(dst) }

// Percentile returns the q-quantile of the kept values, as Percentile
// computes it; zero when empty.
func (r *SortedRing) Percentile(q float64) time.Duration { return percentileSorted(r.sorted, q) }
