package web

import (
	"encoding/json"
	"math"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/csvlog"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
)

func TestUnknownTargetIs404(t *testing.T) {
	e := newEnv(t)
	e.add("dest.example", nil)
	tests := []struct {
		method, path string
		body         any
		wantID       string // named in the message
	}{
		{"GET", "/api/targets/nope", nil, "nope"},
		{"GET", "/api/targets/nope?history=1", nil, "nope"},
		{"DELETE", "/api/targets/nope", nil, "nope"},
		{"POST", "/api/targets/nope/pause", nil, "nope"},
		{"POST", "/api/targets/nope/resume", nil, "nope"},
		{"PUT", "/api/targets/nope/settings", map[string]any{"interval": 2}, "nope"},
		{"PUT", "/api/targets/nope/settings", "{not json", "nope"}, // the target first
		{"GET", "/api/targets/nope/events", nil, "nope"},
		{"GET", "/api/targets/nope/summary.csv", nil, "nope"},
		{"GET", "/api/targets/a%2Fb", nil, "a/b"}, // an escaped slash stays in the ID
		{"GET", "/api/targets/dest.example%20%282%29", nil, "dest.example (2)"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			before := e.state()
			r := e.api(tt.method, tt.path, tt.body)
			if r.code != http.StatusNotFound {
				t.Errorf("%s %s = %v; want 404", tt.method, tt.path, r)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q; want application/json", ct)
			}
			if msg := r.errorText(); !strings.Contains(msg, `"`+tt.wantID+`"`) {
				t.Errorf("error %q; want it to name %q", msg, tt.wantID)
			}
			e.unchanged(tt.method+" "+tt.path, before)
		})
	}
}

func TestUnknownEndpoint(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ method, path string }{
		{"GET", "/api/nope"},
		{"GET", "/api/targets/x/nope"},
		{"GET", "/api/"},
		{"GET", "/api/targets/x/pause/more"},
		{"PUT", "/api/targets"},         // a known path, another method
		{"GET", "/api/targets/x/pause"}, // the same
		{"DELETE", "/api/settings"},
	}
	for _, tt := range tests {
		before := e.state()
		r := e.api(tt.method, tt.path, nil)
		if r.code != http.StatusNotFound || r.header.Get("Content-Type") != "application/json" || !strings.Contains(r.errorText(), "docs/web-api.md") {
			t.Errorf("%s %s = %v (%s); want 404 JSON pointing to docs/web-api.md", tt.method, tt.path, r, r.header.Get("Content-Type"))
		}
		e.unchanged(tt.method+" "+tt.path, before)
	}
}

