// Package recorder is the monitor's subscriber that keeps the records: it
// writes every round to the target's CSV probe log, every event to its
// event log and the console, and hands alert events to the webhook. A
// record that cannot be written (full disk, no permission) is reported and
// retried; probing never waits for it.
package recorder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/pingerplot/pingerplot/internal/atomicfile"
	"github.com/pingerplot/pingerplot/internal/csvlog"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/notify"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// Config configures a Recorder. Zero fields are off.
type Config struct {
	// Target looks a target up (for its log paths and caps).
	Target func(monitor.ID) (monitor.Target, bool)
	// EventLogPath returns where a target's events go; nil or "" means
	// beside its probe log (EventLogPathFor).
	EventLogPath func(monitor.ID) string
	// Names returns a reverse-DNS name without blocking, "" if unknown.
	// A target whose settings switch names off (monitor.Settings.NoNames)
	// gets none: its host column stays empty.
	Names func(netip.Addr) string
	// Console, if set, gets one line per event: local time, target, kind,
	// message, in columns.
	Console io.Writer
	Logger  *slog.Logger
	Webhook *notify.Webhook
	// Mailer, if set, gets every event too: it mails alert raises and
	// clears to the targets that have recipients.
	Mailer  *notify.Mailer
	TimeNow func() time.Time
	// Monitor, if set, is where the recorder catches up after a Gap (the
	// recorder subscribes durably: monitor.SubscriberConfig) and where it
	// reports what it could not write, as record_error and record_gap
	// events, so each problem reaches the event log, the console and the
	// dashboard once. Without it, problems go to Console only.
	Monitor Source
}

// Source is what the recorder needs of the monitor: *monitor.Monitor.
type Source interface {
	Rounds(id monitor.ID, first, last int) ([]trace.Round, error)
	Events(id monitor.ID) []monitor.Event
	Report(id monitor.ID, kind monitor.EventKind, message string) error
}

// EventLogPathFor is the default event log of a probe log: logs/x.csv →
// logs/x.events.csv.
func EventLogPathFor(logPath string) string {
	if logPath == "" {
		return ""
	}
	return strings.TrimSuffix(logPath, ".csv") + ".events.csv"
}

// SummaryPathFor is where the per-hop summary of target id, whose probe
// log is logPath, goes when monitoring stops at (the end of its latest
// round): logs/x.csv → logs/x.summary.ID.20260304T050607Z.csv. Each run
// leaves its own file, so earlier runs' summaries are kept, and targets
// that share a probe log do not overwrite each other's. Characters of
// the ID that do not belong in a file name become "_".
func SummaryPathFor(logPath string, id monitor.ID, at time.Time) string {
	safe := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		}
		return '_'
	}, string(id))
	return strings.TrimSuffix(logPath, ".csv") + ".summary." + safe + "." + at.UTC().Format("20060102T150405Z") + ".csv"
}

// Recorder writes the records. Logs are opened on first use and shared by
// the targets that name the same file.
type Recorder struct {
	cfg      Config
	mu       sync.Mutex
	probes   map[string]*csvlog.Log
	events   map[string]*csvlog.EventLog
	failed   map[string]error // open failures that retrying cannot mend
	reported map[string]bool  // those already told to the user
	// lastEnd is the end of the latest round logged per target: where a
	// gap in its probe log begins.
	lastEnd map[monitor.ID]time.Time
}

// New returns a Recorder.
func New(cfg Config) *Recorder {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.TimeNow == nil {
		cfg.TimeNow = time.Now
	}
	if cfg.Names == nil {
		cfg.Names = func(netip.Addr) string { return "" }
	}
	return &Recorder{cfg: cfg, probes: map[string]*csvlog.Log{}, events: map[string]*csvlog.EventLog{},
		failed: map[string]error{}, reported: map[string]bool{}, lastEnd: map[monitor.ID]time.Time{}}
}

// Run consumes updates until the channel closes or ctx ends.
func (r *Recorder) Run(ctx context.Context, updates <-chan monitor.Update) {
	monitor.Consume(ctx, updates, r.Handle)
}

// Handle records one update.
func (r *Recorder) Handle(u monitor.Update) {
	switch {
	case u.Round != nil:
		r.round(u.Round)
	case u.Event != nil:
		r.event(*u.Event)
	case u.Gap != nil:
		r.gap(u.Gap)
	}
}

