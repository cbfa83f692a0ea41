package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe"
)

// Config configures a Monitor. The zero value of each field means the
// default documented on it; Prober is required.
type Config struct {
	// Prober sends every target's probes; the monitor does not close it.
	Prober probe.Prober
	// Logger receives round failures; nil discards them.
	Logger *slog.Logger
	// TimeNow stamps rounds and events; nil means time.Now. Waits between
	// rounds use the runtime's timers (faked by testing/synctest).
	TimeNow func() time.Time
	// MaxEvents is how many events each target keeps for Events; 0 means
	// DefaultMaxEvents. The oldest are forgotten first.
	MaxEvents int
	// Names, if set, returns a host name for an address, or "" when it has
	// none (yet), for the event messages of targets whose settings allow
	// names (Settings.NoNames). It is called while a round is folded and
	// must not block: a caching resolver's lookup that answers from its
	// cache and resolves in the background.
	Names func(netip.Addr) string
}

// DefaultMaxEvents is the per-target event log length of a Config with
// MaxEvents 0.
const DefaultMaxEvents = 1000

// ErrClosed is returned by methods of a closed Monitor.
var ErrClosed = errors.New("monitor closed")

// ErrUnknownTarget is wrapped by errors about an ID the monitor does not have.
var ErrUnknownTarget = errors.New("unknown target")

// Monitor watches many targets: one goroutine per target runs its rounds
// while Run runs, folds them into statistics and publishes snapshots and
// events. Its methods are safe for concurrent use.
type Monitor struct {
	cfg  Config
	log  *slog.Logger
	now  func() time.Time
	wake chan struct{} // tells Run that a target was added

	mu      sync.Mutex // guards following
	targets map[ID]*target
	order   []ID // targets in the order they were added
	closed  bool
	running bool
	stopRun context.CancelFunc // ends the running Run
	runDone chan struct{}      // closed when the running Run returned

	subMu      sync.RWMutex // guards following
	subs       []*subscriber
	subsClosed bool
	drops      map[string]*atomic.Uint64 // per subscriber name; kept after unsubscribing

	seq                             atomic.Uint64 // the last Event.Seq given
	rounds, probes, missed, dropped atomic.Uint64
}

// target is one monitored destination.
type target struct {
	id   ID
	wake chan struct{} // cap 1: settings changed, paused or resumed

	mu      sync.Mutex // guards following
	state   *state
	want    Target // the settings last asked for; state has those in effect
	pending bool   // want differs from state's and waits for the next round
	looping bool   // a goroutine runs this target's rounds
	events  eventLog
	last    Snapshot // state's latest snapshot without history

	// Set and cleared by Run under Monitor.mu.
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a Monitor with no targets. It probes nothing until Run.
func New(cfg Config) *Monitor {
	m := &Monitor{cfg: cfg, log: cfg.Logger, now: cfg.TimeNow, wake: make(chan struct{}, 1), targets: make(map[ID]*target)}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.cfg.MaxEvents <= 0 {
		m.cfg.MaxEvents = DefaultMaxEvents
	}
	return m
}

// Add starts monitoring t (at once if Run is running). Its zero settings
// get their defaults; its ID, if empty, is its Host, made unique with
// " (2)", " (3)"… when taken. It returns the ID.
func (m *Monitor) Add(t Target) (ID, error) {
	t, err := t.withDefaults()
	if err != nil {
		return "", err
	}
	return m.add(t, func(t Target) *state { return newState(t, m.cfg.Names) }, nil)
}

// Restore adds a target saved by a session: hops are its snapshot's hops
// with history, events its event log, rounds and started its round count
// and first round. Statistics, history, route-change and alert state
// continue from the saved ones, and rounds continue from rounds+1. Until
// the next round the snapshot's Last is the start of the latest saved round.
// Restored events keep their times and get new sequence numbers.
func (m *Monitor) Restore(t Target, hops []Hop, events []Event, rounds int, started time.Time) (ID, error) {
	t, err := t.withDefaults()
	if err != nil {
		return "", err
	}
	return m.add(t, func(t Target) *state {
		return restoreState(t, m.cfg.Names, hops, events, rounds, started)
	}, events)
}

func (m *Monitor) add(t Target, build func(Target) *state, old []Event) (ID, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return "", ErrClosed
	}
	t.ID = m.uniqueIDLocked(t)
	tg := &target{id: t.ID, wake: make(chan struct{}, 1), state: build(t), want: t,
		events: newEventLog(m.cfg.MaxEvents)}
	tg.last = tg.state.snapshot(false)
	var added []Event
	if old != nil {
		for _, e := range old[max(0, len(old)-m.cfg.MaxEvents):] {
			e.Target = t.ID
			m.recordLocked(tg, []Event{e})
		}
	} else {
		added = []Event{{Time: m.now(), Target: t.ID, Kind: Added,
			Message: fmt.Sprintf("added %s (%v, %v every %v)", t.Host, t.Addr, t.Trace.Mode, t.Interval)}}
		m.recordLocked(tg, added)
	}
	m.targets[t.ID] = tg
	m.order = append(m.order, t.ID)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
	m.publishEvents(added)
	return t.ID, nil
}

