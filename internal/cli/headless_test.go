package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
	"github.com/pingerplot/pingerplot/internal/resolve"
)

// syncBuffer is an io.Writer safe for the goroutines that print to the
// console at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// loadHeadless writes cfg as a headless config in a new directory and
// loads it.
func loadHeadless(t *testing.T, cfg string) (string, config.Headless) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "headless.json")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := config.Load(path)
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	return path, h
}

// parseAddr is the host lookup of headless tests: addresses only, no DNS.
func parseAddr(_ context.Context, host string) (netip.Addr, error) { return netip.ParseAddr(host) }

// readCSV returns the rows of a CSV file, header first.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// TestHeadlessEventLogRouting runs the headless wiring with several
// targets, each with its own event log. The recorder starts before the
// targets are added (so it logs their target_added events); the routing it
// reads must be complete and safely published by then. Under -race a
// routing table filled while the recorder reads it fails this test; without
// -race the symptom is an event written to no log or to the wrong one.
func TestHeadlessEventLogRouting(t *testing.T) {
	const n = 6
	var targets []string
	for i := range n {
		targets = append(targets, fmt.Sprintf(`{"target": "10.0.3.1", "name": "t%d", "event_log_path": "ev%d.csv"}`, i, i))
	}
	path, h := loadHeadless(t, `{"version": 1, "status_interval": 0, "defaults": {"interval": 1},
		"targets": [`+strings.Join(targets, ",")+`]}`)
	var out syncBuffer
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 3500*time.Millisecond)
		defer cancel()
		err := runHeadlessConfig(ctx, path, h, headlessWiring{
			Prober: probetest.Path(time.Millisecond, 2*time.Millisecond, 3*time.Millisecond),
			Names:  func(netip.Addr) string { return "" }, Lookup: parseAddr,
			Stdout: &out, Stderr: &out,
		})
		if err != nil {
			t.Fatalf("runHeadlessConfig: %v", err)
		}
	})
	for i := range n {
		evPath := filepath.Join(filepath.Dir(path), fmt.Sprintf("ev%d.csv", i))
		rows := readCSV(t, evPath)
		var added []string
		for _, r := range rows[1:] {
			if r[2] == "target_added" {
				added = append(added, r[1])
			}
		}
		if want := fmt.Sprintf("t%d", i); len(added) != 1 || added[0] != want {
			t.Errorf("%s: target_added rows for %v; want one for %s", filepath.Base(evPath), added, want)
		}
	}
}

// answer500 is a webhook endpoint that always fails, without a network.
type answer500 struct {
	mu    sync.Mutex
	posts int
}

func (a *answer500) RoundTrip(r *http.Request) (*http.Response, error) {
	a.mu.Lock()
	a.posts++
	a.mu.Unlock()
	return &http.Response{StatusCode: 500, Status: "500 Internal Server Error", Body: http.NoBody, Request: r}, nil
}