// gap catches up with what the monitor dropped from the recorder's
// channel: the rounds and events its history still holds are recorded as
// if they had come in time; what it no longer holds gets a gap row in the
// probe log and a record_gap event.
func (r *Recorder) gap(g *monitor.Gap) {
	if r.cfg.Monitor == nil {
		for _, tg := range g.Targets {
			r.problem(tg.Target, monitor.RecordGap, GapMessage(tg.Rounds(), tg.Events, time.Time{}, time.Time{}))
		}
		return
	}
	for _, tg := range g.Targets {
		if n := tg.Rounds(); n > 0 {
			rounds, _ := r.cfg.Monitor.Rounds(tg.Target, tg.FirstRound, tg.LastRound)
			if lost := n - len(rounds); lost > 0 {
				r.roundGap(tg.Target, tg.FirstRound, lost, rounds)
			}
			for i := range rounds {
				r.round(&monitor.RoundDone{Target: tg.Target, Round: rounds[i]})
			}
		}
		if tg.Events == 0 {
			continue
		}
		found := 0
		for _, e := range r.cfg.Monitor.Events(tg.Target) {
			if e.Seq >= tg.FirstSeq && e.Seq <= tg.LastSeq {
				r.event(e)
				found++
			}
		}
		if lost := tg.Events - found; lost > 0 {
			r.problem(tg.Target, monitor.RecordGap, GapMessage(0, lost, time.Time{}, time.Time{}))
		}
	}
}

// roundGap records that n rounds of id from first on are lost for good:
// a gap row in its probe log, if it has one, and a record_gap event with
// the span (from the end of the last round logged to the start of the
// first one caught up, as far as they are known).
func (r *Recorder) roundGap(id monitor.ID, first, n int, after []trace.Round) {
	t, ok := r.lookup(id)
	if !ok || t.LogPath == "" {
		return // its rounds are not recorded anyway
	}
	r.mu.Lock()
	from := r.lastEnd[id]
	r.mu.Unlock()
	var to time.Time
	if len(after) > 0 {
		to = after[0].Start
	}
	at := from
	if at.IsZero() {
		at = r.cfg.TimeNow()
	}
	l, err := r.probeLog(t)
	if err == nil {
		err = l.WriteGap(string(id), first, at)
	}
	r.report(id, t.LogPath, err)
	r.problem(id, monitor.RecordGap, GapMessage(n, 0, from, to))
}

