// Package notify carries monitor events out of the process: a webhook that
// POSTs each alert raise and clear as a documented, versioned JSON object
// (docs/webhook.md).
//
// A notifier never delays its caller: Notify queues and returns, and a
// worker goroutine owned by the notifier does the I/O, bounded by a
// timeout, a few retries and a queue that drops its oldest entry when
// full. Nothing is lost for good that way: the caller writes every event
// to the event log as well, whatever the endpoint does.
//
// This package sees monitor events only; it must not import socket code,
// and internal/monitor must not import it.
package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/report"
)

// BodyVersion is the version of the JSON body. It changes only when a
// field is removed or changes meaning; new fields may appear in version 1.
const BodyVersion = 1

// Body is the JSON object POSTed for an alert raise or clear.
type Body struct {
	Version int    `json:"version"`
	ID      string `json:"id"`    // the same for every attempt at one event: deduplicate on it
	Event   string `json:"event"` // "alert_raised" or "alert_cleared"
	Time    string `json:"time"`  // when the condition changed, RFC 3339 UTC
	Target  string `json:"target"`
	Host    string `json:"host"` // the target as the user gave it
	Addr    string `json:"addr"` // the address probed
	// Condition is "loss", "latency" or "closed" (a TCP port that refuses
	// connections); Value and Threshold are in Unit: "percent" for loss
	// and closed (the share of the window's answers that were refusals,
	// threshold 100), "ms" for latency.
	Condition string  `json:"condition"`
	Value     float64 `json:"value"`
	Threshold float64 `json:"threshold"`
	Unit      string  `json:"unit"`
	Window    int     `json:"window"` // how many recent destination probes the rule looks at
	Message   string  `json:"message"`
	// Diagnosis is the target's diagnosis when the event was queued:
	// where the problem is (docs/diagnosis.md), the same object as in
	// the report's JSON. Absent when none was made yet. Added within
	// version 1.
	Diagnosis *report.Diagnosis `json:"diagnosis,omitempty"`
}

// WebhookConfig configures NewWebhook. The zero value of each field but
// Target means the default documented on it.
type WebhookConfig struct {
	// Target returns a target's current settings: its Webhook URL ("" for
	// none), host, address and alert window. Notify calls it on the
	// caller's goroutine, so it must be quick and must not call Notify.
	Target func(monitor.ID) (monitor.Target, bool)
	// Diagnosis, if set, returns a target's current diagnosis for the
	// body (nil: none yet). Notify calls it on the caller's goroutine, so
	// it must be quick; nil leaves the diagnosis out.
	Diagnosis func(monitor.ID) *report.Diagnosis
	// Timeout bounds each attempt, the answer included; 0 means 5 s.
	Timeout time.Duration
	// Retries is how many times a failed post is tried again, FirstBackoff
	// after the first failure and twice as long after each next one, up
	// to MaxBackoff; 0 means 3 and a negative value none. Network errors,
	// timeouts, 5xx, 408 and 429 are retried; other answers are final.
	Retries int
	// Queue is how many events may wait for the endpoint; when it is full
	// the oldest is dropped and reported. 0 means 100.
	Queue int
	// CloseTimeout is how long Close keeps delivering what is queued; 0
	// means 10 s.
	CloseTimeout time.Duration
	// Client sends the requests; nil means a client of the webhook's own
	// that does not follow redirects (a redirected POST would be replayed
	// as a GET without its body).
	Client *http.Client
	// Logger gets every failed attempt; nil means none.
	Logger *slog.Logger
	// OnError, if not nil, gets every event the webhook gave up on, with
	// why and what to do, so the caller can record it (a RecordError
	// event). It is called from the webhook's goroutine, one at a time.
	OnError func(target monitor.ID, err error)
}

