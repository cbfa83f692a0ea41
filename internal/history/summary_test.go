package history_test

import (
	"context"
	"database/sql"
	"math"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/history/historytest"
	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// fold is what the live table computes from rounds: hopstat over
// monitor.SampleOf, with a window holding every reply (exact P50/P95).
func fold(rounds []trace.Round) *hopstat.Path {
	p := &hopstat.Path{Window: len(rounds) + 1}
	var smp []hopstat.Sample
	for _, r := range rounds {
		smp = smp[:0]
		for _, h := range r.Hops {
			smp = append(smp, monitor.SampleOf(h))
		}
		p.AddRound(smp)
	}
	return p
}

// stored is what the store keeps of rounds: RTTs to the µs, starts to the ms.
func stored(rounds []trace.Round) []trace.Round {
	out := make([]trace.Round, len(rounds))
	for i, r := range rounds {
		r.Start = r.Start.Truncate(time.Millisecond)
		r.Hops = slices.Clone(r.Hops)
		for j := range r.Hops {
			r.Hops[j].Reply.RTT = r.Hops[j].Reply.RTT.Truncate(time.Microsecond)
		}
		out[i] = r
	}
	return out
}

func within(got, want time.Duration, rel float64, abs time.Duration) bool {
	d := math.Abs(float64(got - want))
	return d <= rel*math.Abs(float64(want))+float64(abs)
}

func pathGen(seed uint64, start time.Time, interval time.Duration) *historytest.Gen {
	p := historytest.Path(10, map[int]float64{4: 0.2, 10: 0.05})
	p[2].Alt = netip.MustParseAddr("10.8.8.8")
	p[6].Addr = netip.Addr{} // a silent hop
	p[9].Jitter = 8 * time.Millisecond
	return &historytest.Gen{Hops: p, Start: start, Interval: interval, Seed: seed}
}

func TestSummaryMatchesHopstat(t *testing.T) {
	cases := []struct {
		name     string
		interval time.Duration
		n        int
		from, to time.Duration // the window, from t0
		exact    bool
	}{
		{"whole, exact", time.Second, 3000, 0, 3000 * time.Second, true},
		{"inner window, exact", time.Second, 3000, 90*time.Second + 500*time.Millisecond, 2000 * time.Second, true},
		{"seven hours from rollups", 10 * time.Second, 7 * 360, 0, 7 * time.Hour, false},
		{"seven hours, ragged edges", 10 * time.Second, 7 * 360, 95 * time.Second, 7*time.Hour - 25*time.Second, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rounds := pathGen(7, t0, c.interval).Rounds(c.n)
			st := openStore(t, history.Options{})
			historytest.Fill(t, st, "web", "example.net", rounds)
			if err := st.Close(); err != nil { // rolls up every minute
				t.Fatal(err)
			}
			st = openStore(t, history.Options{Path: st.Status().Path})
			from, to := t0.Add(c.from), t0.Add(c.to)
			var in []trace.Round
			for _, r := range stored(rounds) {
				if !r.Start.Before(from) && r.Start.Before(to) {
					in = append(in, r)
				}
			}
			want := fold(in)
			got, err := st.Summary(context.Background(), "web", from, to)
			if err != nil {
				t.Fatal(err)
			}
			if got.Exact != c.exact {
				t.Errorf("Exact %v; want %v", got.Exact, c.exact)
			}
			if got.Rounds != want.Rounds() || got.DestTTL != want.DestTTL() {
				t.Errorf("rounds %d, dest TTL %d; want %d, %d", got.Rounds, got.DestTTL, want.Rounds(), want.DestTTL())
			}
			wh := want.Hops()
			if len(got.Hops) != len(wh) {
				t.Fatalf("%d hops; want %d", len(got.Hops), len(wh))
			}
			for i, w := range wh {
				g := got.Hops[i]
				gs, ws := g.Stats, w.Stats
				if g.TTL != w.TTL || g.Reached != w.Reached || gs.Sent != ws.Sent || gs.Recv != ws.Recv || gs.Refused != ws.Refused {
					t.Errorf("hop %d: got ttl %d reached %v sent %d recv %d; want %d %v %d %d", i, g.TTL, g.Reached, gs.Sent, gs.Recv, w.TTL, w.Reached, ws.Sent, ws.Recv)
				}
				if c.exact {
					if gs != ws {
						t.Errorf("hop %d stats:\n got %+v\nwant %+v", w.TTL, gs, ws)
					}
					if len(g.Responders) != len(w.Responders) {
						t.Errorf("hop %d: %d responders; want %d", w.TTL, len(g.Responders), len(w.Responders))
					}
					continue
				}
				// From rollups: sums are exact to the µs, quantiles within the sketch's 1 %.
				for _, f := range []struct {
					name      string
					got, want time.Duration
					rel       float64
				}{
					{"last", gs.Last, ws.Last, 0}, {"best", gs.Best, ws.Best, 0}, {"worst", gs.Worst, ws.Worst, 0},
					{"avg", gs.Avg, ws.Avg, 0}, {"stddev", gs.StdDev, ws.StdDev, 0}, {"jitter", gs.Jitter, ws.Jitter, 0},
					{"jitter max", gs.JitterMax, ws.JitterMax, 0}, {"p50", gs.P50, ws.P50, 0.01}, {"p95", gs.P95, ws.P95, 0.01},
				} {
					if !within(f.got, f.want, f.rel, time.Microsecond) {
						t.Errorf("hop %d %s: got %v; want %v (±%.0f%% + 1µs)", w.TTL, f.name, f.got, f.want, 100*f.rel)
					}
				}
			}
			if d := got.Dest; d.TTL != want.DestTTL() || d.Sent != wh[len(wh)-1].Stats.Sent || d.MOS <= 1 {
				t.Errorf("dest: got TTL %d sent %d MOS %.2f; want TTL %d sent %d and a MOS", d.TTL, d.Sent, d.MOS, want.DestTTL(), wh[len(wh)-1].Stats.Sent)
			}
		})
	}
}

