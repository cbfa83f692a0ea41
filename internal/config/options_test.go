package config

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// builtin is monitor.Settings with every default spelled out.
func builtin() monitor.Settings {
	return monitor.Settings{
		Interval: time.Second,
		History:  monitor.DefaultHistory,
		Trace:    trace.Config{Timeout: time.Second, Size: trace.DefaultSize, MaxHops: 30, FirstTTL: 1},
		Alert:    alert.Rules{Window: alert.DefaultWindow},
	}
}

func TestSettingsDefaults(t *testing.T) {
	got, err := Options{}.Settings()
	if err != nil {
		t.Fatal(err)
	}
	if want := builtin(); !reflect.DeepEqual(got, want) {
		t.Errorf("Options{}.Settings() = %+v; want %+v", got, want)
	}
}

func TestFromSettingsRoundTrip(t *testing.T) {
	tcp := builtin()
	tcp.Trace.Mode, tcp.Trace.Port, tcp.Trace.FinalHopOnly = probe.TCP, 443, true
	tcp.Alert = alert.Rules{LossPct: 12.5, Latency: 250 * time.Millisecond, Window: 40}
	tcp.Webhook, tcp.LogPath, tcp.LogMaxBytes, tcp.LogMaxFiles = "https://h.example/x", "/var/log/a.csv", 1<<20, 3
	noNames := builtin()
	noNames.NoNames = true
	udpDefaultPort := builtin()
	udpDefaultPort.Trace.Mode = probe.UDP
	tests := []struct {
		name string
		in   monitor.Settings
		want monitor.Settings
	}{
		{"zero reads as defaults", monitor.Settings{}, builtin()},
		{"defaults", builtin(), builtin()},
		{"tcp service check", tcp, tcp},
		{"names off", noNames, noNames},
		{"udp gets its default port", monitor.Settings{Trace: trace.Config{Mode: probe.UDP}}, func() monitor.Settings {
			s := udpDefaultPort
			s.Trace.Port = trace.DefaultUDPPort
			return s
		}()},
		{"odd values", monitor.Settings{Interval: 2500 * time.Millisecond, History: 7, Trace: trace.Config{
			Size: 1400, Timeout: 333 * time.Millisecond, FirstTTL: 3, MaxHops: 12, SendGap: 10 * time.Millisecond}},
			func() monitor.Settings {
				s := builtin()
				s.Interval, s.History = 2500*time.Millisecond, 7
				s.Trace.Size, s.Trace.Timeout, s.Trace.FirstTTL, s.Trace.MaxHops, s.Trace.SendGap = 1400, 333*time.Millisecond, 3, 12, 10*time.Millisecond
				return s
			}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := FromSettings(tt.in)
			// Through JSON, as files carry it.
			b, err := json.Marshal(o)
			if err != nil {
				t.Fatal(err)
			}
			var back Options
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("Unmarshal(%s): %v", b, err)
			}
			got, err := back.Settings()
			if err != nil {
				t.Fatalf("Settings() of %s: %v", b, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("round trip through %s\n got %+v\nwant %+v", b, got, tt.want)
			}
		})
	}
}

