package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// maxPendingBytes bounds what the writer holds while it cannot write:
// packed rounds, about 1¾ hours at 1,500 probes/s. Past it the oldest
// chunks are dropped and fetched again from the monitor when writing
// resumes (or written down as a gap).
const maxPendingBytes = 32 << 20

// maxPendingEvents bounds the events held while writing fails.
const maxPendingEvents = 10000

// writer is what Run buffers between flushes; Store.mu guards it.
type writer struct {
	src     Source
	targets map[monitor.ID]*wtarget
	events  []monitor.Event
	bytes   int // packed bytes not yet written
	// dropped are index ranges of rounds dropped from a full buffer, by
	// target: fetched again from src when writing resumes.
	dropped    map[monitor.ID][][2]int
	failing    bool // the latest flush failed
	lastRetain time.Time
	eventsLost int // events dropped from a full buffer, not yet reported
	limit      int // maxPendingBytes; smaller in tests
}

// wtarget is one target's buffered rounds.
type wtarget struct {
	key      string
	id       int64 // targets.id; 0 until written
	info     monitor.Target
	haveInfo bool
	open     *chunk   // where its next round goes, if it fits
	done     []*chunk // closed, not yet written; oldest first
	firstMs  int64
	lastMs   int64
	rounds   int64 // buffered since the last write, for targets.rounds
}

func (w *writer) init() {
	w.limit = maxPendingBytes
	w.targets = map[monitor.ID]*wtarget{}
	w.dropped = map[monitor.ID][][2]int{}
}

func (w *writer) target(id monitor.ID) *wtarget {
	t := w.targets[id]
	if t == nil {
		t = &wtarget{key: string(id)}
		w.targets[id] = t
	}
	if !t.haveInfo && w.src != nil {
		t.info, t.haveInfo = w.src.Target(id)
	}
	return t
}

// add buffers one round.
func (w *writer) add(id monitor.ID, r *trace.Round, d *dict) {
	t := w.target(id)
	ms := r.Start.UnixMilli()
	if t.open != nil && !t.open.fits(ms) {
		t.open.sealed = true
		t.open.minuteEnded = minuteOf(ms) != t.open.minute
		t.done = append(t.done, t.open)
		t.open = nil
	}
	if t.open == nil {
		t.open = newChunk(minuteOf(ms))
	}
	before := len(t.open.buf)
	t.open.add(r, d)
	w.bytes += len(t.open.buf) - before
	if t.firstMs == 0 || ms < t.firstMs {
		t.firstMs = ms
	}
	t.lastMs = max(t.lastMs, ms)
	t.rounds++
	for w.bytes > w.limit && w.dropOldest() {
	}
}

// dropOldest forgets the oldest closed chunk of any target, noting its
// rounds to fetch again.
func (w *writer) dropOldest() bool {
	var oldest *wtarget
	var oid monitor.ID
	for id, t := range w.targets {
		if len(t.done) > 0 && (oldest == nil || t.done[0].firstMs < oldest.done[0].firstMs) {
			oldest, oid = t, id
		}
	}
	if oldest == nil {
		return false
	}
	c := oldest.done[0]
	oldest.done = oldest.done[1:]
	w.bytes -= len(c.buf)
	oldest.rounds -= int64(c.count)
	first := c.firstRound
	if c.saved > 0 {
		// Written while it was open: only what came after is missing.
		first = c.savedRound + 1
	}
	if first <= c.lastRound {
		w.dropped[oid] = append(w.dropped[oid], [2]int{first, c.lastRound})
	}
	return true
}

// sealAll closes every open chunk: nothing more will join them in this
// run (Close), so their minutes are rolled up.
func (w *writer) sealAll() {
	for _, t := range w.targets {
		if t.open != nil {
			t.open.sealed, t.open.minuteEnded = true, true
			t.done = append(t.done, t.open)
			t.open = nil
		}
	}
}

// sealOld closes open chunks whose minute is over (now is past its end
// and a grace for a late round), so a target that stopped gets its
// last minute rolled up.
func (w *writer) sealOld(nowMs int64) {
	for _, t := range w.targets {
		if c := t.open; c != nil && nowMs > c.minute+60000+5000 {
			c.sealed, c.minuteEnded = true, true
			t.done = append(t.done, c)
			t.open = nil
		}
	}
}

