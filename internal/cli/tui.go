package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/diagnose"
	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/pmtu"
	"github.com/pingerplot/pingerplot/internal/pmtuwatch"
	"github.com/pingerplot/pingerplot/internal/resolve"
	"github.com/pingerplot/pingerplot/internal/tui"
)

const tuiSynopsis = `pingerplot tui [flags] TARGET [TARGET...]

The live terminal table, like mtr: every hop of each TARGET, redrawn every round.
Keys: q quit, p pause/resume, r reset, n names/addresses, d display mode,
s the last 24 h from the history, Tab/Shift-Tab or 1-9 switch target, ? help (docs/tui.md).`

func runTUI(ctx context.Context, args []string, env Env) error {
	// report's flags where they apply: the probe flags, -z, and -i; not
	// -c or the output formats, since the table runs until q.
	var pf probeFlags
	var gf geoFlags
	var historyPath string
	fs := flag.NewFlagSet("tui", flag.ContinueOnError)
	fs.StringVar(&historyPath, "history", "", "the history file the s key reads (default: history.db in the user's data directory)")
	fs.Float64Var(&pf.interval, "i", 1, "")
	fs.Float64Var(&pf.interval, "interval", 1, "seconds between the starts of rounds")
	pf.register(fs, false)
	gf.register(fs)
	fs.BoolVar(&pf.pmtu, "pmtu", false, pmtuHelp)
	pmtuEvery := fs.Duration("pmtu-interval", pmtuwatch.DefaultEvery, pmtuIntervalHelp)
	pos, err := parse(fs, args)
	if err == errHelp {
		printUsage(env.Stdout, fs, tuiSynopsis)
		return err
	}
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("want at least one TARGET (a host name or IP address)")
	}
	if len(pos) > 9 {
		return usagef("at most 9 TARGETs (keys 1-9 select them), got %d", len(pos))
	}
	mode, err := pf.validate(false, true)
	if err != nil {
		return err
	}
	if err := gf.validate(); err != nil {
		return err
	}
	for _, host := range pos {
		if err := config.CheckHost(host); err != nil {
			return usageError{err.Error()}
		}
	}
	// Refuse before anything is resolved or sent: a table redrawn in
	// place is of no use in a pipe or a file.
	stdout, ok := env.Stdout.(*os.File)
	if !ok || stdin(env) == nil || !term.IsTerminal(int(stdout.Fd())) {
		return errors.New("standard output is not a terminal: the live table needs one; use 'pingerplot report' for a table in a pipe or a file")
	}

	dsts := make([]netip.Addr, len(pos))
	for i, host := range pos {
		if dsts[i], err = resolveTarget(ctx, host, pf.v4, pf.v6); err != nil {
			return err
		}
	}
	prober, err := openProber(pf, mode, dsts[0], env)
	if err != nil {
		return err
	}
	defer prober.Close()
	for _, d := range dsts[1:] {
		if err := prober.Prepare(mode, d.Is6(), false); err != nil {
			return err
		}
	}
	as, err := gf.openAS(env)
	if err != nil {
		return err
	}
	defer as.close()

	// The resolver exists even with -n: n in the table turns names on, as
	// in mtr, and lookups start only for names that are shown.
	res := resolve.New(resolve.Config{})
	defer res.Close()
	names := func(a netip.Addr) string { n, _ := res.Name(a); return n }
	m := monitor.New(monitor.Config{Prober: prober, Names: names})
	defer m.Close()

	tty, err := tui.OpenTTY(stdin(env), stdout)
	if errors.Is(err, tui.ErrNotTerminal) {
		return fmt.Errorf("%v: the live table needs a terminal; use 'pingerplot report' for a table in a pipe or a file", err)
	}
	if err != nil {
		return err
	}
	defer tty.Close()

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	// The footer's diagnosis: a watcher of the monitor's rounds, as ui
	// and headless run; its events go to the table's event line.
	diag := diagnose.NewWatcher(diagnose.WatcherConfig{Reporter: m, Options: diagnose.Options{Names: names}})
	updates, unsub := m.SubscribeWith(monitor.SubscriberConfig{Name: "diagnose", Buffer: 4096})
	diagDone := make(chan struct{})
	go func() { defer close(diagDone); diag.Run(runCtx, updates) }()
	defer func() { stop(); unsub(); <-diagDone }()
	// The footer's path MTU (--pmtu): the same watcher as ui and
	// headless run; its events go to the event line.
	var pathMTU *pmtuwatch.Watcher
	if pf.pmtu {
		pathMTU = pmtuwatch.New(pmtuwatch.Config{Prober: prober, Reporter: m, All: true, Every: *pmtuEvery})
		updates, unsub := m.SubscribeWith(monitor.SubscriberConfig{Name: "pmtu", Buffer: 4096})
		pmtuDone := make(chan struct{})
		go func() { defer close(pmtuDone); pathMTU.Run(runCtx, updates) }()
		defer func() { stop(); unsub(); <-pmtuDone }()
	}
	runDone := make(chan error, 1)
	go func() { runDone <- m.Run(runCtx) }()
	defer func() { stop(); <-runDone }()

	targets := make([]monitor.Target, len(pos))
	for i, host := range pos {
		targets[i] = monitor.Target{Host: host, Addr: dsts[i], Settings: monitor.Settings{
			Trace:    pf.traceConfig(dsts[i], mode),
			Interval: time.Duration(pf.interval * float64(time.Second)),
			History:  tui.History,
		}}
	}
	cfg := tui.Config{
		Monitor: m, Targets: targets, Terminal: tty, Resize: tty.Resized(),
		Names: names, ShowNames: !pf.noDNS,
		Color: os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb",
	}
	cfg.Diagnosis = func(id monitor.ID) (tui.Diagnosis, bool) {
		d, ok := diag.Latest(id)
		return tui.Diagnosis{What: string(d.What), Confidence: string(d.Confidence), Text: d.Text}, ok
	}
	if pathMTU != nil {
		cfg.PathMTU = func(id monitor.ID) (string, bool) {
			p, ok := pathMTU.Latest(id)
			return pmtu.Summary(p), ok
		}
	}
	if as != nil {
		cfg.AS = func(a netip.Addr) (uint32, string) { info, _ := as.res.Info(a); return info.ASN, info.ASName }
	}
	// The stored strip reads the history that ui or headless write; this
	// command writes none. Without a history file s says why.
	st, err := openHistoryReader(historyPath)
	if err != nil {
		note := err.Error()
		cfg.Stored = func(context.Context, monitor.Target, time.Time, int) tui.Stored { return tui.Stored{Note: note} }
	} else {
		defer st.Close()
		cfg.Stored = func(ctx context.Context, t monitor.Target, now time.Time, cells int) tui.Stored {
			return readStoredStrip(ctx, st, t, now, cells)
		}
	}
	return tui.Run(ctx, cfg)
}