func (m *Monitor) uniqueIDLocked(t Target) ID {
	base := t.ID
	if base == "" {
		base = ID(t.Host)
	}
	id := base
	for n := 2; m.targets[id] != nil; n++ {
		id = ID(fmt.Sprintf("%s (%d)", base, n))
	}
	return id
}

// recordLocked numbers events and adds them to tg's log; tg.mu is held
// (or tg is not shared yet).
func (m *Monitor) recordLocked(tg *target, events []Event) {
	for i := range events {
		events[i].Seq = m.seq.Add(1)
		tg.events.add(events[i])
	}
}

func (m *Monitor) target(id ID) (*target, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if tg := m.targets[id]; tg != nil {
		return tg, nil
	}
	return nil, fmt.Errorf("target %q: %w", id, ErrUnknownTarget)
}

// Remove stops monitoring id and forgets it. A round in flight is
// abandoned; Remove returns once the target's goroutine has ended, so no
// update about it follows but its Removed event.
func (m *Monitor) Remove(id ID) error {
	m.mu.Lock()
	tg := m.targets[id]
	if tg == nil {
		m.mu.Unlock()
		return fmt.Errorf("target %q: %w", id, ErrUnknownTarget)
	}
	delete(m.targets, id)
	m.order = slices.DeleteFunc(m.order, func(x ID) bool { return x == id })
	cancel, done := tg.cancel, tg.done
	m.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	e := []Event{{Seq: m.seq.Add(1), Time: m.now(), Target: id, Kind: Removed, Message: "removed"}}
	m.publishEvents(e)
	return nil
}

// Pause stops probing id after the round in flight, keeping its history.
func (m *Monitor) Pause(id ID) error { return m.setPaused(id, true) }

// Resume starts probing a paused target again, with a round at once.
func (m *Monitor) Resume(id ID) error { return m.setPaused(id, false) }

func (m *Monitor) setPaused(id ID, paused bool) error {
	tg, err := m.target(id)
	if err != nil {
		return err
	}
	tg.mu.Lock()
	if tg.state.paused == paused {
		tg.mu.Unlock()
		return nil
	}
	tg.state.paused = paused
	tg.last = tg.state.snapshot(false)
	e := []Event{{Time: m.now(), Target: id, Kind: ResumedEvent, Message: "resumed"}}
	if paused {
		e[0].Kind, e[0].Message = PausedEvent, "paused"
	}
	m.recordLocked(tg, e)
	tg.mu.Unlock()
	tg.poke()
	m.publishEvents(e)
	return nil
}

// Update replaces id's settings (zero fields get their defaults). They
// take effect at the next round; a round in flight finishes with the old
// ones. A SettingsChanged event says what changed; settings equal to the
// current ones change nothing. A new mode or port starts the
// destination's answer tracking and alert window over (see the package doc).
// NoNames is the exception: it takes effect at once, and a change of it
// alone logs no event, since it changes nothing that is probed.
func (m *Monitor) Update(id ID, s Settings) error {
	tg, err := m.target(id)
	if err != nil {
		return err
	}
	tg.mu.Lock()
	nt := tg.want
	nt.Settings = s
	if nt, err = nt.withDefaults(); err != nil {
		tg.mu.Unlock()
		return err
	}
	if nt.Settings == tg.want.Settings {
		tg.mu.Unlock()
		return nil
	}
	if tg.state.target.NoNames != nt.NoNames {
		// Names change what is shown and written, not what is probed: they
		// apply at once, so the snapshot a session or summary reads now
		// agrees with what the caller just asked for.
		tg.state.target.NoNames = nt.NoNames
		tg.last = tg.state.snapshot(false)
	}
	if sameButNames(tg.want.Settings, nt.Settings) {
		// Nothing for the next round to pick up (an earlier edit still
		// pending keeps its place) and nothing to announce.
		tg.want = nt
		tg.mu.Unlock()
		return nil
	}
	now := m.now()
	events := []Event{{Time: now, Target: id, Kind: SettingsChanged,
		Message: "settings: " + describeChanges(tg.want.Settings, nt.Settings)}}
	tg.want = nt
	if tg.looping {
		tg.pending = true
	} else {
		events = append(events, tg.applyPendingLocked(now)...)
	}
	m.recordLocked(tg, events)
	tg.mu.Unlock()
	tg.poke()
	m.publishEvents(events)
	return nil
}

