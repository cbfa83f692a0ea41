package notify

import (
	"encoding/csv"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/csvlog"
	"github.com/pingerplot/pingerplot/internal/monitor"
)

// These tests use real HTTP servers on 127.0.0.1 and the webhook's own
// client, so they cannot run in a synctest bubble; they measure how long
// calls take instead of waiting for anything.

// endpoints returns a Target lookup that gives each target its URL.
func endpoints(urls map[monitor.ID]string) func(monitor.ID) (monitor.Target, bool) {
	return func(id monitor.ID) (monitor.Target, bool) {
		u, ok := urls[id]
		return monitor.Target{ID: id, Host: string(id), Settings: monitor.Settings{Webhook: u}}, ok
	}
}

// TestSlowAndDeadEndpoints: an endpoint that takes 10 s to answer and one
// that refuses connections never delay the caller, and every event still
// reaches the event log.
func TestSlowAndDeadEndpoints(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body) // the server notices a client hanging up only once the body is read
		select {
		case <-time.After(10 * time.Second):
		case <-r.Context().Done(): // the client gave up: end now, not in 10 s
		}
	}))
	defer slow.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String() + "/hook"
	ln.Close() // nothing listens there now: connection refused

	var e errs
	w, err := NewWebhook(WebhookConfig{
		Target:       endpoints(map[monitor.ID]string{"slow": slow.URL + "/hook", "dead": dead}),
		CloseTimeout: 300 * time.Millisecond,
		OnError:      e.add,
	})
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "events.csv")
	events, err := csvlog.OpenEvents(csvlog.Config{Path: logPath})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300 // more than the queue holds
	var slowest time.Duration
	for i := range n {
		ev := raised("slow", i)
		if i%2 == 1 {
			ev.Target = "dead"
		}
		start := time.Now()
		w.Notify(ev)
		slowest = max(slowest, time.Since(start))
		if err := events.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	if slowest > 100*time.Millisecond {
		t.Errorf("the slowest Notify took %v; want it to return at once", slowest)
	}
	start := time.Now()
	err = w.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v; want about its 300ms timeout", d)
	}
	if err == nil || !strings.Contains(err.Error(), "not delivered within 300ms of shutdown") {
		t.Errorf("Close = %v; want undelivered events reported", err)
	}
	events.Close()

	f, err := os.Open(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n+1 {
		t.Errorf("event log has %d rows; want a header and all %d events", len(rows), n)
	}
	if got := e.all(); len(got) == 0 {
		t.Error("no errors reported; want drops and undelivered events")
	}
}

func TestRealEndpoint(t *testing.T) {
	got := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Method + " " + r.URL.Path + " " + r.Header.Get("Content-Type")
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/elsewhere/secret-token", http.StatusFound)
		}
	}))
	defer srv.Close()
	reported := make(chan string, 10)
	w, err := NewWebhook(WebhookConfig{
		Target:  endpoints(map[monitor.ID]string{"ok": srv.URL + "/hook", "moved": srv.URL + "/moved"}),
		OnError: func(id monitor.ID, err error) { reported <- string(id) + ": " + err.Error() },
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Notify(raised("ok", 1))
	w.Notify(raised("moved", 2))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	close(got)
	var reqs []string
	for r := range got {
		reqs = append(reqs, r)
	}
	want := []string{"POST /hook application/json", "POST /moved application/json"}
	if strings.Join(reqs, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests %q; want %q (a redirect is not followed)", reqs, want)
	}
	close(reported)
	var errs []string
	for e := range reported {
		errs = append(errs, e)
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "moved: ") || !strings.Contains(errs[0], "302 Found, a redirect to http://127.0.0.1") ||
		!strings.Contains(errs[0], "configure the final URL") || strings.Contains(errs[0], "secret-token") {
		t.Errorf("errors %q; want one about the redirect, saying what to do, without the path", errs)
	}
}