// consoleLayout is the one layout of headless's console lines about
// targets: local time, target, kind, message.
var consoleLayout = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  \S.{15} \S+ +\S`)

// TestHeadlessConsoleAndGiveUps runs headless with a probe log that cannot
// be written and a webhook that answers 500 to an alert. Every console
// line about a target is in one layout (no slog key=value lines), each
// write failure is printed once, and the webhook's give-up is a
// record_error event in the event log as well as on the console.
func TestHeadlessConsoleAndGiveUps(t *testing.T) {
	dir := t.TempDir()
	// A regular file where the log's directory should be: no one, root
	// included, can create the log.
	if err := os.WriteFile(filepath.Join(dir, "notadir"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := `{"version": 1, "status_interval": 4,
		"defaults": {"interval": 1, "alert_latency_ms": 10, "alert_window": 3},
		"targets": [{"target": "10.0.3.1", "name": "web", "log_path": "notadir/probes.csv",
			"event_log_path": "events.csv", "webhook_url": "http://hooks.example/secret-token"}]}`
	path := filepath.Join(dir, "headless.json")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	hook := &answer500{}
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 12500*time.Millisecond)
		defer cancel()
		net := probetest.Path(time.Millisecond, 2*time.Millisecond, 50*time.Millisecond)
		err := runHeadlessConfig(ctx, path, h, headlessWiring{
			Prober: net, Names: func(netip.Addr) string { return "" }, Lookup: parseAddr,
			Webhook: &http.Client{Transport: hook}, Stdout: &stdout, Stderr: &stderr,
		})
		// The summary beside the log cannot be written either.
		if err == nil || !strings.Contains(err.Error(), "summary") {
			t.Errorf("runHeadlessConfig = %v; want the summary's failure", err)
		}
	})
	out := stdout.String() + stderr.String()
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		switch {
		case strings.HasPrefix(line, "monitoring "), strings.HasPrefix(line, "stopped;"):
		case !consoleLayout.MatchString(line) || strings.Contains(line, "level=") || strings.Contains(line, "msg="):
			t.Errorf("console line %q is not in the console layout", line)
		}
	}
	logLines := strings.Count(out, "probe log")
	if got := strings.Count(out, "not delivered after 4 attempts"); got != 1 {
		t.Errorf("the webhook's give-up is printed %d times; want once:\n%s", got, out)
	}
	if strings.Contains(out, "secret-token") {
		t.Errorf("the console shows the webhook URL's path:\n%s", out)
	}
	rows := readCSV(t, filepath.Join(dir, "events.csv"))
	var kinds []string
	var giveUp, logError bool
	logRows := 0
	for _, r := range rows[1:] {
		kinds = append(kinds, r[2])
		if r[2] == "record_error" {
			giveUp = giveUp || strings.Contains(r[4], "webhook") && strings.Contains(r[4], "alert_raised not delivered")
			if strings.Contains(r[4], "probe log") {
				logError = true
				logRows++
			}
		}
	}
	if logLines != logRows || logLines == 0 {
		t.Errorf("the probe log's failures: %d console lines, %d event-log rows; want each failure once in both:\n%s", logLines, logRows, out)
	}
	if !giveUp || !logError {
		t.Errorf("event log kinds %v: webhook give-up recorded %v, log failure recorded %v; want both", kinds, giveUp, logError)
	}
	if hook.posts != 4 {
		t.Errorf("webhook got %d posts; want 4 (1 + 3 retries)", hook.posts)
	}
}

// endpoints is a fake network of webhook endpoints, by host: "hang" never
// answers (until the attempt's deadline), "fail" answers 500. It records
// when each was posted to.
type endpoints struct {
	mu    sync.Mutex
	posts map[string][]time.Time
}

func (e *endpoints) RoundTrip(r *http.Request) (*http.Response, error) {
	e.mu.Lock()
	e.posts[r.URL.Host] = append(e.posts[r.URL.Host], time.Now())
	e.mu.Unlock()
	if r.URL.Host == "hang" {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	return &http.Response{StatusCode: 500, Status: "500 Internal Server Error", Body: http.NoBody, Request: r}, nil
}

// TestHeadlessWebhookFaults: one target's webhook hangs, another's answers
// 500, a third has none. Probing of all three keeps its pace, each
// endpoint gets its first post and 3 retries after 1, 2 and 4 s, and each
// give-up is a record_error event in the target's event log.
func TestHeadlessWebhookFaults(t *testing.T) {
	path, h := loadHeadless(t, `{"version": 1, "status_interval": 0,
		"defaults": {"interval": 1, "alert_latency_ms": 10, "alert_window": 3,
			"log_path": "probes.csv", "event_log_path": "events.csv"},
		"targets": [
			{"target": "10.0.3.1", "name": "hang", "webhook_url": "http://hang/hook"},
			{"target": "10.0.3.1", "name": "fail", "webhook_url": "http://fail/hook"},
			{"target": "10.0.3.1", "name": "plain"}]}`)
	eps := &endpoints{posts: map[string][]time.Time{}}
	var out syncBuffer
	const run = 70 * time.Second
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), run)
		defer cancel()
		err := runHeadlessConfig(ctx, path, h, headlessWiring{
			Prober: probetest.Path(time.Millisecond, 2*time.Millisecond, 50*time.Millisecond),
			Names:  func(netip.Addr) string { return "" }, Lookup: parseAddr,
			Webhook: &http.Client{Transport: eps}, Stdout: &out, Stderr: &out,
		})
		if err != nil {
			t.Fatalf("runHeadlessConfig: %v", err)
		}
	})
	rows := readCSV(t, filepath.Join(filepath.Dir(path), "events.csv"))
	giveUps := map[string]string{}
	for _, r := range rows[1:] {
		if r[2] == "record_error" {
			giveUps[r[1]] = r[4]
		}
	}
	for host, want := range map[string]string{"hang": "no answer within 5s", "fail": "500 Internal Server Error"} {
		posts := eps.posts[host]
		if len(posts) != 4 {
			t.Errorf("%s: %d posts; want 4 (1 + 3 retries)", host, len(posts))
			continue
		}
		for i, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
			gap := posts[i+1].Sub(posts[i])
			if host == "hang" {
				gap -= 5 * time.Second // each attempt waits out its 5 s timeout first
			}
			if gap != wait {
				t.Errorf("%s: retry %d came %v after the failure; want %v", host, i+1, gap, wait)
			}
		}
		if msg := giveUps[host]; !strings.Contains(msg, "not delivered after 4 attempts") || !strings.Contains(msg, want) {
			t.Errorf("%s: record_error %q; want the give-up after 4 attempts, saying %q", host, msg, want)
		}
	}
	if _, ok := giveUps["plain"]; ok {
		t.Errorf("plain: record_error %q; want none", giveUps["plain"])
	}
	// Probing is unaffected: every target logged a round a second.
	perTarget := map[string]map[string]bool{}
	for _, r := range readCSV(t, filepath.Join(filepath.Dir(path), "probes.csv"))[1:] {
		if perTarget[r[2]] == nil {
			perTarget[r[2]] = map[string]bool{}
		}
		perTarget[r[2]][r[1]] = true
	}
	for _, id := range []string{"hang", "fail", "plain"} {
		if n := len(perTarget[id]); n < int(run/time.Second)-2 {
			t.Errorf("%s: %d rounds logged in %v at 1 s; want about %d", id, n, run, int(run/time.Second))
		}
	}
}

// TestHeadlessSlowDNS: the DNS server does not answer for the first
// minute (every lookup runs into its timeout), then answers at once.
// Rounds keep their pace throughout, the first rows have no host name,
// and names fill in once a lookup is tried again after the failure's
// negative-cache time (5 minutes).
func TestHeadlessSlowDNS(t *testing.T) {
	path, h := loadHeadless(t, `{"version": 1, "status_interval": 0,
		"defaults": {"interval": 1, "log_path": "probes.csv"},
		"targets": [{"target": "10.0.3.1", "name": "web"}]}`)
	var out syncBuffer
	const run = 7 * time.Minute
	var lookups, timedOut int
	synctest.Test(t, func(t *testing.T) {
		begin := time.Now()
		var mu sync.Mutex
		res := resolve.New(resolve.Config{Lookup: func(ctx context.Context, addr string) ([]string, error) {
			mu.Lock()
			lookups++
			mu.Unlock()
			if time.Since(begin) < time.Minute {
				<-ctx.Done() // a DNS server that never answers
				mu.Lock()
				timedOut++
				mu.Unlock()
				return nil, ctx.Err()
			}
			return []string{"r-" + addr + ".example."}, nil
		}})
		defer res.Close()
		ctx, cancel := context.WithTimeout(t.Context(), run)
		defer cancel()
		err := runHeadlessConfig(ctx, path, h, headlessWiring{
			Prober: probetest.Path(time.Millisecond, 2*time.Millisecond, 3*time.Millisecond),
			Names:  func(a netip.Addr) string { n, _ := res.Name(a); return n },
			Lookup: parseAddr, Stdout: &out, Stderr: &out,
		})
		if err != nil {
			t.Fatalf("runHeadlessConfig: %v", err)
		}
	})
	rows := readCSV(t, filepath.Join(filepath.Dir(path), "probes.csv"))[1:]
	var starts []time.Time
	named := map[string]bool{} // round → some hop has a name
	for _, r := range rows {
		if r[5] != "" {
			named[r[1]] = true
		}
		if r[3] == "1" {
			at, err := time.Parse(time.RFC3339Nano, r[0])
			if err != nil {
				t.Fatal(err)
			}
			starts = append(starts, at)
		}
	}
	if n := len(starts); n < int(run/time.Second)-2 {
		t.Fatalf("%d rounds in %v at 1 s; want about %d: lookups must not delay rounds", n, run, int(run/time.Second))
	}
	var worst time.Duration
	for i := 1; i < len(starts); i++ {
		worst = max(worst, starts[i].Sub(starts[i-1]))
	}
	if worst > 1100*time.Millisecond {
		t.Errorf("rounds up to %v apart; want 1 s: a timing-out lookup must not delay a round", worst)
	}
	if named["1"] || named["30"] {
		t.Errorf("rounds 1 and 30 have host names; want none while DNS does not answer")
	}
	last := rows[len(rows)-1][1]
	if !named[last] {
		t.Errorf("the last round (%s) has no host name; want names filled in once DNS answers", last)
	}
	if timedOut == 0 {
		t.Errorf("no lookup timed out; the test did not exercise a dead DNS server")
	}
	t.Logf("%d rounds, %d lookups (%d timed out), names from round %d on", len(starts), lookups, timedOut, firstNamed(named, len(starts)))
}

func firstNamed(named map[string]bool, n int) int {
	for i := 1; i <= n; i++ {
		if named[fmt.Sprint(i)] {
			return i
		}
	}
	return 0
}
