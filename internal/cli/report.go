package cli

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"time"

	"github.com/pingerplot/pingerplot/internal/diagnose"
	"github.com/pingerplot/pingerplot/internal/hopping"
	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/report"
	"github.com/pingerplot/pingerplot/internal/resolve"
	"github.com/pingerplot/pingerplot/internal/trace"
)

func runReport(ctx context.Context, args []string, env Env) error {
	if storedWindowAsked(args) {
		// A window of the history: no prober, no probe.
		return runStoredReport(ctx, args, env)
	}
	c, err := openTargetCommand(ctx, "report", true, args, env)
	if err != nil {
		return err
	}
	defer c.prober.Close()
	pf, gf, dst, mode, prober := c.pf, c.gf, c.dst, c.mode, c.prober
	tr, err := trace.New(prober, pf.traceConfig(dst, mode), nil)
	if err != nil {
		return usageError{err.Error()}
	}
	// --flows: flows 1 to N-1 beside flow 0, the report's own.
	fl, err := newFlowRun(prober, tr.Config(), pf.flows, pf.count)
	if err != nil {
		return err
	}
	writeFlowsNote(env.Stderr, pf, mode)
	if pf.pingHops && mode != probe.ICMP {
		// UDP and TCP traces open no ICMP echo socket of their own.
		if err := prober.Prepare(probe.ICMP, dst.Is6(), false); err != nil {
			return fmt.Errorf("--ping-hops sends ICMP echo requests: %w; leave out --ping-hops, or allow ICMP echo (unprivileged ping sockets or raw sockets)", err)
		}
	}
	// Direct hop pings: beside each round, one echo request to every hop
	// that answered recently, paced as the round's probes.
	var plan hopping.Plan
	pingCfg := hopping.SendConfig{Timeout: tr.Config().Timeout, Size: tr.Config().Size, Gap: tr.Config().SendGap}
	var res *resolve.Resolver
	if !pf.noDNS {
		res = resolve.New(resolve.Config{})
		defer res.Close()
	}
	as, err := gf.openAS(env)
	if err != nil {
		return err
	}
	defer as.close()

	// The report keeps every reply (count is bounded by the user) so the
	// median and 95th percentile cover the whole run.
	path := hopstat.Path{Window: pf.count}
	// -e: each responder's latest details, as the monitor keeps them.
	var details monitor.DetailsLog
	// The diagnosis reads every round of the run, as the table does.
	diag := make([]diagnose.Round, 0, pf.count)
	start := time.Now()
	rounds, reached := 0, false
	unsent, probes := 0, 0
	var sendErr error
	interval := time.Duration(pf.interval * float64(time.Second))
	for i := 1; i <= pf.count; i++ {
		roundStart := time.Now()
		var direct []diagnose.Direct
		var directErr error
		pinged := make(chan struct{})
		if targets := plan.Targets(); pf.pingHops && len(targets) > 0 {
			go func() {
				defer close(pinged)
				direct, directErr = hopping.Send(ctx, prober, targets, pingCfg)
			}()
		} else {
			close(pinged)
		}
		r, err := fl.round(ctx, i, tr)
		<-pinged
		if err != nil {
			return err
		}
		if directErr != nil {
			return directErr
		}
		plan.Observe(r)
		rounds++
		reached = reached || r.Reached
		n, cause := r.Unsent()
		if n > 0 && sendErr == nil {
			sendErr = cause
		}
		unsent, probes = unsent+n, probes+len(r.Hops)
		path.AddRound(Samples(r))
		details.Observe(r)
		dr := diagnose.FromTrace(r)
		dr.Direct = direct
		diag = append(diag, dr)
		for _, h := range r.Hops {
			if !h.Reply.From.IsValid() {
				continue
			}
			if res != nil {
				res.Name(h.Reply.From) // starts the lookup in the background
			}
			as.start(h.Reply.From)
		}
		if i < pf.count {
			if err := sleepCtx(ctx, interval-time.Since(roundStart)); err != nil {
				return err
			}
		}
	}
	end := time.Now()
	if probes > 0 && unsent == probes {
		// Not a table of 100 % loss: nothing was asked of the network.
		return nothingSentError{dst: dst, cause: sendErr}
	}
	var namer report.Namer
	if res != nil {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		res.Wait(wctx)
		cancel()
		namer = func(a netip.Addr) string { n, _ := res.Name(a); return n }
	}
	as.wait(ctx)
	cfg := tr.Config()
	rep := report.Report{
		FormatVersion: report.FormatVersion,
		Target:        c.target, Addr: dst.String(), Mode: mode.String(),
		Settings: report.Settings{Count: pf.count, IntervalS: pf.interval, TimeoutS: cfg.Timeout.Seconds(),
			Port: cfg.Port, Size: cfg.Size, FirstTTL: cfg.FirstTTL, MaxHops: cfg.MaxHops, DNS: !pf.noDNS,
			AddressFam: map[bool]string{true: "ipv4", false: "ipv6"}[dst.Is4()], ASLookup: gf.asLookup, PingHops: pf.pingHops,
			Ext: pf.ext},
		Backend: prober.Backend(),
		Start:   start, End: end, Rounds: rounds, Reached: reached,
		Hops: report.Hops(path.Hops(), namer),
	}
	rep.PortState = report.PortStateOf(rep.Mode, rep.Hops)
	if unsent > 0 {
		rep.Unsent, rep.SendError = unsent, sendErr.Error()
	}
	if pf.ext {
		for i := range rep.Hops {
			report.SetDetails(&rep.Hops[i], reportDetails(details.At(rep.Hops[i].TTL)))
		}
	}
	if pf.pmtu {
		p := discoverPathMTU(ctx, prober, cfg, mode, dst)
		rep.PathMTU = &p
	}
	as.fill(rep.Hops, env)
	diagnose.DirectForReport(diag, rep.Hops)
	rep.Diagnosis = diagnose.ForReport(diagnose.Analyze(diag, diagnose.Options{Target: dst, Mode: mode.String(), Names: namer}), rep.Hops)
	rep.Flows = fl.report(mode, namer)
	switch {
	case pf.json:
		return report.WriteJSON(env.Stdout, rep)
	case pf.csv:
		return report.WriteCSV(env.Stdout, rep)
	}
	if err := report.WriteText(env.Stdout, rep); err != nil {
		return err
	}
	if rep.Flows != nil {
		return report.WriteFlowsText(env.Stdout, rep.Flows)
	}
	return nil
}

