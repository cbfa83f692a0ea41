package e2e

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/lab"
	"github.com/pingerplot/pingerplot/internal/report"
)

// TestHeadlessClosedPort: two final-hop-only TCP checks of the lab's
// target, one on a port that listens and one on a port that refuses
// (RST). The open one is up as one hop with 0 % loss and no alert; the
// closed one logs its destination as hop 1 with status refused, turns
// closed, raises the closed alert (event log and webhook) and clears it
// once the port accepts connections.
func TestHeadlessClosedPort(t *testing.T) {
	const openPort, closedPort = 8080, 8081
	l := lab.New(t, lab.Options{Routers: 3})
	stopOpen, err := l.ListenTCP(l.Target, openPort)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopOpen)
	ws := startWebhookServer(t, l)
	dir := workDir(t)
	const window = 5
	h := startHeadless(t, l, dir, map[string]any{
		"status_interval": 0,
		"defaults": map[string]any{"interval": 0.1, "timeout": 0.5, "mode": "tcp", "final_hop_only": true,
			"alert_loss_pct": 20, "alert_window": window, "webhook_url": ws.url},
		"targets": []any{
			map[string]any{"target": l.TargetAddr4.String(), "name": "open", "port": openPort, "log_path": "open.csv"},
			map[string]any{"target": l.TargetAddr4.String(), "name": "closed", "port": closedPort, "log_path": "closed.csv"},
		},
	})
	openLog, closedLog := filepath.Join(dir, "open.csv"), filepath.Join(dir, "closed.csv")
	closedEvents := filepath.Join(dir, "closed.events.csv")

	var raised []string
	waitFor(t, 20*time.Second, "the closed alert", func() bool {
		raised = findEvent(events(closedEvents), "alert_raised")
		return raised != nil
	})
	if raised[5] != "closed" || raised[7] != "100.000" || !strings.Contains(raised[4], "tcp port 8081 is closed") {
		t.Errorf("alert_raised row %q; want condition closed, threshold 100, a message naming tcp port 8081", raised)
	}
	waitFor(t, 15*time.Second, "the closed webhook", func() bool { return ws.got("alert_raised") != nil })
	if b := ws.got("alert_raised"); b["condition"] != "closed" || b["target"] != "closed" || b["unit"] != "percent" {
		t.Errorf("webhook body %v; want target closed, condition closed, unit percent", b)
	}
	waitFor(t, 10*time.Second, "rounds of the open port", func() bool { n, _ := rounds(openLog); return n >= 3*window })

	// Every row: hop 1, the target's address; refused for the closed port,
	// reached for the open one.
	for _, c := range []struct {
		path, status string
	}{{closedLog, "refused"}, {openLog, "reached"}} {
		rows := readCSV(t, c.path)[1:]
		statuses := map[string]int{}
		for _, r := range rows {
			statuses[r[7]]++
			if r[3] != "1" {
				t.Fatalf("%s: row %q has ttl %s; want 1 (the destination is hop 1 of a final-hop-only path)", c.path, r, r[3])
			}
			if r[7] == c.status && r[4] != l.TargetAddr4.String() {
				t.Errorf("%s: row %q answered from %s; want %v", c.path, r, r[4], l.TargetAddr4)
			}
		}
		t.Logf("%s: %d rows, statuses %v", filepath.Base(c.path), len(rows), statuses)
		if statuses[c.status] < len(rows)*9/10 {
			t.Errorf("%s: statuses %v; want nearly every row %s", c.path, statuses, c.status)
		}
	}
	if ev := events(filepath.Join(dir, "open.events.csv")); findEvent(ev, "alert_raised") != nil {
		t.Errorf("the open port raised an alert: %q", ev)
	}

	// The port starts listening: the alert clears.
	stopClosed, err := l.ListenTCP(l.Target, closedPort)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopClosed)
	var cleared []string
	waitFor(t, 15*time.Second, "the closed alert cleared", func() bool {
		cleared = findEvent(events(closedEvents), "alert_cleared")
		return cleared != nil
	})
	if cleared[5] != "closed" || !strings.Contains(cleared[4], "accepts connections again") {
		t.Errorf("alert_cleared row %q; want condition closed, 'accepts connections again'", cleared)
	}
	waitFor(t, 15*time.Second, "the cleared webhook", func() bool { return ws.got("alert_cleared") != nil })
	h.stop(t)

	// The summaries written on stop: one hop each, the open one with 0 %
	// loss and a MOS, the closed one with its refusals counted.
	for _, c := range []struct {
		name        string
		wantRefused bool
	}{{"open", false}, {"closed", true}} {
		matches, _ := filepath.Glob(filepath.Join(dir, c.name+".summary."+c.name+".*.csv"))
		if len(matches) != 1 {
			t.Fatalf("summaries of %s: %v; want one", c.name, matches)
		}
		rows := readSummary(t, matches[0])
		if len(rows) != 2 || rows[1][0] != "1" {
			t.Fatalf("summary of %s: %q; want a column row and hop 1 alone", c.name, rows)
		}
		refused := rows[1][len(rows[1])-1]
		if got := refused != "0"; got != c.wantRefused || rows[1][3] != "0.0" {
			t.Errorf("summary of %s: hop %q; want loss 0.0, refused counted: %v", c.name, rows[1], c.wantRefused)
		}
	}
}

