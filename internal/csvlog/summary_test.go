package csvlog

import (
	"bytes"
	"encoding/csv"
	"errors"
	"flag"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/trace"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

// snapshot is a target after 100 rounds: a clean first hop, a silent
// second, ECMP at the third (one IPv6 member), the destination at the
// fourth.
func snapshot() monitor.Snapshot {
	stats := func(sent, recv int, last, avg, best, worst, sd, jit, p50, p95 float64) hopstat.Stats {
		return hopstat.Stats{Sent: sent, Recv: recv, Last: ms(last), Avg: ms(avg), Best: ms(best), Worst: ms(worst),
			StdDev: ms(sd), Jitter: ms(jit), P50: ms(p50), P95: ms(p95)}
	}
	a := netip.MustParseAddr
	return monitor.Snapshot{
		Target: monitor.Target{ID: "web, eu", Host: "www.example.com", Addr: a("192.0.2.7"),
			Settings: monitor.Settings{
				Trace:    trace.Config{Mode: result.UDP, Timeout: 2 * time.Second, Size: 100},
				Interval: 500 * time.Millisecond,
				Alert:    alert.Rules{LossPct: 20, Window: 20},
			}},
		State:   monitor.Running,
		Rounds:  100,
		Started: time.Date(2025, 3, 1, 12, 0, 0, 123456000, time.UTC),
		Last:    time.Date(2025, 3, 1, 13, 0, 50, 654321000, time.FixedZone("CET", 3600)), // 12:00:50Z
		Hops: []monitor.Hop{
			{Hop: hopstat.Hop{TTL: 1, Stats: stats(100, 100, 0.5, 0.612, 0.401, 1.999, 0.1234, 0.05, 0.6, 0.9),
				Responders: []hopstat.Responder{{Addr: a("10.0.0.1"), Stats: hopstat.Stats{Sent: 100, Recv: 100}}}}},
			{Hop: hopstat.Hop{TTL: 2, Stats: hopstat.Stats{Sent: 100}}},
			{Hop: hopstat.Hop{TTL: 3, Stats: stats(100, 97, 5, 5.5, 4, 9, 1, 0.7, 5.4, 8),
				Responders: []hopstat.Responder{
					{Addr: a("10.0.3.1"), Stats: hopstat.Stats{Sent: 60, Recv: 60}},
					{Addr: a("10.0.3.2"), Stats: hopstat.Stats{Sent: 30, Recv: 30}},
					{Addr: a("2001:db8::3"), Stats: hopstat.Stats{Sent: 7, Recv: 7}},
				}}},
			{Hop: hopstat.Hop{TTL: 4, Reached: true, Stats: stats(100, 1, 12.3456, 12.3456, 12.3456, 12.3456, 0, 0, 12.3456, 12.3456),
				Responders: []hopstat.Responder{{Addr: a("192.0.2.7"), Stats: hopstat.Stats{Sent: 1, Recv: 1}}}}},
		},
		Dest: monitor.Destination{TTL: 4, Sent: 20, LossPct: 95, Latency: ms(12.3456), Jitter: 0, R: 0, MOS: 1},
	}
}

func hostNames(a netip.Addr) string {
	switch a.String() {
	case "10.0.0.1":
		return "gw.lan"
	case "10.0.3.1":
		return "core1.isp.example"
	case "192.0.2.7":
		return "www.example.com"
	}
	return ""
}

func TestWriteSummaryGolden(t *testing.T) {
	never := snapshot()
	never.Hops = never.Hops[:2]
	never.Settings.Trace = trace.Config{}
	never.Settings.Interval = 0
	never.Dest = monitor.Destination{Sent: 20, LossPct: 100}
	never.Host = "line\nbreak"
	tests := []struct {
		name string
		sum  Summary
	}{
		{"summary", FromSnapshot(snapshot(), hostNames)},
		{"summary-no-answer", FromSnapshot(never, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteSummary(&buf, tt.sum); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.name+".csv")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got := buf.String(); got != string(want) {
				t.Errorf("WriteSummary differs from %s (go test -update rewrites it):\n%s", golden, got)
			}
			checkSummaryParses(t, buf.Bytes(), len(tt.sum.Hops))
		})
	}
}

// checkSummaryParses reads a summary as a spreadsheet user would: comment
// lines skipped, a fixed number of columns.
func checkSummaryParses(t *testing.T, b []byte, hops int) {
	t.Helper()
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "# PingerPlot") && !strings.Contains(line, ":") {
			t.Errorf("header line %q is not \"# key: value\"", line)
		}
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.Comment = '#'
	r.FieldsPerRecord = len(strings.Split(SummaryColumns, ","))
	n := 0
	for {
		_, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("summary does not parse: %v", err)
		}
		n++
	}
	if n != hops+1 {
		t.Errorf("summary has %d records; want a column row and %d hops", n, hops)
	}
}

func TestWriteSummaryError(t *testing.T) {
	err := WriteSummary(failingWriter{}, FromSnapshot(snapshot(), nil))
	if err == nil || !strings.Contains(err.Error(), "web, eu") {
		t.Errorf("WriteSummary to a failing writer = %v; want an error naming the target", err)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

// TestDocsMatch keeps docs/csv-log.md honest: it shows the headers and
// the summary example exactly as they are written.
func TestDocsMatch(t *testing.T) {
	doc, err := os.ReadFile("../../docs/csv-log.md")
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{ProbeHeader + "\n", EventHeader + "\n", SummaryColumns + "\n", string(golden)} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("docs/csv-log.md does not show, verbatim:\n%s", want)
		}
	}
	// The probe log example is what WriteRound writes.
	r := round(7, 3)
	var rows strings.Builder
	rows.WriteString(ProbeHeader + "\n")
	rows.Write(appendRound(nil, "web", r, func(a netip.Addr) string {
		if a == netip.MustParseAddr("192.0.2.7") {
			return "www.example.com"
		}
		return ""
	}))
	if !strings.Contains(string(doc), rows.String()) {
		t.Errorf("docs/csv-log.md does not show the probe log example as written:\n%s", rows.String())
	}
}