func TestAddTargetRefused(t *testing.T) {
	e := newEnv(t)
	e.add("dest.example", nil)
	e.must(http.StatusCreated, "POST", "/api/targets", map[string]any{"host": "10.0.3.1", "name": "named"})
	type obj = map[string]any
	add := func(settings obj) obj { return obj{"host": "10.0.3.1", "settings": settings} }
	tests := []struct {
		name string
		body any
		code int
		want string // in the error message
	}{
		{"malformed JSON", `{"host": "10.0.3.1"`, 400, "malformed JSON"},
		{"empty body", ``, 400, "body is empty"},
		{"not an object", `["10.0.3.1"]`, 400, "malformed JSON"},
		{"trailing data", `{"host": "10.0.3.1"} {}`, 400, "more data after"},
		{"unknown key", obj{"host": "10.0.3.1", "colour": "red"}, 400, `unknown key "colour"`},
		{"host of the wrong type", obj{"host": 10}, 400, "malformed JSON"},
		{"empty host", obj{"host": ""}, 400, "host is empty"},
		{"blank host", obj{"host": "   "}, 400, "host is empty"},
		{"no host", obj{"name": "x"}, 400, "host is empty"},
		{"host the resolver refuses", obj{"host": "nosuch.example"}, 400, "lookup nosuch.example: no such host"},
		{"host with a space", obj{"host": "a b"}, 400, `"a b" is not a host name`},
		{"a URL", obj{"host": "http://dest.example/x"}, 400, "is a URL"},
		{"name with spaces around", obj{"host": "10.0.3.1", "name": " x "}, 400, "surrounding spaces"},
		{"name too long", obj{"host": "10.0.3.1", "name": strings.Repeat("n", 101)}, 400, "longer than 100 bytes"},
		{"name taken", obj{"host": "10.0.3.1", "name": "named"}, 409, `a target named "named" exists`},
		{"unknown settings key", add(obj{"intervall": 2}), 400, `unknown key "intervall"`},
		{"settings not an object", `{"host": "10.0.3.1", "settings": "fast"}`, 400, "settings: want a JSON object"},
		{"interval 0", add(obj{"interval": 0}), 400, "interval: 0 s is out of range"},
		{"interval negative", add(obj{"interval": -1}), 400, "interval: -1 s is out of range"},
		{"interval text", add(obj{"interval": "1s"}), 400, "interval"},
		{"port 70000 with tcp", add(obj{"mode": "tcp", "port": 70000}), 400, "port: 70000 is out of range"},
		{"port with icmp", add(obj{"port": 443}), 400, "only udp and tcp probes use a port"},
		{"mode unknown", add(obj{"mode": "sctp"}), 400, "mode"},
		{"timeout 0", add(obj{"timeout": 0}), 400, "timeout: 0 s is out of range"},
		{"size -1", add(obj{"size": -1}), 400, "size: -1 is out of range"},
		{"max_hops 300", add(obj{"max_hops": 300}), 400, "max_hops: 300 is out of range"},
		{"first_ttl above max_hops", add(obj{"first_ttl": 9, "max_hops": 5}), 400, "first_ttl: 9 is above max_hops"},
		{"negative loss threshold", add(obj{"alert_loss_pct": -1}), 400, "alert_loss_pct: -1 is out of range"},
		{"loss threshold above 100", add(obj{"alert_loss_pct": 101}), 400, "alert_loss_pct: 101 is out of range"},
		{"negative latency threshold", add(obj{"alert_latency_ms": -5}), 400, "alert_latency_ms: -5 is out of range"},
		{"alert window 0", add(obj{"alert_window": 0}), 400, "alert_window: 0 is out of range"},
		{"webhook ftp", add(obj{"webhook_url": "ftp://hooks.example/x"}), 400, `webhook_url: scheme "ftp"`},
		{"webhook without scheme", add(obj{"webhook_url": "hooks.example/x"}), 400, "webhook_url: no scheme"},
		{"history 0", add(obj{"history": 0}), 400, "history: 0 is out of range"},
		{"log cap too small", add(obj{"log_max_bytes": 10}), 400, "log_max_bytes"},
		{"event_log_path", add(obj{"event_log_path": "x.csv"}), 400, "event_log_path"},
		{"dns not a boolean", add(obj{"dns": "yes"}), 400, `dns: "yes" is not true or false`},
		{"dns null", add(obj{"dns": nil}), 400, "dns: null is not true or false"},
		{"two problems", add(obj{"interval": 0, "size": -1}), 400, "2 problems"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.state()
			r := e.api("POST", "/api/targets", tt.body)
			if r.code != tt.code {
				t.Errorf("POST /api/targets %v = %v; want %d", tt.body, r, tt.code)
			}
			if msg := r.errorText(); !strings.Contains(msg, tt.want) {
				t.Errorf("error %q; want it to contain %q", msg, tt.want)
			}
			e.unchanged("a refused POST", before)
		})
	}
	if got, want := e.ids(), []string{"dest.example", "named"}; !slices.Equal(got, want) {
		t.Errorf("targets after the refused requests = %q; want %q", got, want)
	}
}

