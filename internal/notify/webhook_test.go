package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/report"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// targets is a fake monitor: the settings of three targets.
func targets(id monitor.ID) (monitor.Target, bool) {
	switch id {
	case "web":
		return monitor.Target{ID: id, Host: "www.example.com", Addr: netip.MustParseAddr("192.0.2.7"),
			Settings: monitor.Settings{Webhook: "https://hooks.example/services/T0/SECRET", Alert: alert.Rules{LossPct: 20, Window: 50}}}, true
	case "quiet":
		return monitor.Target{ID: id, Host: "quiet.example"}, true
	case "ftp":
		return monitor.Target{ID: id, Host: "x", Settings: monitor.Settings{Webhook: "ftp://files.example/in"}}, true
	}
	return monitor.Target{}, false
}

func raised(target monitor.ID, seq int) monitor.Event {
	return monitor.Event{Time: t0.Add(time.Duration(seq) * time.Second), Target: target, Kind: monitor.AlertRaised,
		Message: "loss 25% over the last 50 probes (threshold 20%)", Condition: alert.Loss, Value: float64(seq), Threshold: 20}
}

// transport is a scripted endpoint: it records each request and answers
// as respond says.
type transport struct {
	respond func(n int, r *http.Request) (*http.Response, error)

	mu   sync.Mutex
	reqs []request
}

type request struct {
	at     time.Time
	body   []byte
	header http.Header
	url    string
}

func (tr *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(r.Body)
	tr.mu.Lock()
	n := len(tr.reqs)
	tr.reqs = append(tr.reqs, request{at: time.Now(), body: body, header: r.Header.Clone(), url: r.URL.String()})
	tr.mu.Unlock()
	return tr.respond(n, r)
}

func (tr *transport) requests() []request {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.reqs)
}

func status(code int) (*http.Response, error) {
	return &http.Response{StatusCode: code, Status: fmt.Sprintf("%d %s", code, http.StatusText(code)),
		Header: http.Header{}, Body: io.NopCloser(strings.NewReader("thanks"))}, nil
}

func answer(code int) func(int, *http.Request) (*http.Response, error) {
	return func(int, *http.Request) (*http.Response, error) { return status(code) }
}

// hang never answers: the attempt ends with its timeout.
func hang(_ int, r *http.Request) (*http.Response, error) {
	<-r.Context().Done()
	return nil, r.Context().Err()
}

// errs collects what OnError reports.
type errs struct {
	mu   sync.Mutex
	list []string
}

func (e *errs) add(id monitor.ID, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, string(id)+": "+err.Error())
}

func (e *errs) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.list)
}

func newHook(t *testing.T, tr *transport, e *errs, cfg WebhookConfig) *Webhook {
	t.Helper()
	cfg.Target = targets
	cfg.Client = &http.Client{Transport: tr}
	cfg.OnError = e.add
	w, err := NewWebhook(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// offsets returns when each request came, relative to start.
func offsets(reqs []request, start time.Time) []time.Duration {
	var d []time.Duration
	for _, r := range reqs {
		d = append(d, r.at.Sub(start))
	}
	return d
}

func TestBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &transport{respond: answer(http.StatusNoContent)}
		var e errs
		w := newHook(t, tr, &e, WebhookConfig{})
		w.Notify(raised("web", 3))
		w.Notify(monitor.Event{Time: t0.Add(time.Minute), Target: "web", Kind: monitor.AlertCleared, Message: "latency back under 100 ms",
			Condition: alert.Latency, Value: 42.5, Threshold: 100})
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		reqs := tr.requests()
		if len(reqs) != 2 {
			t.Fatalf("%d requests; want 2", len(reqs))
		}
		want := []string{
			`{"version":1,"id":"ID","event":"alert_raised","time":"2025-03-01T12:00:03.000000Z","target":"web","host":"www.example.com","addr":"192.0.2.7","condition":"loss","value":3,"threshold":20,"unit":"percent","window":50,"message":"loss 25% over the last 50 probes (threshold 20%)"}`,
			`{"version":1,"id":"ID","event":"alert_cleared","time":"2025-03-01T12:01:00.000000Z","target":"web","host":"www.example.com","addr":"192.0.2.7","condition":"latency","value":42.5,"threshold":100,"unit":"ms","window":50,"message":"latency back under 100 ms"}`,
		}
		for i, r := range reqs {
			got := string(r.body)
			// The id is a hash; check its form, then the rest exactly.
			var b Body
			if err := json.Unmarshal(r.body, &b); err != nil {
				t.Fatalf("body %s: %v", got, err)
			}
			if len(b.ID) != 32 {
				t.Errorf("id %q; want 32 hex digits", b.ID)
			}
			if got = strings.Replace(got, b.ID, "ID", 1); got != want[i] {
				t.Errorf("body %d:\n%s\nwant:\n%s", i, got, want[i])
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q; want application/json", ct)
			}
			if r.url != "https://hooks.example/services/T0/SECRET" {
				t.Errorf("posted to %s", r.url)
			}
		}
		if got := e.all(); len(got) != 0 {
			t.Errorf("errors %q; want none", got)
		}
	})
}

