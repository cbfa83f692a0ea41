package session

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
)

func goldenText(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// edit replaces the one occurrence of old in s.
func edit(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("edit: %q occurs %d times in the golden file; want once", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

func TestLoadRefuses(t *testing.T) {
	g := goldenText(t)
	const dnsHop1 = `"ttl": 1,`
	tests := []struct {
		name string
		text func(t *testing.T) string
		want string
	}{
		{"empty", func(*testing.T) string { return "" }, "the file is empty: not a PingerPlot session; nothing was loaded"},
		{"truncated", func(*testing.T) string { return g[:1234] },
			"truncated JSON at byte 1234: the file is incomplete; nothing was loaded"},
		{"truncated after the last brace", func(*testing.T) string { return g[:len(g)-3] }, "truncated JSON at byte"},
		{"garbage in the middle", func(t *testing.T) string { return edit(t, g, `"rounds": 3,`, `"rounds": 3,,`) },
			"invalid JSON at byte 568: invalid character ',' looking for beginning of object key string: the file is damaged or not a session"},
		{"binary", func(*testing.T) string { return "\x1f\x8b\x08\x00gzip" }, "invalid JSON at byte 1"},
		{"a list", func(*testing.T) string { return `[{"format": "pingerplot-session"}]` },
			"not a PingerPlot session: the file holds a JSON array, not an object"},
		{"a headless config", func(*testing.T) string { return `{"targets": [{"target": "8.8.8.8"}]}` },
			`not a PingerPlot session: it has no "format": "pingerplot-session"`},
		{"another format", func(t *testing.T) string { return edit(t, g, `"pingerplot-session"`, `"smokeping"`) },
			`not a PingerPlot session: its "format" is "smokeping", not "pingerplot-session"`},
		{"future version", func(t *testing.T) string {
			return edit(t, g, `"version": 1,`, `"version": 3, "hop_tables": {},`)
		}, "version 3 is newer than this PingerPlot understands (1); upgrade PingerPlot; nothing was loaded"},
		{"no version", func(t *testing.T) string { return edit(t, g, `"version": 1,`, ``) }, `damaged session: it has no "version"`},
		{"version zero", func(t *testing.T) string { return edit(t, g, `"version": 1,`, `"version": 0,`) }, `"version" 0 is not a version`},
		{"version text", func(t *testing.T) string { return edit(t, g, `"version": 1,`, `"version": "1",`) }, `"version" "1" is not a version`},
		{"wrong type", func(t *testing.T) string { return edit(t, g, `"rounds": 3,`, `"rounds": "3",`) },
			"damaged session at byte 568: targets.rounds: want int, got a JSON string"},
		{"bad saved_at", func(t *testing.T) string {
			return edit(t, g, `"saved_at": "2026-05-01T13:00:00Z"`, `"saved_at": "yesterday"`)
		},
			`saved_at: "yesterday" is not an RFC 3339 time`},
		{"no host", func(t *testing.T) string { return edit(t, g, `"host":"one.one.one.one",`, ``) },
			`targets[0]: target: host: missing`},
		{"no id", func(t *testing.T) string { return edit(t, g, `"id":"web",`, ``) }, `targets[1] (example.com): target: id: missing`},
		{"duplicate id", func(t *testing.T) string { return edit(t, g, `"id":"web"`, `"id":"dns"`) },
			`targets[1] (example.com): target: id: "dns" is also the ID of targets[0]`},
		{"bad address", func(t *testing.T) string { return edit(t, g, `"addr":"2001:db8::1"}`, `"addr":"2001:db8::g"}`) },
			`targets[1] (example.com): target: addr: "2001:db8::g" is not an IP address`},
		{"no settings", func(t *testing.T) string {
			return edit(t, g, `"state": "paused",`, `"settings": null, "state": "paused",`)
		},
			`targets[1] (example.com): settings: want an object`},
		{"bad setting", func(t *testing.T) string { return edit(t, g, `"interval":5,`, `"interval":0,`) },
			`targets[1] (example.com): settings: interval: 0 s is out of range`},
		{"unknown setting", func(t *testing.T) string { return edit(t, g, `"interval":5,`, `"intervall":5,`) },
			`targets[1] (example.com): settings: unknown key "intervall" (did you mean "interval"?)`},
		{"bad state", func(t *testing.T) string { return edit(t, g, `"state": "paused"`, `"state": "sleeping"`) },
			`targets[1] (example.com): state: "sleeping" is not a state`},
		{"negative rounds", func(t *testing.T) string { return edit(t, g, `"rounds": 0,`, `"rounds": -1,`) },
			`targets[2] (192.0.2.1): rounds: -1 is out of range`},
		{"huge rounds", func(t *testing.T) string { return edit(t, g, `"rounds": 0,`, `"rounds": 99999999999,`) },
			`targets[2] (192.0.2.1): rounds: 99999999999 is out of range: want 0 to 4294967295`},
		{"last before started", func(t *testing.T) string {
			return edit(t, g, `"last": "2026-05-01T12:00:05.03Z"`, `"last": "2026-04-01T12:00:05.03Z"`)
		}, `targets[1] (example.com): last: 2026-04-01T12:00:05.03Z is before started`},
		{"ttl 0", func(t *testing.T) string { return edit(t, g, dnsHop1, `"ttl": 0,`) },
			`targets[0] (one.one.one.one): hops[0] (ttl 0): ttl: 0 is out of range: want 1 to 255`},
		{"ttl 256", func(t *testing.T) string { return edit(t, g, `"ttl": 30,`, `"ttl": 256,`) }, `hops[0] (ttl 256): ttl: 256 is out of range`},
		{"ttl order", func(t *testing.T) string { return edit(t, g, `"ttl": 3,`, `"ttl": 2,`) },
			`targets[0] (one.one.one.one): hops[2]: ttl 2 is not above the previous hop's (2)`},
		{"recv above sent", func(t *testing.T) string {
			return edit(t, g, `"stats": {"sent":3,"recv":0,`, `"stats": {"sent":3,"recv":4,`)
		}, `targets[0] (one.one.one.one): hops[1] (ttl 2): stats: sent 3, recv 4: want 0 <= recv <= sent`},
		{"sent above rounds", func(t *testing.T) string {
			return edit(t, g, `"stats": {"sent":3,"recv":0,`, `"stats": {"sent":4,"recv":0,`)
		}, `hops[1] (ttl 2): stats: sent 4 is more than the target's rounds (3)`},
		{"negative duration", func(t *testing.T) string {
			return edit(t, g, `"stats": {"sent":3,"recv":0,"last_ms":0`, `"stats": {"sent":3,"recv":0,"last_ms":-1`)
		}, `hops[1] (ttl 2): stats: last_ms: -1 is out of range: want 0 to 86400000`},
		{"huge duration", func(t *testing.T) string {
			return edit(t, g, `"stats": {"sent":3,"recv":0,"last_ms":0`, `"stats": {"sent":3,"recv":0,"last_ms":1e300`)
		}, `last_ms: 1e+300 is out of range`},
		{"best above worst", func(t *testing.T) string {
			return edit(t, g, `"sent":3,"recv":3,"last_ms":8.1,"best_ms":8,`, `"sent":3,"recv":3,"last_ms":8.1,"best_ms":10,`)
		}, `hops[2] (ttl 3): stats: best_ms 10 is above worst_ms 9.5`},
		{"responder address", func(t *testing.T) string {
			return edit(t, g, `{"addr":"203.0.113.5","stats"`, `{"addr":"203.0.113.500","stats"`)
		}, `hops[2] (ttl 3): responders[1]: addr: "203.0.113.500" is not an IP address`},
		{"responder twice", func(t *testing.T) string {
			return edit(t, g, `{"addr":"203.0.113.5","stats"`, `{"addr":"203.0.113.1","stats"`)
		}, `hops[2] (ttl 3): responders[1]: 203.0.113.1 is listed twice`},
		{"details address", func(t *testing.T) string {
			return edit(t, g, `{"addr":"203.0.113.5","quoted"`, `{"addr":"203.0.113.500","quoted"`)
		}, `hops[2] (ttl 3): details[1]: addr: "203.0.113.500" is not an IP address`},
		{"details twice", func(t *testing.T) string {
			return edit(t, g, `{"addr":"203.0.113.5","quoted"`, `{"addr":"203.0.113.1","quoted"`)
		}, `hops[2] (ttl 3): details[1]: 203.0.113.1 is listed twice`},
		{"label beyond 20 bits", func(t *testing.T) string { return edit(t, g, `"label":24001`, `"label":1048576`) },
			`hops[2] (ttl 3): details[0] (203.0.113.1): mpls[0]: label 1048576, tc 5: want a label below 2^20 and tc 0 to 7`},
		{"traffic class beyond 3 bits", func(t *testing.T) string { return edit(t, g, `"tc":5`, `"tc":8`) },
			`mpls[0]: label 24001, tc 8: want a label below 2^20 and tc 0 to 7`},
		{"interface role", func(t *testing.T) string { return edit(t, g, `"role":"outgoing"`, `"role":"sideways"`) },
			`details[0] (203.0.113.1): interfaces[1]: role "sideways": want incoming, sub-ip, outgoing or next-hop`},
		{"interface address", func(t *testing.T) string { return edit(t, g, `"addr":"192.0.2.9"`, `"addr":"192.0.2.999"`) },
			`interfaces[0]: addr: ParseAddr("192.0.2.999")`},
		{"interface name with an escape", func(t *testing.T) string { return edit(t, g, `"name":"xe-1/0/0"`, `"name":"xe\u001b[31m"`) },
			`interfaces[1]: name "xe\x1b[31m": control characters are not allowed`},
		{"tos without a quote", func(t *testing.T) string { return edit(t, g, `"quoted":true,"tos":184`, `"tos":184`) },
			`details[0] (203.0.113.1): tos and nat come from a quote: want quoted true with them`},
		{"details saying nothing", func(t *testing.T) string {
			return edit(t, g, `{"addr":"203.0.113.5","quoted":true,"nat":true}`, `{"addr":"203.0.113.5"}`)
		}, `details[1] (203.0.113.5): says nothing: want labels, interfaces or a quote`},
		{"responders add up", func(t *testing.T) string {
			return edit(t, g, `{"addr":"203.0.113.5","stats":{"sent":1,"recv":1,`, `{"addr":"203.0.113.5","stats":{"sent":2,"recv":2,`)
		}, `hops[2] (ttl 3): responders: their replies add up to 4, more than the hop received (3)`},
		{"two destinations", func(t *testing.T) string { return edit(t, g, dnsHop1, `"ttl": 1, "reached": true,`) },
			`targets[0] (one.one.one.one): hops[3] (ttl 4): reached: the destination is already at hops[0]`},
		{"history setting below the saved history", func(t *testing.T) string { return edit(t, g, `"history":10}`, `"history":1}`) },
			`targets[1] (example.com): hops[0] (ttl 30): history: 2 samples, more than the 1 the settings keep`},
		{"history over the setting", func(t *testing.T) string {
			return edit(t, g, `"history":3600,"webhook_url"`, `"history":2,"webhook_url"`)
		},
			`targets[0] (one.one.one.one): hops[0] (ttl 1): history: 3 samples, more than the 2 the settings keep`},
		{"history order", func(t *testing.T) string {
			return edit(t, g, `{"round":2,"time":"2026-05-01T12:00:01Z","from":"192.168.1.1"`, `{"round":0,"time":"2026-05-01T12:00:01Z","from":"192.168.1.1"`)
		}, `hops[0] (ttl 1): history[1]: round 0 comes after round 1: want oldest first`},
		{"history round past rounds", func(t *testing.T) string {
			return edit(t, g, `{"round":3,"time":"2026-05-01T12:00:02Z","from":"192.168.1.1"`, `{"round":4,"time":"2026-05-01T12:00:02Z","from":"192.168.1.1"`)
		}, `hops[0] (ttl 1): history[2]: round: 4 is out of range: want 0 to the target's rounds (3)`},
		{"history time", func(t *testing.T) string {
			return edit(t, g, `{"round":3,"time":"2026-05-01T12:00:02Z","from":"192.168.1.1"`, `{"round":3,"time":"12:00:02","from":"192.168.1.1"`)
		}, `hops[0] (ttl 1): history[2]: time: "12:00:02" is not an RFC 3339 time`},
		{"history lost with rtt", func(t *testing.T) string {
			return edit(t, g, `{"round":3,"time":"2026-05-01T12:00:02Z","rtt_ms":0,"lost":true}`,
				`{"round":3,"time":"2026-05-01T12:00:02Z","rtt_ms":5,"lost":true}`)
		}, `hops[1] (ttl 2): history[2]: lost: a lost probe has no from, rtt_ms or reached`},
		{"history from", func(t *testing.T) string {
			return edit(t, g, `"from":"203.0.113.5","rtt_ms":9.5}`, `"from":"router","rtt_ms":9.5}`)
		}, `hops[2] (ttl 3): history[1]: from: "router" is not an IP address`},
		{"event time", func(t *testing.T) string { return edit(t, g, `{"time":"2026-05-01T12:00:06Z"`, `{"time":""`) },
			`targets[1] (example.com): events[0]: time: "" is not an RFC 3339 time`},
		{"event kind", func(t *testing.T) string { return edit(t, g, `"kind":"paused"`, `"kind":"Paused!"`) },
			`targets[1] (example.com): events[0]: kind: "Paused!" is not an event kind`},
		{"event condition", func(t *testing.T) string { return edit(t, g, `"condition":"loss"`, `"condition":"mos"`) },
			`events[2]: condition: "mos" is not "loss" or "latency"`},
		{"alert without condition", func(t *testing.T) string { return edit(t, g, `"condition":"loss",`, ``) },
			`events[2]: condition: an alert_raised event needs "loss" or "latency"`},
		{"event ttl", func(t *testing.T) string {
			return edit(t, g, `"kind":"route_change","ttl":3`, `"kind":"route_change","ttl":-3`)
		},
			`events[0]: ttl: -3 is out of range`},
		{"event message", func(t *testing.T) string { return edit(t, g, `"message":"paused"`, `"message":"pau\u001b[2Jsed"`) },
			`events[0]: message: "pau\x1b[2Jsed" has control characters`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := tt.text(t)
			s, err := Load(strings.NewReader(text))
			if tt.want == "" {
				if err != nil {
					t.Errorf("Load = %v; want it to load", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load = %v\nwant an error containing %q", err, tt.want)
			}
			if err != nil && !strings.HasSuffix(err.Error(), "; nothing was loaded") {
				t.Errorf("Load error %q does not say that nothing was loaded", err)
			}
			if !reflect.DeepEqual(s, Session{}) {
				t.Errorf("Load returned data with its error: %+v", s)
			}
		})
	}
}

func TestLoadFileNamesTheFile(t *testing.T) {
	g := goldenText(t)
	path := filepath.Join(t.TempDir(), "session.json")
	if err := os.WriteFile(path, []byte(g[:1234]), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(path)
	want := path + ": truncated JSON at byte 1234: the file is incomplete; nothing was loaded"
	if err == nil || err.Error() != want {
		t.Errorf("LoadFile = %v; want %q", err, want)
	}
	_, err = LoadFile(filepath.Join(t.TempDir(), "none.json"))
	if err == nil || !strings.Contains(err.Error(), "none.json: no such file; nothing was loaded") {
		t.Errorf("LoadFile(missing) = %v", err)
	}
}

func TestSaveRefuses(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Session)
		want   string
	}{
		{"zero address", func(s *Session) { s.Records[2].Target.Addr = netipZero }, `targets[2] (192.0.2.1): target: addr: "" is not an IP address`},
		{"ttl", func(s *Session) { s.Records[0].Hops[1].TTL = 300 }, "hops[1] (ttl 300): ttl: 300 is out of range"},
		{"settings", func(s *Session) { s.Records[1].Target.Settings.Interval = time.Millisecond }, "settings: interval: 0.001 s is out of range"},
		{"saved_at", func(s *Session) { s.SavedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "saved_at:"},
		{"duplicate id", func(s *Session) { s.Records[2].Target.ID = "dns" }, `id: "dns" is also the ID of targets[0]`},
		{"negative rtt", func(s *Session) { s.Records[0].Hops[0].History[0].RTT = -time.Millisecond }, "history[0]: rtt_ms: -1 is out of range"},
		{"event kind", func(s *Session) { s.Records[1].Events[0].Kind = "" }, `events[0]: kind: "" is not an event kind`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := fixture(t)
			tt.change(&s)
			var b bytes.Buffer
			err := Save(&b, s)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "session not saved: ") {
				t.Errorf("Save = %v; want an error containing %q", err, tt.want)
			}
			if b.Len() != 0 {
				t.Errorf("Save wrote %d bytes of a refused session", b.Len())
			}
		})
	}
}

var netipZero = monitor.Target{}.Addr
