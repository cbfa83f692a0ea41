package history

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// maxSteps bounds a series' buckets per hop (each holds a sketch): a
// graph has a few hundred.
const maxSteps = 5000

// exactSpan is the longest window Summary folds from raw rounds; longer
// ones come from the per-minute rollups, which read in a fraction of the
// time.
const exactSpan = 6 * time.Hour

func (s *Store) targets(ctx context.Context) ([]TargetInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key FROM targets ORDER BY key`)
	if err != nil {
		return nil, fmt.Errorf("history: listing targets: %w", err)
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return nil, err
		}
		keys = append(keys, k)
	}
	rows.Close()
	out := make([]TargetInfo, 0, len(keys))
	for _, k := range keys {
		t, _, err := s.lookup(ctx, k)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (s *Store) target(ctx context.Context, key string) (TargetInfo, error) {
	t, _, err := s.lookup(ctx, key)
	return t, err
}

// lookup returns a target's info and its id in the file.
func (s *Store) lookup(ctx context.Context, key string) (TargetInfo, int64, error) {
	var id int64
	var host, addr, probe string
	t := TargetInfo{Key: key}
	err := s.db.QueryRowContext(ctx, `SELECT id, host, addr, probe, rounds FROM targets WHERE key = ?`, key).Scan(&id, &host, &addr, &probe, &t.Rounds)
	if errors.Is(err, sql.ErrNoRows) {
		return t, 0, fmt.Errorf("%w %q", ErrUnknownTarget, key)
	}
	if err != nil {
		return t, 0, fmt.Errorf("history: reading target %q: %w", key, err)
	}
	t.Host = host
	t.Addr, _ = netip.ParseAddr(addr)
	_ = json.Unmarshal([]byte(probe), &t.Probe)
	var rawFirst, rawLast, rollFirst, rollLast sql.NullInt64
	_ = s.db.QueryRowContext(ctx, `SELECT first_ms FROM chunks WHERE target_id = ? ORDER BY minute, part LIMIT 1`, id).Scan(&rawFirst)
	_ = s.db.QueryRowContext(ctx, `SELECT last_ms FROM chunks WHERE target_id = ? ORDER BY minute DESC, part DESC LIMIT 1`, id).Scan(&rawLast)
	_ = s.db.QueryRowContext(ctx, `SELECT min(minute), max(minute) FROM hop_minutes WHERE target_id = ?`, id).Scan(&rollFirst, &rollLast)
	first, last := int64(0), int64(0)
	for _, v := range []sql.NullInt64{rawFirst, rollFirst} {
		if v.Valid && (first == 0 || v.Int64 < first) {
			first = v.Int64
		}
	}
	for _, v := range []sql.NullInt64{rawLast, rollLast} {
		if v.Valid && v.Int64 > last {
			last = v.Int64
		}
	}
	if first != 0 {
		t.First = time.UnixMilli(first).UTC()
	}
	if last != 0 {
		t.Last = time.UnixMilli(last).UTC()
	}
	return t, id, nil
}

func (s *Store) events(ctx context.Context, key string, from, to time.Time) ([]monitor.Event, error) {
	_, id, err := s.lookup(ctx, key)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT time_ms, seq, kind, ttl, message, condition, value, threshold FROM events
		WHERE target_id = ? AND time_ms >= ? AND time_ms < ? ORDER BY time_ms, id`, id, from.UnixMilli(), to.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("history: reading events: %w", err)
	}
	defer rows.Close()
	var out []monitor.Event
	for rows.Next() {
		var e monitor.Event
		var ms, seq int64
		var kind, cond string
		if err := rows.Scan(&ms, &seq, &kind, &e.TTL, &e.Message, &cond, &e.Value, &e.Threshold); err != nil {
			return nil, err
		}
		e.Time, e.Seq, e.Kind, e.Condition, e.Target = time.UnixMilli(ms).UTC(), uint64(seq), monitor.EventKind(kind), alert.Condition(cond), monitor.ID(key)
		out = append(out, e)
	}
	return out, rows.Err()
}

