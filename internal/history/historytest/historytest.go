// Package historytest helps tests of the history store and of its
// readers: a generator of synthetic rounds with known loss and RTT per
// hop, Fill to store them, a fake monitor (Source) and Age, which makes a
// closed file's rounds look older. It is for tests only.
package historytest

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// Hop is one TTL of a synthetic path.
type Hop struct {
	Addr   netip.Addr    // zero: the hop never answers (a silent router)
	RTT    time.Duration // the mean
	Jitter time.Duration // RTTs are uniform in RTT ± Jitter
	Loss   float64       // share of probes lost, 0..1
	// Alt, if valid, answers every other round instead of Addr (ECMP).
	Alt netip.Addr
}

// Gen makes rounds over a path: the last hop is the destination (Reached,
// Closed when set), the others routers (TimeExceeded).
type Gen struct {
	Hops     []Hop
	Start    time.Time
	Interval time.Duration // between round starts; 0 is 1 s
	FirstTTL int           // 0 is 1
	Closed   bool          // the destination refuses the connection (TCP RST)
	Seed     uint64

	rng   *rand.Rand
	index int
}

// Path returns n hops: 10.0.0.1 ... with RTTs growing 1 ms a hop,
// jitter of a tenth, and loss at the hops listed in loss (by TTL).
func Path(n int, loss map[int]float64) []Hop {
	hops := make([]Hop, n)
	for i := range hops {
		rtt := time.Duration(i+1) * time.Millisecond
		hops[i] = Hop{Addr: netip.AddrFrom4([4]byte{10, 0, byte(i / 250), byte(i%250 + 1)}), RTT: rtt, Jitter: rtt / 10, Loss: loss[i+1]}
	}
	return hops
}

// Next returns the next round.
func (g *Gen) Next() trace.Round {
	var r trace.Round
	g.Fill(&r)
	return r
}

// Fill writes the next round into r, reusing its hops.
func (g *Gen) Fill(r *trace.Round) {
	if g.rng == nil {
		g.rng = rand.New(rand.NewPCG(g.Seed, 0x9e3779b97f4a7c15))
	}
	iv := g.Interval
	if iv == 0 {
		iv = time.Second
	}
	first := max(g.FirstTTL, 1)
	g.index++
	r.Index = g.index
	r.Start = g.Start.Add(time.Duration(g.index-1) * iv)
	r.Hops = r.Hops[:0]
	r.EndTTL, r.Reached = 0, false
	var longest time.Duration
	for i, h := range g.Hops {
		ttl := first + i
		rep := result.Reply{Kind: result.Timeout}
		last := i == len(g.Hops)-1
		if h.Addr.IsValid() && g.rng.Float64() >= h.Loss {
			rep.From = h.Addr
			if h.Alt.IsValid() && g.index%2 == 0 {
				rep.From = h.Alt
			}
			rep.RTT = h.RTT
			if h.Jitter > 0 {
				rep.RTT += time.Duration(g.rng.Int64N(int64(2*h.Jitter))) - h.Jitter
			}
			rep.RTT = max(rep.RTT, time.Microsecond)
			rep.Kind = result.TimeExceeded
			if last {
				rep.Kind, rep.Closed = result.Reached, g.Closed
				r.EndTTL, r.Reached = ttl, true
			}
			longest = max(longest, rep.RTT)
		}
		r.Hops = append(r.Hops, trace.Hop{TTL: ttl, Reply: rep})
	}
	r.End = r.Start.Add(longest + time.Millisecond)
}

// Rounds returns the next n rounds.
func (g *Gen) Rounds(n int) []trace.Round {
	out := make([]trace.Round, n)
	for i := range out {
		g.Fill(&out[i])
	}
	return out
}

// Source is a fake monitor for Store.Run: it knows targets, holds the
// rounds a test puts in Held (as the monitor's history would) and keeps
// what is reported.
type Source struct {
	mu      sync.Mutex
	targets map[monitor.ID]monitor.Target
	held    map[monitor.ID][]trace.Round
	events  map[monitor.ID][]monitor.Event
	reports []monitor.Event
}

