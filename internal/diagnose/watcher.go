package diagnose

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// FromTrace turns a tracer's round into the input of Analyze. Probes the
// local system refused to send (Failed) are left out: they are not lost,
// nothing was asked of the network.
func FromTrace(r trace.Round) Round {
	out := Round{Index: r.Index, Time: r.Start, Probes: make([]Probe, 0, len(r.Hops))}
	for _, h := range r.Hops {
		if p, ok := probeOf(h); ok {
			out.Probes = append(out.Probes, p)
		}
	}
	return out
}

// probeOf is one hop of a tracer's round as Analyze reads it; false for a
// probe that was never sent.
func probeOf(h trace.Hop) (Probe, bool) {
	p := Probe{TTL: h.TTL}
	switch h.Reply.Kind {
	case result.Failed:
		return p, false
	case result.TimeExceeded, result.Reached, result.Unreachable:
		p.From, p.RTT = h.Reply.From, h.Reply.RTT
		p.Reached = h.Reply.Kind == result.Reached
		p.Unreachable = h.Reply.Kind == result.Unreachable
		p.Lost = !h.Reply.From.IsValid()
	default:
		p.Lost = true
	}
	return p, true
}

// Reporter is where the Watcher reports a change of diagnosis as an event:
// the monitor's Report.
type Reporter interface {
	Report(id monitor.ID, kind monitor.EventKind, message string) error
}

// WatcherConfig configures a Watcher. The zero value of each field means
// its default.
type WatcherConfig struct {
	// Window is how many recent rounds per target a diagnosis reads; 0
	// means DefaultWindow. A problem that lasts longer than the window
	// becomes the path's new normal for latency and jitter (loss and a
	// broken path stay problems).
	Window int
	// Hysteresis is how many consecutive rounds a new What and Where must
	// be found before the Watcher adopts it; 0 means DefaultHysteresis.
	Hysteresis int
	// Options are passed to Analyze (Target and Mode are filled per
	// target from its round's snapshot).
	Options Options
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Reporter, if set, is told of every adopted change (DiagnosisChanged).
	Reporter Reporter
	// MaxAnalyses bounds the analyses a second, all targets together; 0
	// means DefaultMaxAnalyses. An analysis reads the target's whole
	// window (300 rounds by default, about 90 µs of CPU for 4 hops:
	// BenchmarkWatcherFullWindow), so at 5,000 rounds a second analysing
	// each would take almost half a core. Above the bound every round is still
	// kept, but each target is analysed every stride-th round, stride
	// being the rounds a second over the bound, rounded up; Hysteresis
	// then counts analyses, so a change takes stride times as many rounds
	// to be adopted.
	MaxAnalyses int
}

// Defaults of WatcherConfig.
const (
	DefaultWindow      = 300
	DefaultHysteresis  = 3
	DefaultMaxAnalyses = 1000
)

// Watcher keeps the latest diagnosis of every target of a monitor: a
// subscriber that reads rounds and target removals. It is safe for
// concurrent use: Handle from the subscriber's loop, Latest from anywhere.
type Watcher struct {
	cfg WatcherConfig

	mu      sync.RWMutex
	targets map[monitor.ID]*watched
	// The rate of rounds, measured over spans of at least a second, sets
	// the stride (see WatcherConfig.MaxAnalyses).
	spanStart time.Time
	spanCount int
	stride    int

	scratchMu sync.Mutex
	scratch   unpacked
	an        scratch // the analysis' buffers
}

type watched struct {
	rounds   []packedRound // a ring of cfg.Window rounds; next is the oldest when full
	next     int
	addrs    addrTable
	answered bool // the destination answered in some round ever seen
	latest   Diagnosis
	adopted  bool // latest holds a diagnosis adopted at least once
	pending  key  // the key found in the last rounds that differs from latest's; zero: none
	streak   int  // consecutive rounds pending was found
	skipped  int  // rounds kept but not analysed since the last analysis
}

