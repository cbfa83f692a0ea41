package cli

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/recorder"
)

// Retries of a target whose name does not resolve: the first after
// resolveRetryFirst, doubling up to resolveRetryMax, for as long as the
// monitor runs. A name that fails for a while (a DNS outage, a record not
// yet published) starts being monitored on its own once it resolves.
const (
	resolveRetryFirst = 5 * time.Second
	resolveRetryMax   = 5 * time.Minute
)

// headlessTargets is a config's targets after the checks that need no
// name resolution: each one's address when it was written as one.
type headlessTargets struct {
	path    string
	targets []config.Resolved
	addrs   []netip.Addr // zero for a target named by a host name
}

// checkHeadlessTargets checks everything about the targets that can be
// checked before anything starts, and reports every problem at once, as
// docs/config.md promises: each address (a broadcast address of an
// attached network, say) and whether this machine may probe it in its
// mode. Host names are looked up later (startHeadlessTargets), so that a
// name that does not resolve holds up neither the start nor the others.
func checkHeadlessTargets(ctx context.Context, path string, h config.Headless, w headlessWiring) (*headlessTargets, error) {
	ht := &headlessTargets{path: path, targets: h.Targets, addrs: make([]netip.Addr, len(h.Targets))}
	var problems []string
	for i, r := range h.Targets {
		if _, err := netip.ParseAddr(r.Host); err != nil {
			continue // a name: resolved when the targets start
		}
		addr, err := w.Lookup(ctx, r.Host)
		if err == nil {
			err = w.Prober.Prepare(r.Settings.Trace.Mode, addr.Is6(), r.Settings.Trace.FinalHopOnly)
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("targets[%d] (%s): %v", i, r.Host, err))
			continue
		}
		ht.addrs[i] = addr
	}
	switch len(problems) {
	case 0:
		return ht, nil
	case 1:
		return nil, fmt.Errorf("%s: %s", path, problems[0])
	}
	return nil, fmt.Errorf("%s: %d problems:\n  %s", path, len(problems), strings.Join(problems, "\n  "))
}

// start adds the targets to m: those given as addresses at once, those
// given as names as soon as they resolve, each retried with backoff on
// its own goroutine and every failure said on the console. The returned
// stop ends the retries and waits for them; call it before closing m.
func (ht *headlessTargets) start(ctx context.Context, m *monitor.Monitor, rec *recorder.Recorder, w headlessWiring) (stop func(), err error) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	stop = func() { cancel(); wg.Wait() }
	for i := range ht.targets {
		if ht.addrs[i].IsValid() {
			if err := ht.add(m, i, ht.addrs[i]); err != nil {
				stop()
				return nil, err
			}
			continue
		}
		wg.Go(func() { ht.resolveAndAdd(ctx, m, rec, w, i) })
	}
	return stop, nil
}

// add hands target i, resolved to addr, to the monitor.
func (ht *headlessTargets) add(m *monitor.Monitor, i int, addr netip.Addr) error {
	r := ht.targets[i]
	id, err := m.Add(monitor.Target{ID: r.ID, Host: r.Host, Addr: addr, Settings: r.Settings})
	if err != nil {
		return fmt.Errorf("%s: targets[%d] (%s): %w", ht.path, i, r.Host, err)
	}
	if id != r.ID {
		// Unreachable while config IDs are unique: say so rather than
		// log this target's events elsewhere.
		return fmt.Errorf("%s: targets[%d] (%s): the monitor named it %q, not %q", ht.path, i, r.Host, id, r.ID)
	}
	return nil
}

// resolveAndAdd looks target i's name up until it resolves (or ctx ends),
// then prepares its mode and adds it. A name that resolves to an address
// no trace can have, or a mode this machine refuses, is retried too: the
// record may change, and the target's event log and the console say why
// each time (the monitor does not hold the target yet, so the recorder is
// told directly).
func (ht *headlessTargets) resolveAndAdd(ctx context.Context, m *monitor.Monitor, rec *recorder.Recorder, w headlessWiring, i int) {
	r := ht.targets[i]
	note := func(kind monitor.EventKind, msg string) {
		rec.Note(monitor.Event{Time: time.Now(), Target: r.ID, Kind: kind, Message: msg})
	}
	delay := resolveRetryFirst
	for attempt := 1; ; attempt++ {
		addr, err := w.Lookup(ctx, r.Host)
		if err == nil {
			err = w.Prober.Prepare(r.Settings.Trace.Mode, addr.Is6(), r.Settings.Trace.FinalHopOnly)
		}
		if err == nil {
			if err := ht.add(m, i, addr); err != nil {
				note(monitor.TargetError, err.Error())
				return
			}
			if attempt > 1 {
				note(monitor.Resolved, fmt.Sprintf("%s is %s after %d attempts; monitoring it", r.Host, addr, attempt))
			}
			return
		}
		if ctx.Err() != nil {
			return
		}
		note(monitor.ResolveError, fmt.Sprintf("%v; not monitored yet, the other targets run; retrying in %v", err, delay))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		delay = min(2*delay, resolveRetryMax)
	}
}
