package recorder

import (
	"bytes"
	"encoding/csv"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/trace"
)

func round(n int) trace.Round {
	t0 := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	return trace.Round{Index: n, Start: t0, End: t0.Add(time.Millisecond), EndTTL: 2, Reached: true, Hops: []trace.Hop{
		{TTL: 1, Reply: probe.Reply{Kind: probe.TimeExceeded, From: netip.MustParseAddr("10.0.0.1"), Sent: t0, RTT: time.Millisecond}},
		{TTL: 2, Reply: probe.Reply{Kind: probe.Reached, From: netip.MustParseAddr("192.0.2.9"), Sent: t0, RTT: 2 * time.Millisecond}},
	}}
}

func TestRecorderWritesLogsAndEvents(t *testing.T) {
	dir := t.TempDir()
	targets := map[monitor.ID]monitor.Target{
		"a": {ID: "a", Settings: monitor.Settings{LogPath: filepath.Join(dir, "logs", "shared.csv")}},
		"b": {ID: "b", Settings: monitor.Settings{LogPath: filepath.Join(dir, "logs", "shared.csv")}},
		"c": {ID: "c"}, // no log
	}
	var console bytes.Buffer
	r := New(Config{
		Target:  func(id monitor.ID) (monitor.Target, bool) { t, ok := targets[id]; return t, ok },
		Console: &console,
	})
	for _, id := range []monitor.ID{"a", "b", "c"} {
		r.Handle(monitor.Update{Round: &monitor.RoundDone{Target: id, Round: round(1)}})
	}
	r.Handle(monitor.Update{Event: &monitor.Event{Time: time.Now(), Target: "a", Kind: monitor.RouteChange, TTL: 1, Message: "hop 1: x → y"}})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "logs", "shared.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+4 {
		t.Fatalf("shared log has %d rows; want a header and 2 targets × 2 hops", len(rows))
	}
	ev, err := os.ReadFile(filepath.Join(dir, "logs", "shared.events.csv"))
	if err != nil || !strings.Contains(string(ev), "route_change") {
		t.Errorf("event log = %q, %v; want the route change beside the probe log", ev, err)
	}
	if !strings.Contains(console.String(), "hop 1: x → y") {
		t.Errorf("console = %q; want the event line", console.String())
	}
}

func TestRecorderReportsAnUnusableLogOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "foreign.csv")
	// Someone else's file: the log refuses it rather than clobbering it.
	if err := os.WriteFile(path, []byte("not,our,header\n1,2,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var console bytes.Buffer
	r := New(Config{
		Target: func(id monitor.ID) (monitor.Target, bool) {
			return monitor.Target{ID: id, Settings: monitor.Settings{LogPath: path}}, true
		},
		Console: &console,
	})
	for i := 1; i <= 5; i++ {
		r.Handle(monitor.Update{Round: &monitor.RoundDone{Target: "a", Round: round(i)}})
	}
	r.Close()
	if n := strings.Count(console.String(), string(monitor.RecordError)); n != 1 {
		t.Errorf("reported %d times; want once:\n%s", n, console.String())
	}
	if b, _ := os.ReadFile(path); string(b) != "not,our,header\n1,2,3\n" {
		t.Errorf("foreign file changed to %q", b)
	}
}