// scanRaw calls fn with each raw round of target id that started in
// [from, to), oldest first (the round is reused).
func (s *Store) scanRaw(ctx context.Context, id int64, from, to int64, skip map[int64]bool, fn func(minute int64, r *rawRound) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT minute, data FROM chunks WHERE target_id = ? AND minute > ? AND minute < ?
		ORDER BY minute, first_ms, part`, id, from-60000, to)
	if err != nil {
		return fmt.Errorf("history: reading rounds: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var minute int64
		var data []byte
		if err := rows.Scan(&minute, &data); err != nil {
			return err
		}
		if skip[minute] {
			continue
		}
		err := decodeChunk(data, minute, func(r *rawRound) error {
			if r.startMs < from || r.startMs >= to {
				return nil
			}
			return fn(minute, r)
		})
		if err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *Store) rounds(ctx context.Context, key string, from, to time.Time, fn func(trace.Round) error) error {
	_, id, err := s.lookup(ctx, key)
	if err != nil {
		return err
	}
	// A minute's parts are in time order except after a catch-up; a
	// minute's rounds are sorted before they are handed out.
	var minute int64 = -1
	var buf []trace.Round
	emit := func() error {
		slices.SortStableFunc(buf, func(a, b trace.Round) int { return a.Start.Compare(b.Start) })
		for _, r := range buf {
			if err := fn(r); err != nil {
				return err
			}
		}
		buf = buf[:0]
		return nil
	}
	err = s.scanRaw(ctx, id, from.UnixMilli(), to.UnixMilli(), nil, func(m int64, r *rawRound) error {
		if m != minute {
			if err := emit(); err != nil {
				return err
			}
			minute = m
		}
		for _, h := range r.hops {
			s.addrOf(ctx, h.addr) // loads ids written since by another process
		}
		buf = append(buf, r.round(s.dict))
		return nil
	})
	if err != nil {
		return err
	}
	return emit()
}

// readRows returns target id's rollup rows of the whole minutes in
// [from, to), oldest first.
func (s *Store) readRows(ctx context.Context, id, from, to int64, fn func(minute int64, rows []row) error) error {
	q, err := s.db.QueryContext(ctx, `SELECT minute, ttl, sent, lost, refused, reached, last_reach, addr_id, addr_n, addr_count,
		min_us, max_us, sum_us, sumsq, first_us, last_us, jitter_sum_us, jitter_n, jitter_max_us, sketch
		FROM hop_minutes WHERE target_id = ? AND minute >= ? AND minute <= ? ORDER BY minute, ttl`, id, from, to-60000)
	if err != nil {
		return fmt.Errorf("history: reading rollups: %w", err)
	}
	defer q.Close()
	var batch []row
	cur := int64(-1)
	for q.Next() {
		var r row
		var lr int64
		if err := q.Scan(&r.minute, &r.ttl, &r.sent, &r.lost, &r.refused, &r.reached, &lr, &r.addrID, &r.addrN, &r.addrCount,
			&r.minUS, &r.maxUS, &r.sumUS, &r.sumsq, &r.firstUS, &r.lastUS, &r.jsum, &r.jn, &r.jmax, &r.sketch); err != nil {
			return err
		}
		r.lastReach = lr != 0
		if r.minute != cur && len(batch) > 0 {
			if err := fn(cur, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
		cur = r.minute
		batch = append(batch, r)
	}
	if err := q.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return fn(cur, batch)
	}
	return nil
}

// rawCovers reports whether raw rounds are kept for all of [from, to)
// that the store holds anything of: none older was given up to age or
// size.
func (s *Store) rawCovers(ctx context.Context, id, from int64) (bool, error) {
	var rawFirst, rollFirst sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT minute FROM chunks WHERE target_id = ? ORDER BY minute LIMIT 1`, id).Scan(&rawFirst); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, err
	}
	if err := s.db.QueryRowContext(ctx, `SELECT min(minute) FROM hop_minutes WHERE target_id = ?`, id).Scan(&rollFirst); err != nil {
		return false, err
	}
	if !rawFirst.Valid {
		return !rollFirst.Valid, nil
	}
	start := from
	if rollFirst.Valid && rollFirst.Int64 > from {
		start = rollFirst.Int64
	}
	return !rollFirst.Valid || rawFirst.Int64 <= start || rawFirst.Int64 <= from, nil
}

