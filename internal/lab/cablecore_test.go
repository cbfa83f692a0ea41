package lab

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests need no root: they cover the cable's decisions.

func TestFrameHeapOrder(t *testing.T) {
	for _, tc := range []struct {
		name     string
		releases []int64
	}{
		{"fifo with equal releases", []int64{5, 5, 5, 5}},
		{"increasing", []int64{1, 2, 3, 4, 5}},
		{"decreasing", []int64{9, 7, 5, 3, 1}},
		{"mixed with ties", []int64{4, 1, 4, 2, 9, 1, 0, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h frameHeap
			for i, r := range tc.releases {
				h.push(&frame{release: r, seq: uint64(i)})
			}
			var got [][2]int64
			for len(h) > 0 {
				f := h.pop()
				got = append(got, [2]int64{f.release, int64(f.seq)})
			}
			want := make([][2]int64, len(tc.releases))
			for i, r := range tc.releases {
				want[i] = [2]int64{r, int64(i)}
			}
			slices.SortStableFunc(want, func(a, b [2]int64) int { return int(a[0] - b[0]) })
			if !slices.Equal(got, want) {
				t.Errorf("pop order (release, seq) = %v; want %v", got, want)
			}
		})
	}
}

func TestShaper(t *testing.T) {
	const rx = int64(1_000_000_000)
	t.Run("delay", func(t *testing.T) {
		s := newShaper(1, 0)
		s.p = LinkParams{Delay: 5 * time.Millisecond}
		if rel, lost := s.admit(rx); lost || rel != rx+int64(5*time.Millisecond) {
			t.Errorf("admit(%d) = %d, %v; want %d, false", rx, rel, lost, rx+int64(5*time.Millisecond))
		}
	})
	t.Run("jitter bounds and mean", func(t *testing.T) {
		s := newShaper(2, 0)
		s.p = LinkParams{Delay: 5 * time.Millisecond, Jitter: 2 * time.Millisecond}
		var sum float64
		const n = 20000
		for range n {
			rel, lost := s.admit(rx)
			d := time.Duration(rel - rx)
			if lost || d < 3*time.Millisecond || d > 7*time.Millisecond {
				t.Fatalf("admit with 5ms±2ms: delay %v, lost %v; want 3ms to 7ms, kept", d, lost)
			}
			sum += float64(d)
		}
		if mean := time.Duration(sum / n); (mean - 5*time.Millisecond).Abs() > 50*time.Microsecond {
			t.Errorf("mean delay %v; want 5ms ± 50µs", mean)
		}
	})
	t.Run("jitter never goes below zero", func(t *testing.T) {
		s := newShaper(3, 0)
		s.p = LinkParams{Delay: time.Millisecond, Jitter: 5 * time.Millisecond}
		for range 1000 {
			if rel, _ := s.admit(rx); rel < rx {
				t.Fatalf("admit released at %d before reception %d", rel, rx)
			}
		}
	})
	t.Run("loss rate", func(t *testing.T) {
		s := newShaper(4, 1)
		s.p = LinkParams{Loss: 0.3}
		const n = 100000
		lost := 0
		for range n {
			if _, l := s.admit(rx); l {
				lost++
			}
		}
		sigma := math.Sqrt(n * 0.3 * 0.7)
		if dev := math.Abs(float64(lost) - 0.3*n); dev > 5*sigma {
			t.Errorf("lost %d of %d at 0.3: %.1f σ off", lost, n, dev/sigma)
		}
	})
	t.Run("seeded streams repeat", func(t *testing.T) {
		a, b := newShaper(7, 1), newShaper(7, 1)
		a.p = LinkParams{Delay: time.Millisecond, Jitter: time.Millisecond, Loss: 0.5}
		b.p = a.p
		for i := range 1000 {
			ra, la := a.admit(rx)
			rb, lb := b.admit(rx)
			if ra != rb || la != lb {
				t.Fatalf("frame %d: same seed gave (%d, %v) and (%d, %v)", i, ra, la, rb, lb)
			}
		}
	})
}

func TestControlProtocol(t *testing.T) {
	fwd := LinkParams{Delay: 1500 * time.Microsecond, Jitter: 10 * time.Microsecond, Loss: 0.125}
	rev := LinkParams{Delay: 20 * time.Millisecond, Loss: 1}
	line := formatSet(fwd, rev)
	f, r, err := parseSet(strings.Fields(line)[1:])
	if err != nil || f != fwd || r != rev {
		t.Errorf("parseSet(%q) = %+v, %+v, %v; want %+v, %+v, nil", line, f, r, err, fwd, rev)
	}
	for _, bad := range []string{
		"set 1 2 3",
		"set x 0 0 0 0 0",
		"set 0 0 2 0 0 0",
		"set -5 0 0 0 0 0",
		"set 0 0 NaN 0 0 0",
	} {
		if _, _, err := parseSet(strings.Fields(bad)[1:]); err == nil {
			t.Errorf("parseSet(%q) = nil error; want an error", bad)
		}
	}

	sf := CableStats{Frames: 10, Lost: 3, Sent: 7, Errors: 0, Offloaded: 2}
	sr := CableStats{Frames: 1 << 40, Sent: 1 << 40}
	gf, gr, err := parseStats(formatStats(sf, sr))
	if err != nil || gf != sf || gr != sr {
		t.Errorf("parseStats(formatStats(%+v, %+v)) = %+v, %+v, %v", sf, sr, gf, gr, err)
	}
	if _, _, err := parseStats("stats 1 2"); err == nil {
		t.Error("parseStats(short) = nil error")
	}
}

func TestQuantile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	for _, tc := range []struct {
		in   []time.Duration
		q    float64
		want time.Duration
	}{
		{nil, 0.5, 0},
		{ms(7), 0.5, 7 * time.Millisecond},
		{ms(3, 1, 2), 0.5, 2 * time.Millisecond},
		{ms(4, 1, 3, 2), 0.5, 2500 * time.Microsecond},
		{ms(1, 2, 3, 4, 5), 0, time.Millisecond},
		{ms(1, 2, 3, 4, 5), 1, 5 * time.Millisecond},
		{ms(1, 2, 3, 4, 5), 0.9, 4600 * time.Microsecond},
	} {
		if got := Quantile(tc.in, tc.q); got != tc.want {
			t.Errorf("Quantile(%v, %v) = %v; want %v", tc.in, tc.q, got, tc.want)
		}
	}
	in := ms(3, 1, 2)
	Quantile(in, 0.5)
	if !slices.Equal(in, ms(3, 1, 2)) {
		t.Errorf("Quantile modified its input: %v", in)
	}
}

func TestLinkParamsValidate(t *testing.T) {
	for _, tc := range []struct {
		p  LinkParams
		ok bool
	}{
		{LinkParams{}, true},
		{LinkParams{Delay: time.Second, Jitter: time.Millisecond, Loss: 1}, true},
		{LinkParams{Delay: -time.Nanosecond}, false},
		{LinkParams{Jitter: -time.Nanosecond}, false},
		{LinkParams{Delay: 2 * time.Minute}, false},
		{LinkParams{Loss: -0.1}, false},
		{LinkParams{Loss: math.NaN()}, false},
	} {
		if err := tc.p.validate(); (err == nil) != tc.ok {
			t.Errorf("%+v.validate() = %v; want ok=%v", tc.p, err, tc.ok)
		}
	}
}