func TestOnlyAlertsOfTargetsWithAURL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &transport{respond: answer(http.StatusOK)}
		var e errs
		w := newHook(t, tr, &e, WebhookConfig{})
		for _, k := range []monitor.EventKind{monitor.RouteChange, monitor.Multipath, monitor.PathLength, monitor.NoAnswerEvent,
			monitor.SettingsChanged, monitor.PausedEvent, monitor.ResumedEvent, monitor.Added, monitor.Removed, monitor.RecordError} {
			w.Notify(monitor.Event{Time: t0, Target: "web", Kind: k})
		}
		w.Notify(raised("quiet", 1))   // no webhook set
		w.Notify(raised("unknown", 1)) // not a target
		w.Notify(raised("ftp", 1))     // refused scheme
		w.Close()
		w.Notify(raised("web", 1)) // after Close: ignored
		if n := len(tr.requests()); n != 0 {
			t.Errorf("%d requests; want none", n)
		}
		got := e.all()
		if len(got) != 1 || !strings.Contains(got[0], `scheme "ftp" is not supported; use an http:// or https:// URL`) {
			t.Errorf("errors %q; want one saying ftp is not supported", got)
		}
	})
}

func TestRetries(t *testing.T) {
	fails := func(times int) func(int, *http.Request) (*http.Response, error) {
		return func(n int, _ *http.Request) (*http.Response, error) {
			if n < times {
				return nil, errors.New("connection refused")
			}
			return status(http.StatusOK)
		}
	}
	tests := []struct {
		name    string
		retries int
		respond func(int, *http.Request) (*http.Response, error)
		at      []time.Duration // attempt times
		err     string          // in the one error reported, "" for none
	}{
		{"ok", 0, answer(200), []time.Duration{0}, ""},
		{"503 with backoff", 0, answer(503), []time.Duration{0, 1e9, 3e9, 7e9},
			"web: webhook https://hooks.example/…: alert_raised not delivered after 4 attempts: endpoint answered 503 Service Unavailable; check that the endpoint is up"},
		{"500", 0, answer(500), []time.Duration{0, 1e9, 3e9, 7e9}, "after 4 attempts: endpoint answered 500"},
		{"408", 0, answer(408), []time.Duration{0, 1e9, 3e9, 7e9}, "408 Request Timeout"},
		{"429", 0, answer(429), []time.Duration{0, 1e9, 3e9, 7e9}, "429 Too Many Requests"},
		{"400 not retried", 0, answer(400), []time.Duration{0}, "after 1 attempts: endpoint answered 400 Bad Request; check the URL"},
		{"404 not retried", 0, answer(404), []time.Duration{0}, "404 Not Found; check the URL"},
		{"network errors, then ok", 0, fails(2), []time.Duration{0, 1e9, 3e9}, ""},
		{"network errors throughout", 0, fails(99), []time.Duration{0, 1e9, 3e9, 7e9}, "after 4 attempts: connection refused"},
		{"timeouts", 0, hang, []time.Duration{0, 6e9, 13e9, 22e9}, "after 4 attempts: no answer within 5s"},
		{"one retry", 1, answer(503), []time.Duration{0, 1e9}, "after 2 attempts"},
		{"no retries", -1, answer(503), []time.Duration{0}, "after 1 attempts"},
		{"capped backoff", 7, answer(503), []time.Duration{0, 1e9, 3e9, 7e9, 15e9, 31e9, 61e9, 91e9}, "after 8 attempts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tr := &transport{respond: tt.respond}
				var e errs
				w := newHook(t, tr, &e, WebhookConfig{Retries: tt.retries})
				start := time.Now()
				w.Notify(raised("web", 1))
				time.Sleep(5 * time.Minute) // fake time: every attempt is done
				synctest.Wait()
				reqs := tr.requests()
				if got := offsets(reqs, start); !slices.Equal(got, tt.at) {
					t.Errorf("attempts at %v; want %v", got, tt.at)
				}
				for _, r := range reqs[1:] {
					if string(r.body) != string(reqs[0].body) {
						t.Errorf("a retry sent %s; want the first body again %s", r.body, reqs[0].body)
					}
				}
				got := e.all()
				switch {
				case tt.err == "" && len(got) != 0:
					t.Errorf("errors %q; want none", got)
				case tt.err != "" && (len(got) != 1 || !strings.Contains(got[0], tt.err)):
					t.Errorf("errors %q; want one containing %q", got, tt.err)
				}
				if err := w.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		})
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, w := range want {
		if got := Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %v; want %v", i+1, got, w)
		}
	}
	if got := Backoff(1000); got != MaxBackoff {
		t.Errorf("Backoff(1000) = %v; want %v", got, MaxBackoff)
	}
}

