package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/diagnose"
	"github.com/pingerplot/pingerplot/internal/flowwatch"
	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/hopping"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/notify"
	"github.com/pingerplot/pingerplot/internal/pmtuwatch"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/recorder"
	"github.com/pingerplot/pingerplot/internal/report"
)

// engineConfig is what ui and headless give the engine they both run.
type engineConfig struct {
	Prober probe.Prober
	Names  func(netip.Addr) string // never nil: "" for no name
	Logger *slog.Logger
	// Console, if set, gets every event as a console line (headless).
	Console io.Writer
	// Stdout gets the endpoints' addresses and what has no target left
	// to report to.
	Stdout io.Writer
	// EventLogPath routes a target's events (headless: per config
	// entry); nil: beside its probe log.
	EventLogPath func(monitor.ID) string
	Webhook      *http.Client // nil: the webhook's own client
	MetricsAddr  string       // "" for no metrics endpoint
	History      config.History
	// PingHops sends direct hop pings for every target (--ping-hops);
	// without it, for the targets whose ping_hops setting is on.
	PingHops bool
	// PathMTU discovers the path MTU of every target (--pmtu); without
	// it, of the targets whose pmtu setting is on. PathMTUEvery is the
	// time between a target's discoveries (--pmtu-interval); 0 means
	// pmtuwatch.DefaultEvery.
	PathMTU      bool
	PathMTUEvery time.Duration
	// Flows enumerates that many ECMP flows for every target (--flows);
	// 0: for the targets whose flows setting is on.
	Flows int
}

// engine is the monitor and what runs beside it, the same in ui and
// headless: the recorder (probe and event logs, the webhook), the history
// store and the metrics endpoint, each a subscriber of the monitor.
type engine struct {
	M    *monitor.Monitor
	Rec  *recorder.Recorder
	Hist *history.Store // nil when off or when the file could not be opened
	// Diag keeps each target's diagnosis (where the problem is) and
	// reports its changes as diagnosis_changed events.
	Diag *diagnose.Watcher
	// PMTU keeps each target's latest path MTU discovery and reports
	// its changes as path_mtu events.
	PMTU *pmtuwatch.Watcher
	// Flows keeps each target's ECMP flows and their distinct paths.
	Flows *flowwatch.Watcher

	wh       *notify.Webhook
	mail     *notify.Mailer
	done     sync.WaitGroup // the durable subscribers' goroutines
	unsub    []func()
	stopMeta func()
	closed   bool
}