func (w *writer) pendingRounds() int64 {
	var n int64
	for _, t := range w.targets {
		for _, c := range t.done {
			n += int64(c.count)
		}
		if t.open != nil && t.open.dirty {
			n += int64(t.open.count)
		}
	}
	for _, rs := range w.dropped {
		for _, r := range rs {
			n += int64(r[1] - r[0] + 1)
		}
	}
	return n
}

// handle takes one update from the monitor.
func (s *Store) handle(u monitor.Update) {
	switch {
	case u.Round != nil:
		s.mu.Lock()
		s.w.add(u.Round.Target, &u.Round.Round, s.dict)
		s.mu.Unlock()
	case u.Event != nil:
		s.mu.Lock()
		s.addEvent(*u.Event)
		s.mu.Unlock()
	case u.Gap != nil:
		s.gap(u.Gap)
	}
}

// addEvent buffers an event; s.mu is held.
func (s *Store) addEvent(e monitor.Event) {
	if e.Kind == monitor.SettingsChanged {
		if t := s.w.targets[e.Target]; t != nil {
			t.haveInfo = false // read again at the next round
		}
	}
	if len(s.w.events) >= maxPendingEvents {
		s.w.events = s.w.events[1:]
		s.w.eventsLost++
	}
	s.w.events = append(s.w.events, e)
}

// gap catches up what the monitor dropped from the store's channel: the
// rounds and events its history still holds are stored as if they had
// come in time; the rest is written down as a record_gap and counted in
// Status.Lost.
func (s *Store) gap(g *monitor.Gap) {
	src := s.source()
	for _, tg := range g.Targets {
		var rounds []trace.Round
		if n := tg.Rounds(); n > 0 {
			if src != nil {
				rounds, _ = src.Rounds(tg.Target, tg.FirstRound, tg.LastRound)
			}
			if lost := n - len(rounds); lost > 0 {
				s.lose(src, tg.Target, lost, 0)
			}
		}
		var events []monitor.Event
		if tg.Events > 0 {
			if src != nil {
				for _, e := range src.Events(tg.Target) {
					if e.Seq >= tg.FirstSeq && e.Seq <= tg.LastSeq {
						events = append(events, e)
					}
				}
			}
			if lost := tg.Events - len(events); lost > 0 {
				s.lose(src, tg.Target, 0, lost)
			}
		}
		s.mu.Lock()
		for i := range rounds {
			s.w.add(tg.Target, &rounds[i], s.dict)
		}
		for _, e := range events {
			s.addEvent(e)
		}
		s.mu.Unlock()
	}
}

// lose counts rounds and events given up and says so.
func (s *Store) lose(src Source, id monitor.ID, rounds, events int) {
	s.mu.Lock()
	s.st.Lost += int64(rounds)
	s.mu.Unlock()
	var what string
	switch {
	case rounds > 0 && events > 0:
		what = fmt.Sprintf("%d rounds and %d events", rounds, events)
	case rounds > 0:
		what = fmt.Sprintf("%d rounds", rounds)
	default:
		what = fmt.Sprintf("%d events", events)
	}
	msg := "history: " + what + " not stored: the history store fell behind and the monitor no longer held them; if it recurs, the disk is too slow for this many targets"
	s.report(src, id, monitor.RecordGap, msg)
}

// report tells the user through the monitor's event log; without one
// (a removed target, a closed monitor), through the logger.
func (s *Store) report(src Source, id monitor.ID, kind monitor.EventKind, msg string) {
	if src != nil && src.Report(id, kind, msg) == nil {
		return
	}
	s.log.Warn(msg, "target", string(id), "kind", string(kind))
}

func (s *Store) source() Source {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.src
}

func (s *Store) run(ctx context.Context, updates <-chan monitor.Update, src Source) {
	if s.opts.ReadOnly {
		// A reader stores nothing; the channel is drained so that the
		// monitor does not count drops against it.
		s.log.Warn("history: Run on a store opened read-only: nothing will be stored", "path", s.opts.Path)
		monitor.Consume(ctx, updates, func(monitor.Update) {})
		return
	}
	s.mu.Lock()
	s.w.src = src
	s.mu.Unlock()
	tick := time.NewTicker(s.opts.Flush)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = s.flush()
			return
		case u, ok := <-updates:
			if !ok {
				_ = s.flush()
				return
			}
			s.handle(u)
		case <-tick.C:
			_ = s.flush()
		}
	}
}