// GapMessage words a record gap for a person: how many rounds and events
// were lost and, when known, the time span.
func GapMessage(rounds, events int, from, to time.Time) string {
	var what []string
	if rounds > 0 {
		what = append(what, fmt.Sprintf("%d rounds", rounds))
	}
	if events > 0 {
		what = append(what, fmt.Sprintf("%d events", events))
	}
	msg := strings.Join(what, " and ") + " not recorded: the recorder fell behind and the monitor's history no longer held them"
	switch {
	case !from.IsZero() && !to.IsZero():
		msg += fmt.Sprintf(" (between %s and %s)", from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	case !from.IsZero():
		msg += fmt.Sprintf(" (after %s)", from.UTC().Format(time.RFC3339))
	}
	return msg + "; if it recurs, the disk or the machine is too slow for this many targets"
}

func (r *Recorder) round(d *monitor.RoundDone) {
	t, ok := r.lookup(d.Target)
	if !ok || t.LogPath == "" {
		return
	}
	l, err := r.probeLog(t)
	if err == nil {
		err = l.WriteRound(string(d.Target), d.Round, t.Names(r.cfg.Names))
	}
	end := d.Round.End
	if end.IsZero() { // rebuilt from history: only the start is kept
		end = d.Round.Start
	}
	r.mu.Lock()
	r.lastEnd[d.Target] = end
	r.mu.Unlock()
	r.report(d.Target, t.LogPath, err)
}

func (r *Recorder) event(e monitor.Event) {
	if r.cfg.Console != nil {
		fmt.Fprintf(r.cfg.Console, "%s  %-16s %-16s %s\n", e.Time.Local().Format("2006-01-02 15:04:05"), e.Target, e.Kind, e.Message)
	}
	if r.cfg.Webhook != nil {
		r.cfg.Webhook.Notify(e)
	}
	if r.cfg.Mailer != nil {
		r.cfg.Mailer.Notify(e)
	}
	t, ok := r.lookup(e.Target)
	path := ""
	if r.cfg.EventLogPath != nil {
		path = r.cfg.EventLogPath(e.Target)
	}
	if path == "" && ok {
		path = EventLogPathFor(t.LogPath)
	}
	if path == "" {
		return
	}
	l, err := r.eventLog(path, t)
	if err == nil {
		err = l.Write(e)
	}
	r.report(e.Target, path, err)
}

// Note records an event of a target the monitor does not hold (yet),
// such as a headless target whose name does not resolve: to its event
// log (Config.EventLogPath must name it) and the console. It is safe to
// call while Run is running.
func (r *Recorder) Note(e monitor.Event) { r.event(e) }

func (r *Recorder) lookup(id monitor.ID) (monitor.Target, bool) {
	if r.cfg.Target == nil {
		return monitor.Target{}, false
	}
	return r.cfg.Target(id)
}

func (r *Recorder) probeLog(t monitor.Target) (*csvlog.Log, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if l := r.probes[t.LogPath]; l != nil {
		return l, nil
	}
	if err := r.failed[t.LogPath]; err != nil {
		return nil, err
	}
	l, err := csvlog.Open(csvlog.Config{Path: t.LogPath, MaxBytes: t.LogMaxBytes, MaxFiles: t.LogMaxFiles, TimeNow: r.cfg.TimeNow})
	if err != nil {
		r.failed[t.LogPath] = err
		return nil, err
	}
	r.probes[t.LogPath] = l
	return l, nil
}

func (r *Recorder) eventLog(path string, t monitor.Target) (*csvlog.EventLog, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if l := r.events[path]; l != nil {
		return l, nil
	}
	if err := r.failed[path]; err != nil {
		return nil, err
	}
	l, err := csvlog.OpenEvents(csvlog.Config{Path: path, MaxBytes: t.LogMaxBytes, MaxFiles: t.LogMaxFiles, TimeNow: r.cfg.TimeNow})
	if err != nil {
		r.failed[path] = err
		return nil, err
	}
	r.events[path] = l
	return l, nil
}

// WriteSummary replaces the per-hop summary beside snap's probe log
// (SummaryPathFor) atomically; a target without a probe log has none. Host
// names follow the target's settings as in its probe log.
func (r *Recorder) WriteSummary(snap monitor.Snapshot) error {
	if snap.LogPath == "" {
		return nil
	}
	sum := csvlog.FromSnapshot(snap, snap.Names(r.cfg.Names))
	at := snap.Last
	if at.IsZero() {
		at = time.Now() // no round ended: the stop is now
	}
	err := atomicfile.Write(SummaryPathFor(snap.LogPath, snap.ID, at), 0o644, func(w io.Writer) error {
		return csvlog.WriteSummary(w, sum)
	})
	if err != nil {
		return fmt.Errorf("summary of %s: %w", snap.ID, err)
	}
	return nil
}

// report tells the user about a record that could not be written, once per
// failure: the log itself suspends writes until its retry time.
func (r *Recorder) report(id monitor.ID, path string, err error) {
	if err == nil || errors.Is(err, csvlog.ErrSuspended) {
		return
	}
	r.mu.Lock()
	if r.failed[path] != nil {
		// An open failure that retrying cannot mend is reported once.
		if r.reported[path] {
			r.mu.Unlock()
			return
		}
		r.reported[path] = true
	}
	r.mu.Unlock()
	r.problem(id, monitor.RecordError, err.Error())
}

// problem tells the user, once, about a record that failed or a gap: as a
// monitor event when the monitor takes it (it comes back as an update and
// is written to the event log and the console like any other). When it
// does not (no monitor, a target removed, a monitor closed while the last
// Gap is caught up), the recorder writes the event itself.
func (r *Recorder) problem(id monitor.ID, kind monitor.EventKind, msg string) {
	if r.cfg.Monitor != nil && r.cfg.Monitor.Report(id, kind, msg) == nil {
		return
	}
	if r.cfg.Console == nil {
		r.cfg.Logger.Warn("record problem", "target", string(id), "kind", string(kind), "err", msg)
	}
	r.event(monitor.Event{Time: r.cfg.TimeNow(), Target: id, Kind: kind, Message: msg})
}

// Close flushes and closes every log.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for _, l := range r.probes {
		errs = append(errs, l.Close())
	}
	for _, l := range r.events {
		errs = append(errs, l.Close())
	}
	r.probes, r.events = map[string]*csvlog.Log{}, map[string]*csvlog.EventLog{}
	return errors.Join(errs...)
}