func TestOptionsMarshalOrder(t *testing.T) {
	o := Options{
		LogPath: new("a.csv"), Interval: new(Seconds(2500 * time.Millisecond)), Mode: new("tcp"), Port: new(443),
		AlertLatency: new(Millis(1500 * time.Microsecond)), FinalHopOnly: new(false),
	}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"interval":2.5,"mode":"tcp","port":443,"final_hop_only":false,"alert_latency_ms":1.5,"log_path":"a.csv"}`
	if string(b) != want {
		t.Errorf("Marshal = %s; want %s", b, want)
	}
}

func TestOptionsUnmarshalErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"intervall": 1}`, `unknown key "intervall" (did you mean "interval"?)`},
		{`{"Interval": 1}`, `unknown key "Interval" (did you mean "interval"?)`},
		{`{"alert_loss": 1}`, `unknown key "alert_loss"`},
		{`{"colour": 1}`, `unknown key "colour"`},
		{`{"interval": "2"}`, `interval: want a number of seconds, got "2"`},
		{`{"mode": 1}`, `mode: want "icmp", "udp" or "tcp", got 1`},
		{`{"port": 44.5}`, `port: want a whole number, got 44.5`},
		{`{"final_hop_only": "yes"}`, `final_hop_only: want true or false, got "yes"`},
		{`{"log_path": ["a"]}`, `log_path: want a string, got a list`},
		{`{"interval": 1e300}`, `interval: 1e300 is far too large`},
		{`{"interval": 1, "interval": 2}`, `key "interval" is given twice`},
		{`{"target": "x"}`, `"target" belongs in an entry of "targets"`},
		{`{"status_interval": 5}`, `"status_interval" belongs at the top level`},
		{`[1]`, `want an object {...}, got a list`},
	}
	for _, tt := range tests {
		var o Options
		err := json.Unmarshal([]byte(tt.in), &o)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Unmarshal(%s) = %v; want an error containing %q", tt.in, err, tt.want)
		}
	}
	var o Options
	if err := json.Unmarshal([]byte(`{"_comment": "x", "_interval": "off", "interval": null}`), &o); err != nil || o.Interval != nil {
		t.Errorf("comments and null: got %+v, %v; want no options, no error", o, err)
	}
}

func TestSettingsValidation(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" for valid
	}{
		{`{"interval": 0.05}`, ""},
		{`{"interval": 0.049}`, "interval: 0.049 s is out of range"},
		{`{"interval": 0}`, "interval: 0 s is out of range"},
		{`{"interval": -1}`, "interval: -1 s is out of range"},
		{`{"timeout": 60}`, ""},
		{`{"timeout": 0}`, "timeout: 0 s is out of range: want more than 0 s and at most 60 s"},
		{`{"timeout": 61}`, "timeout: 61 s is out of range"},
		{`{"mode": "udp", "port": 65535}`, ""},
		{`{"mode": "TCP", "port": 1}`, ""},
		{`{"mode": "icmpv6"}`, `mode: unknown probe mode "icmpv6" (want icmp, udp or tcp)`},
		{`{"mode": "tcp", "port": 0}`, "port: 0 is out of range: want 1 to 65535"},
		{`{"mode": "tcp", "port": 65536}`, "port: 65536 is out of range"},
		{`{"port": 80}`, "port: only udp and tcp probes use a port"},
		{`{"size": 0}`, ""},
		{`{"size": 65001}`, "size: 65001 is out of range: want 0 to 65000"},
		{`{"max_hops": 0}`, "max_hops: 0 is out of range: want 1 to 255"},
		{`{"max_hops": 256}`, "max_hops: 256 is out of range"},
		{`{"first_ttl": 5, "max_hops": 4}`, "first_ttl: 5 is above max_hops (4)"},
		{`{"send_delay": -0.1}`, "send_delay: -0.1 s is out of range"},
		{`{"alert_loss_pct": -1}`, "alert_loss_pct: -1 is out of range"},
		{`{"alert_loss_pct": 101}`, "alert_loss_pct: 101 is out of range"},
		{`{"alert_latency_ms": -5}`, "alert_latency_ms: -5 is out of range"},
		{`{"alert_loss_pct": 0, "alert_latency_ms": 0}`, ""},
		{`{"alert_window": 0}`, "alert_window: 0 is out of range: want 1 to 10000"},
		{`{"history": 0}`, "history: 0 is out of range: want 1 to 1048576"},
		{`{"webhook_url": "ftp://x/secret"}`, `webhook_url: scheme "ftp": want an http:// or https:// URL`},
		{`{"webhook_url": "hooks.example/secret"}`, `webhook_url: no scheme; want an http:// or https:// URL`},
		{`{"webhook_url": "https:///secret"}`, `webhook_url: no host after https://`},
		{`{"webhook_url": "http://[::1/secret"}`, `webhook_url: not a URL`},
		{`{"webhook_url": "http://hooks.example:8080/a?b=c"}`, ""},
		{`{"webhook_url": ""}`, ""},
		{`{"log_max_bytes": -1}`, "log_max_bytes: -1 is out of range: want 0 (the default) or at least 1024"},
		{`{"log_max_bytes": 1024}`, ""},
		{`{"log_max_bytes": 0}`, ""},
		{`{"log_max_files": -1}`, "log_max_files: -1 is out of range"},
	}
	for _, tt := range tests {
		var o Options
		if err := json.Unmarshal([]byte(tt.in), &o); err != nil {
			t.Fatalf("Unmarshal(%s): %v", tt.in, err)
		}
		_, err := o.Settings()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("Settings(%s) = %v; want no error", tt.in, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("Settings(%s) = %v; want an error containing %q", tt.in, err, tt.want)
		}
	}
}

