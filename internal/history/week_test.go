package history_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// WeekEnv set to 1 runs TestSimulatedWeek over a whole week (about 15
// minutes without -race); otherwise it runs the same load over 12 hours
// with a cap scaled down so that every regime of retention comes round
// (raw rounds trimmed within the first hour, rollups past half the cap
// after a few).
const WeekEnv = "PINGERPLOT_HISTORY_WEEK"

// TestSimulatedWeek writes 1,500 probes/s (5 targets × 30 hops every
// 100 ms) on a fake clock, flushing every second, and checks after every
// flush that the file (database and WAL) stays under its cap; at the end
// the latest rounds are all there and the latest hour sums up exactly.
func TestSimulatedWeek(t *testing.T) {
	span, maxBytes := 12*time.Hour, int64(8<<20)
	switch {
	case os.Getenv(WeekEnv) == "1":
		span, maxBytes = 7*24*time.Hour, 64<<20
	case testing.Short() || raceEnabled:
		// The race detector makes it ten times slower: 90 minutes with
		// the cap scaled to match still trims raw rounds, then rollups
		// (past half the cap after about an hour).
		span, maxBytes = 90*time.Minute, 2<<20
	}
	c := &clock{now: t0}
	path := filepath.Join(history.ScratchDir(t), "history.db")
	st, err := history.Open(history.Options{Path: path, Now: c.Now, MaxBytes: maxBytes, Flush: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var peak int64
	flushes := 0
	start := time.Now()
	probes := simulate(t, st, c, 5, 30, 100*time.Millisecond, span, time.Second, func() {
		flushes++
		if flushes%10 != 0 {
			return
		}
		var n int64
		for _, p := range []string{path, path + "-wal"} {
			if fi, err := os.Stat(p); err == nil {
				n += fi.Size()
			}
		}
		peak = max(peak, n)
		if n > maxBytes {
			t.Fatalf("at %v: the file takes %d bytes; want at most %d", c.Now().Sub(t0), n, maxBytes)
		}
	})
	if err := st.Flush(); err != nil {
		t.Fatal(err)
	}
	s := st.Status()
	t.Logf("%d probes over %v in %v; peak %d bytes of %d; oldest raw round %v before the end; status %+v",
		probes, span, time.Since(start).Round(time.Second), peak, maxBytes, c.Now().Sub(s.Oldest).Round(time.Second), s)
	if s.LastError != "" || s.Probes != probes {
		t.Errorf("status: %d probes, error %q; want %d, none", s.Probes, s.LastError, probes)
	}
	if s.Oldest.Before(t0.Add(span / 8)) {
		t.Errorf("oldest raw round at %v; want the cap to have trimmed the first ones", s.Oldest.Sub(t0))
	}
	ctx := context.Background()
	ti, err := st.Target(ctx, "target-3")
	if err != nil {
		t.Fatal(err)
	}
	if !ti.First.After(t0) {
		t.Errorf("the oldest minute kept is the first, %v; want the cap to have trimmed the rollups too", ti.First)
	}
	end := c.Now().Add(100 * time.Millisecond)
	n := 0
	if err := st.Rounds(ctx, "target-3", end.Add(-time.Minute), end, func(trace.Round) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 600 {
		t.Errorf("%d rounds in the last minute; want 600", n)
	}
	// The raw rounds kept sum up exactly.
	from := s.Oldest
	sum, err := st.Summary(ctx, "target-3", from, end)
	if err != nil {
		t.Fatal(err)
	}
	if want := int(end.Sub(from) / (100 * time.Millisecond)); !sum.Exact || sum.Rounds != want || len(sum.Hops) != 30 {
		t.Errorf("since %v: exact %v, %d rounds, %d hops; want exact, %d, 30", from, sum.Exact, sum.Rounds, len(sum.Hops), want)
	}
}
