package diagnose

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// refRanks is ranks as it was first written: a stable sort by value, then
// average ranks for ties.
func refRanks(xs []time.Duration) []float64 {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(xs[a], xs[b]) })
	r := make([]float64, len(xs))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && xs[idx[j+1]] == xs[idx[i]] {
			j++
		}
		for k := i; k <= j; k++ {
			r[idx[k]] = float64(i+j)/2 + 1
		}
		i = j + 1
	}
	return r
}

// The packed sort, its fallback for series too wide to pack, and the
// mirrored ranks of a negated series all give the reference ranks bit for
// bit, whatever the ties and the extremes.
func TestRanksAgainstStableSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	var s scratch
	extremes := []time.Duration{math.MinInt64, math.MaxInt64, math.MinInt64 + 1, -1, 0, 1}
	for i := range 3000 {
		n := rng.IntN(700)
		xs := make([]time.Duration, n)
		for j := range xs {
			switch i % 4 {
			case 0: // many ties
				xs[j] = time.Duration(rng.IntN(1+i%7)) * time.Millisecond
			case 1: // RTTs
				xs[j] = time.Duration(rng.Int64N(int64(time.Second)))
			case 2: // signed, as a negated series is
				xs[j] = time.Duration(rng.Int64N(int64(time.Second)) - int64(time.Second)/2)
			default: // too wide to pack
				xs[j] = time.Duration(rng.Uint64())
				if rng.IntN(10) == 0 {
					xs[j] = extremes[rng.IntN(len(extremes))]
				}
			}
		}
		want := refRanks(xs)
		got := s.ranks(xs)
		if !slices.Equal(got, want) {
			t.Fatalf("ranks(%v) = %v, want %v", xs, got, want)
		}
		neg := make([]time.Duration, n)
		for j, x := range xs {
			neg[j] = -x
		}
		if got, want := s.negatedRanks(xs, got), refRanks(neg); !slices.Equal(got, want) {
			t.Fatalf("negatedRanks(%v) = %v, want %v", xs, got, want)
		}
		s.reset()
	}
}