func TestAddListGetDelete(t *testing.T) {
	e := newEnv(t)
	if r := e.must(200, "GET", "/api/targets", nil); strings.TrimSpace(string(r.body)) != "[]" {
		t.Errorf("GET /api/targets with none = %s; want []", r.body)
	}
	r := e.must(http.StatusCreated, "POST", "/api/targets", map[string]any{"host": " dest.example ", "settings": map[string]any{"interval": 2, "mode": "tcp", "port": 443}})
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q; want application/json", ct)
	}
	s := decodeInto[summary](t, r)
	if s.ID != "dest.example" || s.Host != "dest.example" || s.Addr != "10.0.3.1" || s.State != "running" || s.Rounds != 0 || s.Last != nil {
		t.Errorf("added %+v; want id and host dest.example, addr 10.0.3.1, running, no rounds, last null", s)
	}
	if s.Settings["interval"] != 2.0 || s.Settings["mode"] != "tcp" || s.Settings["port"] != 443.0 || s.Settings["dns"] != true || s.Settings["timeout"] != 1.0 {
		t.Errorf("settings %v; want interval 2, tcp port 443, dns true and the default timeout 1", s.Settings)
	}
	// The same host again gets a distinct ID; a name is the ID.
	if s2 := e.add("dest.example", nil); s2.ID != "dest.example (2)" {
		t.Errorf("second target of the same host has ID %q; want %q", s2.ID, "dest.example (2)")
	}
	e.must(http.StatusCreated, "POST", "/api/targets", map[string]any{"host": "other.example", "name": "a-name"})

	list := decodeInto[[]summary](t, e.must(200, "GET", "/api/targets", nil))
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	if want := []string{"a-name", "dest.example", "dest.example (2)"}; !slices.Equal(ids, want) {
		t.Errorf("GET /api/targets IDs = %q; want %q (sorted)", ids, want)
	}

	d := decodeInto[detail](t, e.must(200, "GET", "/api/targets/dest.example%20%282%29", nil))
	if d.ID != "dest.example (2)" || d.Hops == nil || len(d.Hops) != 0 {
		t.Errorf("detail before any round = %+v; want ID %q and an empty hop list", d, "dest.example (2)")
	}

	r = e.must(http.StatusNoContent, "DELETE", "/api/targets/a-name", nil)
	if len(r.body) != 0 {
		t.Errorf("DELETE answered %q; want no body", r.body)
	}
	e.must(http.StatusNotFound, "GET", "/api/targets/a-name", nil)
	e.must(http.StatusNotFound, "DELETE", "/api/targets/a-name", nil)
	if got, want := e.ids(), []string{"dest.example", "dest.example (2)"}; !slices.Equal(got, want) {
		t.Errorf("targets after DELETE = %q; want %q", got, want)
	}
	if got, want := e.savedTargets(), []string{"|dest.example", "dest.example (2)|dest.example"}; !slices.Equal(got, want) {
		t.Errorf("saved targets after DELETE = %q; want %q", got, want)
	}
}

// TestJSONShapes pins the keys of docs/web-api.md.
func TestJSONShapes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.start()
		e.add("dest.example", nil)
		e.add("other.example", map[string]any{"mode": "udp", "webhook_url": "https://hooks.example/x", "log_path": "/tmp/x.csv", "log_max_bytes": 4096, "log_max_files": 3})
		e.waitRounds("dest.example", 2, 5*time.Second)
		keys := func(m map[string]json.RawMessage) []string {
			var out []string
			for k := range m {
				out = append(out, k)
			}
			sort.Strings(out)
			return out
		}
		list := decodeInto[[]map[string]json.RawMessage](t, e.must(200, "GET", "/api/targets", nil))
		wantSummary := []string{"addr", "dest", "diagnosis", "hops", "host", "id", "last", "path_mtu", "rounds", "settings", "state"}
		if got := keys(list[0]); !slices.Equal(got, wantSummary) {
			t.Errorf("summary keys = %q; want %q", got, wantSummary)
		}
		dest := decodeInto[map[string]json.RawMessage](t, response{body: list[0]["dest"]})
		if got, want := keys(dest), []string{"active", "jitter_ms", "latency_ms", "loss_pct", "mos", "r", "refused", "sent", "ttl"}; !slices.Equal(got, want) {
			t.Errorf("dest keys = %q; want %q", got, want)
		}
		// Settings: the documented keys; port only for udp and tcp, the
		// webhook and log keys only when set.
		icmp := []string{"alert_latency_ms", "alert_loss_pct", "alert_window", "dns", "final_hop_only", "first_ttl", "history", "interval", "max_hops", "mode", "send_delay", "size", "timeout"}
		udp := append(slices.Clone(icmp), "log_max_bytes", "log_max_files", "log_path", "port", "webhook_url")
		sort.Strings(udp)
		for i, want := range [][]string{icmp, udp} {
			st := decodeInto[map[string]json.RawMessage](t, response{body: list[i]["settings"]})
			if got := keys(st); !slices.Equal(got, want) {
				t.Errorf("settings keys of %s = %q; want %q", list[i]["id"], got, want)
			}
		}
		if got := string(list[0]["settings"]); !strings.HasPrefix(got, `{"interval":`) || !strings.HasSuffix(got, `"dns":true}`) {
			t.Errorf("settings = %s; want the documented order, interval first and dns last", got)
		}

		d := decodeInto[map[string]json.RawMessage](t, e.must(200, "GET", "/api/targets/dest.example?history=1", nil))
		if got, want := keys(d), wantSummary; !slices.Equal(got, want) {
			t.Errorf("detail keys = %q; want %q", got, want)
		}
		hops := decodeInto[[]map[string]json.RawMessage](t, response{body: d["hops"]})
		wantHop := []string{"addr", "avg_ms", "destination", "history", "host", "jitter_ms", "last_ms", "loss_pct", "max_ms", "min_ms", "others", "p50_ms", "p95_ms", "recv", "refused", "sent", "stdev_ms", "ttl"}
		if len(hops) != 3 {
			t.Fatalf("%d hops; want 3", len(hops))
		}
		if got := keys(hops[0]); !slices.Equal(got, wantHop) {
			t.Errorf("hop keys = %q; want %q", got, wantHop)
		}
		evs := decodeInto[[]map[string]json.RawMessage](t, e.must(200, "GET", "/api/events", nil))
		if len(evs) == 0 {
			t.Fatal("no events")
		}
		if got, want := keys(evs[0]), []string{"kind", "message", "target", "time", "ttl"}; !slices.Equal(got, want) {
			t.Errorf("event keys = %q; want %q (condition, value and threshold only for alerts)", got, want)
		}
	})
}

