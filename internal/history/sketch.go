package history

import (
	"encoding/binary"
	"math"
	"time"
)

// sketch is a quantile sketch of RTTs in microseconds: logarithmic
// buckets of ratio gamma = (1+α)/(1−α), so any quantile read back from a
// bucket's middle is within α = 1 % of a true value of that rank (the
// DDSketch construction). Key 0 holds RTTs under 1 µs; key k ≥ 1 holds
// gamma^(k−2) < x ≤ gamma^(k−1).
//
// On disk: for each non-empty bucket in key order, uvarint(key − previous
// key) and uvarint(count): a minute of a steady hop is a few dozen bytes.
type sketch struct {
	counts   []uint64 // counts[k-off] for keys off..off+len-1, grown on demand
	off      int
	n        uint64
	lo, hi   int // non-empty keys lie in [lo, hi]
	nonEmpty bool
}

const sketchAlpha = 0.01

var (
	sketchGamma   = (1 + sketchAlpha) / (1 - sketchAlpha)
	sketchLnGamma = math.Log(sketchGamma)
)

// maxSketchKey bounds the buckets: about an hour in µs, far past any
// probe timeout.
const maxSketchKey = 1200

func sketchKey(us int64) int {
	if us < 1 {
		return 0
	}
	k := int(math.Ceil(math.Log(float64(us))/sketchLnGamma)) + 1
	return min(max(k, 1), maxSketchKey)
}

// sketchValue is the value that stands for key k: the bucket's point of
// least relative error.
func sketchValue(k int) float64 {
	if k == 0 {
		return 0
	}
	return 2 * math.Pow(sketchGamma, float64(k-1)) / (sketchGamma + 1)
}

func (s *sketch) addKey(k int, c uint64) {
	if c == 0 {
		return
	}
	if len(s.counts) == 0 {
		// A hop's RTTs span a few dozen buckets: start with room around k.
		s.off = max(k-32, 0)
		s.counts = make([]uint64, 64)
	}
	if k < s.off || k >= s.off+len(s.counts) {
		lo, hi := min(k, s.off), max(k, s.off+len(s.counts)-1)
		lo = max(lo-16, 0)
		grown := make([]uint64, hi-lo+17)
		copy(grown[s.off-lo:], s.counts)
		s.counts, s.off = grown, lo
	}
	s.counts[k-s.off] += c
	s.n += c
	if !s.nonEmpty || k < s.lo {
		s.lo = k
	}
	if !s.nonEmpty || k > s.hi {
		s.hi = k
	}
	s.nonEmpty = true
}

func (s *sketch) add(us int64) { s.addKey(sketchKey(us), 1) }

func (s *sketch) reset() {
	if s.nonEmpty {
		clear(s.counts[s.lo-s.off : s.hi-s.off+1])
	}
	s.n, s.lo, s.hi, s.nonEmpty = 0, 0, 0, false
}

func (s *sketch) appendTo(b []byte) []byte {
	if !s.nonEmpty {
		return b
	}
	prev := 0
	for k := s.lo; k <= s.hi; k++ {
		if c := s.counts[k-s.off]; c > 0 {
			b = binary.AppendUvarint(b, uint64(k-prev))
			b = binary.AppendUvarint(b, c)
			prev = k
		}
	}
	return b
}

// merge adds an encoded sketch.
func (s *sketch) merge(b []byte) error {
	k := 0
	for len(b) > 0 {
		d, n := binary.Uvarint(b)
		if n <= 0 {
			return errCorrupt
		}
		b = b[n:]
		c, n := binary.Uvarint(b)
		if n <= 0 {
			return errCorrupt
		}
		b = b[n:]
		k += int(d)
		if k > maxSketchKey {
			return errCorrupt
		}
		s.addKey(k, c)
	}
	return nil
}

// rank returns the value of the r-th smallest (0-based) RTT, µs.
func (s *sketch) rank(r uint64) float64 {
	var seen uint64
	for k := s.lo; k <= s.hi; k++ {
		seen += s.counts[k-s.off]
		if seen > r {
			return sketchValue(k)
		}
	}
	return sketchValue(s.hi)
}

// quantile interpolates between closest ranks as hopstat.Percentile does,
// so a sketch and an exact window read the same quantile.
func (s *sketch) quantile(q float64) time.Duration {
	if s.n == 0 {
		return 0
	}
	pos := q * float64(s.n-1)
	lo := uint64(math.Floor(pos))
	hi := min(lo+1, s.n-1)
	a, b := s.rank(lo), s.rank(hi)
	v := a + (pos-float64(lo))*(b-a)
	return time.Duration(math.Round(v * float64(time.Microsecond)))
}
