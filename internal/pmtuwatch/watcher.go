// Package pmtuwatch runs path MTU discovery (package pmtu) for the targets
// of a monitor: a subscriber that starts a target's discovery at its first
// round, every few minutes after, and after a route change, never more
// than one per target at a time and never in a round's way, keeps each
// target's latest result for the dashboard, the TUI and the metrics, and
// reports its changes as path_mtu events.
//
// It reaches the prober and the engine below it; it must not import
// anything that shows or stores results.
package pmtuwatch

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/pmtu"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// Defaults of Config.
const (
	// DefaultEvery is how often a target's path MTU is discovered again:
	// a path MTU rarely changes without a route change, which triggers a
	// discovery of its own, so a slow refresh catches the rest (a tunnel
	// brought up on the same routers) at a few dozen probes per target
	// every ten minutes.
	DefaultEvery = 10 * time.Minute
	// DefaultRerunGap is the least time between the start of one discovery
	// and a route change's rerun: a route that flaps every few rounds
	// must not turn the side job into a flood of 1500-byte probes.
	DefaultRerunGap = 30 * time.Second
)

// Reporter takes the watcher's events: a *monitor.Monitor.
type Reporter interface {
	Report(id monitor.ID, kind monitor.EventKind, message string) error
}

// Config configures a Watcher. The zero value of each field means
// the default documented on it.
type Config struct {
	// Prober sends the discoveries' probes: the monitor's own, so they
	// share its sockets and its rate.
	Prober probe.Prober
	// Reporter, if set, is told of every change of a target's path MTU
	// (monitor.PathMTUChanged).
	Reporter Reporter
	// All discovers the path MTU of every target, whatever its settings
	// say (--pmtu); otherwise only of those whose Settings.PathMTU is on.
	All bool
	// Every is the time between a target's discoveries; 0 means
	// DefaultEvery.
	Every time.Duration
	// RerunGap is the least time between a discovery's start and the rerun
	// a route change asks for; 0 means DefaultRerunGap, capped at Every.
	RerunGap time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger gets one warning per target whose discovery cannot run (no
	// privilege for its probes); nil discards it.
	Logger *slog.Logger
}

// Watcher runs path MTU discovery for the targets of a monitor: a
// subscriber. A target's first round starts its first discovery; later
// rounds start one when Every has passed since the last ended, or when a
// route change or a settings change has made the last one stale. Each
// discovery runs on a goroutine of its own, at most one per target, so a
// round is never delayed by it. It is safe for concurrent use: Run from
// the subscription's goroutine, Latest from anywhere.
type Watcher struct {
	cfg Config

	mu      sync.RWMutex
	targets map[monitor.ID]*watched
}

type watched struct {
	latest   result.PathMTU
	have     bool      // latest holds a finished discovery
	inFlight bool      // a discovery is running
	started  time.Time // when the latest discovery started
	due      time.Time // when the next one may start; zero: at the next round
	rerun    bool      // made stale while in flight: rerun after it
	refused  bool      // warned that the probes cannot be sent
}

// New returns a Watcher; Run makes it act.
func New(c Config) *Watcher {
	if c.Every <= 0 {
		c.Every = DefaultEvery
	}
	if c.RerunGap <= 0 {
		c.RerunGap = DefaultRerunGap
	}
	c.RerunGap = min(c.RerunGap, c.Every)
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Watcher{cfg: c, targets: make(map[monitor.ID]*watched)}
}

// Latest returns the latest finished discovery of target id; false before
// the first has finished or when discovery is off for it.
func (w *Watcher) Latest(id monitor.ID) (result.PathMTU, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	t := w.targets[id]
	if t == nil || !t.have {
		return result.PathMTU{}, false
	}
	return t.latest, true
}

// Run handles updates until the channel closes or ctx ends, then cancels
// the discoveries in flight and waits for them.
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

// handle folds one update and returns the discovery to run for it, if any.
func (w *Watcher) handle(u monitor.Update) func(context.Context) {
	now := w.cfg.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	if e := u.Event; e != nil {
		switch e.Kind {
		case monitor.Removed:
			delete(w.targets, e.Target)
		case monitor.RouteChange, monitor.PathLength, monitor.SettingsChanged:
			if t := w.targets[e.Target]; t != nil {
				if t.inFlight {
					t.rerun = true
				} else {
					t.due = t.started.Add(w.cfg.RerunGap)
				}
			}
		}
		return nil
	}
	rd := u.Round
	if rd == nil {
		return nil
	}
	sn := rd.Snapshot
	if !(w.cfg.All || sn.Settings.PathMTU) || !sn.Addr.IsValid() {
		delete(w.targets, rd.Target)
		return nil
	}
	t := w.targets[rd.Target]
	if t == nil {
		t = &watched{}
		w.targets[rd.Target] = t
	}
	if t.inFlight || now.Before(t.due) {
		return nil
	}
	t.inFlight, t.started = true, now
	id, cfg := rd.Target, configFor(sn.Addr, sn.Settings.Trace)
	return func(ctx context.Context) { w.discover(ctx, id, t, cfg) }
}

// configFor is the discovery's configuration for a target probed with tc:
// its mode (ICMP for a TCP target: a SYN cannot carry a chosen size), port,
// hops, timeout and TOS.
func configFor(dst netip.Addr, tc trace.Config) pmtu.Config {
	c := pmtu.Config{Dst: dst, Mode: tc.Mode, Port: tc.Port, MaxTTL: tc.MaxHops, Timeout: tc.Timeout, TOS: tc.TOS}
	switch {
	case c.Mode == probe.TCP:
		c.Mode, c.Port = probe.ICMP, 0
	case c.Mode == probe.UDP && c.Port == 0:
		c.Port = trace.DefaultUDPPort
	}
	if c.MaxTTL == 0 {
		c.MaxTTL = trace.DefaultMaxHops
	}
	return c
}

// discover runs one discovery for t and keeps its result; a changed
// result is reported.
func (w *Watcher) discover(ctx context.Context, id monitor.ID, t *watched, cfg pmtu.Config) {
	cfg.TimeNow = w.cfg.Now
	var res result.PathMTU
	err := w.cfg.Prober.Prepare(cfg.Mode, cfg.Dst.Unmap().Is6(), false)
	if err == nil {
		res, err = pmtu.Discover(ctx, w.cfg.Prober, cfg)
	} else {
		res = result.PathMTU{Max: 1500, At: w.cfg.Now(), Err: err.Error()}
	}
	w.mu.Lock()
	t.inFlight = false
	if ctx.Err() != nil || w.targets[id] != t {
		// Cancelled, or the target was removed or switched off meanwhile:
		// nothing to keep.
		w.mu.Unlock()
		return
	}
	t.due = w.cfg.Now().Add(w.cfg.Every)
	if t.rerun {
		t.due, t.rerun = t.started.Add(w.cfg.RerunGap), false
	}
	changed := !t.have || key(t.latest) != key(res)
	t.latest, t.have = res, true
	warn := err != nil && res.MTU == 0 && !t.refused && w.cfg.Logger != nil
	if warn {
		t.refused = true
	}
	w.mu.Unlock()
	if warn {
		w.cfg.Logger.Warn("path MTU discovery failed; it is tried again later", "target", id, "err", err)
	}
	if changed && w.cfg.Reporter != nil {
		_ = w.cfg.Reporter.Report(id, monitor.PathMTUChanged, "path MTU "+pmtu.Summary(res))
	}
}

// key is what a change of which is news: the size, where it drops, and
// whether the search failed (not why, which may word itself differently
// each time).
func key(p result.PathMTU) string {
	return fmt.Sprint(p.MTU, p.HopTTL, p.HopAddr, p.Local)
}