// TestReportTCPPortState: report -T says open for a listening port and
// closed for one that refuses, with 0 % loss at the destination both times.
func TestReportTCPPortState(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3})
	stop, err := l.ListenTCP(l.Target, 8080)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	for _, c := range []struct {
		port      string
		wantState string
		wantLine  string
	}{
		{"8080", report.PortOpen, "Port 8080 on " + l.TargetAddr4.String() + " is open"},
		{"8081", report.PortClosed, "Port 8081 on " + l.TargetAddr4.String() + " is closed"},
	} {
		rep := reportJSON(t, l, true, "-T", "-P", c.port, "-c", "3", "-i", "0.2", l.TargetAddr4.String())
		dest := rep.Hops[len(rep.Hops)-1]
		t.Logf("port %s: port_state %q, %d hops, destination sent %d recv %d refused %d loss %v%%", c.port, rep.PortState, len(rep.Hops), dest.Sent, dest.Recv, dest.Refused, dest.LossPct)
		if rep.PortState != c.wantState || !dest.Dest || dest.LossPct != 0 || len(rep.Hops) != 4 {
			t.Errorf("report -T -P %s: port_state %q, %d hops, destination loss %v%%; want %q, 4 hops, 0%%",
				c.port, rep.PortState, len(rep.Hops), dest.LossPct, c.wantState)
		}
		if wantRefused := c.wantState == report.PortClosed; (dest.Refused == dest.Recv) != wantRefused || dest.Recv == 0 {
			t.Errorf("report -T -P %s: destination recv %d, refused %d; want refused == recv: %v", c.port, dest.Recv, dest.Refused, wantRefused)
		}
		text := run(t, l, true, "report", "-n", "-T", "-P", c.port, "-c", "2", "-i", "0.2", l.TargetAddr4.String())
		if text.code != 0 || !strings.Contains(text.stdout, c.wantLine) {
			t.Errorf("report -T -P %s text (exit %d) lacks %q:\n%s%s", c.port, text.code, c.wantLine, text.stdout, text.stderr)
		}
		tr := run(t, l, true, "trace", "-n", "-T", "-P", c.port, l.TargetAddr4.String())
		want := map[string]string{report.PortOpen: "[destination: port open, SYN-ACK]", report.PortClosed: "[destination: port closed, RST]"}[c.wantState]
		if tr.code != 0 || !strings.Contains(tr.stdout, want) {
			t.Errorf("trace -T -P %s (exit %d) lacks %q:\n%s%s", c.port, tr.code, want, tr.stdout, tr.stderr)
		}
	}
}

// readSummary reads a summary export, its "#" comment lines skipped.
func readSummary(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s does not parse as CSV: %v", path, err)
	}
	return rows
}
