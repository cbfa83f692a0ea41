package web

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/session"
)

// savedSession runs two targets for a few rounds, one of them then
// paused, and returns the session GET /api/session gives.
func savedSession(t *testing.T, e *env) []byte {
	t.Helper()
	e.start()
	e.add("dest.example", map[string]any{"alert_loss_pct": 20, "timeout": 0.5})
	e.add("other.example", map[string]any{"interval": 2, "mode": "udp"})
	e.waitRounds("dest.example", 5, 10*time.Second)
	e.waitRounds("other.example", 3, 10*time.Second)
	e.must(200, "POST", "/api/targets/other.example/pause", nil)
	e.must(200, "POST", "/api/targets/dest.example/pause", nil)
	synctest.Wait() // the rounds in flight end
	e.must(200, "POST", "/api/targets/dest.example/resume", nil)
	e.must(200, "POST", "/api/targets/dest.example/pause", nil)
	synctest.Wait()

	r := e.must(200, "GET", "/api/session", nil)
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("session Content-Type = %q; want application/json", ct)
	}
	if cd := r.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="pingerplot-session-`) || !strings.HasSuffix(cd, `.json"`) {
		t.Errorf("session Content-Disposition = %q; want an attachment pingerplot-session-<time>.json", cd)
	}
	ss, err := session.Load(bytes.NewReader(r.body))
	if err != nil {
		t.Fatalf("the saved session does not load: %v", err)
	}
	if ss.App != "pingerplot test" || len(ss.Records) != 2 {
		t.Errorf("session app %q with %d targets; want %q and 2", ss.App, len(ss.Records), "pingerplot test")
	}
	return r.body
}

// view is what the API shows of every target: summary, detail with
// history and events. "last" is left out: a restored target's is the
// start of its latest round until it runs one (monitor.Restore).
func (e *env) view(t *testing.T) map[string]any {
	t.Helper()
	out := map[string]any{}
	for _, s := range decodeInto[[]map[string]any](t, e.must(200, "GET", "/api/targets", nil)) {
		id := s["id"].(string)
		delete(s, "last")
		d := decodeInto[map[string]any](t, e.must(200, "GET", "/api/targets/"+escape(id)+"?history=1", nil))
		delete(d, "last")
		out[id+" summary"] = s
		out[id+" detail"] = d
		out[id+" events"] = decodeInto[[]map[string]any](t, e.must(200, "GET", "/api/targets/"+escape(id)+"/events", nil))
	}
	return out
}

func escape(id string) string { return strings.ReplaceAll(id, " ", "%20") }

func TestSessionRoundTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newPathEnv(t)
		saved := savedSession(t, a)
		want := a.view(t)

		b := newEnv(t)
		b.add("10.0.3.1", nil) // replaced by the session's targets
		list := decodeInto[[]summary](t, b.must(200, "POST", "/api/session", saved))
		var ids []string
		for _, s := range list {
			ids = append(ids, s.ID+" "+s.State)
		}
		if want := []string{"dest.example paused", "other.example paused"}; !slices.Equal(ids, want) {
			t.Errorf("POST /api/session answered %q; want %q", ids, want)
		}
		got := b.view(t)
		// Loading pauses the targets saved paused, which logs a "paused"
		// event (monitor.Restore cannot restore a target paused).
		for _, id := range []string{"dest.example", "other.example"} {
			evs := got[id+" events"].([]map[string]any)
			if n := len(evs); n == 0 || evs[n-1]["kind"] != "paused" {
				t.Errorf("%s: last event %v; want the paused of loading", id, evs)
			} else {
				got[id+" events"] = evs[:n-1]
			}
		}
		for k := range want {
			if !reflect.DeepEqual(got[k], want[k]) {
				t.Errorf("%s after the round trip:\n%s\nwant:\n%s", k, mustJSON(t, got[k]), mustJSON(t, want[k]))
			}
		}
		if len(got) != len(want) {
			t.Errorf("%d views after the round trip; want %d", len(got), len(want))
		}
		if got, want := b.savedTargets(), []string{"|dest.example", "|other.example"}; !slices.Equal(got, want) {
			t.Errorf("saved targets after loading = %q; want %q", got, want)
		}
		// Restored targets go on from their last round.
		b.start()
		b.must(200, "POST", "/api/targets/dest.example/resume", nil)
		rounds := int(want["dest.example summary"].(map[string]any)["rounds"].(float64))
		b.waitRounds("dest.example", rounds+1, 5*time.Second)
		d := decodeInto[detail](t, b.must(200, "GET", "/api/targets/dest.example?history=1", nil))
		last := (*d.Hops[0].History)[len(*d.Hops[0].History)-1]
		var row []any
		_ = json.Unmarshal(last, &row)
		if row[2] != float64(rounds+1) {
			t.Errorf("first round after loading is %v; want %d", row[2], rounds+1)
		}
	})
}

func TestSessionRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newEnv(t)
		saved := string(savedSession(t, a))
		b := newEnv(t)
		b.add("10.0.3.1", map[string]any{"interval": 3})
		b.start()
		b.waitRounds("10.0.3.1", 2, 10*time.Second)
		b.must(200, "POST", "/api/targets/10.0.3.1/pause", nil)
		synctest.Wait()
		edit := func(old, new string) string {
			if !strings.Contains(saved, old) {
				t.Fatalf("the session has no %q", old)
			}
			return strings.Replace(saved, old, new, 1)
		}
		tests := []struct {
			name, body, want string
		}{
			{"empty", "", "the file is empty: not a PingerPlot session; nothing was loaded"},
			{"truncated", saved[:len(saved)/2], "truncated JSON at byte"},
			{"corrupt", edit(`"rounds": `, `"rounds": ,`), "invalid JSON at byte"},
			{"binary", "\x1f\x8b\x08\x00", "invalid JSON at byte 1"},
			{"settings file", string(b.must(200, "GET", "/api/settings", nil).body), `not a PingerPlot session: it has no "format"`},
			{"another format", edit(`"pingerplot-session"`, `"smokeping"`), `its "format" is "smokeping"`},
			{"future version", edit(`"version": 1,`, `"version": 2,`), "version 2 is newer than this PingerPlot understands (1); upgrade PingerPlot"},
			{"bad address", edit(`"addr":"10.0.3.1"`, `"addr":"10.0.3"`), "addr"},
			{"bad settings", edit(`"interval":1,`, `"interval":0,`), "interval: 0 s is out of range"},
		}
		for _, tt := range tests { // t.Run is not allowed in a bubble
			before := b.state()
			view := b.view(t)
			r := b.api("POST", "/api/session", tt.body)
			if r.code != 400 || !strings.Contains(r.errorText(), tt.want) {
				t.Errorf("POST /api/session (%s) = %v; want 400 with %q", tt.name, r, tt.want)
			}
			b.unchanged("a refused session ("+tt.name+")", before)
			if after := b.view(t); !reflect.DeepEqual(after, view) {
				t.Errorf("a refused session (%s) changed the targets' data:\n%s\nwant:\n%s", tt.name, mustJSON(t, after), mustJSON(t, view))
			}
		}
		// An empty session is a session: it removes every target.
		empty := `{"format": "pingerplot-session", "version": 1, "targets": []}`
		if r := b.must(200, "POST", "/api/session", empty); strings.TrimSpace(string(r.body)) != "[]" {
			t.Errorf("loading an empty session answered %s; want []", r.body)
		}
		if len(b.ids()) != 0 || len(b.savedTargets()) != 0 {
			t.Errorf("after an empty session: targets %q, saved %q; want none", b.ids(), b.savedTargets())
		}
	})
}

// TestDNSInSession: switching names off for one target with a PUT shows
// at once in GET and in the session saved right after (no round needed),
// logs no event, and the session loaded elsewhere keeps it off for that
// target and on for the other.
func TestDNSInSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newEnv(t)
		a.start()
		a.add("dest.example", nil)
		a.add("other.example", nil)
		a.waitRounds("dest.example", 2, 5*time.Second)
		a.waitRounds("other.example", 2, 5*time.Second)
		events := len(a.mon.Events("other.example"))

		s := decodeInto[summary](t, a.must(200, "PUT", "/api/targets/other.example/settings", map[string]any{"dns": false}))
		if s.Settings["dns"] != false {
			t.Errorf("PUT dns false answered dns %v; want false", s.Settings["dns"])
		}
		hosts := func(e *env) map[string]any {
			out := map[string]any{}
			for _, s := range decodeInto[[]summary](t, e.must(200, "GET", "/api/targets", nil)) {
				d := decodeInto[detail](t, e.must(200, "GET", "/api/targets/"+s.ID, nil))
				out[s.ID] = []any{s.Settings["dns"], d.Settings["dns"], d.Hops[0].Host}
			}
			return out
		}
		want := map[string]any{"dest.example": []any{true, true, "r-10.0.1.1.example"}, "other.example": []any{false, false, ""}}
		if got := hosts(a); !reflect.DeepEqual(got, want) {
			t.Errorf("GET after the PUT: [summary dns, detail dns, hop 1 host] = %v; want %v", got, want)
		}
		if n := len(a.mon.Events("other.example")); n != events {
			t.Errorf("PUT dns made %d events; want none", n-events)
		}

		saved := a.must(200, "GET", "/api/session", nil).body
		ss, err := session.Load(bytes.NewReader(saved))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range ss.Records {
			if r.Target.NoNames != (r.Target.ID == "other.example") {
				t.Errorf("saved %s with NoNames %v; want %v", r.Target.ID, r.Target.NoNames, r.Target.ID == "other.example")
			}
		}
		if n := strings.Count(string(saved), `"dns":false`); n != 1 {
			t.Errorf("the session has %d \"dns\":false; want 1 (other.example's)", n)
		}

		b := newEnv(t)
		b.must(200, "POST", "/api/session", saved)
		if got := hosts(b); !reflect.DeepEqual(got, want) {
			t.Errorf("after loading: [summary dns, detail dns, hop 1 host] = %v; want %v", got, want)
		}
		u := b.loadUser()
		for _, en := range u.Targets {
			off := en.Options.DNS != nil && !*en.Options.DNS
			if off != (en.Host == "other.example") {
				t.Errorf("saved entry %s after loading; want dns false for other.example only", mustJSON(t, en))
			}
		}
	})
}
