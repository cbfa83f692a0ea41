//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/lab"
)

// headless is a running `pingerplot headless` in the lab's client namespace.
type headless struct {
	cmd *exec.Cmd
	out *syncBuffer
	dir string
}

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

// workDir returns a directory the unprivileged user may write to.
func workDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pp-e2e-run-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startHeadless writes cfg to dir/monitor.json and starts the binary on it
// as the unprivileged user.
func startHeadless(t *testing.T, l *lab.Lab, dir string, cfg map[string]any) *headless {
	t.Helper()
	return startHeadlessWith(t, dir, cfg, func(path string) *exec.Cmd {
		return l.CommandUnprivileged(context.Background(), l.Client, binary(t), "headless", "-n", path)
	})
}

// startHeadlessWith writes cfg to dir/monitor.json and starts the command
// command(path) makes: the Linux binary, or the Windows one under Wine.
func startHeadlessWith(t *testing.T, dir string, cfg map[string]any, command func(path string) *exec.Cmd) *headless {
	t.Helper()
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "monitor.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	h := &headless{out: &syncBuffer{}, dir: dir}
	h.cmd = command(path)
	h.cmd.Stdout, h.cmd.Stderr = h.out, h.out
	if err := h.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if h.cmd.ProcessState == nil {
			_ = h.cmd.Process.Kill()
			_ = h.cmd.Wait()
		}
	})
	return h
}

// stop interrupts the run as Ctrl-C would and waits for a clean exit.
func (h *headless) stop(t *testing.T) {
	t.Helper()
	_ = h.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- h.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("headless did not exit cleanly on SIGINT: %v\n%s", err, h.out.String())
		}
	case <-time.After(15 * time.Second):
		_ = h.cmd.Process.Kill()
		t.Fatalf("headless did not stop within 15 s of SIGINT\n%s", h.out.String())
	}
	if !strings.Contains(h.out.String(), "logs flushed") {
		t.Errorf("headless output lacks the clean-stop line:\n%s", h.out.String())
	}
}

// readCSV parses a whole CSV file; every row must have the header's width.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s does not parse as CSV: %v", path, err)
	}
	return rows
}

// waitFor polls until cond holds, up to d: the binary under test runs in
// real time, so its files are watched.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rounds returns the highest round number in a probe log, and the send time
// of each round's first probe.
func rounds(path string) (int, map[int]time.Time) {
	f, err := os.Open(path)
	if err != nil {
		return 0, nil
	}
	defer f.Close()
	rows, _ := csv.NewReader(f).ReadAll()
	starts := map[int]time.Time{}
	max := 0
	for _, r := range rows[min(1, len(rows)):] {
		if len(r) < 2 {
			continue
		}
		n, err := strconv.Atoi(r[1])
		if err != nil {
			continue
		}
		ts, _ := time.Parse(time.RFC3339Nano, r[0])
		if s, ok := starts[n]; !ok || ts.Before(s) {
			starts[n] = ts
		}
		max = maxInt(max, n)
	}
	return max, starts
}

// rowCount counts the complete lines of a file, 0 if it does not exist.
func rowCount(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\n"))
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// events returns the event log's rows (without the header).
func events(path string) [][]string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	rows, _ := csv.NewReader(f).ReadAll()
	if len(rows) > 0 {
		rows = rows[1:]
	}
	return rows
}

func findEvent(rows [][]string, kind string) []string {
	for _, r := range rows {
		if len(r) > 2 && r[2] == kind {
			return r
		}
	}
	return nil
}

