package history_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/history/historytest"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// TestRetentionByAge stores three days of rounds (one every 5 minutes), then
// opens the file days later: raw rounds past MaxAge and rollups past
// RollupMaxAge are gone, the rest is there.
func TestRetentionByAge(t *testing.T) {
	rounds := (&historytest.Gen{Hops: historytest.Path(5, nil), Start: t0, Interval: 5 * time.Minute}).Rounds(3 * 24 * 12)
	end := t0.Add(72 * time.Hour)
	cases := []struct {
		name              string
		now               time.Time
		maxAge, rollAge   time.Duration
		rawFrom, rollFrom time.Time // the oldest kept; zero: none
	}{
		{"nothing old enough", end, 4 * 24 * time.Hour, 10 * 24 * time.Hour, t0, t0},
		{"raw past a day", end, 24 * time.Hour, 10 * 24 * time.Hour, end.Add(-24 * time.Hour), t0},
		{"raw past a day, rollups past two", end, 24 * time.Hour, 48 * time.Hour, end.Add(-24 * time.Hour), end.Add(-48 * time.Hour)},
		{"everything past", end.Add(30 * 24 * time.Hour), 24 * time.Hour, 48 * time.Hour, time.Time{}, time.Time{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(history.ScratchDir(t), "history.db")
			st := openStore(t, history.Options{Path: path, Now: func() time.Time { return t0 }})
			historytest.Fill(t, st, "web", "example.net", rounds)
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			st = openStore(t, history.Options{Path: path, Now: func() time.Time { return c.now }, MaxAge: c.maxAge, RollupMaxAge: c.rollAge})
			ctx := context.Background()
			var first time.Time
			n := 0
			if err := st.Rounds(ctx, "web", t0.Add(-time.Hour), end, func(r trace.Round) error {
				if n == 0 {
					first = r.Start
				}
				n++
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !first.Equal(c.rawFrom) {
				t.Errorf("oldest raw round %v; want %v", first, c.rawFrom)
			}
			if got := st.Status().Oldest; !got.Equal(c.rawFrom) {
				t.Errorf("Status().Oldest %v; want %v", got, c.rawFrom)
			}
			series, err := st.Series(ctx, "web", t0, end, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			var rollFirst time.Time
			if len(series) > 0 {
				for _, b := range series[0].Buckets {
					if b.Sent > 0 {
						rollFirst = b.Start
						break
					}
				}
			}
			if !rollFirst.Equal(c.rollFrom) {
				t.Errorf("oldest hour in the series %v; want %v", rollFirst, c.rollFrom)
			}
		})
	}
}

// TestRetentionBySize fills a file past its cap in one go: once written,
// it is back under the cap, the newest rounds kept and the oldest gone.
func TestRetentionBySize(t *testing.T) {
	cases := []struct {
		name     string
		maxBytes int64
		rounds   int
	}{
		{"1 MB", 1 << 20, 8000},
		{"3 MB", 3 << 20, 24000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rounds := (&historytest.Gen{Hops: historytest.Path(30, nil), Start: t0, Interval: 100 * time.Millisecond}).Rounds(c.rounds)
			path := filepath.Join(history.ScratchDir(t), "history.db")
			now := t0.Add(time.Duration(c.rounds) * 100 * time.Millisecond)
			st := openStore(t, history.Options{Path: path, MaxBytes: c.maxBytes, Now: func() time.Time { return now }})
			// In slices, as a running monitor would hand them over.
			for i := 0; i < len(rounds); i += 600 {
				historytest.Fill(t, st, "web", "example.net", rounds[i:min(i+600, len(rounds))])
			}
			size := fileSize(path)
			if size > c.maxBytes {
				t.Errorf("file is %d bytes; want at most %d", size, c.maxBytes)
			}
			s := st.Status()
			if !s.Oldest.After(t0) {
				t.Errorf("oldest round %v; want later than the first, %v", s.Oldest, t0)
			}
			last := rounds[len(rounds)-1]
			n := 0
			st.Rounds(context.Background(), "web", last.Start.Add(-time.Minute+time.Millisecond), now, func(trace.Round) error { n++; return nil })
			if n != 600 {
				t.Errorf("%d rounds in the last minute; want 600", n)
			}
			t.Logf("%d bytes of %d; oldest kept %v after the first", size, c.maxBytes, s.Oldest.Sub(t0))
		})
	}
}

func fileSize(path string) int64 {
	var n int64
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}