// batch is what one flush writes, copied from the writer under s.mu: a
// Flush from another goroutine writes while Run goes on adding rounds.
type batch struct {
	targets []*wtarget
	chunks  map[*wtarget][]chunkSnap
	rounds  map[*wtarget]int64
	info    map[*wtarget]targetSnap
	events  []monitor.Event
	addrs   []uint64
}

// targetSnap is what the targets row says of a target.
type targetSnap struct {
	key             string
	info            monitor.Target
	haveInfo        bool
	firstMs, lastMs int64
}

// chunkSnap is a chunk as it was when the batch was taken.
type chunkSnap struct {
	c                     *chunk
	buf                   []byte
	minute                int64
	part                  int
	count, probes         int
	firstMs, lastMs       int64
	firstRound, lastRound int
	sealed, minuteEnded   bool
}

func snap(c *chunk) chunkSnap {
	return chunkSnap{c: c, buf: c.buf[:len(c.buf):len(c.buf)], minute: c.minute, part: c.part, count: c.count, probes: c.probes,
		firstMs: c.firstMs, lastMs: c.lastMs, firstRound: c.firstRound, lastRound: c.lastRound, sealed: c.sealed, minuteEnded: c.minuteEnded}
}

func (s *Store) flush() error {
	if s.opts.ReadOnly {
		return nil
	}
	s.wmu.Lock()
	defer s.wmu.Unlock()
	now := s.opts.Now()
	s.mu.Lock()
	s.w.sealOld(now.UnixMilli())
	var gaps []gapReport
	if !s.w.failing && len(s.w.dropped) > 0 {
		gaps = s.refetchLocked()
	}
	b := batch{chunks: map[*wtarget][]chunkSnap{}, rounds: map[*wtarget]int64{}, info: map[*wtarget]targetSnap{}, events: slices.Clone(s.w.events)}
	for id, t := range s.w.targets {
		if !t.haveInfo && s.w.src != nil {
			t.info, t.haveInfo = s.w.src.Target(id)
		}
		var cs []chunkSnap
		for _, c := range t.done {
			cs = append(cs, snap(c))
		}
		if t.open != nil && t.open.dirty {
			cs = append(cs, snap(t.open))
		}
		if len(cs) > 0 || t.id == 0 && t.rounds > 0 {
			b.targets = append(b.targets, t)
			b.chunks[t] = cs
			b.rounds[t] = t.rounds
			b.info[t] = targetSnap{key: t.key, info: t.info, haveInfo: t.haveInfo, firstMs: t.firstMs, lastMs: t.lastMs}
		}
	}
	s.dict.mu.RLock()
	b.addrs = slices.Clone(s.dict.fresh)
	s.dict.mu.RUnlock()
	waiting := s.w.pendingRounds()
	src := s.w.src
	s.mu.Unlock()
	for _, g := range gaps {
		s.report(src, g.id, monitor.RecordGap, g.msg)
	}

	var err error
	var parts map[*chunk]int
	ids := map[*wtarget]int64{}
	if len(b.targets) > 0 || len(b.events) > 0 || len(b.addrs) > 0 {
		parts, ids, err = s.write(context.Background(), &b)
	}
	bytes := s.fileBytes()

	s.mu.Lock()
	if err != nil {
		s.st.LastError, s.st.LastErrorAt = "history: "+err.Error(), now
		first := !s.w.failing
		s.w.failing = true
		s.mu.Unlock()
		if first {
			s.log.Warn("history: cannot write", "err", err, "waiting", waiting)
			s.reportAll(src, &b, monitor.RecordError, fmt.Sprintf("history: %v; probing continues, %d rounds waiting", cause(err), waiting))
		}
		return err
	}
	// Written: forget what was, keep what came meanwhile.
	var rounds, probes int64
	for _, t := range b.targets {
		t.id = ids[t]
		for _, cs := range b.chunks[t] {
			c := cs.c
			if p, ok := parts[c]; ok {
				c.part = p
			}
			probes += int64(cs.probes - c.saved)
			c.saved, c.savedRound = cs.probes, cs.lastRound
			c.dirty = c.count != cs.count // rounds came meanwhile
			if cs.sealed {
				t.done = slices.DeleteFunc(t.done, func(x *chunk) bool { return x == c })
				s.w.bytes -= len(c.buf)
			}
		}
		rounds += b.rounds[t]
		t.rounds -= b.rounds[t]
	}
	s.w.events = s.w.events[len(b.events):]
	s.dict.mu.Lock()
	s.dict.fresh = s.dict.fresh[len(b.addrs):]
	s.dict.mu.Unlock()
	s.st.Rounds += rounds
	s.st.Probes += probes
	s.st.LastError = ""
	s.st.Bytes = bytes
	recovered := s.w.failing
	s.w.failing = false
	eventsLost := s.w.eventsLost
	s.w.eventsLost = 0
	retainDue := now.Sub(s.w.lastRetain) >= retainEvery
	s.mu.Unlock()
	if recovered {
		s.log.Info("history: writing again", "rounds", waiting)
		s.reportAll(src, &b, monitor.RecordError, fmt.Sprintf("history: writing again, %d rounds caught up", waiting))
	}
	if eventsLost > 0 {
		s.reportAll(src, &b, monitor.RecordGap, fmt.Sprintf("history: %d events not stored: more came than it holds while the file could not be written", eventsLost))
	}
	if retainDue || bytes > s.highWater() {
		if err := s.retainLocked(context.Background(), retainDue); err != nil {
			s.log.Warn("history: retention", "err", err)
		}
	}
	return nil
}