// Defaults of WebhookConfig.
const (
	DefaultTimeout      = 5 * time.Second
	DefaultRetries      = 3
	DefaultQueue        = 100
	DefaultCloseTimeout = 10 * time.Second
	FirstBackoff        = time.Second
	MaxBackoff          = 30 * time.Second
)

// Webhook posts alert raises and clears to each target's webhook URL.
// Events are delivered one at a time, in order, by a goroutine that
// NewWebhook starts and Close ends.
type Webhook struct {
	cfg WebhookConfig
	box *outbox[delivery]
}

type delivery struct {
	target monitor.ID
	url    string
	body   Body
}

// NewWebhook validates cfg and starts the webhook's worker.
func NewWebhook(cfg WebhookConfig) (*Webhook, error) {
	if cfg.Target == nil {
		return nil, errors.New("webhook: no Target lookup given")
	}
	if cfg.Timeout < 0 || cfg.Queue < 0 || cfg.CloseTimeout < 0 {
		return nil, errors.New("webhook: negative timeout or queue size; use 0 for the defaults")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Retries == 0 {
		cfg.Retries = DefaultRetries
	}
	cfg.Retries = max(cfg.Retries, 0)
	if cfg.Queue == 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.CloseTimeout == 0 {
		cfg.CloseTimeout = DefaultCloseTimeout
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.OnError == nil {
		cfg.OnError = func(monitor.ID, error) {}
	}
	w := &Webhook{cfg: cfg}
	w.box = newOutbox(outboxConfig[delivery]{
		size: cfg.Queue, closeTimeout: cfg.CloseTimeout,
		target:  func(d delivery) monitor.ID { return d.target },
		deliver: w.deliver,
		dropped: func(id monitor.ID, n int) {
			cfg.OnError(id, fmt.Errorf("webhook queue full: dropped the %d oldest alert events of this target (they are in the event log); the endpoint is slow or down", n))
		},
		abandoned: func(d delivery) {
			cfg.OnError(d.target, fmt.Errorf("webhook %s: %s not delivered before shutdown; it is in the event log",
				redact(d.url), d.body.Event))
		},
	})
	return w, nil
}

// CheckURL reports whether raw can be a webhook URL: absolute, http or
// https, with a host. Config validation calls it so a bad URL is refused
// when the settings are read, not when the first alert fires.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("webhook URL %q does not parse (%v); write it as http://host/path or https://host/path", raw, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	case "":
		return fmt.Errorf("webhook URL %q has no scheme; write it as http://host/path or https://host/path", raw)
	default:
		return fmt.Errorf("webhook URL %q: scheme %q is not supported; use an http:// or https:// URL", raw, u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("webhook URL %q has no host; write it as %s://host/path", raw, u.Scheme)
	}
	return nil
}

// Notify queues e for posting if it is an alert raise or clear of a
// target with a webhook URL, and returns at once; other events are
// ignored. After Close it does nothing.
func (w *Webhook) Notify(e monitor.Event) {
	if e.Kind != monitor.AlertRaised && e.Kind != monitor.AlertCleared {
		return
	}
	t, ok := w.cfg.Target(e.Target)
	if !ok || t.Webhook == "" {
		return
	}
	var diag *report.Diagnosis
	if w.cfg.Diagnosis != nil {
		// Read when the event is queued, not when it is sent: a retry
		// carries the diagnosis of the moment the alert changed.
		diag = w.cfg.Diagnosis(e.Target)
	}
	w.box.push(delivery{target: e.Target, url: t.Webhook, body: bodyFor(e, t, diag)})
}

// Close stops taking events, delivers what is queued for up to
// CloseTimeout, then abandons the rest and waits for the worker. Its
// error counts the events abandoned.
func (w *Webhook) Close() error {
	if lost := w.box.close(); lost > 0 {
		return fmt.Errorf("webhook: %d alert events not delivered within %v of shutdown; they are in the event log", lost, w.cfg.CloseTimeout)
	}
	return nil
}

// deliver posts d, retrying with backoff, and reports a final failure.
func (w *Webhook) deliver(ctx context.Context, d delivery) {
	where := redact(d.url)
	if err := CheckURL(d.url); err != nil {
		w.cfg.OnError(d.target, fmt.Errorf("%s not posted: %w", d.body.Event, err))
		return
	}
	body, err := json.Marshal(d.body)
	if err != nil { // a Body always encodes; NaN values are the exception
		w.cfg.OnError(d.target, fmt.Errorf("webhook %s: encode %s: %v", where, d.body.Event, err))
		return
	}
	for attempt := 1; ; attempt++ {
		retry, err := w.post(ctx, d.url, body)
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			w.box.abandon(d)
			return
		}
		w.cfg.Logger.Warn("webhook post failed", "target", string(d.target), "url", where, "attempt", attempt, "err", err)
		if !retry || attempt > w.cfg.Retries {
			what := "check the URL"
			if retry {
				what = "check that the endpoint is up and answers 2xx"
			}
			w.cfg.OnError(d.target, fmt.Errorf("webhook %s: %s not delivered after %d attempts: %v; %s (the alert is in the event log)",
				where, d.body.Event, attempt, err, what))
			return
		}
		t := time.NewTimer(Backoff(attempt))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			w.box.abandon(d)
			return
		}
	}
}