// NewSource returns a Source holding targets.
func NewSource(targets ...monitor.Target) *Source {
	s := &Source{targets: map[monitor.ID]monitor.Target{}, held: map[monitor.ID][]trace.Round{}, events: map[monitor.ID][]monitor.Event{}}
	for _, t := range targets {
		s.targets[t.ID] = t
	}
	return s
}

// Hold makes rounds available to Rounds, as the monitor's history.
func (s *Source) Hold(id monitor.ID, rounds ...trace.Round) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held[id] = append(s.held[id], rounds...)
}

// HoldEvents makes events available to Events.
func (s *Source) HoldEvents(id monitor.ID, events ...monitor.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events[id] = append(s.events[id], events...)
}

// Target implements history.Source.
func (s *Source) Target(id monitor.ID) (monitor.Target, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.targets[id]
	return t, ok
}

// Rounds implements history.Source: the held rounds first..last.
func (s *Source) Rounds(id monitor.ID, first, last int) ([]trace.Round, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.targets[id]; !ok {
		return nil, fmt.Errorf("unknown target %q", id)
	}
	var out []trace.Round
	for _, r := range s.held[id] {
		if r.Index >= first && r.Index <= last {
			out = append(out, r)
		}
	}
	return out, nil
}

// Events implements history.Source.
func (s *Source) Events(id monitor.ID) []monitor.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]monitor.Event(nil), s.events[id]...)
}

// Report implements history.Source: it keeps the event.
func (s *Source) Report(id monitor.ID, kind monitor.EventKind, message string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.targets[id]; !ok {
		return fmt.Errorf("unknown target %q", id)
	}
	s.reports = append(s.reports, monitor.Event{Time: time.Now(), Target: id, Kind: kind, Message: message})
	return nil
}

// Reports returns what was reported, oldest first.
func (s *Source) Reports() []monitor.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]monitor.Event(nil), s.reports...)
}

// Fill stores rounds of the target key (whose host is host) through
// Store.Run, as the monitor would hand them over, and flushes.
func Fill(t testing.TB, st *history.Store, key, host string, rounds []trace.Round) {
	t.Helper()
	var addr netip.Addr
	if n := len(rounds); n > 0 {
		if hs := rounds[n-1].Hops; len(hs) > 0 {
			addr = hs[len(hs)-1].Reply.From
		}
	}
	src := NewSource(monitor.Target{ID: monitor.ID(key), Host: host, Addr: addr})
	updates := make(chan monitor.Update, len(rounds))
	for i := range rounds {
		updates <- monitor.Update{Round: &monitor.RoundDone{Target: monitor.ID(key), Round: rounds[i]}}
	}
	close(updates)
	st.Run(context.Background(), updates, src)
	if err := st.Flush(); err != nil {
		t.Fatalf("storing %d rounds of %s: %v", len(rounds), key, err)
	}
}

// Age shifts every time stored in the closed history file at path back
// by `by`: its rounds, rollups, events and targets look that much older
// (lab tests fake yesterday's rounds this way).
func Age(path string, by time.Duration) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	ms := by.Milliseconds()
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Two steps through negative values: a unique minute moved onto
	// another row's old minute in one step would collide mid-update.
	for _, q := range []string{
		`UPDATE chunks SET minute = -(minute - ?1) - 1, first_ms = first_ms - ?1, last_ms = last_ms - ?1`,
		`UPDATE chunks SET minute = -minute - 1`,
		`UPDATE hop_minutes SET minute = -(minute - ?1) - 1`,
		`UPDATE hop_minutes SET minute = -minute - 1`,
		`UPDATE events SET time_ms = time_ms - ?1`,
		`UPDATE targets SET first_ms = first_ms - ?1, last_ms = last_ms - ?1`,
	} {
		var args []any
		if strings.Contains(q, "?1") {
			args = append(args, ms)
		}
		if _, err := tx.Exec(q, args...); err != nil {
			return fmt.Errorf("ageing %s: %w", path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ageing %s: %w", path, err)
	}
	_, err = db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}