// stdin is the process's standard input when env is the real process's
// (its Stdout is os.Stdout), else nil: Env carries no input, and a
// command run with other writers (tests) has no terminal to read keys from.
func stdin(env Env) *os.File {
	if f, ok := env.Stdout.(*os.File); ok && f == os.Stdout {
		return os.Stdin
	}
	return nil
}

// readStoredStrip is the destination of t over the last 24 h, in cells
// steps, from the history: per step the bucket of the TTL where the
// destination answered (it may move when the route changes), else the
// deepest TTL's.
func readStoredStrip(ctx context.Context, st *history.Store, t monitor.Target, now time.Time, cells int) tui.Stored {
	from := now.Add(-tui.StoredWindow)
	step := tui.StoredWindow / time.Duration(max(cells, 1))
	out := tui.Stored{From: from, To: now, Step: step}
	info, err := storedTarget(ctx, st, string(t.ID))
	if err != nil {
		if info, err = storedTarget(ctx, st, t.Host); err != nil {
			out.Note = fmt.Sprintf("no stored rounds of %s (the history holds the targets ui and headless monitor)", t.Host)
			return out
		}
	}
	series, err := st.Series(ctx, info.Key, from, now, step)
	if err != nil {
		out.Note = "reading the history: " + err.Error()
		return out
	}
	if len(series) == 0 {
		out.Note = fmt.Sprintf("no stored rounds of %s in the last 24 h", info.Key)
		return out
	}
	deepest := series[len(series)-1].Buckets
	out.Cells = make([]tui.StoredCell, len(deepest))
	for i, b := range deepest {
		for _, s := range series {
			if i < len(s.Buckets) && s.Buckets[i].DestinationHop {
				b = s.Buckets[i]
				break
			}
		}
		lat := b.P50
		if lat == 0 {
			lat = b.Avg
		}
		out.Cells[i] = tui.StoredCell{Sent: b.Sent, Lost: b.Lost, Latency: lat}
	}
	return out
}