// NewWatcher returns a Watcher with cfg's defaults filled in.
func NewWatcher(cfg WatcherConfig) *Watcher {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Hysteresis <= 0 {
		cfg.Hysteresis = DefaultHysteresis
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxAnalyses <= 0 {
		cfg.MaxAnalyses = DefaultMaxAnalyses
	}
	return &Watcher{cfg: cfg, targets: make(map[monitor.ID]*watched), stride: 1}
}

// Run handles every update of updates until it closes or ctx ends:
//
//	ch, cancel := m.SubscribeWith(monitor.SubscriberConfig{Name: "diagnose"})
//	go w.Run(ctx, ch)
func (w *Watcher) Run(ctx context.Context, updates <-chan monitor.Update) {
	monitor.Consume(ctx, updates, w.Handle)
}

// Handle folds one monitor update: a round updates its target's diagnosis,
// a target's removal forgets it.
func (w *Watcher) Handle(u monitor.Update) {
	switch {
	case u.Round != nil:
		w.round(u.Round)
	case u.Event != nil && u.Event.Kind == monitor.Removed:
		w.mu.Lock()
		delete(w.targets, u.Event.Target)
		w.mu.Unlock()
	case u.Event != nil && u.Event.Kind == monitor.SettingsChanged:
		// A new mode or port asks a new question: start over, as the
		// monitor does for the destination's window.
		w.mu.Lock()
		if t := w.targets[u.Event.Target]; t != nil {
			t.rounds, t.next, t.answered, t.addrs = t.rounds[:0], 0, false, addrTable{}
		}
		w.mu.Unlock()
	}
}

// Latest returns the target's current diagnosis, and false when the
// Watcher has seen no round of it.
func (w *Watcher) Latest(id monitor.ID) (Diagnosis, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	t := w.targets[id]
	if t == nil {
		return Diagnosis{}, false
	}
	return t.latest, true
}

// AddDirect attaches direct hop pings to round index of target id, the
// round whose answering hops they were sent to: the next diagnosis reads
// them. They arrive after that round was handled (a ping waits up to its
// timeout); pings for a round no longer in the window, or of a target
// the Watcher does not know, are dropped, as that round's probes were.
func (w *Watcher) AddDirect(id monitor.ID, index int, ps []Direct) {
	if len(ps) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.targets[id]
	if t == nil {
		return
	}
	for i := range t.rounds {
		if r := &t.rounds[i]; r.index == int64(index) {
			// A new slice: windows handed to Analyze share the old one.
			r.direct = append(slices.Clip(r.direct), ps...)
			return
		}
	}
}

func (w *Watcher) round(rd *monitor.RoundDone) {
	// Lock order: scratchMu, then mu. The window is unpacked into the
	// Watcher's scratch, reused from one analysis to the next; the
	// analysis runs without mu, so readers are never held up.
	w.scratchMu.Lock()
	defer w.scratchMu.Unlock()
	w.mu.Lock()
	t := w.targets[rd.Target]
	if t == nil {
		t = &watched{}
		w.targets[rd.Target] = t
	}
	r := t.addrs.pack(rd.Round)
	if len(t.rounds) < w.cfg.Window {
		t.rounds = append(t.rounds, r)
	} else {
		t.rounds[t.next] = r
		t.next = (t.next + 1) % w.cfg.Window
	}
	if rd.Round.Reached {
		t.answered = true
	}
	w.pace()
	if t.adopted && t.skipped+1 < w.stride {
		t.skipped++
		w.mu.Unlock()
		return
	}
	t.skipped = 0
	w.scratch.unpack(t.rounds[t.next:], t.rounds[:t.next], &t.addrs)
	opt := w.cfg.Options
	opt.Target, opt.Mode = rd.Snapshot.Addr, rd.Snapshot.Trace.Mode.String()
	opt.EverAnswered = t.answered
	opt.Now = w.cfg.Now
	w.mu.Unlock()

	d := analyze(w.scratch.rounds, opt, &w.an)

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.targets[rd.Target] != t {
		return // removed meanwhile
	}
	changed := w.adopt(t, d)
	if changed && w.cfg.Reporter != nil {
		// Reported outside the lock would reorder events of one target
		// against the next round's; Report only publishes, never waits.
		_ = w.cfg.Reporter.Report(rd.Target, monitor.DiagnosisChanged, message(d))
	}
}

// pace counts a round and, once a span of a second or more has passed,
// sets the stride from the span's rate of rounds. w.mu is held.
func (w *Watcher) pace() {
	now := w.cfg.Now()
	if w.spanStart.IsZero() {
		w.spanStart = now
	}
	w.spanCount++
	if el := now.Sub(w.spanStart); el >= time.Second {
		rate := float64(w.spanCount) / el.Seconds()
		w.stride = max(1, int(math.Ceil(rate/float64(w.cfg.MaxAnalyses))))
		w.spanStart, w.spanCount = now, 0
	}
}

// adopt applies the hysteresis: a new What/Where replaces the current one
// only after Hysteresis consecutive rounds found it; the same What/Where
// refreshes the numbers at once. It reports whether the key changed.
func (w *Watcher) adopt(t *watched, d Diagnosis) bool {
	switch {
	case !t.adopted:
		t.latest, t.adopted = d, true
		return false // the first diagnosis (not enough data) is not a change
	case t.latest.What == NotEnoughData && d.What == Healthy:
		// Enough data to call a path healthy is no news.
		t.latest, t.pending, t.streak = d, key{}, 0
		return false
	case keyOf(d) == keyOf(t.latest):
		t.latest, t.pending, t.streak = d, key{}, 0
		return false
	case keyOf(d) == t.pending:
		t.streak++
	default:
		t.pending, t.streak = keyOf(d), 1
	}
	if t.streak < w.cfg.Hysteresis {
		return false
	}
	t.latest, t.pending, t.streak = d, key{}, 0
	return true
}

// key is a Diagnosis's Key unformatted: adopt compares keys on every
// analysis, and formatting them cost a few allocations each time. Key
// puts the TTL's digits after the last '@', so two Keys are equal exactly
// when their keys are. The zero key is no diagnosis': every analysis
// names its What.
type key struct {
	what What
	ttl  int
}

func keyOf(d Diagnosis) key { return key{d.What, d.Where.TTL} }

// message is the event's line: the diagnosis and its confidence.
func message(d Diagnosis) string {
	return fmt.Sprintf("%s (%s confidence): %s", d.What, d.Confidence, d.Text)
}
