package hopping

import (
	"context"
	"log/slog"
	"sync"

	"github.com/pingerplot/pingerplot/internal/diagnose"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe"
)

// Sink takes the direct pings sent after round index of target id: a
// diagnose.Watcher.
type Sink interface {
	AddDirect(id monitor.ID, index int, ps []diagnose.Direct)
}

// Runner sends direct hop pings for every target of a monitor whose
// settings ask for them (monitor.Settings.PingHops, or All): a subscriber.
// After each round it pings the hops its plan holds, through Prober, and
// hands the outcomes to Sink for that round. A target has at most one
// batch in flight: a round that ends while the previous batch still waits
// for its replies sends none, so the pings never outpace the rounds.
type Runner struct {
	Prober probe.Prober
	Sink   Sink
	// All pings the hops of every target, whatever its settings say
	// (--ping-hops).
	All bool
	// Logger gets one warning per target whose pings cannot be sent; nil
	// discards it.
	Logger *slog.Logger

	mu      sync.Mutex
	targets map[monitor.ID]*runTarget
}

type runTarget struct {
	plan     Plan
	inFlight bool
	refused  bool // Prepare failed: ICMP echo is not available to this process
}

// Run handles updates until the channel closes or ctx ends, then cancels
// the batches in flight and waits for them.
func (r *Runner) Run(ctx context.Context, updates <-chan monitor.Update) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	monitor.Consume(ctx, updates, func(u monitor.Update) {
		if batch := r.handle(u); batch != nil {
			wg.Go(func() { batch(ctx) })
		}
	})
}

// handle folds one update and returns the batch of pings to send for it,
// if any.
func (r *Runner) handle(u monitor.Update) func(context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.targets == nil {
		r.targets = make(map[monitor.ID]*runTarget)
	}
	if e := u.Event; e != nil {
		switch e.Kind {
		case monitor.Removed:
			delete(r.targets, e.Target)
		case monitor.SettingsChanged:
			if t := r.targets[e.Target]; t != nil {
				t.plan.Reset()
			}
		}
		return nil
	}
	rd := u.Round
	if rd == nil {
		return nil
	}
	s := rd.Snapshot.Settings
	if !(r.All || s.PingHops) || s.Trace.FinalHopOnly {
		delete(r.targets, rd.Target)
		return nil
	}
	t := r.targets[rd.Target]
	if t == nil {
		t = &runTarget{}
		r.targets[rd.Target] = t
	}
	t.plan.Observe(rd.Round)
	targets := t.plan.Targets()
	if t.inFlight || t.refused || len(targets) == 0 {
		return nil
	}
	t.inFlight = true
	id, index := rd.Target, rd.Round.Index
	cfg := SendConfig{Gap: s.Trace.SendGap, Timeout: s.Trace.Timeout, Size: s.Trace.Size}
	v6 := rd.Snapshot.Addr.Is6()
	return func(ctx context.Context) {
		err := r.Prober.Prepare(probe.ICMP, v6, false)
		var out []diagnose.Direct
		if err == nil {
			out, err = Send(ctx, r.Prober, targets, cfg)
		}
		r.mu.Lock()
		t.inFlight = false
		if err != nil && ctx.Err() == nil && !t.refused {
			t.refused = true
			if r.Logger != nil {
				r.Logger.Warn("direct hop pings cannot be sent; the diagnosis goes on without them", "target", id, "err", err)
			}
		}
		r.mu.Unlock()
		if err == nil && r.Sink != nil {
			r.Sink.AddDirect(id, index, out)
		}
	}
}
