package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/evidence"
	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/history/historytest"
	"github.com/pingerplot/pingerplot/internal/monitor"
)

// storedFile writes a closed history file with an hour of rounds of a
// 4-hop path to dst.example (hop 2 loses 20 % of its own replies), the
// last one a minute ago, and returns its path and the rounds' start.
func storedFile(t *testing.T) (string, time.Time) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.db")
	st, err := history.Open(history.Options{Path: path})
	if err != nil {
		t.Fatalf("history.Open: %v", err)
	}
	start := time.Now().Add(-61 * time.Minute).Truncate(time.Second)
	g := historytest.Gen{Hops: historytest.Path(4, map[int]float64{2: 0.2}), Start: start, Seed: 3}
	historytest.Fill(t, st, "dst.example", "dst.example", g.Rounds(3600))
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return path, start
}

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Run(context.Background(), args, Env{Stdout: &out, Stderr: &errb})
	return code, out.String(), errb.String()
}

func TestEvidenceCommand(t *testing.T) {
	path, _ := storedFile(t)
	out := filepath.Join(t.TempDir(), "ev.html")
	code, stdout, stderr := runCLI(t, "evidence", "--history", path, "-n", "--from", "2h ago", "-o", out, "dst.example")
	if code != 0 {
		t.Fatalf("evidence exit %d, stderr %q; want 0", code, stderr)
	}
	if !strings.Contains(stdout, "Wrote "+out+": dst.example") || !strings.Contains(stdout, "3600 rounds") {
		t.Errorf("stdout %q; want it to name the file and the 3600 rounds", stdout)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, id := range evidence.Sections {
		if !strings.Contains(page, `<section id="`+id+`">`) {
			t.Errorf("the file lacks section %q", id)
		}
	}
	for _, want := range []string{"Diagnosis (high confidence", "Hop 2 rate-limits its replies", "the loss does not carry on", "lost 0 of 3600 probes (0 %)"} {
		if !strings.Contains(page, want) {
			t.Errorf("the file lacks %q", want)
		}
	}
	// The vantage is this machine's address toward the target, found
	// without sending; the store has no address for this one.
	if !strings.Contains(page, "<dt>Vantage point (this machine&#39;s address toward the target)</dt><dd>") {
		t.Errorf("the file lacks the vantage point")
	}
}

func TestEvidenceUnknownTarget(t *testing.T) {
	path, _ := storedFile(t)
	code, _, stderr := runCLI(t, "evidence", "--history", path, "-o", filepath.Join(t.TempDir(), "x.html"), "nope.example")
	if code != 2 || !strings.Contains(stderr, `no history for "nope.example"; give one of the targets the history holds:`) ||
		!strings.Contains(stderr, "dst.example") || !strings.Contains(stderr, "3600 rounds") {
		t.Errorf("exit %d, stderr %q; want 2 and the list of stored targets", code, stderr)
	}
}

func TestStoredReport(t *testing.T) {
	path, start := storedFile(t)
	from := start.Add(30 * time.Minute).Format(time.RFC3339)

	code, text, stderr := runCLI(t, "report", "--history", path, "-n", "--from", from, "dst.example")
	if code != 0 {
		t.Fatalf("report exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"PingerPlot report: dst.example", "From the history (no probe sent): 1800 rounds recorded"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}

	code, js, stderr := runCLI(t, "report", "--history", path, "-n", "--from", from, "--to", "now", "--json", "dst.example")
	if code != 0 {
		t.Fatalf("report --json exit %d, stderr %q", code, stderr)
	}
	var rep struct {
		FormatVersion int    `json:"format_version"`
		Backend       string `json:"backend"`
		Rounds        int    `json:"rounds"`
		Reached       bool   `json:"reached"`
		Hops          []struct {
			TTL     int     `json:"ttl"`
			Addr    string  `json:"addr"`
			Sent    int     `json:"sent"`
			LossPct float64 `json:"loss_pct"`
			Dest    bool    `json:"destination"`
		} `json:"hops"`
		History struct {
			Key        string    `json:"key"`
			FirstRound time.Time `json:"first_round"`
			Exact      bool      `json:"exact"`
		} `json:"history"`
	}
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatalf("JSON: %v\n%s", err, js)
	}
	if rep.FormatVersion != 1 || rep.Backend != "history" || rep.Rounds != 1800 || !rep.Reached || len(rep.Hops) != 4 {
		t.Errorf("JSON = %+v; want format 1, backend history, 1800 rounds, reached, 4 hops", rep)
	}
	if rep.History.Key != "dst.example" || !rep.History.Exact || !rep.History.FirstRound.Equal(start.Add(30*time.Minute)) {
		t.Errorf("history = %+v; want key dst.example, exact, first round at %v", rep.History, start.Add(30*time.Minute))
	}
	if len(rep.Hops) == 4 {
		if h := rep.Hops[1]; h.Sent != 1800 || h.LossPct < 15 || h.LossPct > 25 {
			t.Errorf("hop 2 = %+v; want 1800 sent and about 20 %% loss", h)
		}
		if h := rep.Hops[3]; !h.Dest || h.Addr != "10.0.0.4" || h.LossPct != 0 {
			t.Errorf("hop 4 = %+v; want the destination 10.0.0.4 without loss", h)
		}
	}

	code, c, stderr := runCLI(t, "report", "--history", path, "-n", "--from", from, "--csv", "dst.example")
	if code != 0 {
		t.Fatalf("report --csv exit %d, stderr %q", code, stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(c)).ReadAll()
	if err != nil || len(rows) != 5 || rows[0][0] != "format_version" || rows[4][6] != "4" {
		t.Errorf("CSV rows %q, %v; want a header and 4 hops", rows, err)
	}

	// A window before anything was stored says where the history is.
	code, _, stderr = runCLI(t, "report", "--history", path, "--from", "30d ago", "--to", "20d ago", "dst.example")
	if code != 1 || !strings.Contains(stderr, `no round of "dst.example" between`) || !strings.Contains(stderr, "the history holds it from") {
		t.Errorf("empty window: exit %d, stderr %q; want 1 and where the history is", code, stderr)
	}
}

// TestReadStoredStrip: the tui's 24 h strip from a real history file: the
// last hour recorded (30 rounds in each 30 min cell), the hours before
// it empty; an unknown target is a note.
func TestReadStoredStrip(t *testing.T) {
	path, start := storedFile(t)
	st, err := openHistoryReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := start.Add(61 * time.Minute)
	s := readStoredStrip(context.Background(), st, monitor.Target{ID: "dst.example", Host: "dst.example"}, now, 48)
	if s.Note != "" || len(s.Cells) != 48 || s.Step != 30*time.Minute {
		t.Fatalf("strip: note %q, %d cells of %v; want 48 cells of 30m", s.Note, len(s.Cells), s.Step)
	}
	sent := 0
	for i, c := range s.Cells {
		sent += c.Sent
		if i < 45 && c.Sent != 0 {
			t.Errorf("cell %d (%v) has %d probes; want none before the rounds", i, s.From.Add(time.Duration(i)*s.Step), c.Sent)
		}
		if c.Lost != 0 || (c.Sent > 0 && c.Latency <= 0) {
			t.Errorf("cell %d = %+v; want no loss and a latency", i, c)
		}
	}
	if sent != 3600 {
		t.Errorf("the strip counts %d probes; want 3600", sent)
	}
	other := readStoredStrip(context.Background(), st, monitor.Target{ID: "x", Host: "x.example"}, now, 48)
	if !strings.Contains(other.Note, "no stored rounds of x.example") {
		t.Errorf("unknown target's note %q; want it to say there are no stored rounds", other.Note)
	}
}