// reportAll reports to every target of the batch (each one's event log
// says why its rounds wait), or the first target known.
func (s *Store) reportAll(src Source, b *batch, kind monitor.EventKind, msg string) {
	seen := map[string]bool{}
	for _, t := range b.targets {
		if !seen[t.key] {
			seen[t.key] = true
			s.report(src, monitor.ID(t.key), kind, msg)
		}
	}
	if len(seen) == 0 && len(b.events) > 0 {
		s.report(src, b.events[0].Target, kind, msg)
	}
}

// cause words a write error for a person.
func cause(err error) string {
	msg := err.Error()
	switch {
	case containsAny(msg, "SQLITE_FULL", "database or disk is full", "no space"):
		return "the disk is full (" + msg + ")"
	case containsAny(msg, "READONLY", "readonly", "read-only"):
		return "the file is read-only (" + msg + ")"
	}
	return msg
}

// refetchLocked asks the monitor again for rounds dropped from a full
// buffer, oldest first, as far as there is room; what it no longer holds
// is a gap, returned as the messages to report once s.mu is released
// (the monitor publishes a report to this store). s.mu is held.
func (s *Store) refetchLocked() (gaps []gapReport) {
	if s.w.src == nil {
		for id, rs := range s.w.dropped {
			n := 0
			for _, r := range rs {
				n += r[1] - r[0] + 1
			}
			s.st.Lost += int64(n)
			delete(s.w.dropped, id)
			s.log.Warn("history: rounds dropped while writing failed", "target", string(id), "rounds", n)
		}
		return nil
	}
	for id, rs := range s.w.dropped {
		lost := 0
		for len(rs) > 0 && s.w.bytes <= s.w.limit/2 {
			r := rs[0]
			rs = rs[1:]
			got, _ := s.w.src.Rounds(id, r[0], r[1])
			lost += r[1] - r[0] + 1 - len(got)
			for i := range got {
				s.w.add(id, &got[i], s.dict)
			}
		}
		if len(rs) == 0 {
			delete(s.w.dropped, id)
		} else {
			s.w.dropped[id] = rs
		}
		if lost > 0 {
			s.st.Lost += int64(lost)
			gaps = append(gaps, gapReport{id, fmt.Sprintf("history: %d rounds not stored: they waited while the file could not be written, and the monitor no longer held them", lost)})
		}
	}
	return gaps
}

type gapReport struct {
	id  monitor.ID
	msg string
}