// applyPendingLocked switches tg's state to the settings last asked for.
func (tg *target) applyPendingLocked(now time.Time) []Event {
	tg.pending = false
	if tg.state.target.Settings == tg.want.Settings {
		return nil
	}
	events := tg.state.reconfigure(now, tg.want)
	tg.last = tg.state.snapshot(false)
	return events
}

// poke wakes tg's goroutine to look at its settings and pause state.
func (tg *target) poke() {
	select {
	case tg.wake <- struct{}{}:
	default:
	}
}

// Targets returns the targets in the order they were added, with the
// settings last asked for (which a running round may not use yet).
func (m *Monitor) Targets() []Target {
	return eachTarget(m, func(tg *target) Target { return tg.want })
}

// Target returns id's target with the settings last asked for, as Targets
// does, and whether the monitor has it: a lookup by ID for those that hold
// an ID from an event or a request, without copying every target.
func (m *Monitor) Target(id ID) (Target, bool) {
	tg, err := m.target(id)
	if err != nil {
		return Target{}, false
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.want, true
}

// Snapshot returns id's latest snapshot, with every hop's history if
// withHistory (a copy of up to Settings.History samples per hop: for
// graphs and sessions, not for every round).
func (m *Monitor) Snapshot(id ID, withHistory bool) (Snapshot, bool) {
	tg, err := m.target(id)
	if err != nil {
		return Snapshot{}, false
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if withHistory {
		return tg.state.snapshot(true), true
	}
	return tg.last, true
}

// Snapshots returns every target's latest snapshot, without history, in
// the order of Targets. Snapshots are immutable and shared: do not modify
// them.
func (m *Monitor) Snapshots() []Snapshot {
	return eachTarget(m, func(tg *target) Snapshot { return tg.last })
}

// eachTarget returns get of every target in the order they were added,
// each read under its target's lock: a target's goroutine writes it
// while m.mu is not held.
func eachTarget[T any](m *Monitor, get func(*target) T) []T {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]T, 0, len(m.order))
	for _, id := range m.order {
		tg := m.targets[id]
		tg.mu.Lock()
		out = append(out, get(tg))
		tg.mu.Unlock()
	}
	return out
}

// Events returns id's kept events, oldest first (at most Config.MaxEvents).
func (m *Monitor) Events(id ID) []Event {
	tg, err := m.target(id)
	if err != nil {
		return nil
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.events.list()
}

// Stats are the monitor's counters since New.
type Stats struct {
	Targets int
	Rounds  uint64 // rounds completed
	Probes  uint64 // probes folded: one per TTL per round, up to the path's end
	// Missed counts rounds that started later than planned by more than
	// a tenth of their interval: the machine or the prober cannot keep up,
	// or rounds last longer than the interval.
	Missed uint64
	// Dropped counts updates not delivered to subscribers whose channel
	// was full, all subscribers together.
	Dropped uint64
	// Subscribers are the drops per subscriber name, by name: every name
	// that ever subscribed, so the counts never go back.
	Subscribers []SubscriberStats
}

// Stats returns the monitor's counters.
func (m *Monitor) Stats() Stats {
	m.mu.Lock()
	n := len(m.targets)
	m.mu.Unlock()
	return Stats{Targets: n, Rounds: m.rounds.Load(), Probes: m.probes.Load(),
		Missed: m.missed.Load(), Dropped: m.dropped.Load(), Subscribers: m.subscriberStats()}
}
