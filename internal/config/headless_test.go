package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe"
)

// writeConfig writes text to monitor.json in a new directory.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "monitor.json")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustLoad(t *testing.T, text string) (Headless, string) {
	t.Helper()
	path := writeConfig(t, text)
	h, err := Load(path)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return h, filepath.Dir(path)
}

func TestLoadOriginalExample(t *testing.T) {
	// The example of the original PingerPlot's README, as people have it.
	h, dir := mustLoad(t, `{
  "status_interval": 60,
  "defaults": { "interval": 2.5, "alert_loss_pct": 20, "alert_latency_ms": 250 },
  "targets": [
    { "target": "8.8.8.8", "log_path": "logs/dns.csv" },
    { "target": "10.0.0.1", "log_path": "logs/gateway.csv", "final_hop_only": true,
      "webhook_url": "https://hooks.example/abc" }
  ]
}`)
	if h.StatusInterval != time.Minute || len(h.Targets) != 2 {
		t.Fatalf("got status %v, %d targets; want 1m0s, 2", h.StatusInterval, len(h.Targets))
	}
	dns, gw := h.Targets[0], h.Targets[1]
	want := builtin()
	want.Interval = 2500 * time.Millisecond
	want.Alert.LossPct, want.Alert.Latency = 20, 250*time.Millisecond
	want.LogPath = filepath.Join(dir, "logs", "dns.csv")
	if dns.ID != "8.8.8.8" || dns.Host != "8.8.8.8" || dns.Settings != want {
		t.Errorf("targets[0] = %+v; want ID and host 8.8.8.8, settings %+v", dns, want)
	}
	if got, want := dns.EventLogPath, filepath.Join(dir, "logs", "dns.events.csv"); got != want {
		t.Errorf("event log = %q; want %q", got, want)
	}
	if !gw.Settings.Trace.FinalHopOnly || gw.Settings.Webhook != "https://hooks.example/abc" || gw.Settings.Interval != 2500*time.Millisecond {
		t.Errorf("targets[1] settings = %+v; want final hop only, the webhook and the default interval", gw.Settings)
	}
}

func TestStarterLoads(t *testing.T) {
	h, dir := mustLoad(t, string(Starter()))
	if h.StatusInterval != time.Minute || len(h.Targets) != 2 {
		t.Fatalf("starter: status %v, %d targets; want 1m0s, 2", h.StatusInterval, len(h.Targets))
	}
	web := h.Targets[1]
	if web.ID != "web" || web.Host != "example.com" || web.Settings.Trace.Mode != probe.TCP ||
		web.Settings.Trace.Port != 443 || !web.Settings.Trace.FinalHopOnly || web.Settings.Interval != 5*time.Second ||
		web.Settings.Alert.Window != 20 || web.Settings.Webhook != "" {
		t.Errorf("starter web target = %+v", web)
	}
	if got, want := h.Targets[0].Settings.LogPath, filepath.Join(dir, "logs", "dns.csv"); got != want {
		t.Errorf("starter dns log = %q; want %q", got, want)
	}
}