func TestMerge(t *testing.T) {
	base := Options{Interval: new(Seconds(time.Second)), FinalHopOnly: new(true), AlertLossPct: new(20.0)}
	over := Options{FinalHopOnly: new(false), AlertLossPct: new(0.0), Size: new(100)}
	got := base.Merge(over)
	want := Options{Interval: new(Seconds(time.Second)), FinalHopOnly: new(false), AlertLossPct: new(0.0), Size: new(100)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Merge = %+v; want %+v", got, want)
	}
	if *base.FinalHopOnly != true {
		t.Errorf("Merge changed its receiver")
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct{ key, want string }{
		{"intervall", "interval"},
		{"maxhops", "max_hops"},
		{"max-hops", "max_hops"},
		{"webhook", ""}, // too far: a third of the letters differ
		{"timout", "timeout"},
		{"x", ""},
		{"alert_window_", "alert_window"},
	}
	for _, tt := range tests {
		if got := suggest(tt.key, optionKeys()); got != tt.want {
			t.Errorf("suggest(%q) = %q; want %q", tt.key, got, tt.want)
		}
	}
}

func TestSyntaxErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "the file is empty"},
		{"{\n  \"a\": 1,\n}", "line 3, column 1: invalid character '}'"},
		{"{\n  \"a\": 1", "line 2, column 9: the JSON ends too early"},
		{"{} x", "line 1, column 4: invalid character 'x' after top-level value"},
	}
	for _, tt := range tests {
		err := checkSyntax([]byte(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("checkSyntax(%q) = %v; want %q", tt.in, err, tt.want)
		}
	}
}

// TestDNSOption: "dns" false is NoNames, from the defaults block or an
// entry (which overrides it); true or no key leaves names on. FromSettings
// writes the key only when names are off, so files of targets with names
// on stay as they were before the key existed.
func TestDNSOption(t *testing.T) {
	rs, err := Resolve(Options{DNS: new(false)}, []TargetEntry{
		{Host: "10.0.0.1"},
		{Host: "10.0.0.2", Options: Options{DNS: new(true)}},
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !rs[0].Settings.NoNames || rs[1].Settings.NoNames {
		t.Errorf("NoNames = %v, %v; want true (from defaults), false (the entry's dns true)", rs[0].Settings.NoNames, rs[1].Settings.NoNames)
	}
	if s, err := (Options{}).Settings(); err != nil || s.NoNames {
		t.Errorf("no dns key: NoNames %v (%v); want names on", s.NoNames, err)
	}
	for _, tt := range []struct {
		noNames bool
		want    string
	}{{false, ""}, {true, `"dns":false`}} {
		s := builtin()
		s.NoNames = tt.noNames
		b, err := json.Marshal(FromSettings(s))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(b); (tt.want == "" && strings.Contains(got, `"dns"`)) || !strings.Contains(got, tt.want) {
			t.Errorf("FromSettings(NoNames %v) = %s; want %s", tt.noNames, got, map[bool]string{true: "dns false", false: "no dns key"}[tt.noNames])
		}
	}
}
