package hopstat

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestSortedRingMatchesPercentile feeds random series with repeats into
// SortedRing and checks every percentile against sorting the Ring's values.
func TestSortedRingMatchesPercentile(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 7, 300} {
		r := NewSortedRing(n)
		plain := NewRing(n)
		for i := range 3 * n {
			v := time.Duration(rng.IntN(50)) * time.Millisecond // repeats on purpose
			r.Add(v)
			plain.Add(v)
			if r.Len() != plain.Len() || r.Cap() != n {
				t.Fatalf("n=%d after %d adds: Len %d Cap %d; want %d, %d", n, i+1, r.Len(), r.Cap(), plain.Len(), n)
			}
			for _, q := range []float64{0, 0.5, 0.95, 1} {
				if got, want := r.Percentile(q), Percentile(plain.AppendTo(nil), q); got != want {
					t.Fatalf("n=%d after %d adds: Percentile(%v) = %v; want %v", n, i+1, q, got, want)
				}
			}
		}
		if got, want := r.AppendTo(nil), plain.AppendTo(nil); !slices.Equal(got, want) {
			t.Errorf("n=%d: AppendTo = %v; want %v", n, got, want)
		}
	}
	var zero SortedRing
	zero.Add(time.Second)
	if zero.Len() != 0 || zero.Percentile(0.5) != 0 {
		t.Errorf("the zero SortedRing kept a value")
	}
}