func TestOverrides(t *testing.T) {
	h, dir := mustLoad(t, `{
  "version": 1,
  "status_interval": 0,
  "metrics_listen": "[::1]:9469",
  "defaults": {"mode": "tcp", "port": 443, "final_hop_only": true, "alert_loss_pct": 20,
               "log_path": "/var/log/all.csv", "event_log_path": "ev.csv"},
  "targets": [
    {"target": "a.example", "name": "a", "final_hop_only": false, "alert_loss_pct": 0,
     "log_path": "a.csv", "event_log_path": "a-events.csv"},
    {"target": "b.example", "mode": "icmp", "log_path": "", "event_log_path": ""},
    {"target": "c.example", "mode": "udp", "log_path": "c.log", "event_log_path": null}
  ]
}`)
	if h.StatusInterval != 0 {
		t.Errorf("status_interval 0 = %v; want 0 (silent)", h.StatusInterval)
	}
	if h.MetricsListen != "[::1]:9469" {
		t.Errorf("metrics_listen = %q; want [::1]:9469", h.MetricsListen)
	}
	a, b, c := h.Targets[0], h.Targets[1], h.Targets[2]
	if a.ID != "a" || a.Settings.Trace.FinalHopOnly || a.Settings.Alert.LossPct != 0 || a.Settings.Trace.Port != 443 {
		t.Errorf("a = %+v; want false and 0 to override the defaults, port 443 kept", a)
	}
	if a.Settings.LogPath != filepath.Join(dir, "a.csv") || a.EventLogPath != filepath.Join(dir, "a-events.csv") {
		t.Errorf("a logs = %q, %q", a.Settings.LogPath, a.EventLogPath)
	}
	if b.Settings.Trace.Mode != probe.ICMP || b.Settings.Trace.Port != 0 || b.Settings.LogPath != "" || b.EventLogPath != "" {
		t.Errorf("b = %+v; want icmp without the defaults' port, no logs", b)
	}
	// A null sets nothing: c takes the defaults' event log and its own probe log.
	if c.Settings.Trace.Port != 443 || c.Settings.LogPath != filepath.Join(dir, "c.log") || c.EventLogPath != filepath.Join(dir, "ev.csv") {
		t.Errorf("c = %+v (event log %q)", c.Settings, c.EventLogPath)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string // each must appear in the error
	}{
		{"syntax", "{\n  \"targets\": [\n    {\"target\": \"a\"}\n  ],\n}\n",
			[]string{"monitor.json: line 5, column 1: invalid character '}'"}},
		{"truncated", `{"targets": [{"target": "a"}`, []string{"the JSON ends too early"}},
		{"not an object", `[{"target": "a"}]`, []string{"want an object {...}, got a list"}},
		{"no targets", `{"defaults": {}}`, []string{"targets: no targets"}},
		{"empty targets", `{"targets": []}`, []string{"targets: no targets"}},
		{"targets not a list", `{"targets": {"target": "a"}}`, []string{"targets: want a list [...], got an object"}},
		{"future version", `{"version": 2, "targets": [{"targett": 1}]}`,
			[]string{"monitor.json: version 2 is newer than this PingerPlot understands (1); upgrade PingerPlot"}},
		{"version zero", `{"version": 0, "targets": [{"target": "a"}]}`, []string{"version: 0 is not a version"}},
		{"unknown top key", `{"status_intervall": 5, "targets": [{"target": "a"}]}`,
			[]string{`unknown key "status_intervall" (did you mean "status_interval"?)`}},
		{"option at top level", `{"interval": 5, "targets": [{"target": "a"}]}`,
			[]string{`"interval" belongs in "defaults" or in an entry of "targets"`}},
		{"typo in a target", `{"targets": [{"target": "a"}, {"target": "b"}, {"target": "8.8.8.8", "intervall": 2}]}`,
			[]string{`monitor.json: targets[2] (8.8.8.8): unknown key "intervall" (did you mean "interval"?)`}},
		{"typo in defaults", `{"defaults": {"timout": 2}, "targets": [{"target": "a"}]}`,
			[]string{`defaults: unknown key "timout" (did you mean "timeout"?)`}},
		{"range in defaults", `{"defaults": {"interval": 0.01}, "targets": [{"target": "a"}]}`,
			[]string{"defaults: interval: 0.01 s is out of range"}},
		{"status interval", `{"status_interval": -1, "targets": [{"target": "a"}]}`,
			[]string{"status_interval: -1 s is out of range"}},
		{"metrics listen without port", `{"metrics_listen": "127.0.0.1", "targets": [{"target": "a"}]}`,
			[]string{`metrics_listen: "127.0.0.1" is not host:port`}},
		{"metrics listen bad port", `{"metrics_listen": "127.0.0.1:70000", "targets": [{"target": "a"}]}`,
			[]string{`metrics_listen: "127.0.0.1:70000": port "70000" is not a number from 0 to 65535`}},
		{"metrics listen not a string", `{"metrics_listen": 9469, "targets": [{"target": "a"}]}`,
			[]string{`metrics_listen: want a host:port string`}},
		{"metrics listen in defaults", `{"defaults": {"metrics_listen": ":9469"}, "targets": [{"target": "a"}]}`,
			[]string{`"metrics_listen" belongs at the top level`}},
		{"missing host", `{"targets": [{"name": "x"}]}`, []string{"targets[0]: target: missing"}},
		{"host not a string", `{"targets": [{"target": 8}]}`, []string{"targets[0]: target: want a host name or address, got 8"}},
		{"url as host", `{"targets": [{"target": "https://example.com/x"}]}`,
			[]string{`target: "https://example.com/x" is a URL; give the host alone, such as "example.com"`}},
		{"space in host", `{"targets": [{"target": "a b"}]}`, []string{`target: "a b" is not a host name or address`}},
		{"port with icmp", `{"targets": [{"target": "h", "port": 80}]}`,
			[]string{"targets[0] (h): port: only udp and tcp probes use a port"}},
		{"port with icmp override", `{"defaults": {"mode": "tcp"}, "targets": [{"target": "h", "mode": "icmp", "port": 80}]}`,
			[]string{"targets[0] (h): port: only udp"}},
		{"duplicate host", `{"targets": [{"target": "h"}, {"target": "h"}]}`,
			[]string{`targets[1] (h): targets[0] (h) monitors the same host; give one of them a distinct "name"`}},
		{"duplicate name", `{"targets": [{"target": "h", "name": "n"}, {"target": "i", "name": "n"}]}`,
			[]string{`targets[1] (i): name: "n" is also the name of targets[0] (h)`}},
		{"name equal to a host", `{"targets": [{"target": "h"}, {"target": "i", "name": "h"}]}`,
			[]string{`targets[1] (i): name: "h" is also the name of targets[0] (h)`}},
		{"a probe log that is an event log", `{"targets": [{"target": "h", "log_path": "x.csv"}, {"target": "i", "event_log_path": "x.csv"}]}`,
			[]string{`targets[1] (i): event_log_path: "`, `x.csv" is already the log_path of targets[0] (h); a file is a probe log or an event log, not both`}},
		{"an event log that is a probe log", `{"targets": [{"target": "h", "log_path": "x.csv"}, {"target": "i", "log_path": "x.events.csv"}]}`,
			[]string{`targets[1] (i): log_path: "`, `x.events.csv" is already the event_log_path of targets[0] (h)`}},
		{"shared log with other caps", `{"defaults": {"log_path": "all.csv"}, "targets": [{"target": "h"}, {"target": "i", "log_max_files": 9}]}`,
			[]string{`targets[1] (i): log_path: "`, `all.csv" is shared with targets[0] (h), whose log_max_bytes or log_max_files differ`}},
		{"log cap too small", `{"targets": [{"target": "h", "log_max_bytes": 100}]}`,
			[]string{`targets[0] (h): log_max_bytes: 100 is out of range: want 0 (the default) or at least 1024`}},
		{"every problem at once", `{"targets": [{"target": "h", "interval": 0, "size": -1}, {"target": "i", "mode": "sctp"}]}`,
			[]string{"monitor.json: 3 problems:", "targets[0] (h): interval: 0 s", "targets[0] (h): size: -1",
				`targets[1] (i): mode: unknown probe mode "sctp"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeConfig(t, tt.text))
			if err == nil {
				t.Fatalf("Load = nil error; want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load error:\n%v\nwant it to contain %q", err, w)
				}
			}
		})
	}
}

func TestSharedLogs(t *testing.T) {
	h, dir := mustLoad(t, `{
  "defaults": {"log_path": "logs/all.csv", "log_max_files": 3},
  "targets": [{"target": "h"}, {"target": "i", "log_max_files": 3, "event_log_path": "logs/i.events.csv"}]
}`)
	all := filepath.Join(dir, "logs", "all.csv")
	for _, r := range h.Targets {
		if r.Settings.LogPath != all || r.Settings.LogMaxFiles != 3 {
			t.Errorf("%s: log %q, %d files; want the shared %q, 3", r.ID, r.Settings.LogPath, r.Settings.LogMaxFiles, all)
		}
	}
	if got, want := h.Targets[0].EventLogPath, filepath.Join(dir, "logs", "all.events.csv"); got != want {
		t.Errorf("h event log = %q; want %q", got, want)
	}
	if got, want := h.Targets[1].EventLogPath, filepath.Join(dir, "logs", "i.events.csv"); got != want {
		t.Errorf("i event log = %q; want %q", got, want)
	}
}

func TestLoadMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.json")
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "pingerplot headless --init "+path) {
		t.Errorf("Load(missing) = %v; want advice to run --init", err)
	}
}

func TestWriteStarter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "monitor.json")
	if err := WriteStarter(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Fatalf("Load(starter) = %v", err)
	}
	if err := os.WriteFile(path, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := WriteStarter(path)
	if err == nil || !strings.Contains(err.Error(), "already exists; not overwriting it") {
		t.Errorf("WriteStarter(existing) = %v; want a refusal", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "mine" {
		t.Errorf("WriteStarter changed an existing file to %q", b)
	}
}

func TestResolveIDs(t *testing.T) {
	rs, err := Resolve(Options{}, []TargetEntry{{Host: "h"}, {Host: "h", Name: "h-tcp", Options: Options{Mode: new("tcp")}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].ID != "h" || rs[1].ID != "h-tcp" || rs[1].Settings.Trace.Port != 80 {
		t.Errorf("Resolve = %+v", rs)
	}
	var _ monitor.ID = rs[0].ID
}