// newPathEnv is newEnv over a path whose second router never answers.
func newPathEnv(t *testing.T) *env {
	e := newEnv(t)
	e.net.SetHops([]probetest.Hop{
		{Addr: e.net.Hops[0].Addr, RTT: msec(1)},
		{Silent: true},
		{Addr: destAddr, RTT: msec(5)},
	})
	return e
}

func TestDetailHistory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newPathEnv(t)
		e.start()
		e.add("dest.example", map[string]any{"timeout": 0.5})
		e.waitRounds("dest.example", 3, 10*time.Second)
		e.must(200, "POST", "/api/targets/dest.example/pause", nil) // no round in flight while we look
		synctest.Wait()

		plain := decodeInto[detail](t, e.must(200, "GET", "/api/targets/dest.example", nil))
		withHist := decodeInto[detail](t, e.must(200, "GET", "/api/targets/dest.example?history=1", nil))
		if len(plain.Hops) != 3 || len(withHist.Hops) != 3 {
			t.Fatalf("%d and %d hops; want 3", len(plain.Hops), len(withHist.Hops))
		}
		snap, _ := e.mon.Snapshot("dest.example", true)
		for i, h := range plain.Hops {
			if h.History != nil {
				t.Errorf("hop %d without ?history=1 has history %v; want none", h.TTL, *h.History)
			}
			hh := withHist.Hops[i]
			if hh.History == nil || len(*hh.History) != 3 {
				t.Fatalf("hop %d with ?history=1: history %v; want 3 rows", hh.TTL, hh.History)
			}
			for j, raw := range *hh.History {
				var row []any
				if err := json.Unmarshal(raw, &row); err != nil || len(row) != 3 {
					t.Fatalf("hop %d row %d = %s; want [t, rtt, round]", hh.TTL, j, raw)
				}
				smp := snap.Hops[i].History[j]
				wantT := math.Round(float64(smp.Time.UnixNano())/1e3) / 1e6 // µs
				var wantRTT any = float64(smp.RTT) / 1e6
				if smp.Lost {
					wantRTT = nil
				}
				if row[0] != wantT || row[1] != wantRTT || row[2] != float64(j+1) {
					t.Errorf("hop %d row %d = %s; want [%v, %v, %d]", hh.TTL, j, raw, wantT, wantRTT, j+1)
				}
			}
		}
		if h := withHist.Hops[1]; h.Addr != "" || h.Recv != 0 || string((*h.History)[0]) == "" || !strings.Contains(string((*h.History)[0]), "null") {
			t.Errorf("silent hop = %+v; want no address and null RTTs", h)
		}
		if h := withHist.Hops[2]; !h.Dest || h.Addr != "10.0.3.1" || h.Host != "r-10.0.3.1.example" {
			t.Errorf("last hop = %+v; want the destination 10.0.3.1 named r-10.0.3.1.example", h)
		}
	})
}

func TestPauseResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.start()
		e.add("dest.example", nil)
		e.waitRounds("dest.example", 3, 5*time.Second)

		s := decodeInto[summary](t, e.must(200, "POST", "/api/targets/dest.example/pause", nil))
		if s.State != "paused" {
			t.Errorf("state after pause = %q; want paused", s.State)
		}
		synctest.Wait()
		before := decodeInto[detail](t, e.must(200, "GET", "/api/targets/dest.example?history=1", nil))
		time.Sleep(10 * time.Second)
		during := decodeInto[detail](t, e.must(200, "GET", "/api/targets/dest.example?history=1", nil))
		if during.Rounds != before.Rounds || !reflect.DeepEqual(during.Hops, before.Hops) {
			t.Errorf("10 s paused: rounds %d → %d; want no rounds and the same history", before.Rounds, during.Rounds)
		}
		e.must(200, "POST", "/api/targets/dest.example/pause", nil) // pausing twice is fine

		s = decodeInto[summary](t, e.must(200, "POST", "/api/targets/dest.example/resume", nil))
		if s.State != "running" {
			t.Errorf("state after resume = %q; want running", s.State)
		}
		e.waitRounds("dest.example", before.Rounds+1, 2*time.Second)
		after := decodeInto[detail](t, e.must(200, "GET", "/api/targets/dest.example?history=1", nil))
		if n := len(*after.Hops[0].History); n != before.Rounds+1 {
			t.Errorf("history after resume: %d rows; want the %d kept plus 1", n, before.Rounds)
		}
		var kinds []string
		for _, ev := range decodeInto[[]eventOut](t, e.must(200, "GET", "/api/targets/dest.example/events", nil)) {
			kinds = append(kinds, ev.Kind)
		}
		if want := []string{"target_added", "paused", "resumed"}; !slices.Equal(kinds, want) {
			t.Errorf("events = %q; want %q", kinds, want)
		}
	})
}

func TestUpdateSettings(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.net.Hops[2].RTT = 800 * time.Millisecond
		e.start()
		base := e.add("dest.example", map[string]any{"interval": 2, "alert_loss_pct": 20})
		// Edit during a round (0.8 s of every 2 s), when new settings
		// wait for the next round.
		e.waitRounds("dest.example", 1, 5*time.Second)
		time.Sleep(1500 * time.Millisecond)
		if sn, _ := e.mon.Snapshot("dest.example", false); sn.Rounds != 1 {
			t.Fatalf("%d rounds; want the second in flight", sn.Rounds)
		}
		r := e.must(200, "PUT", "/api/targets/dest.example/settings", map[string]any{"alert_window": 5, "max_hops": 12})
		got := decodeInto[summary](t, r).Settings
		want := maps(base.Settings, map[string]any{"alert_window": 5.0, "max_hops": 12.0})
		if !reflect.DeepEqual(got, want) {
			t.Errorf("settings after a partial PUT = %v; want %v (only the given keys change)", got, want)
		}
		// A second edit before the next round starts from the first.
		got = decodeInto[summary](t, e.must(200, "PUT", "/api/targets/dest.example/settings", map[string]any{"size": 100})).Settings
		want["size"] = 100.0
		if !reflect.DeepEqual(got, want) {
			t.Errorf("settings after a second PUT = %v; want %v", got, want)
		}
		if l := decodeInto[[]summary](t, e.must(200, "GET", "/api/targets", nil)); !reflect.DeepEqual(l[0].Settings, want) {
			t.Errorf("GET /api/targets settings = %v; want the new ones %v", l[0].Settings, want)
		}
		synctest.Wait()
		var changed []string
		for _, ev := range decodeInto[[]eventOut](t, e.must(200, "GET", "/api/events", nil)) {
			if ev.Kind == "settings_changed" {
				changed = append(changed, ev.Message)
			}
		}
		if want := []string{"settings: max hops 30 → 12, alert window 20 → 5", "settings: size 36 → 100"}; !slices.Equal(changed, want) {
			t.Errorf("settings_changed events = %q; want %q", changed, want)
		}
		u := e.loadUser()
		if o := u.Targets[0].Options; o.AlertWindow == nil || *o.AlertWindow != 5 || o.Size == nil || *o.Size != 100 || o.Interval == nil {
			t.Errorf("saved entry %s; want the new alert window and size, the interval kept", mustJSON(t, u.Targets[0]))
		}
		// Rounds run with the new settings.
		e.waitRounds("dest.example", 3, 10*time.Second)
		if p := e.net.Sent(); p[len(p)-1].Size != 100 {
			t.Errorf("probe size after the edit = %d; want 100", p[len(p)-1].Size)
		}
	})
}

