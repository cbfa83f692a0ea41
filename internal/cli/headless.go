package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/pmtuwatch"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/recorder"
	"github.com/pingerplot/pingerplot/internal/resolve"
)

func runHeadless(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("headless", flag.ContinueOnError)
	initPath := fs.Bool("init", false, "write a starter config to CONFIG and exit")
	noDNS := fs.Bool("no-dns", false, `do not resolve hop addresses to names for any target, whatever "dns" in CONFIG says`)
	fs.BoolVar(noDNS, "n", false, "")
	verbose := fs.Bool("verbose", false, "say which probe backend was chosen and why")
	metricsAddr := fs.String("metrics-listen", "", metricsHelp+"; overrides metrics_listen in CONFIG")
	noHistory := fs.Bool("no-history", false, `keep no history file, whatever "history" in CONFIG says (docs/history.md)`)
	pingHops := fs.Bool("ping-hops", false, pingHopsHelp+`, whatever "ping_hops" in CONFIG says`)
	pathMTU := fs.Bool("pmtu", false, pmtuHelp+`, whatever "pmtu" in CONFIG says`)
	pathMTUEvery := fs.Duration("pmtu-interval", pmtuwatch.DefaultEvery, pmtuIntervalHelp)
	flowCount := fs.Int("flows", 0, monitorFlowsHelp+`, whatever "flows" in CONFIG says`)
	pos, err := parse(fs, args)
	if err == errHelp {
		printUsage(env.Stdout, fs, "pingerplot headless [--init] CONFIG.json\n\nRuns the monitor without a UI: every target of CONFIG is probed on its interval,\nrounds go to CSV probe logs, events to event logs and the console, alerts to webhooks.\nThe config format is in docs/config.md.")
		return err
	}
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one CONFIG file, got %d arguments", len(pos))
	}
	if err := validateMonitorFlows(*flowCount); err != nil {
		return err
	}
	path := pos[0]
	if *initPath {
		if err := config.WriteStarter(path); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "wrote a starter config to %s; edit it, then run: pingerplot headless %s\n", path, path)
		return nil
	}
	h, err := config.Load(path)
	if err != nil {
		return err
	}
	if len(h.Targets) == 0 {
		return fmt.Errorf("%s: no targets: add at least one entry to \"targets\"", path)
	}

	prober, err := probe.New(probe.Config{})
	if err != nil {
		return err
	}
	defer prober.Close()
	names := func(netip.Addr) string { return "" }
	if !*noDNS {
		res := resolve.New(resolve.Config{})
		defer res.Close()
		names = func(a netip.Addr) string { n, _ := res.Name(a); return n }
	}
	if *metricsAddr == "" {
		*metricsAddr = h.MetricsListen
	}
	return runHeadlessConfig(ctx, path, h, headlessWiring{
		Prober: prober, Names: names, MetricsAddr: *metricsAddr, Verbose: *verbose, NoHistory: *noHistory, PingHops: *pingHops,
		PathMTU: *pathMTU, PathMTUEvery: *pathMTUEvery, Flows: *flowCount,
		Lookup: func(ctx context.Context, host string) (netip.Addr, error) {
			return resolveTarget(ctx, host, false, false)
		},
		Stdout: env.Stdout, Stderr: env.Stderr,
	})
}

// headlessWiring is what runHeadlessConfig needs from the outside: the
// prober, the name cache and the host lookup are parameters so that tests
// run the whole headless wiring over a scripted network.
type headlessWiring struct {
	Prober      probe.Prober
	Names       func(netip.Addr) string // never nil: "" for no name
	Lookup      func(ctx context.Context, host string) (netip.Addr, error)
	MetricsAddr string       // "" for no metrics endpoint
	Webhook     *http.Client // nil: the webhook's own client
	Verbose     bool
	NoHistory   bool // --no-history: whatever the config says
	PingHops    bool // --ping-hops: direct hop pings for every target
	// PathMTU (--pmtu) discovers every target's path MTU; PathMTUEvery
	// (--pmtu-interval) is the time between a target's discoveries.
	PathMTU      bool
	PathMTUEvery time.Duration
	Flows        int // --flows: ECMP flows for every target
	Stdout       io.Writer
	Stderr       io.Writer
}

