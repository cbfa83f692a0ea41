package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pingerplot/pingerplot/internal/evidence"
	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/resolve"
)

const evidenceSynopsis = `pingerplot evidence [flags] TARGET

Writes one self-contained HTML file from the stored history of TARGET (its key, normally
the host as it was added): a summary in plain words, the destination's latency and loss,
the hop table and the timelines of the window, route changes and alerts, the probe
settings and where and when it was measured. It opens offline and loads nothing; every
chart exports as PNG. No probe is sent. docs/evidence.md says how to read it.`

// historyFlags are the flags of the commands that read a stored window.
type historyFlags struct {
	from, to string
	path     string
}

func (hf *historyFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&hf.from, "from", "", "start of the window: "+timeForms+" (default 24 h before --to)")
	fs.StringVar(&hf.to, "to", "", "end of the window, same forms (default now)")
	fs.StringVar(&hf.path, "history", "", "the history file (default: history.db in the user's data directory)")
}

func runEvidence(ctx context.Context, args []string, env Env) error {
	var hf historyFlags
	var out string
	var noDNS bool
	fs := flag.NewFlagSet("evidence", flag.ContinueOnError)
	hf.register(fs)
	fs.StringVar(&out, "o", "", "")
	fs.StringVar(&out, "output", "", "the HTML file to write (default pingerplot-evidence-TARGET-START.html here)")
	fs.BoolVar(&noDNS, "n", false, "")
	fs.BoolVar(&noDNS, "no-dns", false, "leave out the hops' reverse-DNS names (no lookup is made)")
	pos, err := parse(fs, args)
	if err == errHelp {
		printUsage(env.Stdout, fs, evidenceSynopsis)
		return err
	}
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one TARGET (its key in the history), got %d arguments", len(pos))
	}
	now := time.Now()
	from, to, err := window(hf.from, hf.to, now)
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
	d, err := evidence.Build(ctx, st, info.Key, from, to, evidence.LocalMeta(info.Addr, now))
	if err != nil {
		return err
	}
	if !noDNS {
		nameHops(ctx, &d)
	}
	if out == "" {
		out = fmt.Sprintf("pingerplot-evidence-%s-%s.html", safeName(info.Key), from.Format("20060102-1504"))
	}
	if err := writeEvidence(out, d); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Wrote %s: %s, %s to %s, %d rounds.\n", out, info.Key,
		from.Format("2006-01-02 15:04"), to.Format("2006-01-02 15:04"), d.Summary.Rounds)
	return nil
}

// writeEvidence writes the file whole or not at all: a half-written file
// would be evidence of nothing.
func writeEvidence(path string, d evidence.Data) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".evidence-*.html")
	if err != nil {
		return fmt.Errorf("cannot write next to %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := evidence.Render(tmp, d); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// openHistoryReader opens the history file read-only, beside a monitor
// that may be writing it.
func openHistoryReader(path string) (*history.Store, error) {
	if path == "" {
		p, err := history.DefaultPath()
		if err != nil {
			return nil, fmt.Errorf("finding the history file: %w; give one with --history", err)
		}
		path = p
	}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no history file at %s: 'pingerplot ui' and 'headless' write it while they monitor (or give another with --history)", path)
		}
		return nil, fmt.Errorf("history file: %w", err)
	}
	st, err := history.Open(history.Options{Path: path, ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("opening the history %s: %w", path, err)
	}
	return st, nil
}

// storedTarget finds TARGET in the store: by its key, else by the host
// or the address it was recorded with when only one target matches. An
// unknown one is an error that lists what the store holds.
func storedTarget(ctx context.Context, st *history.Store, arg string) (history.TargetInfo, error) {
	info, err := st.Target(ctx, arg)
	if err == nil {
		return info, nil
	}
	if !errors.Is(err, history.ErrUnknownTarget) {
		return info, fmt.Errorf("reading target %q from the history: %w", arg, err)
	}
	all, lerr := st.Targets(ctx)
	if lerr != nil {
		return info, fmt.Errorf("reading the history's targets: %w", lerr)
	}
	var match []history.TargetInfo
	for _, t := range all {
		if t.Host == arg || (t.Addr.IsValid() && t.Addr.String() == arg) {
			match = append(match, t)
		}
	}
	if len(match) == 1 {
		return match[0], nil
	}
	if len(all) == 0 {
		return info, fmt.Errorf("no history for %q: the history file holds no target yet", arg)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "no history for %q; give one of the targets the history holds:", arg)
	for _, t := range all {
		fmt.Fprintf(&b, "\n  %-24s %s %s, %d rounds from %s to %s", t.Key, t.Host, addrOrDash(t.Addr), t.Rounds,
			t.First.Local().Format("2006-01-02 15:04"), t.Last.Local().Format("2006-01-02 15:04"))
	}
	return info, usageError{b.String()}
}

func addrOrDash(a netip.Addr) string {
	if !a.IsValid() {
		return "-"
	}
	return a.String()
}

// nameHops fills the hops' reverse-DNS names, waiting at most a few
// seconds: a name the resolver does not give in time is left out.
func nameHops(ctx context.Context, d *evidence.Data) {
	res := resolve.New(resolve.Config{})
	defer res.Close()
	for _, h := range d.Hops {
		if a, err := netip.ParseAddr(h.Addr); err == nil {
			res.Name(a)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	res.Wait(wctx)
	cancel()
	for i, h := range d.Hops {
		if a, err := netip.ParseAddr(h.Addr); err == nil && d.Hops[i].Host == "" {
			d.Hops[i].Host, _ = res.Name(a)
		}
	}
}

// safeName keeps a key usable in a file name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return '_'
	}, s)
}