func maps(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestModeChange: a port belongs to its mode, so switching mode without a
// port takes the new mode's default (the page leaves the port out for
// ICMP, and a TCP target's port means nothing to UDP).
func TestModeChange(t *testing.T) {
	e := newEnv(t)
	e.add("dest.example", map[string]any{"mode": "tcp", "port": 443})
	steps := []struct {
		put      map[string]any
		wantMode string
		wantPort any // nil: no port key
	}{
		{map[string]any{"mode": "icmp"}, "icmp", nil},
		{map[string]any{"mode": "udp"}, "udp", 33434.0},
		{map[string]any{"port": 5000}, "udp", 5000.0},
		{map[string]any{"mode": "udp", "interval": 2}, "udp", 5000.0}, // the same mode keeps its port
		{map[string]any{"mode": "tcp", "port": 22}, "tcp", 22.0},
		{map[string]any{"mode": "TCP"}, "tcp", 22.0},
		{map[string]any{"mode": "udp"}, "udp", 33434.0},
		{map[string]any{"mode": "tcp"}, "tcp", 80.0},
		{map[string]any{"mode": "icmp"}, "icmp", nil},
	}
	for i, st := range steps {
		s := decodeInto[summary](t, e.must(200, "PUT", "/api/targets/dest.example/settings", st.put)).Settings
		if s["mode"] != st.wantMode || s["port"] != st.wantPort {
			t.Errorf("step %d: PUT %v → mode %v port %v; want %s %v", i, st.put, s["mode"], s["port"], st.wantMode, st.wantPort)
		}
		saved := e.loadUser().Targets[0].Options
		if _, err := mergeOptions(e.srv.user.Defaults, saved).Settings(); err != nil {
			t.Errorf("step %d: the saved entry %s is invalid: %v", i, mustJSON(t, saved), err)
		}
	}
}

func TestUpdateSettingsRefused(t *testing.T) {
	e := newEnv(t)
	e.add("dest.example", map[string]any{"mode": "tcp", "port": 443})
	type obj = map[string]any
	tests := []struct {
		name string
		body any
		want string
	}{
		{"malformed JSON", `{"interval": `, "malformed JSON"},
		{"trailing data", `{"interval": 2}]`, "more data after"},
		{"not an object", `[1]`, "want a JSON object"},
		{"null", `null`, "want a JSON object"},
		{"empty", ``, "body is empty"},
		{"unknown key", obj{"interval": 2, "colour": 1}, `unknown key "colour"`},
		{"a typo", obj{"timout": 2}, `unknown key "timout" (did you mean "timeout"?)`},
		{"interval 0", obj{"interval": 0}, "interval: 0 s is out of range"},
		{"port 70000", obj{"port": 70000}, "port: 70000 is out of range"},
		{"port 0", obj{"port": 0}, "port: 0 is out of range"},
		{"timeout 0", obj{"timeout": 0}, "timeout: 0 s is out of range"},
		{"size -1", obj{"size": -1}, "size: -1 is out of range"},
		{"max_hops 300", obj{"max_hops": 300}, "max_hops: 300 is out of range"},
		{"negative loss", obj{"alert_loss_pct": -0.5}, "alert_loss_pct: -0.5 is out of range"},
		{"negative latency", obj{"alert_latency_ms": -1}, "alert_latency_ms: -1 is out of range"},
		{"webhook ftp", obj{"webhook_url": "ftp://x.example/"}, `webhook_url: scheme "ftp"`},
		{"port with icmp", obj{"mode": "icmp", "port": 443}, "only udp and tcp probes use a port"},
		{"dns a number", obj{"dns": 1}, "dns: 1 is not true or false"},
		{"valid dns, invalid rest", obj{"dns": false, "size": -1}, "size: -1 is out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.state()
			r := e.api("PUT", "/api/targets/dest.example/settings", tt.body)
			if r.code != http.StatusBadRequest || !strings.Contains(r.errorText(), tt.want) {
				t.Errorf("PUT settings %v = %v; want 400 with %q", tt.body, r, tt.want)
			}
			e.unchanged("a refused PUT", before)
		})
	}
	if evs := e.mon.Events("dest.example"); len(evs) != 1 {
		t.Errorf("%d events after refused edits; want only target_added", len(evs))
	}
}