// write stores a batch in one transaction; it returns the parts given to
// new chunks and the targets' ids, applied by the caller once committed.
func (s *Store) write(ctx context.Context, b *batch) (map[*chunk]int, map[*wtarget]int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, err
	}
	defer tx.Rollback()
	st := newTxStmts(ctx, tx)
	defer st.close()
	parts := map[*chunk]int{}
	ids := map[*wtarget]int64{}
	for _, id := range b.addrs {
		a, _ := s.dict.addr(id)
		if _, err := st.exec(`INSERT OR REPLACE INTO addrs (id, addr) VALUES (?, ?)`, id, a.String()); err != nil {
			return nil, nil, fmt.Errorf("writing addresses: %w", err)
		}
	}
	keys := map[string]int64{}
	for _, t := range b.targets {
		id, err := s.upsertTarget(st, b.info[t])
		if err != nil {
			return nil, nil, fmt.Errorf("writing target %s: %w", t.key, err)
		}
		ids[t] = id
		keys[t.key] = id
		for _, c := range b.chunks[t] {
			part := c.part
			if part < 0 {
				if err := st.queryRow(`SELECT COALESCE(MAX(part) + 1, 0) FROM chunks WHERE target_id = ? AND minute = ?`, []any{id, c.minute}, &part); err != nil {
					return nil, nil, err
				}
				parts[c.c] = part
			}
			if _, err := st.exec(`INSERT OR REPLACE INTO chunks (target_id, minute, part, first_ms, last_ms, first_round, last_round, count, probes, data)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, c.minute, part, c.firstMs, c.lastMs, c.firstRound, c.lastRound, c.count, c.probes, c.buf); err != nil {
				return nil, nil, fmt.Errorf("writing rounds of %s: %w", t.key, err)
			}
			if c.minuteEnded {
				if err := rollupMinute(st, id, c.minute); err != nil {
					return nil, nil, fmt.Errorf("rolling up a minute of %s: %w", t.key, err)
				}
			}
		}
		if n := b.rounds[t]; n != 0 {
			if _, err := st.exec(`UPDATE targets SET rounds = rounds + ? WHERE id = ?`, n, id); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, e := range b.events {
		id, ok := keys[string(e.Target)]
		if !ok {
			if err := st.queryRow(`SELECT id FROM targets WHERE key = ?`, []any{string(e.Target)}, &id); err != nil {
				if err != sql.ErrNoRows {
					return nil, nil, err
				}
				// An event before the target's first round.
				id, err = s.upsertTarget(st, s.eventTarget(e))
				if err != nil {
					return nil, nil, err
				}
			}
			keys[string(e.Target)] = id
		}
		if _, err := st.exec(`INSERT INTO events (target_id, time_ms, seq, kind, ttl, message, condition, value, threshold)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, e.Time.UnixMilli(), int64(e.Seq), string(e.Kind), e.TTL, e.Message,
			string(e.Condition), e.Value, e.Threshold); err != nil {
			return nil, nil, fmt.Errorf("writing events: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, err
	}
	return parts, ids, nil
}

// eventTarget is the target an event names, as far as the monitor knows it.
func (s *Store) eventTarget(e monitor.Event) targetSnap {
	t := targetSnap{key: string(e.Target), firstMs: e.Time.UnixMilli(), lastMs: e.Time.UnixMilli()}
	if src := s.source(); src != nil {
		t.info, t.haveInfo = src.Target(e.Target)
	}
	return t
}

func (s *Store) upsertTarget(st *txStmts, t targetSnap) (int64, error) {
	host, addr := t.key, ""
	var ps ProbeSettings
	if t.haveInfo {
		host = t.info.Host
		if t.info.Addr.IsValid() {
			addr = t.info.Addr.String()
		}
		ps = probeSettings(t.info)
	}
	js, err := json.Marshal(ps)
	if err != nil {
		return 0, err
	}
	var id int64
	err = st.queryRow(`INSERT INTO targets (key, host, addr, probe, first_ms, last_ms) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET
			host = CASE WHEN excluded.addr != '' THEN excluded.host ELSE host END,
			addr = CASE WHEN excluded.addr != '' THEN excluded.addr ELSE addr END,
			probe = CASE WHEN excluded.addr != '' THEN excluded.probe ELSE probe END,
			first_ms = min(first_ms, excluded.first_ms), last_ms = max(last_ms, excluded.last_ms)
		RETURNING id`, []any{t.key, host, addr, string(js), t.firstMs, t.lastMs}, &id)
	return id, err
}

func probeSettings(t monitor.Target) ProbeSettings {
	c := t.Trace
	iv := t.Interval
	if iv == 0 {
		iv = time.Second
	}
	return ProbeSettings{Mode: c.Mode.String(), Port: int(c.Port), Size: c.Size, Interval: iv, Timeout: c.Timeout,
		MaxHops: c.MaxHops, FinalHop: c.FinalHopOnly}
}