// runHeadlessConfig monitors the targets of the loaded config h (read from
// path) until ctx ends, then flushes the records.
func runHeadlessConfig(ctx context.Context, path string, h config.Headless, w headlessWiring) error {
	prober, names := w.Prober, w.Names
	targets, err := checkHeadlessTargets(ctx, path, h, w)
	if err != nil {
		return err
	}
	logger := slog.New(newConsoleHandler(w.Stderr, slog.LevelWarn))
	// The event-log routing is complete before the recorder starts and
	// never written after: the recorder reads it from its own goroutine
	// for the first events of each target. Config IDs are unique, and the
	// monitor starts empty, so each target keeps its configured ID. A
	// target's default (beside its probe log) is spelled out, so that
	// what happens before it is monitored (its name does not resolve)
	// reaches its event log too.
	eventPaths := make(map[monitor.ID]string, len(h.Targets))
	for _, r := range h.Targets {
		eventPaths[r.ID] = r.EventLogPath
		if r.EventLogPath == "" {
			eventPaths[r.ID] = recorder.EventLogPathFor(r.Settings.LogPath)
		}
	}
	hist := h.History
	if w.NoHistory {
		hist.Off = true
	}
	e, err := startEngine(ctx, engineConfig{
		Prober: prober, Names: names, Logger: logger, Console: w.Stdout, Stdout: w.Stdout,
		EventLogPath: func(id monitor.ID) string { return eventPaths[id] },
		Webhook:      w.Webhook, MetricsAddr: w.MetricsAddr, History: hist, PingHops: w.PingHops,
		PathMTU: w.PathMTU, PathMTUEvery: w.PathMTUEvery, Flows: w.Flows,
	})
	if err != nil {
		return err
	}
	defer e.close(nil)
	m, rec := e.M, e.Rec
	if e.Hist != nil {
		consoleLine(w.Stdout, time.Now(), "engine", "history", "every round is kept in "+e.Hist.Status().Path+" (docs/history.md)")
	}

	fmt.Fprintf(w.Stdout, "monitoring %d target(s) from %s; Ctrl-C stops\n", len(h.Targets), path)
	// Targets are added after the recorder subscribed, so their first
	// events are logged too.
	stopTargets, err := targets.start(ctx, m, rec, w)
	if err != nil {
		return err
	}
	defer stopTargets()
	if w.Verbose {
		fmt.Fprintf(w.Stderr, "backend: %s\n", prober.Backend())
	}
	runErr := make(chan error, 1)
	go func() { runErr <- m.Run(ctx) }()
	last, lastAt := m.Stats(), time.Now()
	var tick <-chan time.Time
	if h.StatusInterval > 0 {
		t := time.NewTicker(h.StatusInterval)
		defer t.Stop()
		tick = t.C
	}
loop:
	for {
		select {
		case <-tick:
			printStatus(w.Stdout, m.Snapshots())
			st := m.Stats()
			now := time.Now()
			rate := float64(st.Probes-last.Probes) / now.Sub(lastAt).Seconds()
			consoleLine(w.Stdout, now, "engine", "status", engineStatus(st, rate))
			last, lastAt = st, now
		case err := <-runErr:
			if err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			break loop
		}
	}
	// Stopping: the monitor has ended its rounds; each logged target
	// leaves its per-hop summary beside its log while the engine closes
	// (engine.close says in what order).
	stopTargets() // no target is added from here on
	err = e.close(func() error {
		var errs []error
		for _, snap := range m.Snapshots() {
			errs = append(errs, rec.WriteSummary(snap))
		}
		return errors.Join(errs...)
	})
	fmt.Fprintln(w.Stdout, "stopped; logs flushed")
	return err
}

// printStatus prints one line per target, in the console layout.
func printStatus(w io.Writer, snaps []monitor.Snapshot) {
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].ID < snaps[j].ID })
	now := time.Now()
	for _, s := range snaps {
		d := s.Dest
		var b strings.Builder
		fmt.Fprintf(&b, "%-9s %2d hops  round %d", s.State, len(s.Hops), s.Rounds)
		if d.Sent > 0 {
			fmt.Fprintf(&b, "  loss %.1f%%  latency %.3f ms  jitter %.3f ms  MOS %.2f", d.LossPct,
				float64(d.Latency)/float64(time.Millisecond), float64(d.Jitter)/float64(time.Millisecond), d.MOS)
		}
		if len(d.Active) > 0 {
			fmt.Fprintf(&b, "  ALERT %v", d.Active)
		}
		consoleLine(w, now, string(s.ID), "status", b.String())
	}
}

// engineStatus words the monitor's counters for the status line; updates
// a subscriber missed are named per subscriber (a durable one, such as
// the recorder, caught them up or wrote a record_gap).
func engineStatus(st monitor.Stats, rate float64) string {
	msg := fmt.Sprintf("%d targets, %d rounds, %d probes (%.0f/s), %d rounds missed their start, %d updates dropped",
		st.Targets, st.Rounds, st.Probes, rate, st.Missed, st.Dropped)
	var per []string
	for _, sub := range st.Subscribers {
		if sub.Dropped > 0 {
			per = append(per, fmt.Sprintf("%s %d", sub.Name, sub.Dropped))
		}
	}
	if len(per) > 0 {
		msg += " (" + strings.Join(per, ", ") + ")"
	}
	return msg
}
