package monitor

import (
	"context"
	"errors"
	"hash/fnv"
	"sync"
	"time"

	"github.com/pingerplot/pingerplot/internal/trace"
)

// Run probes every target until ctx ends or the monitor is closed, and
// returns nil then, once every target's goroutine has ended. Targets added
// while it runs start at once. One Run at a time.
func (m *Monitor) Run(ctx context.Context) error {
	if m.cfg.Prober == nil {
		return errors.New("monitor has no prober")
	}
	m.mu.Lock()
	switch {
	case m.closed:
		m.mu.Unlock()
		return ErrClosed
	case m.running:
		m.mu.Unlock()
		return errors.New("monitor is already running")
	}
	ctx, cancel := context.WithCancel(ctx)
	m.running, m.stopRun, m.runDone = true, cancel, make(chan struct{})
	m.mu.Unlock()

	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
		m.mu.Lock()
		for _, tg := range m.targets {
			tg.cancel, tg.done = nil, nil
		}
		m.running, m.stopRun = false, nil
		close(m.runDone)
		m.mu.Unlock()
	}()
	for {
		m.mu.Lock()
		for _, id := range m.order {
			tg := m.targets[id]
			if tg.done != nil {
				continue
			}
			tctx, tcancel := context.WithCancel(ctx)
			done := make(chan struct{})
			tg.cancel, tg.done = tcancel, done
			wg.Go(func() {
				defer close(done)
				defer tcancel()
				m.runTarget(tctx, tg)
			})
		}
		m.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-m.wake:
		}
	}
}

// Close stops Run, waits for every goroutine and closes every
// subscription. Later calls of Add and Run return ErrClosed; snapshots and
// events stay readable.
func (m *Monitor) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	stop, done := m.stopRun, m.runDone
	m.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	m.closeSubscribers()
	return nil
}

// spread is how long after Run a target's first round starts: a fixed
// share of its interval derived from its ID, so that hundreds of targets
// do not all send at once and a target keeps its place across restarts.
func spread(id ID, interval time.Duration) time.Duration {
	h := fnv.New64a()
	h.Write([]byte(id))
	return time.Duration(h.Sum64() % uint64(interval))
}

// lateness past which a round counts as missed, as a share of the interval.
const missedShare = 10

// runTarget runs tg's rounds until ctx ends. Rounds never overlap. Each
// starts Interval after the planned start of the previous one, or at once
// when that has passed; a round that starts more than a tenth of the
// interval late counts as missed and the schedule moves to its start.
func (m *Monitor) runTarget(ctx context.Context, tg *target) {
	tg.mu.Lock()
	tg.looping = true
	tg.mu.Unlock()
	defer func() {
		tg.mu.Lock()
		tg.looping = false
		events := tg.applyPendingLocked(m.now())
		m.recordLocked(tg, events)
		tg.mu.Unlock()
		m.publishEvents(events)
	}()

	var (
		tr       *trace.Tracer
		begun    = time.Now()
		anchor   time.Time // the planned start of the previous round
		first    = true
		resumed  bool
		failing  bool
		interval time.Duration
	)
	for {
		tg.mu.Lock()
		var events []Event
		if tg.pending {
			events = tg.applyPendingLocked(m.now())
			m.recordLocked(tg, events)
		}
		t := tg.state.target
		paused := tg.state.paused
		index := tg.state.rounds + 1
		tg.mu.Unlock()
		m.publishEvents(events)
		interval = t.Interval

		if paused {
			select {
			case <-ctx.Done():
				return
			case <-tg.wake:
			}
			resumed = true
			continue
		}
		now := time.Now()
		var planned time.Time
		switch {
		case first:
			planned = begun.Add(spread(tg.id, interval))
		case resumed:
			planned = now
		default:
			planned = anchor.Add(interval)
		}
		if d := planned.Sub(now); d > 0 {
			timer := time.NewTimer(d)
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-tg.wake:
				timer.Stop()
				continue // settings or pause changed: plan again
			case <-timer.C:
			}
		}
		start := time.Now()
		if start.Sub(planned) > interval/missedShare {
			m.missed.Add(1)
			planned = start
		}
		anchor, first, resumed = planned, false, false

		if tr == nil || tr.Config() != t.Trace {
			var err error
			if tr, err = trace.New(m.cfg.Prober, t.Trace, m.now); err != nil {
				// Settings were validated; this is a bug, not a user error.
				m.log.Error("cannot trace", "target", tg.id, "err", err)
				tr = nil
				continue
			}
		}
		round, err := tr.Round(ctx, index, nil)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !failing {
				m.log.Warn("round failed; retrying every interval", "target", tg.id, "err", err)
				failing = true
			}
			continue
		}
		if failing {
			m.log.Info("rounds work again", "target", tg.id)
			failing = false
		}
		m.rounds.Add(1)
		m.probes.Add(uint64(len(round.Hops)))

		tg.mu.Lock()
		snap, events := tg.state.apply(m.now(), round)
		tg.last = snap
		m.recordLocked(tg, events)
		tg.mu.Unlock()
		m.publish(Update{Round: &RoundDone{Target: tg.id, Round: round, Snapshot: snap}})
		m.publishEvents(events)
	}
}
