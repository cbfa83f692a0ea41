package diagnose

import (
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"time"
)

// The statistics behind the rules. Every decision compares two groups of
// probes with a test and a minimum sample size, never a bare threshold on
// one figure: loss with Wilson intervals and the two-proportion z-test,
// latency with medians, robust spreads and the rank-sum (Mann-Whitney) test,
// which a few stalled replies cannot sway.

// wilson returns the Wilson score interval of k successes in n trials at
// z standard errors (1.96: 95 %). n = 0 gives [0, 1]: nothing is known.
func wilson(k, n int, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	p, nf := float64(k)/float64(n), float64(n)
	d := 1 + z*z/nf
	c := (p + z*z/(2*nf)) / d
	h := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / d
	return max(0, c-h), min(1, c+h)
}

// twoPropZ is the pooled two-proportion z statistic of k2/n2 against
// k1/n1: positive when the second proportion is the higher. It is 0 when
// either group is empty or the pooled proportion is 0 or 1 (no variance:
// both groups lost everything or nothing).
func twoPropZ(k1, n1, k2, n2 int) float64 {
	if n1 <= 0 || n2 <= 0 {
		return 0
	}
	p := float64(k1+k2) / float64(n1+n2)
	if p <= 0 || p >= 1 {
		return 0
	}
	se := math.Sqrt(p * (1 - p) * (1/float64(n1) + 1/float64(n2)))
	return (float64(k2)/float64(n2) - float64(k1)/float64(n1)) / se
}

// ranks returns the ranks (1-based, ties given their average rank) of xs.
func ranks(xs []time.Duration) []float64 { return (*scratch)(nil).ranks(xs) }

func (s *scratch) ranks(xs []time.Duration) []float64 {
	idx := s.order(xs)
	r := s.floats(len(xs))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && xs[idx[j+1]] == xs[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			r[idx[k]] = avg
		}
		i = j + 1
	}
	return r
}

// order returns the indices of xs ordered by value, then by position: the
// order a stable sort by value gives. Each value and its index are packed
// into one uint64 (the value less the least in the high bits), so that
// the sort compares integers instead of calling a function per comparison
// through the indices; a series whose values span too much to pack falls
// back to that slower sort.
func (s *scratch) order(xs []time.Duration) []int {
	idx := s.ints(len(xs))
	if len(xs) == 0 {
		return idx
	}
	lo, hi := slices.Min(xs), slices.Max(xs)
	shift := bits.Len(uint(len(xs) - 1))
	if span := uint64(hi) - uint64(lo); span>>(64-shift) == 0 {
		keys := s.uint64s(len(xs))
		for i, x := range xs {
			keys[i] = (uint64(x)-uint64(lo))<<shift | uint64(i)
		}
		slices.Sort(keys)
		mask := uint64(1)<<shift - 1
		for i, k := range keys {
			idx[i] = int(k & mask)
		}
		return idx
	}
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case xs[a] < xs[b]:
			return -1
		case xs[a] > xs[b]:
			return 1
		}
		return a - b
	})
	return idx
}

// negatedRanks is ranks(negate(xs)) from xs's ranks r, without a second
// sort: negating reverses the order, so a rank k becomes n+1-k. Ranks are
// whole or half numbers far below 2^53, so the float arithmetic is exact
// and the result is bit for bit the sorted one. -MinInt64 is MinInt64,
// which negation does not move to the other end: such a series is sorted.
func (s *scratch) negatedRanks(xs []time.Duration, r []float64) []float64 {
	if slices.Contains(xs, math.MinInt64) {
		return s.ranks(s.negate(xs))
	}
	out := s.floats(len(r))
	top := float64(len(r) + 1)
	for i, v := range r {
		out[i] = top - v
	}
	return out
}

// rankSumZ is the Mann-Whitney z statistic of b against a (normal
// approximation, no tie correction, which only makes it more cautious):
// positive when b's values tend to be the larger. 0 when a group is empty.
func rankSumZ(a, b []time.Duration) float64 { return (*scratch)(nil).rankSumZ(a, b) }