func TestQueueDropsOldest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		tr := &transport{respond: func(n int, _ *http.Request) (*http.Response, error) {
			if n == 0 {
				<-release
			}
			return status(200)
		}}
		var e errs
		w := newHook(t, tr, &e, WebhookConfig{Queue: 10})
		w.Notify(raised("web", 1))
		synctest.Wait() // event 1 is in flight, the endpoint stuck
		for seq := 2; seq <= 16; seq++ {
			w.Notify(raised("web", seq))
		}
		close(release)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		var got []float64
		for _, r := range tr.requests() {
			var b Body
			json.Unmarshal(r.body, &b)
			got = append(got, b.Value)
		}
		want := []float64{1, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
		if !slices.Equal(got, want) {
			t.Errorf("delivered %v; want %v (the 5 oldest queued dropped)", got, want)
		}
		if errs := e.all(); len(errs) != 1 || !strings.Contains(errs[0], "web: webhook queue full: dropped the 5 oldest alert events") {
			t.Errorf("errors %q; want one reporting 5 drops", errs)
		}
	})
}

func TestCloseDrainsThenGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := &transport{respond: func(int, *http.Request) (*http.Response, error) {
			time.Sleep(time.Second) // a slow but working endpoint
			return status(200)
		}}
		var e errs
		w := newHook(t, tr, &e, WebhookConfig{})
		for seq := range 3 {
			w.Notify(raised("web", seq))
		}
		start := time.Now()
		if err := w.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if d := time.Since(start); d != 3*time.Second {
			t.Errorf("Close took %v; want 3s, the three posts", d)
		}
		if n := len(tr.requests()); n != 3 {
			t.Errorf("%d delivered; want 3", n)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		tr := &transport{respond: hang}
		var e errs
		w := newHook(t, tr, &e, WebhookConfig{CloseTimeout: 8 * time.Second})
		for seq := range 3 {
			w.Notify(raised("web", seq))
		}
		start := time.Now()
		err := w.Close()
		if d := time.Since(start); d != 8*time.Second {
			t.Errorf("Close took %v; want its 8s timeout", d)
		}
		if err == nil || err.Error() != "webhook: 3 alert events not delivered within 8s of shutdown; they are in the event log" {
			t.Errorf("Close = %v; want 3 events not delivered", err)
		}
		if got := e.all(); len(got) != 3 || !strings.Contains(got[0], "not delivered before shutdown") {
			t.Errorf("errors %q; want 3 saying not delivered before shutdown", got)
		}
	})
}

func TestCheckURL(t *testing.T) {
	tests := []struct{ url, err string }{
		{"http://127.0.0.1:8080/hook", ""},
		{"https://hooks.example/services/x", ""},
		{"HTTPS://hooks.example", ""},
		{"ftp://files.example/in", `scheme "ftp" is not supported; use an http:// or https:// URL`},
		{"file:///etc/passwd", `scheme "file" is not supported`},
		{"hooks.example/x", "has no scheme; write it as http://host/path"},
		{"", "has no scheme"},
		{"http://", "has no host"},
		{"http://[::1", "does not parse"},
	}
	for _, tt := range tests {
		err := CheckURL(tt.url)
		if (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("CheckURL(%q) = %v; want %q", tt.url, err, tt.err)
		}
	}
}

func TestNewWebhookRefuses(t *testing.T) {
	for _, cfg := range []WebhookConfig{{}, {Target: targets, Timeout: -1}, {Target: targets, Queue: -1}} {
		if _, err := NewWebhook(cfg); err == nil {
			t.Errorf("NewWebhook(%+v) = nil error; want one", cfg)
		}
	}
}

// TestDocExample keeps docs/webhook.md honest: its example body has
// exactly the fields the webhook sends.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/webhook.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/webhook.md has no ```json example")
	}
	var doced, sent map[string]any
	if err := json.Unmarshal([]byte(example), &doced); err != nil {
		t.Fatalf("the example does not parse: %v", err)
	}
	b, _ := json.Marshal(bodyFor(raised("web", 1), must(targets("web")), lossAt4()))
	json.Unmarshal(b, &sent)
	for k := range sent {
		if _, ok := doced[k]; !ok {
			t.Errorf("field %q is sent but not in the docs' example", k)
		}
	}
	for k := range doced {
		if _, ok := sent[k]; !ok {
			t.Errorf("field %q is in the docs' example but not sent", k)
		}
	}
}

