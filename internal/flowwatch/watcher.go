// Package flowwatch runs ECMP flow enumeration beside the monitor's rounds:
// a subscriber. For each target whose Flows setting (or the engine's
// --flows) asks for N flows, flow 0 is the target's own rounds, as the
// monitor probes them, and flows 1 to N-1 are tracers of their own
// (trace.Config.Flow) run once per round of the target; package flows
// keeps each flow's statistics and groups the flows into distinct paths.
//
// It lives beside the monitor rather than in it so that the monitor's
// rounds, snapshots and sessions stay what they are with flows off or on:
// the paths are a view of the target the engine can show, not its state.
// They are not saved in sessions: they are as old as the engine's run and
// a loaded session's target starts enumerating again.
package flowwatch

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pingerplot/pingerplot/internal/flows"
	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// Config configures a Watcher.
type Config struct {
	// Prober sends the flows' probes: the monitor's own, so they share
	// its sockets.
	Prober probe.Prober
	// All, when above 0, enumerates that many flows for every target,
	// whatever its settings say (--flows); otherwise each target's
	// Settings.Flows.
	All int
	// Unsupported, when set, says why this system's probes cannot vary
	// their flow: targets that ask for flows get it as their Note and no
	// flow is probed.
	Unsupported string
	// Logger gets one warning per target whose flows cannot run; nil
	// discards it.
	Logger *slog.Logger
}

// Paths is a target's flow enumeration as it stands.
type Paths struct {
	Count  int    // flows asked for
	Varies string // what differs between the flows: "source port" or "echo identifier"
	Rounds int    // rounds folded into flow 0 since the flows (re)started
	// Paths are the distinct paths (package flows' rules) of the flows
	// with at least one round: until the first round of flows 1 to N-1
	// has ended, flow 0's path alone.
	Paths []flows.Path
	// Note, when set, says why the flows are not probed (TCP probes,
	// a system whose probes cannot vary their flow).
	Note string
}

// Watcher enumerates the flows of a monitor's targets. It is safe for
// concurrent use: Run from the subscription's goroutine, Latest from
// anywhere.
type Watcher struct {
	cfg Config

	mu      sync.Mutex
	targets map[monitor.ID]*watched
}

type watched struct {
	key      string // the configuration the tracers were made for
	count    int
	varies   string
	note     string
	set      *flows.Set
	tracers  []*trace.Tracer // flows 1 to count-1
	rounds   int
	inFlight bool
	warned   bool
}

// New returns a Watcher; Run makes it act.
func New(c Config) *Watcher {
	return &Watcher{cfg: c, targets: make(map[monitor.ID]*watched)}
}

// Latest returns target id's flow enumeration; false when flows are off
// for it or it has had no round since they were switched on.
func (w *Watcher) Latest(id monitor.ID) (Paths, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := w.targets[id]
	if t == nil {
		return Paths{}, false
	}
	p := Paths{Count: t.count, Varies: t.varies, Rounds: t.rounds, Note: t.note}
	if t.set != nil {
		p.Paths = t.set.Paths()
	}
	return p, true
}

// Run handles updates until the channel closes or ctx ends, then cancels
// the flows' rounds in flight and waits for them.
func (w *Watcher) Run(ctx context.Context, updates <-chan monitor.Update) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	monitor.Consume(ctx, updates, func(u monitor.Update) {
		if job := w.handle(u); job != nil {
			wg.Go(func() { job(ctx) })
		}
	})
}