// Backoff is the wait after the n-th failed attempt (n from 1):
// FirstBackoff doubled n-1 times, at most MaxBackoff.
func Backoff(n int) time.Duration {
	d := FirstBackoff
	for i := 1; i < n && d < MaxBackoff; i++ {
		d *= 2
	}
	return min(d, MaxBackoff)
}

// post makes one attempt. retry says whether another attempt could do
// better.
func (w *Webhook) post(ctx context.Context, u string, body []byte) (retry bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "PingerPlot-webhook/"+strconv.Itoa(BodyVersion))
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		// A url.Error repeats the whole URL, which may hold a token.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %v", w.cfg.Timeout)
		}
		return true, err
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	resp.Body.Close()
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
		return false, nil
	case c >= 500, c == http.StatusRequestTimeout, c == http.StatusTooManyRequests:
		return true, fmt.Errorf("endpoint answered %s", resp.Status)
	case c >= 300 && c < 400:
		to := "elsewhere"
		if loc, err := resp.Location(); err == nil {
			to = redact(loc.String())
		}
		return false, fmt.Errorf("endpoint answered %s, a redirect to %s (redirects are not followed: configure the final URL)", resp.Status, to)
	default:
		return false, fmt.Errorf("endpoint answered %s", resp.Status)
	}
}

// redact keeps the scheme and host of a URL: paths and queries of webhook
// URLs often carry secrets (Slack, Teams, Discord).
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	if u.Path == "" && u.RawQuery == "" {
		return u.Scheme + "://" + u.Host
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// bodyFor builds the JSON body of e for target t.
func bodyFor(e monitor.Event, t monitor.Target, diag *report.Diagnosis) Body {
	when := e.Time.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
	sum := sha256.Sum256([]byte(string(e.Target) + "\x00" + string(e.Kind) + "\x00" + string(e.Condition) + "\x00" + when))
	b := Body{
		Version: BodyVersion, ID: hex.EncodeToString(sum[:16]),
		Event: string(e.Kind), Time: when,
		Target: string(e.Target), Host: t.Host,
		Condition: string(e.Condition), Value: e.Value, Threshold: e.Threshold,
		Window: t.Alert.Window, Message: e.Message, Diagnosis: diag,
	}
	if t.Addr.IsValid() {
		b.Addr = t.Addr.String()
	}
	if b.Window == 0 {
		b.Window = alert.DefaultWindow
	}
	switch e.Condition {
	case alert.Loss, alert.Closed:
		b.Unit = "percent"
	case alert.Latency:
		b.Unit = "ms"
	}
	return b
}
