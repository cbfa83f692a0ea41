//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/evidence"
	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/history/historytest"
	"github.com/pingerplot/pingerplot/internal/monitor"
)

// evidenceCharts are the charts the file of evidenceHistory has: the
// destination, and the timelines of the first hop, of hop 3 where the
// loss starts and of the destination.
var evidenceCharts = []string{"chart-destination", "timeline-first-hop", "timeline-where-the-loss-starts", "timeline-destination"}

// evidenceHistory writes a history file with two hours of a 5-hop path
// to dst.example ending now: from hop 3 on, 8 % of the probes are lost
// (the same rounds at every later TTL, as on a real path), hop 2 loses
// 25 % of its own replies; a route change and an alert in the window.
func evidenceHistory(t *testing.T, path string) {
	t.Helper()
	st, err := history.Open(history.Options{Path: path})
	if err != nil {
		t.Fatalf("history.Open: %v", err)
	}
	start := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	g := historytest.Gen{Hops: historytest.Path(5, map[int]float64{2: 0.25}), Start: start, Seed: 11}
	rounds := g.Rounds(7200)
	for i := range rounds {
		if (i*7919)%100 >= 8 {
			continue
		}
		r := &rounds[i]
		for j := range r.Hops {
			if h := &r.Hops[j]; h.TTL >= 3 {
				h.Reply.From, h.Reply.RTT, h.Reply.Kind = netip.Addr{}, 0, 0
			}
		}
		r.Reached, r.EndTTL = false, 0
	}
	historytest.Fill(t, st, "dst.example", "dst.example", rounds)
	events := []monitor.Event{
		{Seq: 1, Time: start.Add(40 * time.Minute), Target: "dst.example", Kind: monitor.RouteChange, TTL: 3, Message: "hop 3 changed from 10.0.0.9 to 10.0.0.3"},
		{Seq: 2, Time: start.Add(70 * time.Minute), Target: "dst.example", Kind: monitor.AlertRaised, Message: "loss 9 % over 60 probes"},
	}
	updates := make(chan monitor.Update, len(events))
	for i := range events {
		updates <- monitor.Update{Event: &events[i]}
	}
	close(updates)
	st.Run(context.Background(), updates, historytest.NewSource(monitor.Target{ID: "dst.example", Host: "dst.example"}))
	if err := st.Close(); err != nil {
		t.Fatalf("closing the history: %v", err)
	}
}

// TestEvidenceInBrowser writes the evidence file with the real binary from
// a history of synthetic rounds and opens it in headless Chromium with the
// network blocked (web/test/evidence.mjs): every section is found by its
// id, every chart is drawn, Export PNG downloads a PNG of the chart at
// twice its size, and no request was attempted. The browser runs in a
// network namespace of its own where unprivileged user namespaces allow
// one (nothing but a down loopback to reach), else in this one with every
// request refused by the script.
func TestEvidenceInBrowser(t *testing.T) {
	node, script := browserPrereqs(t)
	script = filepath.Join(filepath.Dir(script), "evidence.mjs")
	dir := t.TempDir()
	hist := filepath.Join(dir, "history.db")
	evidenceHistory(t, hist)

	page := filepath.Join(dir, "evidence.html")
	cmd := exec.Command(binary(t), "evidence", "--history", hist, "-n", "--from", "3h ago", "-o", page, "dst.example")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pingerplot evidence: %v\n%s", err, out)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	// Hop 2 loses more of its own replies than the loss that carries on,
	// so the diagnosis cannot tell whether the loss begins on the link
	// into hop 2 or into hop 3, and says so.
	if !strings.Contains(string(b), "the loss starts between hop 1 (10.0.0.1) and the hops after hop 2 (10.0.0.2), which does not answer every probe itself so cannot tell exactly") {
		t.Errorf("the summary does not place the loss between hop 1 and hop 3:\n%s", tail(string(b), 3000))
	}

	pngPath := filepath.Join(dir, "export.png")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := []string{node, script, "file://" + page}
	isolated := exec.Command("unshare", "-rn", "true").Run() == nil
	if isolated {
		args = append([]string{"unshare", "-rn"}, args...)
	} else {
		t.Logf("unshare -rn is not allowed here: Chromium runs in this network namespace, every request refused by the script")
	}
	run := exec.CommandContext(ctx, args[0], args[1:]...)
	run.Env = append(os.Environ(), "PP_CHROMIUM="+chromiumPath, "PP_PNG="+pngPath,
		"PP_SECTIONS="+strings.Join(evidence.Sections, ","), "PP_CHARTS="+strings.Join(evidenceCharts, ","))
	run.Cancel = func() error { return run.Process.Signal(os.Interrupt) }
	var stderr bytes.Buffer
	run.Stderr = &stderr
	stdout, err := run.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	var done *browserStep
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		var s browserStep
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Errorf("script printed %q: %v", sc.Text(), err)
			continue
		}
		switch {
		case s.Done:
			done = &s
		case s.OK:
			t.Logf("%-45s %5d ms  %s", s.Step, s.MS, s.Info)
		default:
			t.Errorf("step %q failed: %s", s.Step, s.Error)
		}
	}
	werr := run.Wait()
	if werr != nil || done == nil {
		t.Fatalf("node %s: %v (finished: %v)\nstderr:\n%s", script, werr, done != nil, tail(stderr.String(), 4000))
	}

	f, err := os.Open(pngPath)
	if err != nil {
		t.Fatalf("the exported PNG: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("the exported file is not a PNG: %v", err)
	}
	if got := img.Bounds().Size(); got.X != 1920 || got.Y != 524 {
		t.Errorf("the PNG is %dx%d; want 1920x524 (the 960x262 chart at 2x)", got.X, got.Y)
	}
}