func (s *scratch) rankSumZ(a, b []time.Duration) float64 {
	n1, n2 := len(a), len(b)
	if n1 == 0 || n2 == 0 {
		return 0
	}
	both := s.durations(n1 + n2)
	copy(both, a)
	copy(both[n1:], b)
	r := s.ranks(both)
	var rb float64
	for _, v := range r[n1:] {
		rb += v
	}
	n := float64(n1 + n2)
	mean := float64(n2) * (n + 1) / 2
	sd := math.Sqrt(float64(n1) * float64(n2) * (n + 1) / 12)
	return (rb - mean) / sd
}

// bestSplit finds where a series changes most: the k (minSeg <= k <=
// len-minSeg) whose rank-sum z of xs[k:] against xs[:k] is the largest.
// The ranks are computed once and summed by prefix, so the whole scan costs
// one sort. ok is false when the series is too short to split.
func bestSplit(xs []time.Duration, minSeg int) (k int, z float64, ok bool) {
	return (*scratch)(nil).bestSplit(xs, minSeg)
}

func (s *scratch) bestSplit(xs []time.Duration, minSeg int) (k int, z float64, ok bool) {
	if minSeg < 1 || len(xs) < 2*minSeg {
		return 0, 0, false
	}
	return splitOnRanks(s.ranks(xs), minSeg)
}

// splitOnRanks is bestSplit on the series' ranks r.
func splitOnRanks(r []float64, minSeg int) (k int, z float64, ok bool) {
	n := len(r)
	if minSeg < 1 || n < 2*minSeg {
		return 0, 0, false
	}
	total := 0.0
	for _, v := range r {
		total += v
	}
	prefix := 0.0
	nf := float64(n)
	z = math.Inf(-1)
	for i := 0; i < n-minSeg; i++ {
		prefix += r[i]
		k1 := i + 1
		if k1 < minSeg {
			continue
		}
		n1, n2 := float64(k1), nf-float64(k1)
		rb := total - prefix
		zz := (rb - n2*(nf+1)/2) / math.Sqrt(n1*n2*(nf+1)/12)
		if zz > z {
			k, z = k1, zz
		}
	}
	return k, z, true
}

// bestLossSplit is bestSplit for a series of losses: the split whose later
// part loses most more than its earlier part, by the two-proportion z.
func bestLossSplit(lost []bool, minSeg int) (k int, z float64, ok bool) {
	n := len(lost)
	if minSeg < 1 || n < 2*minSeg {
		return 0, 0, false
	}
	total := 0
	for _, l := range lost {
		if l {
			total++
		}
	}
	before := 0
	z = math.Inf(-1)
	for i := 0; i < n-minSeg; i++ {
		if lost[i] {
			before++
		}
		k1 := i + 1
		if k1 < minSeg {
			continue
		}
		if zz := twoPropZ(before, k1, total-before, n-k1); zz > z {
			k, z = k1, zz
		}
	}
	return k, z, true
}

// median returns the median of xs (0 for none). xs is not modified.
func median(xs []time.Duration) time.Duration { return (*scratch)(nil).median(xs) }

func (s *scratch) median(xs []time.Duration) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	c := s.durations(len(xs))
	copy(c, xs)
	return medianOf(c)
}

// medianOf is the median of xs, which it reorders: for a slice that is
// the analysis' own, no copy is needed.
func medianOf(xs []time.Duration) time.Duration {
	if len(xs) == 0 {
		return 0
	}
	m := len(xs) / 2
	hi := selectNth(xs, m)
	if len(xs)%2 == 1 {
		return hi
	}
	// selectNth left the m smallest before m: the largest of them is the
	// other middle value.
	return (slices.Max(xs[:m]) + hi) / 2
}

