package recorder

import (
	"bytes"
	"encoding/csv"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/hopstat"
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

// TestRecorderNoNames: two targets of one headless config share a probe
// log; the one with "dns": false writes an empty host column and a summary
// without names, the other both with names. Names is a fake, so nothing
// touches the network.
func TestRecorderNoNames(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "monitor.json")
	err := os.WriteFile(cfgPath, []byte(`{
  "defaults": {"log_path": "shared.csv"},
  "targets": [
    {"target": "192.0.2.9", "name": "named"},
    {"target": "192.0.2.9", "name": "plain", "dns": false}
  ]
}`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	h, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(dir, "shared.csv")
	targets := map[monitor.ID]monitor.Target{}
	for _, r := range h.Targets {
		targets[r.ID] = monitor.Target{ID: r.ID, Host: r.Host, Settings: r.Settings}
	}
	names := func(a netip.Addr) string { return "r-" + a.String() + ".example" }
	r := New(Config{
		Target: func(id monitor.ID) (monitor.Target, bool) { t, ok := targets[id]; return t, ok },
		Names:  names,
	})
	for _, id := range []monitor.ID{"named", "plain"} {
		r.Handle(monitor.Update{Round: &monitor.RoundDone{Target: id, Round: round(1)}})
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(log)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, name := range rows[0] {
		col[name] = i
	}
	got := map[string][]string{}
	for _, row := range rows[1:] {
		got[row[col["target"]]] = append(got[row[col["target"]]], row[col["host"]])
	}
	want := map[string][]string{"named": {"r-10.0.0.1.example", "r-192.0.2.9.example"}, "plain": {"", ""}}
	for id, hosts := range want {
		if !slices.Equal(got[id], hosts) {
			t.Errorf("host column of %s = %q; want %q", id, got[id], hosts)
		}
	}

	// The summaries beside the log follow the same switch.
	for id, wantName := range map[monitor.ID]bool{"named": true, "plain": false} {
		tg := targets[id]
		tg.LogPath = filepath.Join(dir, string(id)+".csv")
		snap := monitor.Snapshot{Target: tg, Hops: []monitor.Hop{{Hop: hopstat.Hop{TTL: 1,
			Responders: []hopstat.Responder{{Addr: netip.MustParseAddr("10.0.0.1")}}}}}}
		if err := r.WriteSummary(snap); err != nil {
			t.Fatal(err)
		}
		files, _ := filepath.Glob(filepath.Join(dir, string(id)+".summary."+string(id)+".*.csv"))
		if len(files) != 1 {
			t.Fatalf("summaries of %s: %v; want one", id, files)
		}
		b, err := os.ReadFile(files[0])
		if err != nil {
			t.Fatal(err)
		}
		if has := strings.Contains(string(b), "r-10.0.0.1.example"); has != wantName {
			t.Errorf("summary of %s names the hop: %v; want %v:\n%s", id, has, wantName, b)
		}
	}
	if err := r.WriteSummary(monitor.Snapshot{Target: monitor.Target{ID: "nolog"}}); err != nil {
		t.Errorf("summary of a target without a log: %v; want nothing written and no error", err)
	}
}