func must(t monitor.Target, _ bool) monitor.Target { return t }

// TestBodyClosed: a closed port's alert reaches the webhook as condition
// "closed", in percent of the window's answers refused, threshold 100.
func TestBodyClosed(t *testing.T) {
	tests := []struct {
		kind  monitor.EventKind
		value float64
	}{
		{monitor.AlertRaised, 100},
		{monitor.AlertCleared, 75},
	}
	for _, tt := range tests {
		e := monitor.Event{Time: t0, Target: "web", Kind: tt.kind, Condition: alert.Closed, Value: tt.value, Threshold: alert.ClosedPct,
			Message: "closed alert: tcp port 443 is closed"}
		b := bodyFor(e, must(targets("web")), nil)
		if b.Event != string(tt.kind) || b.Condition != "closed" || b.Unit != "percent" || b.Value != tt.value || b.Threshold != 100 {
			t.Errorf("bodyFor(%s closed) = %+v; want condition closed, unit percent, value %v, threshold 100", tt.kind, b, tt.value)
		}
	}
}

// lossAt4 is a diagnosis as the engine's lookup gives it.
func lossAt4() *report.Diagnosis {
	since := t0.Add(-2 * time.Minute)
	median := 21.4
	return &report.Diagnosis{What: "loss", Confidence: "high", Since: &since,
		Where: &report.DiagnosisWhere{TTL: 4, Addr: "10.0.3.2", Host: "core1.example.net", FromTTL: 3},
		Text:  "Loss of 12.0 % (6 of 50 probes) starts on the link into hop 4 (core1.example.net 10.0.3.2) since 11:58:00: hop 3 loses 0.0 % of 50.",
		Evidence: report.DiagnosisEvidence{Rounds: 50, Test: "two-proportion z", Statistic: 3.4,
			Before: &report.DiagnosisGroup{Label: "hop 3 (10.0.2.2)", Sent: 50, Replies: 50, MedianMs: &median, SpreadMs: &median},
			After:  &report.DiagnosisGroup{Label: "destination", Sent: 50, Lost: 6, LossPct: 12, Replies: 44}},
		Hints: []report.DiagnosisHint{{TTL: 4, Addr: "10.0.3.2", Hint: "loss carried to the destination", Evidence: "12.0 % lost"}}}
}

// TestBodyDiagnosis: the body carries the target's diagnosis as the
// lookup gave it when the event was queued (a later change is not sent
// with a retry), and leaves the key out when there is none.
func TestBodyDiagnosis(t *testing.T) {
	tests := []struct {
		name   string
		lookup func(monitor.ID) *report.Diagnosis
		want   string // the diagnosis key as sent; "" for absent
	}{
		{"none configured", nil, ""},
		{"none yet", func(monitor.ID) *report.Diagnosis { return nil }, ""},
		{"loss at hop 4", func(id monitor.ID) *report.Diagnosis {
			if id != "web" {
				return nil
			}
			return lossAt4()
		}, `"what":"loss","where":{"ttl":4,"addr":"10.0.3.2","host":"core1.example.net","from_ttl":3}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tr := &transport{respond: answer(http.StatusNoContent)}
				var e errs
				w := newHook(t, tr, &e, WebhookConfig{Diagnosis: tt.lookup})
				w.Notify(raised("web", 3))
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				reqs := tr.requests()
				if len(reqs) != 1 {
					t.Fatalf("%d requests; want 1", len(reqs))
				}
				var m map[string]json.RawMessage
				if err := json.Unmarshal(reqs[0].body, &m); err != nil {
					t.Fatal(err)
				}
				got, ok := m["diagnosis"]
				switch {
				case tt.want == "" && ok:
					t.Errorf("diagnosis %s; want none", got)
				case tt.want != "" && !strings.Contains(string(got), tt.want):
					t.Errorf("diagnosis %s; want it to hold %s", got, tt.want)
				}
				if tt.want != "" {
					var b Body
					if err := json.Unmarshal(reqs[0].body, &b); err != nil || b.Version != 1 || b.Diagnosis == nil || len(b.Diagnosis.Hints) != 1 {
						t.Errorf("body %s (%v); want version 1 with the diagnosis and its one hint", reqs[0].body, err)
					}
				}
			})
		})
	}
}
