package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/report"
	"github.com/pingerplot/pingerplot/internal/resolve"
)

const storedReportSynopsis = `pingerplot report --from T [--to T] [--json|--csv] TARGET

Prints the per-hop table of a stored window of TARGET (its key in the history, normally
the host as it was added), recomputed from the history with the live table's rules.
No probe is sent. Without --to the window ends now.`

// storedWindowAsked says whether report's arguments ask for a stored
// window (--from or --to) rather than a run of probes.
func storedWindowAsked(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && (name == "from" || name == "to" || name == "history") {
			return true
		}
	}
	return false
}

// storedWindow is what the JSON of a stored window adds to the live
// report's object (docs/report-format.md).
type storedWindow struct {
	Key        string    `json:"key"`
	FirstRound time.Time `json:"first_round,omitzero"`
	LastRound  time.Time `json:"last_round,omitzero"`
	// Exact is false when part of the window came from per-minute
	// rollups: percentiles within about 1 %, last RTT the last minute's.
	Exact bool `json:"exact"`
}

func runStoredReport(ctx context.Context, args []string, env Env) error {
	var hf historyFlags
	var asJSON, asCSV, noDNS bool
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	hf.register(fs)
	fs.BoolVar(&asJSON, "json", false, "print one JSON object (docs/report-format.md)")
	fs.BoolVar(&asCSV, "csv", false, "print CSV, one row per hop")
	fs.BoolVar(&noDNS, "n", false, "")
	fs.BoolVar(&noDNS, "no-dns", false, "show addresses only: no reverse-DNS lookup")
	pos, err := parse(fs, args)
	if err == errHelp {
		printUsage(env.Stdout, fs, storedReportSynopsis)
		return err
	}
	if err != nil {
		return err
	}
	if asJSON && asCSV {
		return usagef("--json and --csv cannot be used together")
	}
	if len(pos) != 1 {
		return usagef("want exactly one TARGET (its key in the history), got %d arguments", len(pos))
	}
	from, to, err := window(hf.from, hf.to, time.Now())
	if err != nil {
		return err
	}
	st, err := openHistoryReader(hf.path)
	if err != nil {
		return err
	}
	defer st.Close()
	info, err := storedTarget(ctx, st, pos[0])
	if err != nil {
		return err
	}
	sum, err := st.Summary(ctx, info.Key, from, to)
	if err != nil {
		return fmt.Errorf("reading the window of %q: %w", info.Key, err)
	}
	if sum.Rounds == 0 {
		return fmt.Errorf("no round of %q between %s and %s; the history holds it from %s to %s",
			info.Key, from.Format(time.RFC3339), to.Format(time.RFC3339),
			info.First.Local().Format(time.RFC3339), info.Last.Local().Format(time.RFC3339))
	}
	var namer report.Namer
	if !noDNS {
		namer = storedNames(ctx, sum)
	}
	rep := storedReport(info, sum, namer, !noDNS)
	win := storedWindow{Key: info.Key, FirstRound: sum.First, LastRound: sum.Last, Exact: sum.Exact}
	switch {
	case asJSON:
		// The live report's object with "history" added, indented alike.
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			report.Report
			History storedWindow `json:"history"`
		}{rep, win})
	case asCSV:
		return report.WriteCSV(env.Stdout, rep)
	}
	if err := report.WriteText(env.Stdout, rep); err != nil {
		return err
	}
	note := ""
	if !sum.Exact {
		note = "; part of it from per-minute summaries (percentiles within about 1 %, Last is the last minute's)"
	}
	_, err = fmt.Fprintf(env.Stdout, "From the history (no probe sent): %d rounds recorded %s to %s%s.\n",
		sum.Rounds, sum.First.Local().Format(time.RFC3339), sum.Last.Local().Format(time.RFC3339), note)
	return err
}

// storedReport is the live report's object for a stored window: the
// same renderers print it, so the two read alike.
func storedReport(info history.TargetInfo, sum history.Summary, namer report.Namer, dns bool) report.Report {
	p := info.Probe
	host := info.Host
	if host == "" {
		host = info.Key
	}
	fam := "ipv4"
	if info.Addr.Is6() {
		fam = "ipv6"
	}
	rep := report.Report{
		FormatVersion: report.FormatVersion,
		Target:        host, Addr: addrOrDash(info.Addr), Mode: p.Mode,
		Settings: report.Settings{Count: sum.Rounds, IntervalS: p.Interval.Seconds(), TimeoutS: p.Timeout.Seconds(),
			Port: uint16(p.Port), Size: p.Size, FirstTTL: 1, MaxHops: p.MaxHops, DNS: dns, AddressFam: fam},
		Backend: "history",
		Start:   sum.From.Local(), End: sum.To.Local(), Rounds: sum.Rounds,
		Hops: report.Hops(sum.Hops, namer),
	}
	for _, h := range rep.Hops {
		rep.Reached = rep.Reached || h.Dest
	}
	rep.PortState = report.PortStateOf(rep.Mode, rep.Hops)
	return rep
}

// storedNames looks up the names of the window's responders, waiting a
// few seconds at most.
func storedNames(ctx context.Context, sum history.Summary) report.Namer {
	res := resolve.New(resolve.Config{})
	for _, h := range sum.Hops {
		for _, r := range h.Responders {
			res.Name(r.Addr)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	res.Wait(wctx)
	cancel()
	names := map[netip.Addr]string{}
	for _, h := range sum.Hops {
		for _, r := range h.Responders {
			names[r.Addr], _ = res.Name(r.Addr)
		}
	}
	res.Close()
	return func(a netip.Addr) string { return names[a] }
}