// TestHeadlessTwoTargetsKillAndRestart runs two targets from a config,
// kills the process with SIGKILL mid-run, restarts it, and checks both
// CSV logs parse completely and keep growing.
func TestHeadlessTwoTargetsKillAndRestart(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3})
	dir := workDir(t)
	cfg := map[string]any{
		"status_interval": 1,
		"defaults":        map[string]any{"interval": 0.05, "timeout": 0.5},
		"targets": []any{
			map[string]any{"target": l.TargetAddr4.String(), "name": "v4", "log_path": "logs/v4.csv"},
			map[string]any{"target": l.TargetAddr6.String(), "name": "v6", "mode": "udp", "log_path": "logs/v6.csv"},
		},
	}
	v4, v6 := filepath.Join(dir, "logs/v4.csv"), filepath.Join(dir, "logs/v6.csv")
	for run := 0; run < 3; run++ {
		before4, before6 := rowCount(v4), rowCount(v6)
		h := startHeadless(t, l, dir, cfg)
		// 20 rounds of 4 hops more in each log than before this run.
		waitFor(t, 20*time.Second, "rounds in both logs", func() bool {
			return rowCount(v4) >= before4+80 && rowCount(v6) >= before6+80
		})
		if run < 2 {
			// kill -9 mid-write as far as we can tell: the logs are being
			// appended to 20 times a second per target.
			_ = h.cmd.Process.Kill()
			_ = h.cmd.Wait()
		} else {
			h.stop(t)
		}
		for _, p := range []string{v4, v6} {
			rows := readCSV(t, p)
			if len(rows) < 2 || strings.Join(rows[0], ",") != "time,round,target,ttl,responder,host,rtt_ms,status" {
				t.Fatalf("%s: header %v; want the probe log header", p, rows[0])
			}
			for i, r := range rows[1:] {
				if len(r) != 8 || (r[7] != "reached" && r[7] != "time-exceeded") {
					t.Fatalf("%s row %d = %v; want a complete row of a clean lab", p, i+1, r)
				}
			}
		}
	}
	for _, p := range []string{v4, v6} {
		rows := readCSV(t, p)
		t.Logf("%s: %d rows after two kills and a clean stop", filepath.Base(p), len(rows)-1)
	}
	// A clean stop leaves each target's self-documenting summary beside its log.
	// Its name carries the target and the stop time (each run keeps its own).
	sums, _ := filepath.Glob(filepath.Join(dir, "logs/v6.summary.v6.*Z.csv"))
	if len(sums) != 1 {
		t.Fatalf("summaries after a clean stop: %v; want one logs/v6.summary.v6.<time>.csv", sums)
	}
	sum, err := os.ReadFile(sums[0])
	if err != nil {
		t.Fatalf("no summary after a clean stop: %v", err)
	}
	for _, want := range []string{"# target: v6", "# mode: udp", "# interval_s: 0.05", "mos", "ttl,addr,host,loss_pct"} {
		if !strings.Contains(string(sum), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum)
		}
	}
	if ev := events(filepath.Join(dir, "logs/v4.events.csv")); findEvent(ev, "target_added") == nil {
		t.Errorf("v4 event log has no target_added event: %v", ev)
	}
}

// TestHeadlessReroute switches the lab's path to its other branch while
// the monitor runs: a route-change event must come within two rounds.
func TestHeadlessReroute(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3, AltRouters: 1})
	dir := workDir(t)
	h := startHeadless(t, l, dir, map[string]any{
		"status_interval": 0,
		"defaults":        map[string]any{"interval": 0.2, "timeout": 0.5},
		"targets":         []any{map[string]any{"target": l.TargetAddr4.String(), "name": "t", "log_path": "t.csv"}},
	})
	logPath, evPath := filepath.Join(dir, "t.csv"), filepath.Join(dir, "t.events.csv")
	waitFor(t, 20*time.Second, "5 rounds", func() bool { n, _ := rounds(logPath); return n >= 5 })
	at := time.Now()
	if err := l.Reroute(true); err != nil {
		t.Fatal(err)
	}
	var ev []string
	waitFor(t, 10*time.Second, "a route_change event", func() bool {
		ev = findEvent(events(evPath), "route_change")
		return ev != nil
	})
	evTime, _ := time.Parse(time.RFC3339Nano, ev[0])
	_, starts := rounds(logPath)
	after := 0
	for _, s := range starts {
		if s.After(at) && !s.After(evTime) {
			after++
		}
	}
	t.Logf("route change %q reported %v after the reroute, %d round(s) later", ev[4], evTime.Sub(at).Round(time.Millisecond), after)
	if after > 2 {
		t.Errorf("route change reported after %d rounds; want within two", after)
	}
	if !strings.Contains(ev[4], l.AltHops4[0].String()) {
		t.Errorf("route change message %q does not name the new hop %v", ev[4], l.AltHops4[0])
	}
	h.stop(t)
}

// webhookServer listens on the client namespace's loopback and collects
// the JSON bodies posted to it.
type webhookServer struct {
	url    string
	mu     sync.Mutex
	bodies []map[string]any
}

func startWebhookServer(t *testing.T, l *lab.Lab) *webhookServer {
	t.Helper()
	ln, err := l.Listen(l.Client, "tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ws := &webhookServer{url: "http://" + ln.Addr().String() + "/hook"}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		if json.Unmarshal(b, &m) == nil {
			ws.mu.Lock()
			ws.bodies = append(ws.bodies, m)
			ws.mu.Unlock()
		}
		w.WriteHeader(http.StatusNoContent)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ws
}