// handle folds one update and returns the flows' round to run for it, if
// any.
func (w *Watcher) handle(u monitor.Update) func(context.Context) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := u.Event; e != nil {
		if e.Kind == monitor.Removed {
			delete(w.targets, e.Target)
		}
		return nil
	}
	rd := u.Round
	if rd == nil {
		return nil
	}
	sn := rd.Snapshot
	n := sn.Settings.Flows
	if w.cfg.All > 0 {
		n = w.cfg.All
	}
	if n < 2 || !sn.Addr.IsValid() {
		// One flow is the target's own table: nothing to compare.
		delete(w.targets, rd.Target)
		return nil
	}
	cfg := sn.Settings.Trace
	cfg.Target, cfg.Flow = sn.Addr, 0
	key := fmt.Sprintf("%d %+v", n, cfg)
	t := w.targets[rd.Target]
	if t == nil || t.key != key {
		if t != nil && t.inFlight {
			// The flows' round in flight is of the old configuration;
			// start afresh at a round after it has ended.
			return nil
		}
		var err error
		if t, err = w.start(n, cfg, key, sn.Settings.History); err != nil {
			t = &watched{key: key, count: n, note: err.Error()}
		}
		w.targets[rd.Target] = t
	}
	if t.note != "" {
		if !t.warned && w.cfg.Logger != nil {
			t.warned = true
			w.cfg.Logger.Warn("ECMP flow enumeration is off for this target", "target", rd.Target, "why", t.note)
		}
		return nil
	}
	_ = t.set.AddRound(rd.Round.End, 0, samples(rd.Round))
	t.rounds++
	if t.inFlight {
		// The other flows are still at an earlier round: they skip this one
		// rather than pile up behind a slow path.
		return nil
	}
	t.inFlight = true
	id, index := rd.Target, rd.Round.Index
	return func(ctx context.Context) { w.round(ctx, id, t, index) }
}

// start makes a target's flows: its set and its tracers.
func (w *Watcher) start(n int, cfg trace.Config, key string, window int) (*watched, error) {
	switch {
	case w.cfg.Unsupported != "":
		return nil, fmt.Errorf("%s", w.cfg.Unsupported)
	case cfg.Mode == probe.TCP:
		return nil, fmt.Errorf("TCP probes have no fixed flow to enumerate (every TCP probe leaves from a source port of its own); probe the target with UDP (mode udp) to see its equal-cost paths")
	case cfg.FinalHopOnly:
		return nil, fmt.Errorf("final_hop_only probes the destination alone, so its flows have no path to compare; switch final_hop_only off")
	}
	if window <= 0 {
		window = monitor.DefaultHistory
	}
	set, err := flows.New(n, window)
	if err != nil {
		return nil, err
	}
	t := &watched{key: key, count: n, varies: "source port", set: set}
	if cfg.Mode == probe.ICMP {
		t.varies = "echo identifier"
	}
	for i := 1; i < n; i++ {
		c := cfg
		c.Flow = uint16(i)
		tr, err := trace.New(w.cfg.Prober, c, nil)
		if err != nil {
			return nil, fmt.Errorf("flow %d: %w", i, err)
		}
		t.tracers = append(t.tracers, tr)
	}
	return t, nil
}

// round runs round index of flows 1 to N-1 at once and folds them.
func (w *Watcher) round(ctx context.Context, id monitor.ID, t *watched, index int) {
	rounds := make([]trace.Round, len(t.tracers))
	errs := make([]error, len(t.tracers))
	var wg sync.WaitGroup
	for i, tr := range t.tracers {
		wg.Go(func() { rounds[i], errs[i] = tr.Round(ctx, index, nil) })
	}
	wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	t.inFlight = false
	if ctx.Err() != nil || w.targets[id] != t {
		return // cancelled, or the target was removed or reconfigured
	}
	var failed error
	for i, r := range rounds {
		if errs[i] != nil {
			failed = errs[i]
			continue // a flow whose round could not be sent keeps its statistics
		}
		_ = t.set.AddRound(r.End, i+1, samples(r))
	}
	if failed != nil && !t.warned && w.cfg.Logger != nil {
		t.warned = true
		w.cfg.Logger.Warn("a round of the target's ECMP flows failed; they are tried again next round", "target", id, "err", failed)
	}
}

// samples turns a round into the input of the per-hop statistics, as the
// monitor folds it.
func samples(r trace.Round) []hopstat.Sample {
	out := make([]hopstat.Sample, 0, len(r.Hops))
	for _, h := range r.Hops {
		out = append(out, monitor.SampleOf(h))
	}
	return out
}