// reportDetails converts a hop's responder details into the report's.
func reportDetails(ds []monitor.ResponderDetails) []report.Details {
	var out []report.Details
	for _, d := range ds {
		out = append(out, report.DetailsOf(d.Addr, d.Details))
	}
	return out
}

// Samples turns a round into the input of the per-hop statistics.
func Samples(r trace.Round) []hopstat.Sample {
	out := make([]hopstat.Sample, 0, len(r.Hops))
	for _, h := range r.Hops {
		out = append(out, monitor.SampleOf(h))
	}
	return out
}

// targetCommand is what report and trace share before they differ: their
// flags, the one TARGET, its address, and a prober ready for the mode.
type targetCommand struct {
	pf     probeFlags
	gf     geoFlags
	target string
	dst    netip.Addr
	mode   probe.Mode
	prober probe.Prober
}

// openTargetCommand parses the flags of the subcommand name (withCount:
// report's rounds and output formats), resolves the TARGET and opens a
// prober for it, which the caller closes. -h prints the usage and returns
// errHelp.
func openTargetCommand(ctx context.Context, name string, withCount bool, args []string, env Env) (*targetCommand, error) {
	c := &targetCommand{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	c.pf.register(fs, withCount)
	c.gf.register(fs)
	if name == "trace" {
		fs.BoolVar(&c.pf.pmtu, "pmtu", false, "after the trace, discover the path MTU with don't-fragment probes and the hop where larger packets stop (docs/probing.md)")
	}
	pos, err := parse(fs, args)
	if err == errHelp {
		synopsis := "pingerplot " + name + " [flags] TARGET"
		if name == "report" {
			synopsis += "\n       pingerplot report --from T [--to T] [--json|--csv] TARGET   a stored window, no probe sent (report --from T -h)"
		}
		printUsage(env.Stdout, fs, synopsis)
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if len(pos) != 1 {
		return nil, usagef("want exactly one TARGET (a host name or IP address), got %d arguments", len(pos))
	}
	c.target = pos[0]
	if c.mode, err = c.pf.validate(withCount, withCount); err != nil {
		return nil, err
	}
	if err := c.gf.validate(); err != nil {
		return nil, err
	}
	if c.dst, err = resolveTarget(ctx, c.target, c.pf.v4, c.pf.v6); err != nil {
		return nil, err
	}
	if c.prober, err = openProber(c.pf, c.mode, c.dst, env); err != nil {
		return nil, err
	}
	return c, nil
}

// openProber opens the backend and the sockets the mode needs, so a missing
// privilege is a clear error before anything is sent.
func openProber(pf probeFlags, mode probe.Mode, dst netip.Addr, env Env) (probe.Prober, error) {
	p, err := probe.New(probe.Config{Privilege: pf.privilege()})
	if err != nil {
		return nil, err
	}
	if err := p.Prepare(mode, dst.Is6(), false); err != nil {
		p.Close()
		return nil, err
	}
	if pf.verbose {
		fmt.Fprintf(env.Stderr, "backend: %s\n", p.Backend())
	}
	return p, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