func (s *Store) summary(ctx context.Context, key string, from, to time.Time) (Summary, error) {
	info, id, err := s.lookup(ctx, key)
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{Target: info, From: from, To: to}
	f, t := from.UnixMilli(), to.UnixMilli()
	if t <= f {
		sum.Exact = true
		return sum, nil
	}
	covers, err := s.rawCovers(ctx, id, f)
	if err != nil {
		return sum, err
	}
	if covers && to.Sub(from) <= exactSpan {
		return s.exactSummary(ctx, sum, id)
	}
	var w window
	if err := s.fold(ctx, id, f, t, &w); err != nil {
		return sum, err
	}
	sum.Rounds = w.rounds
	if w.rounds > 0 {
		sum.First, sum.Last = time.UnixMilli(w.firstMs).UTC(), time.UnixMilli(w.lastMs).UTC()
	}
	sum.DestTTL = w.dest
	for _, ttl := range w.hopTTLs() {
		a := &w.ttls[ttl-1]
		h := hopstat.Hop{TTL: ttl, Stats: a.stats(), Reached: ttl == w.dest}
		h.Responders = responders(ctx, s, a.addrs)
		sum.Hops = append(sum.Hops, h)
	}
	sum.Dest = dest(sum, w.lastAt(sum.DestTTL))
	return sum, nil
}

// responders lists a hop's addresses by replies, from rollups' counts:
// each one's Stats hold its replies only.
func responders(ctx context.Context, s *Store, counts map[uint64]int64) []hopstat.Responder {
	var out []hopstat.Responder
	for id, n := range counts {
		out = append(out, hopstat.Responder{Addr: s.addrOf(ctx, id), Stats: hopstat.Stats{Sent: int(n), Recv: int(n)}})
	}
	slices.SortFunc(out, func(a, b hopstat.Responder) int {
		if c := cmp.Compare(b.Stats.Recv, a.Stats.Recv); c != 0 {
			return c
		}
		return a.Addr.Compare(b.Addr)
	})
	return out
}

// exactSummary folds the window's raw rounds through hopstat.Path, the
// live table's own code; P50 and P95 are those of every reply in the
// window.
func (s *Store) exactSummary(ctx context.Context, sum Summary, id int64) (Summary, error) {
	var p hopstat.Path
	var samples []hopstat.Sample
	var rtts [][]time.Duration // by TTL-1: the replies Path counts
	var lastAt []int64
	first, last := int64(0), int64(0)
	err := s.scanRaw(ctx, id, sum.From.UnixMilli(), sum.To.UnixMilli(), nil, func(_ int64, r *rawRound) error {
		samples = samples[:0]
		t := reach(r)
		for _, h := range r.hops {
			smp := hopstat.Sample{TTL: h.ttl, Lost: probeLost(h)}
			if !smp.Lost {
				smp.From, smp.RTT = s.addrOf(ctx, h.addr), time.Duration(h.rtt)*time.Microsecond
				smp.Reached = h.code == codeReached || h.code == codeClosed
				smp.Refused = h.code == codeClosed
				if h.ttl >= 1 && h.ttl <= hopstat.MaxTTL && (t == 0 || h.ttl <= t) {
					for len(rtts) < h.ttl {
						rtts = append(rtts, nil)
						lastAt = append(lastAt, 0)
					}
					rtts[h.ttl-1] = append(rtts[h.ttl-1], smp.RTT)
					lastAt[h.ttl-1] = r.startMs
				}
			} else if h.code != codeTimeout && h.code != codeFailed {
				smp.RTT = time.Duration(h.rtt) * time.Microsecond
			}
			samples = append(samples, smp)
		}
		p.AddRound(samples)
		if first == 0 {
			first = r.startMs
		}
		last = r.startMs
		return nil
	})
	if err != nil {
		return sum, err
	}
	sum.Exact = true
	sum.Rounds = p.Rounds()
	if sum.Rounds > 0 {
		sum.First, sum.Last = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
	}
	sum.DestTTL = p.DestTTL()
	sum.Hops = p.Hops()
	for i := range sum.Hops {
		h := &sum.Hops[i]
		if h.TTL <= len(rtts) && len(rtts[h.TTL-1]) > 0 {
			v := rtts[h.TTL-1]
			h.Stats.P50 = hopstat.Percentile(v, 0.5)
			h.Stats.P95 = hopstat.Percentile(v, 0.95)
		}
	}
	var at int64
	if d := sum.DestTTL; d > 0 && d <= len(lastAt) {
		at = lastAt[d-1]
	}
	sum.Dest = dest(sum, at)
	return sum, nil
}