// startEngine builds the engine; the monitor's rounds start with its Run.
// A history file that cannot be opened is logged and the engine
// runs without it: monitoring matters more than remembering.
func startEngine(ctx context.Context, c engineConfig) (_ *engine, err error) {
	e := &engine{}
	e.M = monitor.New(monitor.Config{Prober: c.Prober, Logger: c.Logger, Names: c.Names})
	defer func() {
		if err != nil {
			e.M.Close()
		}
	}()
	// Made before the webhook and the metrics that read it; it runs as a
	// subscriber below.
	e.Diag = diagnose.NewWatcher(diagnose.WatcherConfig{Reporter: e.M, Options: diagnose.Options{Names: c.Names}})
	e.Flows = flowwatch.New(flowwatch.Config{Prober: c.Prober, All: c.Flows, Unsupported: flowsUnsupported(), Logger: c.Logger})
	e.PMTU = pmtuwatch.New(pmtuwatch.Config{Prober: c.Prober, Reporter: e.M, All: c.PathMTU, Every: c.PathMTUEvery, Logger: c.Logger})
	// A webhook that gives up says so as a record_error event: in the
	// event log, on the console, in the metrics. Its failed attempts
	// before that are not news: the give-up names them.
	e.wh, err = notify.NewWebhook(notify.WebhookConfig{
		Target: e.M.Target, Client: c.Webhook, Logger: c.Logger, Diagnosis: e.diagnosisObject,
		OnError: func(id monitor.ID, err error) {
			if e.M.Report(id, monitor.RecordError, err.Error()) != nil { // the target was removed meanwhile
				consoleLine(c.Stdout, time.Now(), string(id), string(monitor.RecordError), err.Error())
			}
		},
	})
	if err != nil {
		return nil, err
	}
	// The mailer reports what it gives up on the same way.
	e.mail, err = notify.NewMailer(notify.MailerConfig{
		Target: e.M.Target, Logger: c.Logger, Diagnosis: e.diagnosisObject,
		OnError: func(id monitor.ID, err error) {
			if e.M.Report(id, monitor.RecordError, err.Error()) != nil {
				consoleLine(c.Stdout, time.Now(), string(id), string(monitor.RecordError), err.Error())
			}
		},
	})
	if err != nil {
		_ = e.wh.Close()
		return nil, err
	}
	e.Rec = recorder.New(recorder.Config{
		Target: e.M.Target, Names: c.Names, Console: c.Console, Logger: c.Logger, Webhook: e.wh, Mailer: e.mail, Monitor: e.M,
		EventLogPath: c.EventLogPath,
	})
	if !c.History.Off {
		e.Hist, err = openHistory(c.History, false, c.Logger)
		if err != nil {
			c.Logger.Warn(fmt.Sprintf("%v; running without history (choose another file with \"history\": {\"path\": ...} in the settings or --history, or switch it off with \"enabled\": false or --no-history)", err))
			e.Hist, err = nil, nil
		}
	}
	if c.MetricsAddr != "" {
		var store func() history.Status
		if e.Hist != nil {
			store = e.Hist.Status
		}
		if e.stopMeta, err = serveMetrics(ctx, c.MetricsAddr, e.M, store, e.Diag.Latest, e.PMTU.Latest, e.Flows.Latest, c.Stdout); err != nil {
			if e.Hist != nil {
				_ = e.Hist.Close()
			}
			return nil, err
		}
	}
	// Durable: what a full channel drops is caught up from the monitor's
	// history or written down as a gap, never lost silently. The
	// diagnosis reads recent rounds; one it misses to a full channel only
	// delays it by a round.
	e.subscribe("recorder", true, e.Rec.Run)
	e.subscribe("diagnose", false, e.Diag.Run)
	// Direct hop pings feed the diagnosis; a round whose update is
	// dropped only sends no pings that round.
	pinger := &hopping.Runner{Prober: c.Prober, Sink: e.Diag, All: c.PingHops, Logger: c.Logger}
	e.subscribe("hopping", false, pinger.Run)
	// Path MTU discoveries start from rounds and route changes; one
	// dropped only starts its discovery a round later.
	e.subscribe("pmtu", false, e.PMTU.Run)
	// A target's other flows run one round per update; one dropped only
	// skips a round of them.
	e.subscribe("flows", false, e.Flows.Run)
	if e.Hist != nil {
		e.subscribe("history", true, func(ctx context.Context, u <-chan monitor.Update) { e.Hist.Run(ctx, u, e.M) })
	}
	return e, nil
}

// diagnosisObject is a target's current diagnosis as the JSON object
// the report, the webhook and the dashboard share; nil before its first
// round.
func (e *engine) diagnosisObject(id monitor.ID) *report.Diagnosis {
	d, ok := e.Diag.Latest(id)
	if !ok {
		return nil
	}
	return diagnose.ForReport(d, nil)
}

// subscribe runs consume on a new subscription of the monitor until the
// monitor closes its channel.
func (e *engine) subscribe(name string, durable bool, consume func(context.Context, <-chan monitor.Update)) {
	updates, unsub := e.M.SubscribeWith(monitor.SubscriberConfig{Name: name, Buffer: 4096, Durable: durable})
	e.unsub = append(e.unsub, unsub)
	e.done.Go(func() { consume(context.Background(), updates) })
}

// openHistory opens the store h describes.
func openHistory(h config.History, readOnly bool, logger *slog.Logger) (*history.Store, error) {
	st, err := history.Open(history.Options{Path: h.Path, MaxAge: h.MaxAge(), RollupMaxAge: h.RollupMaxAge(),
		MaxBytes: h.MaxBytes(), ReadOnly: readOnly, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return st, nil
}

// close stops the engine in the order that loses nothing: the webhook
// gets a bounded time to deliver (what it gives up on is still an event),
// beforeClose runs while every target is still there (headless writes
// its summaries), then the monitor closes, which hands each durable
// subscriber its last gap and ends their channels; the recorder and the
// store write what they were given and close their files.
func (e *engine) close(beforeClose func() error) error {
	if e.closed {
		return nil
	}
	e.closed = true
	var errs []error
	errs = append(errs, e.wh.Close(), e.mail.Close())
	if beforeClose != nil {
		errs = append(errs, beforeClose())
	}
	e.M.Close()
	for _, u := range e.unsub {
		u()
	}
	e.done.Wait()
	errs = append(errs, e.Rec.Close())
	if e.Hist != nil {
		errs = append(errs, e.Hist.Close())
	}
	if e.stopMeta != nil {
		e.stopMeta()
	}
	return errors.Join(errs...)
}
