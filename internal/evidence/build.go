package evidence

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/pingerplot/pingerplot/internal/diagnose"
	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/report"
)

// Meta says where, when and by what the file was made.
type Meta struct {
	Version  string    // the tool's version ("1.2.3 (abc1234)")
	Vantage  string    // this machine's source address toward the target; "unknown" when not known
	TimeZone string    // the time zone the file's times are written in ("CET, UTC+01:00")
	Made     time.Time // when the file was made
	// Names returns the reverse-DNS name of a hop's address, "" when
	// unknown; nil leaves the names out. Build calls it once per address.
	Names func(netip.Addr) string
}

// Data is everything one evidence file shows, read from the store once.
// Render draws it and nothing else, so a test builds Data by hand.
// Times are written in the location of From.
type Data struct {
	Key      string
	Target   history.TargetInfo
	From, To time.Time // the window asked for
	// Step is the width of one time bucket of Series.
	Step    time.Duration
	Summary history.Summary
	// Hops is the hop table of the window, names filled where known.
	Hops []report.Hop
	// Series is every TTL's buckets on one time axis (From to To).
	Series []history.HopSeries
	// Events are what happened to the target in the window that a reader
	// of the evidence should know: route changes, alerts, probes the
	// system could not send, pauses, settings changes, recording gaps.
	Events []monitor.Event
	Meta   Meta
	// Diagnosis is the window's diagnosis (Diagnose: package diagnose's
	// rules over the window's last DiagnosisRounds raw rounds); nil when
	// not made, and the summary then reads the hop table alone.
	Diagnosis *diagnose.Diagnosis
}

// steps is about how many time buckets a chart gets: a little under one
// per pixel of its plot, so a bucket is never narrower than a line.
const steps = 300

// eventKinds are the events the file lists; the others (a target added,
// a name resolved) say nothing about the path.
var eventKinds = []monitor.EventKind{
	monitor.RouteChange, monitor.PathLength, monitor.Multipath,
	monitor.AlertRaised, monitor.AlertCleared,
	monitor.SendFailed, monitor.SendResumed, monitor.NoAnswerEvent,
	monitor.PausedEvent, monitor.ResumedEvent, monitor.SettingsChanged,
	monitor.RecordGap, monitor.RecordError,
}

// Build reads the window [from, to) of the target key from st. An
// unknown key is history.ErrUnknownTarget (wrapped).
func Build(ctx context.Context, st *history.Store, key string, from, to time.Time, meta Meta) (Data, error) {
	if !from.Before(to) {
		return Data{}, fmt.Errorf("the window's start %s is not before its end %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if st == nil {
		return Data{}, errors.New("no history store: history is off")
	}
	info, err := st.Target(ctx, key)
	if err != nil {
		return Data{}, fmt.Errorf("target %q: %w", key, err)
	}
	sum, err := st.Summary(ctx, key, from, to)
	if err != nil {
		return Data{}, fmt.Errorf("summary of %q: %w", key, err)
	}
	step := StepFor(to.Sub(from), info.Probe.Interval)
	series, err := st.Series(ctx, key, from, to, step)
	if err != nil {
		return Data{}, fmt.Errorf("series of %q: %w", key, err)
	}
	events, err := st.Events(ctx, key, from, to)
	if err != nil {
		return Data{}, fmt.Errorf("events of %q: %w", key, err)
	}
	events = slices.DeleteFunc(events, func(e monitor.Event) bool { return !slices.Contains(eventKinds, e.Kind) })
	var names report.Namer
	if meta.Names != nil {
		seen := map[netip.Addr]string{}
		names = func(a netip.Addr) string {
			n, ok := seen[a]
			if !ok {
				n = meta.Names(a)
				seen[a] = n
			}
			return n
		}
	}
	dg, err := Diagnose(ctx, st, info, from, to, names)
	if err != nil {
		return Data{}, fmt.Errorf("diagnosis of %q: %w", key, err)
	}
	loc := from.Location()
	return Data{Diagnosis: &dg,
		Key: key, Target: info, From: from, To: to.In(loc), Step: step,
		Summary: sum, Hops: report.Hops(sum.Hops, names), Series: series, Events: events, Meta: meta,
	}, nil
}

// StepFor is the bucket width of a window: about 300 buckets, never
// shorter than the probe interval (a bucket with no round in it would
// read as a gap) nor than a second, in whole seconds.
func StepFor(window, interval time.Duration) time.Duration {
	step := max(window/steps, interval, time.Second)
	return step.Round(time.Second)
}