// dest is the destination's quality: its hop's figures and the MOS.
func dest(sum Summary, lastAtMs int64) Dest {
	d := Dest{TTL: sum.DestTTL, FirstAt: sum.First, EndAt: sum.Last}
	for _, h := range sum.Hops {
		if h.TTL != sum.DestTTL || sum.DestTTL == 0 {
			continue
		}
		st := h.Stats
		d.Sent, d.Lost, d.Refused, d.LossPct = st.Sent, st.Sent-st.Recv, st.Refused, st.LossPct()
		d.Latency, d.Jitter, d.Best, d.Worst, d.P50, d.P95, d.StdDev, d.Last = st.Avg, st.Jitter, st.Best, st.Worst, st.P50, st.P95, st.StdDev, st.Last
		if st.Recv-st.Refused > 0 {
			d.R, d.MOS = alert.MOS(st.Avg, st.Jitter, st.LossPct())
		}
		if lastAtMs != 0 {
			d.LastAt = time.UnixMilli(lastAtMs).UTC()
		}
	}
	return d
}

// window folds a span from rollups and raw rounds, in time order.
type window struct {
	ttls     []agg
	rounds   int
	dest     int
	probed   int
	firstMs  int64
	lastMs   int64
	minuteAg minuteAgg
}

func (w *window) grow(ttl int) *agg {
	for len(w.ttls) < ttl {
		w.ttls = append(w.ttls, agg{})
	}
	return &w.ttls[ttl-1]
}

func (w *window) seen(ms int64) {
	if w.rounds == 0 || ms < w.firstMs {
		w.firstMs = ms
	}
	w.lastMs = max(w.lastMs, ms)
}

func (w *window) round(r *rawRound) {
	t := reach(r)
	for _, h := range r.hops {
		if h.ttl < 1 || h.ttl > hopstat.MaxTTL || (t != 0 && h.ttl > t) {
			continue
		}
		w.grow(h.ttl).sample(h, r.startMs)
		w.probed = max(w.probed, h.ttl)
	}
	if t != 0 {
		w.dest = t
		w.ttls[t-1].reached++
	}
	w.seen(r.startMs)
	w.rounds++
}

func (w *window) minute(minute int64, rows []row) error {
	n := int64(0)
	for i := range rows {
		r := &rows[i]
		if err := w.grow(r.ttl).mergeRow(r); err != nil {
			return err
		}
		w.probed = max(w.probed, r.ttl)
		if r.lastReach {
			w.dest = r.ttl
		}
		n = max(n, r.sent)
	}
	w.seen(minute)
	w.rounds += int(n)
	return nil
}

// hopTTLs are the TTLs of the hop table, by hopstat's rules.
func (w *window) hopTTLs() []int {
	n := w.probed
	if w.dest != 0 {
		n = w.dest
	}
	var out []int
	for ttl := 1; ttl <= min(n, len(w.ttls)); ttl++ {
		if w.ttls[ttl-1].sent > 0 {
			out = append(out, ttl)
		}
	}
	return out
}

func (w *window) lastAt(ttl int) int64 {
	if ttl < 1 || ttl > len(w.ttls) {
		return 0
	}
	return w.ttls[ttl-1].lastMs
}

// fold reads [from, to) into w: whole minutes from rollups, the rest
// (the edges, minutes not rolled up yet) from raw rounds.
func (s *Store) fold(ctx context.Context, id, from, to int64, w *window) error {
	type piece struct {
		minute int64
		rows   []row
	}
	var pieces []piece
	rolled := map[int64]bool{}
	err := s.readRows(ctx, id, from, to, func(minute int64, rows []row) error {
		pieces = append(pieces, piece{minute, slices.Clone(rows)})
		rolled[minute] = true
		return nil
	})
	if err != nil {
		return err
	}
	next := 0
	flushBefore := func(ms int64) error {
		for next < len(pieces) && pieces[next].minute < ms {
			if err := w.minute(pieces[next].minute, pieces[next].rows); err != nil {
				return err
			}
			next++
		}
		return nil
	}
	err = s.scanRaw(ctx, id, from, to, rolled, func(_ int64, r *rawRound) error {
		if err := flushBefore(r.startMs); err != nil {
			return err
		}
		w.round(r)
		return nil
	})
	if err != nil {
		return err
	}
	return flushBefore(to + 1)
}