// TestRollupsEqualRaw recomputes every stored minute from the raw rows
// and compares it with its hop_minutes rows.
func TestRollupsEqualRaw(t *testing.T) {
	rounds := pathGen(11, t0.Add(13*time.Second), 700*time.Millisecond).Rounds(600)
	st := openStore(t, history.Options{})
	path := st.Status().Path
	historytest.Fill(t, st, "web", "example.net", rounds)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	type key struct {
		minute int64
		ttl    int
	}
	type fig struct {
		sent, lost    int
		min, max, sum int64
		rtts          []time.Duration
		first, last   int64
		jsum          int64
	}
	want := map[key]*fig{}
	for _, r := range stored(rounds) {
		m := r.Start.UnixMilli() / 60000 * 60000
		reach := 0
		for _, h := range r.Hops {
			if s := monitor.SampleOf(h); s.Reached && !s.Lost && (reach == 0 || h.TTL < reach) {
				reach = h.TTL
			}
		}
		for _, h := range r.Hops {
			if reach != 0 && h.TTL > reach {
				continue
			}
			s := monitor.SampleOf(h)
			k := key{m, h.TTL}
			f := want[k]
			if f == nil {
				f = &fig{}
				want[k] = f
			}
			f.sent++
			if s.Lost {
				f.lost++
				continue
			}
			us := s.RTT.Microseconds()
			if len(f.rtts) == 0 {
				f.min, f.max, f.first = us, us, us
			} else {
				f.jsum += abs(us - f.last)
			}
			f.min, f.max, f.last = min(f.min, us), max(f.max, us), us
			f.sum += us
			f.rtts = append(f.rtts, s.RTT)
		}
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT minute, ttl, sent, lost, min_us, max_us, sum_us, first_us, last_us, jitter_sum_us FROM hop_minutes`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var k key
		var g fig
		if err := rows.Scan(&k.minute, &k.ttl, &g.sent, &g.lost, &g.min, &g.max, &g.sum, &g.first, &g.last, &g.jsum); err != nil {
			t.Fatal(err)
		}
		n++
		w := want[k]
		if w == nil {
			t.Errorf("minute %d ttl %d: a rollup row, but no raw probe", k.minute, k.ttl)
			continue
		}
		if g.sent != w.sent || g.lost != w.lost {
			t.Errorf("minute %d ttl %d: got sent %d lost %d; want %d %d", k.minute, k.ttl, g.sent, g.lost, w.sent, w.lost)
		}
		if len(w.rtts) > 0 && (g.min != w.min || g.max != w.max || g.sum != w.sum || g.first != w.first || g.last != w.last || g.jsum != w.jsum) {
			t.Errorf("minute %d ttl %d: got min %d max %d sum %d first %d last %d jitter %d; want %d %d %d %d %d %d", k.minute, k.ttl,
				g.min, g.max, g.sum, g.first, g.last, g.jsum, w.min, w.max, w.sum, w.first, w.last, w.jsum)
		}
	}
	if n != len(want) {
		t.Errorf("%d rollup rows; want %d", n, len(want))
	}
	// Quantiles: a minute's series at one-minute steps reads its sketch.
	st = openStore(t, history.Options{Path: path})
	series, err := st.Series(context.Background(), "web", time.UnixMilli(rounds[0].Start.UnixMilli()/60000*60000), t0.Add(10*time.Minute), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, hs := range series {
		for _, b := range hs.Buckets {
			w := want[key{b.Start.UnixMilli(), hs.TTL}]
			if w == nil || len(w.rtts) == 0 {
				continue
			}
			p50, p95 := hopstat.Percentile(w.rtts, 0.5), hopstat.Percentile(w.rtts, 0.95)
			if !within(b.P50, p50, 0.01, time.Microsecond) || !within(b.P95, p95, 0.01, time.Microsecond) {
				t.Errorf("ttl %d minute %v: p50 %v p95 %v; want %v %v within 1%%", hs.TTL, b.Start, b.P50, b.P95, p50, p95)
			}
			if b.Sent != w.sent || b.Lost != w.lost || b.Min != time.Duration(w.min)*time.Microsecond {
				t.Errorf("ttl %d minute %v: sent %d lost %d min %v; want %d %d %v", hs.TTL, b.Start, b.Sent, b.Lost, b.Min, w.sent, w.lost, time.Duration(w.min)*time.Microsecond)
			}
			checked++
		}
	}
	if checked < 40 {
		t.Errorf("checked %d buckets; want the minutes of 10 hops", checked)
	}
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestSeriesFromRaw: steps under a minute come from raw rounds; each
// bucket's counts and extremes equal the rounds that started in it.
func TestSeriesFromRaw(t *testing.T) {
	rounds := pathGen(5, t0, 700*time.Millisecond).Rounds(900)
	st := openStore(t, history.Options{})
	historytest.Fill(t, st, "web", "example.net", rounds)
	step := 15 * time.Second
	from, to := t0.Add(20*time.Second), t0.Add(9*time.Minute)
	series, err := st.Series(context.Background(), "web", from, to, step)
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 10 {
		t.Fatalf("%d hops; want 10", len(series))
	}
	for _, hs := range series {
		if n := int((to.Sub(from) + step - 1) / step); len(hs.Buckets) != n {
			t.Fatalf("ttl %d: %d buckets; want %d", hs.TTL, len(hs.Buckets), n)
		}
		for _, b := range hs.Buckets {
			var in []trace.Round
			for _, r := range stored(rounds) {
				if end := b.Start.Add(step); !r.Start.Before(b.Start) && r.Start.Before(end) && r.Start.Before(to) {
					in = append(in, r)
				}
			}
			var h hopstat.Hop
			for _, x := range fold(in).Hops() {
				if x.TTL == hs.TTL {
					h = x
				}
			}
			s := h.Stats
			if b.Sent != s.Sent || b.Lost != s.Sent-s.Recv || b.Min != s.Best || b.Max != s.Worst || !within(b.Avg, s.Avg, 0, time.Microsecond) {
				t.Errorf("ttl %d at %v: sent %d lost %d min %v avg %v max %v; want %d %d %v %v %v", hs.TTL, b.Start.Sub(t0),
					b.Sent, b.Lost, b.Min, b.Avg, b.Max, s.Sent, s.Sent-s.Recv, s.Best, s.Avg, s.Worst)
			}
			if hs.TTL == 3 && !b.AddrChanged {
				t.Errorf("ttl 3 at %v: AddrChanged false; want true (two responders alternate)", b.Start.Sub(t0))
			}
			if b.DestinationHop != (hs.TTL == 10) {
				t.Errorf("ttl %d at %v: DestinationHop %v", hs.TTL, b.Start.Sub(t0), b.DestinationHop)
			}
		}
	}
}
