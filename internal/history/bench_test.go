package history_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/history/historytest"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// feeder hands rounds to a store's Run as the monitor would and flushes
// on the simulated clock.
type feeder struct {
	st      *history.Store
	updates chan monitor.Update
	done    chan struct{}
}

func newFeeder(st *history.Store, src history.Source) *feeder {
	f := &feeder{st: st, updates: make(chan monitor.Update), done: make(chan struct{})}
	go func() { defer close(f.done); st.Run(context.Background(), f.updates, src) }()
	return f
}

func (f *feeder) round(id monitor.ID, r trace.Round) {
	f.updates <- monitor.Update{Round: &monitor.RoundDone{Target: id, Round: r}}
}

func (f *feeder) close() { close(f.updates); <-f.done }

// simulate writes targets × hops probes every interval for span on the
// simulated clock c, flushing every flush; check runs after each flush.
func simulate(tb testing.TB, st *history.Store, c *clock, targets, hops int, interval, span, flush time.Duration, check func()) (probes int64) {
	tb.Helper()
	ids := make([]monitor.ID, targets)
	gens := make([]*historytest.Gen, targets)
	var tgs []monitor.Target
	for i := range ids {
		ids[i] = monitor.ID(fmt.Sprintf("target-%d", i))
		gens[i] = &historytest.Gen{Hops: historytest.Path(hops, map[int]float64{hops / 2: 0.02}), Start: c.Now(), Interval: interval, Seed: uint64(i)}
		tgs = append(tgs, monitor.Target{ID: ids[i], Host: string(ids[i]) + ".example", Addr: gens[i].Hops[hops-1].Addr})
	}
	f := newFeeder(st, historytest.NewSource(tgs...))
	start := c.Now()
	nextFlush := start.Add(flush)
	for step := 0; ; step++ {
		now := start.Add(time.Duration(step) * interval)
		if now.Sub(start) >= span {
			break
		}
		c.set(now)
		for i, g := range gens {
			r := g.Next() // a new one: Run may still be reading the last
			f.round(ids[i], r)
			probes += int64(len(r.Hops))
		}
		if !now.Before(nextFlush) {
			f.updates <- monitor.Update{} // Run has handled every round before this one
			if err := st.Flush(); err != nil {
				tb.Fatalf("flush at %v: %v", now, err)
			}
			nextFlush = nextFlush.Add(flush)
			if check != nil {
				check()
			}
		}
	}
	f.close()
	return probes
}

// BenchmarkBytesPerProbe: a million probes (one target, 30 hops, 1 s),
// then the file's size: all of it, and the raw chunks alone.
func BenchmarkBytesPerProbe(b *testing.B) {
	for b.Loop() {
		c := &clock{now: t0}
		path := filepath.Join(history.ScratchDir(b), "history.db")
		st, err := history.Open(history.Options{Path: path, Now: c.Now, Flush: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		probes := simulate(b, st, c, 1, 30, time.Second, 33334*time.Second, time.Minute, nil)
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		db, err := sql.Open("sqlite", path)
		if err != nil {
			b.Fatal(err)
		}
		var pages, free, size, raw, rollup int64
		if err := db.QueryRow(`SELECT * FROM pragma_page_count, pragma_freelist_count, pragma_page_size`).Scan(&pages, &free, &size); err != nil {
			b.Fatal(err)
		}
		// dbstat: the pages of each table and its indexes.
		if err := db.QueryRow(`SELECT sum(pgsize) FROM dbstat WHERE name IN ('chunks', 'sqlite_autoindex_chunks_1', 'chunks_minute')`).Scan(&raw); err != nil {
			b.Fatal(err)
		}
		if err := db.QueryRow(`SELECT sum(pgsize) FROM dbstat WHERE name IN ('hop_minutes', 'hop_minutes_minute')`).Scan(&rollup); err != nil {
			b.Fatal(err)
		}
		db.Close()
		b.ReportMetric(float64((pages-free)*size)/float64(probes), "B/probe")
		b.ReportMetric(float64(raw)/float64(probes), "raw-B/probe")
		b.ReportMetric(float64(rollup)/float64(probes), "rollup-B/probe")
		b.ReportMetric(float64(probes), "probes")
	}
}

// BenchmarkWriteCost: 5 targets × 30 hops every 100 ms (1,500 probes/s)
// for 10 simulated minutes, flushed every simulated second. The figures
// are the wall time and the process's CPU time spent (making the rounds
// included) over the simulated time: the share of one core writing takes.
func BenchmarkWriteCost(b *testing.B) {
	for b.Loop() {
		c := &clock{now: t0}
		st, err := history.Open(history.Options{Path: filepath.Join(history.ScratchDir(b), "history.db"), Now: c.Now, Flush: time.Hour})
		if err != nil {
			b.Fatal(err)
		}
		span := 10 * time.Minute
		start := time.Now()
		cpu0, cpuOK := cpuTime()
		probes := simulate(b, st, c, 5, 30, 100*time.Millisecond, span, time.Second, nil)
		if err := st.Close(); err != nil {
			b.Fatal(err)
		}
		spent := time.Since(start)
		b.ReportMetric(100*spent.Seconds()/span.Seconds(), "%core-wall")
		if cpu1, ok := cpuTime(); ok && cpuOK {
			// Every thread of the process: the writer, SQLite, the
			// garbage collector, and the generator of the rounds.
			b.ReportMetric(100*(cpu1-cpu0).Seconds()/span.Seconds(), "%core-cpu")
		}
		b.ReportMetric(float64(probes)/span.Seconds(), "probes/s")
	}
}

// day stores 24 h of a 30-hop target probed every second (2.6 M probes)
// once per run of the benchmarks that read it.
func day(b *testing.B) (string, time.Time) {
	b.Helper()
	dir := history.ScratchDir(b)
	c := &clock{now: t0}
	path := filepath.Join(dir, "history.db")
	st, err := history.Open(history.Options{Path: path, Now: c.Now, Flush: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	simulate(b, st, c, 1, 30, time.Second, 24*time.Hour, time.Minute, nil)
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	return path, t0
}

func BenchmarkSummary24h(b *testing.B) {
	path, start := day(b)
	st, err := history.Open(history.Options{Path: path, ReadOnly: true, Now: func() time.Time { return start.Add(25 * time.Hour) }})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for _, w := range []struct {
		name string
		from time.Time
		span time.Duration
	}{{"24h", start, 24 * time.Hour}, {"6h-exact", start.Add(3 * time.Hour), 6 * time.Hour}} {
		b.Run(w.name, func(b *testing.B) {
			for b.Loop() {
				s, err := st.Summary(context.Background(), "target-0", w.from, w.from.Add(w.span))
				if err != nil {
					b.Fatal(err)
				}
				if len(s.Hops) != 30 {
					b.Fatalf("%d hops; want 30", len(s.Hops))
				}
			}
		})
	}
}

func BenchmarkSeries24h(b *testing.B) {
	path, start := day(b)
	st, err := history.Open(history.Options{Path: path, ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for b.Loop() {
		s, err := st.Series(context.Background(), "target-0", start, start.Add(24*time.Hour), 0)
		if err != nil {
			b.Fatal(err)
		}
		if len(s) != 30 || len(s[0].Buckets) != 600 {
			b.Fatalf("%d hops; want 30 of 600 buckets", len(s))
		}
	}
}