func (s *Store) series(ctx context.Context, key string, from, to time.Time, step time.Duration) ([]HopSeries, error) {
	_, id, err := s.lookup(ctx, key)
	if err != nil {
		return nil, err
	}
	if !to.After(from) {
		return nil, nil
	}
	if step <= 0 {
		step = max(to.Sub(from)/600, time.Second)
	}
	n := int((to.Sub(from) + step - 1) / step)
	if n > maxSteps {
		return nil, fmt.Errorf("history: %d steps of %v in the window; ask for a longer step", n, step)
	}
	f, t, st := from.UnixMilli(), to.UnixMilli(), step.Milliseconds()
	if st <= 0 {
		st = 1
	}
	var w window
	var cells [][]agg // by TTL-1, then bucket
	dests := map[[2]int]bool{}
	cell := func(ttl int, ms int64) *agg {
		for len(cells) < ttl {
			cells = append(cells, make([]agg, n))
		}
		b := min(int((ms-f)/st), n-1)
		return &cells[ttl-1][max(b, 0)]
	}
	addRaw := func(r *rawRound) {
		w.round(r)
		rt := reach(r)
		for _, h := range r.hops {
			if h.ttl < 1 || h.ttl > hopstat.MaxTTL || (rt != 0 && h.ttl > rt) {
				continue
			}
			cell(h.ttl, r.startMs).sample(h, r.startMs)
		}
		if rt != 0 {
			dests[[2]int{rt, int((r.startMs - f) / st)}] = true
		}
	}
	if step < time.Minute {
		err = s.scanRaw(ctx, id, f, t, nil, func(_ int64, r *rawRound) error { addRaw(r); return nil })
	} else {
		type piece struct {
			minute int64
			rows   []row
		}
		rolled := map[int64]bool{}
		var pieces []piece
		err = s.readRows(ctx, id, f, t, func(minute int64, rows []row) error {
			if err := w.minute(minute, rows); err != nil {
				return err
			}
			rolled[minute] = true
			pieces = append(pieces, piece{minute, slices.Clone(rows)})
			return nil
		})
		if err == nil {
			for _, p := range pieces {
				for i := range p.rows {
					r := &p.rows[i]
					if err := cell(r.ttl, p.minute).mergeRow(r); err != nil {
						return nil, err
					}
					if r.addrCount > 1 {
						c := cell(r.ttl, p.minute)
						if c.addrs == nil {
							c.addrs = map[uint64]int64{}
						}
						c.addrs[0]++ // marks more than one responder in the bucket
					}
					if r.reached > 0 {
						dests[[2]int{r.ttl, int((p.minute - f) / st)}] = true
					}
				}
			}
			err = s.scanRaw(ctx, id, f, t, rolled, func(_ int64, r *rawRound) error { addRaw(r); return nil })
		}
	}
	if err != nil {
		return nil, err
	}
	var out []HopSeries
	for _, ttl := range w.hopTTLs() {
		hs := HopSeries{TTL: ttl, Buckets: make([]Bucket, n)}
		for b := range n {
			bk := &hs.Buckets[b]
			bk.Start = from.Add(time.Duration(b) * step).UTC()
			if ttl > len(cells) {
				continue
			}
			a := &cells[ttl-1][b]
			st := a.stats()
			bk.Sent, bk.Lost = st.Sent, st.Sent-st.Recv
			bk.Min, bk.Avg, bk.Max, bk.P50, bk.P95 = st.Best, st.Avg, st.Worst, st.P50, st.P95
			var best uint64
			var bestN int64
			distinct := 0
			for id, c := range a.addrs {
				if id == 0 {
					distinct++ // a minute with several responders
					continue
				}
				distinct++
				if c > bestN || (c == bestN && id < best) {
					best, bestN = id, c
				}
			}
			if best != 0 {
				bk.Addr = s.addrOf(ctx, best)
			}
			bk.AddrChanged = distinct > 1
			bk.DestinationHop = dests[[2]int{ttl, b}]
		}
		out = append(out, hs)
	}
	return out, nil
}