func (ws *webhookServer) got(event string) map[string]any {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	for _, b := range ws.bodies {
		if b["event"] == event {
			return b
		}
	}
	return nil
}

// TestHeadlessLatencyAlert steps the latency of the target's link up: the
// latency alert raises within the window and clears after the step is
// removed, each reaching a webhook receiver on loopback.
func TestHeadlessLatencyAlert(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3, CableLinks: []int{3}})
	ws := startWebhookServer(t, l)
	dir := workDir(t)
	const window = 10
	const interval = 0.1
	h := startHeadless(t, l, dir, map[string]any{
		"status_interval": 0,
		"defaults": map[string]any{"interval": interval, "timeout": 0.5, "alert_latency_ms": 20, "alert_loss_pct": 0,
			"alert_window": window, "webhook_url": ws.url},
		"targets": []any{map[string]any{"target": l.TargetAddr4.String(), "name": "t", "log_path": "t.csv"}},
	})
	logPath, evPath := filepath.Join(dir, "t.csv"), filepath.Join(dir, "t.events.csv")
	waitFor(t, 20*time.Second, "a full window of rounds", func() bool { n, _ := rounds(logPath); return n >= window+2 })
	if e := findEvent(events(evPath), "alert_raised"); e != nil {
		t.Fatalf("alert raised before the latency step: %v", e)
	}
	stepAt := time.Now()
	step := lab.LinkParams{Delay: 15 * time.Millisecond} // +30 ms RTT
	if err := l.SetLink(3, step, step); err != nil {
		t.Fatal(err)
	}
	var raised []string
	waitFor(t, 15*time.Second, "alert_raised", func() bool { raised = findEvent(events(evPath), "alert_raised"); return raised != nil })
	_, starts := rounds(logPath)
	raisedAt, _ := time.Parse(time.RFC3339Nano, raised[0])
	n := 0
	for _, s := range starts {
		if s.After(stepAt) && !s.After(raisedAt) {
			n++
		}
	}
	t.Logf("latency alert raised %d rounds after the step: %v", n, raised)
	if raised[5] != "latency" || n > window {
		t.Errorf("raised %v after %d rounds; want the latency condition within the %d-probe window", raised, n, window)
	}
	clearAt := time.Now()
	if err := l.SetLink(3, lab.LinkParams{}, lab.LinkParams{}); err != nil {
		t.Fatal(err)
	}
	var cleared []string
	waitFor(t, 15*time.Second, "alert_cleared", func() bool { cleared = findEvent(events(evPath), "alert_cleared"); return cleared != nil })
	clearedAt, _ := time.Parse(time.RFC3339Nano, cleared[0])
	n = 0
	_, starts = rounds(logPath)
	for _, s := range starts {
		if s.After(clearAt) && !s.After(clearedAt) {
			n++
		}
	}
	if n > window {
		t.Errorf("cleared after %d rounds; want within the %d-probe window", n, window)
	}
	waitFor(t, 15*time.Second, "both webhooks", func() bool { return ws.got("alert_raised") != nil && ws.got("alert_cleared") != nil })
	if b := ws.got("alert_raised"); b["condition"] != "latency" || b["target"] != "t" || b["version"] != float64(1) {
		t.Errorf("webhook body %v; want version 1, target t, condition latency", b)
	}
	h.stop(t)
}

// TestHeadlessSilentDestinationNeverRaises: a destination that drops the
// probe type gets "does not answer this probe type", never a loss alert.
func TestHeadlessSilentDestinationNeverRaises(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3})
	if err := l.DropProbesAtTarget("icmp", true); err != nil {
		t.Fatal(err)
	}
	dir := workDir(t)
	h := startHeadless(t, l, dir, map[string]any{
		"status_interval": 0,
		"defaults":        map[string]any{"interval": 0.1, "timeout": 0.2, "alert_loss_pct": 20, "alert_window": 5},
		"targets":         []any{map[string]any{"target": l.TargetAddr4.String(), "name": "t", "log_path": "t.csv"}},
	})
	logPath, evPath := filepath.Join(dir, "t.csv"), filepath.Join(dir, "t.events.csv")
	waitFor(t, 30*time.Second, "20 rounds", func() bool { n, _ := rounds(logPath); return n >= 20 })
	h.stop(t)
	ev := events(evPath)
	if e := findEvent(ev, "alert_raised"); e != nil {
		t.Errorf("a destination that never answers raised %v; want no alert", e)
	}
	if e := findEvent(ev, "no_answer"); e == nil || !strings.Contains(e[4], "does not answer") {
		t.Errorf("no no_answer event saying the destination does not answer; events: %v", ev)
	}
}
