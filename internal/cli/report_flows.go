package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/pingerplot/pingerplot/internal/flows"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/report"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// flowsHelp is --flows' usage line.
const flowsHelp = "ECMP flow enumeration: probe N flows (distinct UDP source ports, or ICMP echo identifiers) each round and list each distinct path with its share of the flows and its statistics (text and JSON; docs/flows.md)"

// icmpFlowsNote is printed when --flows is used with ICMP: what its flows
// can and cannot show.
const icmpFlowsNote = "note: ICMP flows differ only in the echo identifier (and so the checksum): a load balancer that hashes " +
	"addresses and ports sees one ICMP flow, and all flows may then take one path; use -u (UDP), whose flows differ in the source port, " +
	"to see every equal-cost path\n"

// validateFlows checks --flows against the mode and output format.
func (pf *probeFlags) validateFlows(mode probe.Mode) error {
	switch {
	case pf.flows == 0:
		return nil
	case pf.flows < 0 || pf.flows > flows.MaxFlows:
		return usagef("--flows %d out of range: use 1 to %d flows", pf.flows, flows.MaxFlows)
	case mode == probe.TCP:
		return usagef("--flows works with UDP (-u) and ICMP probes: every TCP probe already leaves from a source port of its own, so TCP has no fixed flows to enumerate")
	case pf.csv:
		return usagef("--flows prints text or JSON (--json); CSV has one row per hop and no room for several paths")
	case flowsUnsupported() != "":
		return usagef("--flows: %s", flowsUnsupported())
	}
	return nil
}

// flowRun probes the flows of report --flows: a tracer per flow, flow 0
// being the report's own tracer, every flow's round sent at once.
type flowRun struct {
	tracers []*trace.Tracer // flows 1 to N-1
	set     *flows.Set
	rounds  []trace.Round
	errs    []error
}

// newFlowRun returns nil when n is 0 (no flow enumeration).
func newFlowRun(prober probe.Prober, cfg trace.Config, n, window int) (*flowRun, error) {
	if n == 0 {
		return nil, nil
	}
	set, err := flows.New(n, window)
	if err != nil {
		return nil, usageError{err.Error()}
	}
	f := &flowRun{set: set, rounds: make([]trace.Round, n), errs: make([]error, n)}
	for i := 1; i < n; i++ {
		c := cfg
		c.Flow = uint16(i)
		tr, err := trace.New(prober, c, nil)
		if err != nil {
			return nil, usageError{err.Error()}
		}
		f.tracers = append(f.tracers, tr)
	}
	return f, nil
}

// round runs round i of every flow (tr is flow 0's tracer) and folds each
// into its flow's statistics; it returns flow 0's round, the report's own.
func (f *flowRun) round(ctx context.Context, i int, tr *trace.Tracer) (trace.Round, error) {
	if f == nil {
		return tr.Round(ctx, i, nil)
	}
	done := make(chan struct{}, len(f.tracers))
	for j, t := range f.tracers {
		go func() {
			f.rounds[j+1], f.errs[j+1] = t.Round(ctx, i, nil)
			done <- struct{}{}
		}()
	}
	f.rounds[0], f.errs[0] = tr.Round(ctx, i, nil)
	for range f.tracers {
		<-done
	}
	for j, r := range f.rounds {
		if f.errs[j] != nil {
			return trace.Round{}, f.errs[j]
		}
		if err := f.set.AddRound(r.End, j, Samples(r)); err != nil {
			return trace.Round{}, err
		}
	}
	return f.rounds[0], nil
}

// report returns the flows' distinct paths in the report's form.
func (f *flowRun) report(mode probe.Mode, name report.Namer) *report.Flows {
	if f == nil {
		return nil
	}
	varies := "source port"
	if mode == probe.ICMP {
		varies = "echo identifier"
	}
	return report.FlowsOf(f.set.Len(), varies, f.set.Paths(), name)
}

// writeFlowsNote tells an ICMP --flows user what its flows can show.
func writeFlowsNote(w io.Writer, pf probeFlags, mode probe.Mode) {
	if pf.flows > 0 && mode == probe.ICMP {
		fmt.Fprint(w, icmpFlowsNote)
	}
}