func TestSummaryCSV(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.start()
		e.add("dest.example", nil)
		e.add("other.example", map[string]any{"dns": false})
		e.waitRounds("dest.example", 2, 5*time.Second)
		e.waitRounds("other.example", 2, 5*time.Second)
		tests := []struct {
			id, path, file string
			hostCol        string // the last hop's host column
		}{
			{"dest.example", "/api/targets/dest.example/summary.csv", "pingerplot-dest.example-summary.csv", "r-10.0.3.1.example"},
			{"other.example", "/api/targets/other.example/summary.csv", "pingerplot-other.example-summary.csv", ""},
		}
		for _, tt := range tests {
			r := e.must(200, "GET", tt.path, nil)
			if ct := r.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
				t.Errorf("Content-Type = %q; want text/csv; charset=utf-8", ct)
			}
			if cd, want := r.header.Get("Content-Disposition"), `attachment; filename="`+tt.file+`"`; cd != want {
				t.Errorf("Content-Disposition = %q; want %q", cd, want)
			}
			lines := strings.Split(strings.TrimSpace(string(r.body)), "\n")
			if lines[0] != "# PingerPlot summary: per-hop statistics of one target (docs/csv-log.md)" {
				t.Errorf("first line %q; want the summary's title", lines[0])
			}
			for _, want := range []string{"# format: 1", "# target: " + tt.id, "# address: ", "# mode: icmp", "# rounds: "} {
				if !slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, want) }) {
					t.Errorf("%s: no header line %q in\n%s", tt.id, want, r.body)
				}
			}
			i := slices.Index(lines, csvlog.SummaryColumns)
			if i < 0 || len(lines) != i+4 {
				t.Fatalf("%s: want the column row then 3 hops:\n%s", tt.id, r.body)
			}
			if cols := strings.Split(lines[i+3], ","); cols[1] != "10.0.3.1" || cols[2] != tt.hostCol {
				t.Errorf("%s: last hop %q; want address 10.0.3.1, host %q", tt.id, lines[i+3], tt.hostCol)
			}
		}
	})
}

func TestEventsSince(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		start := time.Now()
		e.add("dest.example", nil)
		time.Sleep(time.Second)
		e.add("other.example", nil)
		time.Sleep(time.Second)
		e.must(200, "POST", "/api/targets/dest.example/pause", nil)

		at := func(d time.Duration) string { return start.Add(d).UTC().Format(time.RFC3339Nano) }
		tests := []struct {
			query string
			want  []string // target kind
		}{
			{"", []string{"dest.example target_added", "other.example target_added", "dest.example paused"}},
			{"?since=" + at(-time.Second), []string{"dest.example target_added", "other.example target_added", "dest.example paused"}},
			{"?since=" + at(0), []string{"other.example target_added", "dest.example paused"}}, // strictly after
			{"?since=" + at(500*time.Millisecond), []string{"other.example target_added", "dest.example paused"}},
			{"?since=" + at(time.Second), []string{"dest.example paused"}},
			{"?since=" + at(time.Hour), []string{}},
			{"?since=2000-01-01T01:00:00.5%2B01:00", []string{"other.example target_added", "dest.example paused"}}, // synctest's epoch, another zone
		}
		for _, tt := range tests {
			evs := decodeInto[[]eventOut](t, e.must(200, "GET", "/api/events"+tt.query, nil))
			got := []string{}
			for _, ev := range evs {
				got = append(got, ev.Target+" "+ev.Kind)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("GET /api/events%s = %q; want %q", tt.query, got, tt.want)
			}
		}
		for _, bad := range []string{"yesterday", "2026-11-29", "1700000000", "2026-11-29T05:00:00"} {
			r := e.api("GET", "/api/events?since="+bad, nil)
			if r.code != 400 || !strings.Contains(r.errorText(), "since: want an RFC 3339 time") {
				t.Errorf("GET /api/events?since=%s = %v; want 400 naming since", bad, r)
			}
		}
	})
}