// selectNth reorders xs so that xs[k] is the value a sort would put there,
// with none larger before it and none smaller after it, and returns it
// (Hoare's quickselect: linear time on average, where a sort is n log n).
func selectNth(xs []time.Duration, k int) time.Duration {
	lo, hi := 0, len(xs)-1
	for lo < hi {
		// The median of three as pivot: sorted or reversed windows, the
		// common case, stay linear.
		mid := lo + (hi-lo)/2
		if xs[mid] < xs[lo] {
			xs[mid], xs[lo] = xs[lo], xs[mid]
		}
		if xs[hi] < xs[lo] {
			xs[hi], xs[lo] = xs[lo], xs[hi]
		}
		if xs[hi] < xs[mid] {
			xs[hi], xs[mid] = xs[mid], xs[hi]
		}
		pivot := xs[mid]
		i, j := lo, hi
		for i <= j {
			for xs[i] < pivot {
				i++
			}
			for xs[j] > pivot {
				j--
			}
			if i <= j {
				xs[i], xs[j] = xs[j], xs[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return xs[k] // between j and i: equal to the pivot
		}
	}
	return xs[k]
}

// spread is the robust standard deviation of xs: the median absolute
// deviation scaled by 1.4826 so that it matches the standard deviation of a
// normal sample, without letting a few stalled replies inflate it.
func spread(xs []time.Duration) time.Duration { return (*scratch)(nil).spread(xs) }

func (s *scratch) spread(xs []time.Duration) time.Duration {
	if len(xs) < 2 {
		return 0
	}
	return s.spreadAbout(xs, s.median(xs))
}

// spreadAbout is spread for xs whose median m is known already.
func (s *scratch) spreadAbout(xs []time.Duration, m time.Duration) time.Duration {
	if len(xs) < 2 {
		return 0
	}
	dev := s.durations(len(xs))
	for i, x := range xs {
		dev[i] = x - m
		if dev[i] < 0 {
			dev[i] = -dev[i]
		}
	}
	return time.Duration(1.4826 * float64(medianOf(dev)))
}

// center is the median and spread of xs, the median found once for both.
func (s *scratch) center(xs []time.Duration) (median, spread time.Duration) {
	m := s.median(xs)
	return m, s.spreadAbout(xs, m)
}

// scratch holds the buffers of one analysis, reused by the next. The
// Watcher analyses up to a thousand 300-round windows a second, and each
// analysis allocated 660 KB of short-lived slices: at 5,000 targets that
// garbage made the collector run every 0.6 s, with a mark phase that held
// up the rounds' start. A nil *scratch allocates afresh, as Analyze does;
// slices taken from a scratch are valid until its reset.
type scratch struct {
	durs   arena[time.Duration]
	flts   arena[float64]
	is     arena[int]
	bools  arena[bool]
	u64s   arena[uint64]
	counts []addrCount
	meds   []hopMedian

	// The analysis' own state, reused for its next window.
	rounds []Round
	reach  []int
	dlost  []bool
	drtt   []obs
	hops   []hopData
	byTTL  []Probe
	stamp  []int // stamp[ttl] is 1 + the round byTTL[ttl] is of
}

// addrCount is an address's tally in a small search (few addresses answer
// at one hop).
type addrCount struct {
	addr        netip.Addr
	n           int
	first, last int
}

func (s *scratch) reset() {
	s.durs.reset()
	s.flts.reset()
	s.is.reset()
	s.bools.reset()
	s.u64s.reset()
}

func (s *scratch) durations(n int) []time.Duration {
	if s == nil {
		return make([]time.Duration, n)
	}
	return s.durs.take(n)
}

func (s *scratch) floats(n int) []float64 {
	if s == nil {
		return make([]float64, n)
	}
	return s.flts.take(n)
}

func (s *scratch) ints(n int) []int {
	if s == nil {
		return make([]int, n)
	}
	return s.is.take(n)
}

func (s *scratch) uint64s(n int) []uint64 {
	if s == nil {
		return make([]uint64, n)
	}
	return s.u64s.take(n)
}

func (s *scratch) boolSlice(n int) []bool {
	if s == nil {
		return make([]bool, n)
	}
	return s.bools.take(n)
}

// arena hands out slices of one backing array until reset. A request that
// does not fit starts a larger array; slices already handed out keep the
// old one, so they stay valid.
type arena[T any] struct{ buf []T }

func (a *arena[T]) take(n int) []T {
	if len(a.buf)+n > cap(a.buf) {
		a.buf = make([]T, 0, max(2*cap(a.buf), n, 1024))
	}
	l := len(a.buf)
	a.buf = a.buf[:l+n]
	return a.buf[l : l+n : l+n]
}

func (a *arena[T]) reset() { a.buf = a.buf[:0] }
