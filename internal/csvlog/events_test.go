package csvlog

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/monitor"
)

func TestEventLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.csv")
	l, err := OpenEvents(Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	events := []monitor.Event{
		{Time: t0, Target: "web", Kind: monitor.RouteChange, TTL: 3, Message: "hop 3: 10.0.3.1 -> 10.0.9.1"},
		{Time: t0.Add(1500 * time.Microsecond), Target: "web", Kind: monitor.AlertRaised, Message: "loss 25% >= 20%\nover 20 probes",
			Condition: alert.Loss, Value: 25, Threshold: 20},
		{Time: t0.Add(time.Minute), Target: `db, "eu"`, Kind: monitor.AlertCleared, Condition: alert.Latency, Value: 80.25, Threshold: 100},
		{Time: t0.In(time.FixedZone("CET", 3600)), Target: "web", Kind: monitor.PausedEvent},
	}
	for _, e := range events {
		if err := l.Write(e); err != nil {
			t.Fatalf("Write(%v): %v", e, err)
		}
	}
	l.Close()
	got := readRows(t, path, EventHeader)
	want := [][]string{
		{"2025-03-01T12:00:00.000000Z", "web", "route_change", "3", "hop 3: 10.0.3.1 -> 10.0.9.1", "", "", ""},
		{"2025-03-01T12:00:00.001500Z", "web", "alert_raised", "", "loss 25% >= 20% over 20 probes", "loss", "25.000", "20.000"},
		{"2025-03-01T12:01:00.000000Z", `db, "eu"`, "alert_cleared", "", "", "latency", "80.250", "100.000"},
		{"2025-03-01T12:00:00.000000Z", "web", "paused", "", "", "", "", ""},
	}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("rows:\n%q\nwant:\n%q", got, want)
	}
}

// TestEventLogSharesTheWriter checks that the event log has the probe
// log's safety: torn-line repair, refusal of a foreign file, rollover
// and errors that say what to do.
func TestEventLogSharesTheWriter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.csv")
	row := string(appendEvent(nil, monitor.Event{Time: t0, Target: "a", Kind: monitor.Added}))
	os.WriteFile(path, []byte(EventHeader+"\n"+row+row[:10]), 0o644)
	l, err := OpenEvents(Config{Path: path, MaxBytes: MinMaxBytes, MaxFiles: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); got != EventHeader+"\n"+row {
		t.Errorf("torn event log after open: %q", got)
	}
	for i := range 100 {
		if err := l.Write(monitor.Event{Time: t0.Add(time.Duration(i) * time.Second), Target: "a", Kind: monitor.Multipath, TTL: i}); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	for _, name := range []string{path, filepath.Join(dir, "events.1.csv")} {
		if st, err := os.Stat(name); err != nil || st.Size() > MinMaxBytes {
			t.Errorf("%s: %v, %d bytes; want a file under the cap", name, err, st.Size())
		}
		readRows(t, name, EventHeader)
	}
	if _, err := os.Stat(filepath.Join(dir, "events.2.csv")); err == nil {
		t.Error("events.2.csv exists; want MaxFiles = 2 files")
	}

	probeLog := filepath.Join(dir, "probes.csv")
	os.WriteFile(probeLog, []byte(ProbeHeader+"\n"), 0o644)
	if _, err := OpenEvents(Config{Path: probeLog}); !errors.Is(err, ErrForeign) {
		t.Errorf("OpenEvents of a probe log = %v; want ErrForeign", err)
	}

	var fsys faults
	fsys.set(nil, syscall.ENOSPC, 0)
	l, err = openEvents(Config{Path: filepath.Join(dir, "full.csv")}, fsys.open)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.Write(monitor.Event{Time: t0, Target: "a", Kind: monitor.Added}); !errors.Is(err, syscall.ENOSPC) ||
		!strings.HasPrefix(err.Error(), "disk full writing event log") {
		t.Errorf("Write on a full disk = %v; want a disk-full error naming the event log", err)
	}
}