func TestDNSSetting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.start()
		on := e.add("dest.example", map[string]any{"dns": true})
		off := e.add("other.example", map[string]any{"dns": false})
		if on.Settings["dns"] != true || off.Settings["dns"] != false {
			t.Errorf("dns in the added settings: %v and %v; want true and false", on.Settings["dns"], off.Settings["dns"])
		}
		e.waitRounds("dest.example", 1, 5*time.Second)
		e.waitRounds("other.example", 1, 5*time.Second)
		host := func(id string) string {
			d := decodeInto[detail](t, e.must(200, "GET", "/api/targets/"+id, nil))
			if d.Settings["dns"] == nil {
				t.Errorf("detail of %s has no dns setting", id)
			}
			return d.Hops[0].Host
		}
		if h := host("dest.example"); h != "r-10.0.1.1.example" {
			t.Errorf("hop 1 of a target with dns on is named %q; want r-10.0.1.1.example", h)
		}
		if h := host("other.example"); h != "" {
			t.Errorf("hop 1 of a target with dns off is named %q; want no name", h)
		}
		list := decodeInto[[]summary](t, e.must(200, "GET", "/api/targets", nil))
		if list[0].Settings["dns"] != true || list[1].Settings["dns"] != false {
			t.Errorf("GET /api/targets dns = %v, %v; want true, false", list[0].Settings["dns"], list[1].Settings["dns"])
		}
		// dns alone changes nothing that is probed and makes no event.
		n := len(e.mon.Events("other.example"))
		s := decodeInto[summary](t, e.must(200, "PUT", "/api/targets/other.example/settings", map[string]any{"dns": true}))
		if s.Settings["dns"] != true || host("other.example") != "r-10.0.1.1.example" {
			t.Errorf("after PUT dns true: dns %v, hop host %q; want true and the name", s.Settings["dns"], host("other.example"))
		}
		if m := len(e.mon.Events("other.example")); m != n {
			t.Errorf("PUT dns made %d events; want none", m-n)
		}
		e.must(200, "PUT", "/api/targets/other.example/settings", map[string]any{"dns": false})
		// A removed target's setting does not carry over to a new one with its ID.
		e.must(204, "DELETE", "/api/targets/other.example", nil)
		if s := e.add("other.example", nil); s.Settings["dns"] != true {
			t.Errorf("re-added target has dns %v; want true", s.Settings["dns"])
		}
	})
}

// TestConcurrentEdits runs adds, removes and edits at once; the saved
// target list must end up matching the monitor's targets, with each
// edit kept (go test -race checks the handlers' locking).
func TestConcurrentEdits(t *testing.T) {
	e := newEnv(t)
	const n = 8
	done := make(chan struct{})
	// check is must for other goroutines than the test's.
	check := func(want int, method, path string, body any) {
		if r := e.api(method, path, body); r.code != want {
			t.Errorf("%s %s = %v; want %d", method, path, r, want)
		}
	}
	for i := range n {
		go func() {
			defer func() { done <- struct{}{} }()
			name := "t" + string(rune('a'+i))
			check(http.StatusCreated, "POST", "/api/targets", map[string]any{"host": "10.0.3.1", "name": name})
			for j := 1; j <= 5; j++ {
				check(200, "PUT", "/api/targets/"+name+"/settings", map[string]any{"alert_window": j})
				check(200, "PUT", "/api/targets/"+name+"/settings", map[string]any{"size": 40 + j})
			}
			check(200, "GET", "/api/session", nil)
			if i%2 == 1 {
				check(http.StatusNoContent, "DELETE", "/api/targets/"+name, nil)
			}
		}()
	}
	for range n {
		<-done
	}
	u := e.loadUser()
	var saved []string
	for _, en := range u.Targets {
		saved = append(saved, en.Name)
		if en.Options.AlertWindow == nil || *en.Options.AlertWindow != 5 || en.Options.Size == nil || *en.Options.Size != 45 {
			t.Errorf("saved %s; want alert_window 5 and size 45", mustJSON(t, en))
		}
	}
	sort.Strings(saved)
	if got := e.ids(); !slices.Equal(saved, got) {
		t.Errorf("saved targets %q; want the running ones %q", saved, got)
	}
	for _, tg := range e.mon.Targets() {
		if tg.Alert.Window != 5 || tg.Trace.Size != 45 {
			t.Errorf("target %s: window %d, size %d; want 5 and 45", tg.ID, tg.Alert.Window, tg.Trace.Size)
		}
	}
}
