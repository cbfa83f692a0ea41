package web

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/monitor"
)

// userOut is UserSettings as a test reads the API's JSON.
type userOut struct {
	Version        int               `json:"version"`
	Theme          string            `json:"theme"`
	ResumeOnLaunch bool              `json:"resume_on_launch"`
	Sound          bool              `json:"sound"`
	Defaults       map[string]any    `json:"defaults"`
	Targets        []json.RawMessage `json:"targets"`
}

func TestGetPutSettings(t *testing.T) {
	e := newEnv(t)
	got := decodeInto[userOut](t, e.must(200, "GET", "/api/settings", nil))
	if got.Version != config.Version || got.Theme != "dark" || !got.Sound || got.ResumeOnLaunch || len(got.Defaults) != 0 || got.Targets == nil {
		t.Errorf("GET /api/settings on a first launch = %+v; want version %d, dark, sound on, no defaults, an empty target list", got, config.Version)
	}
	e.add("dest.example", nil)

	// Without "targets" the saved list stays the server's.
	put := map[string]any{"theme": "light", "sound": false, "resume_on_launch": true,
		"defaults": map[string]any{"interval": 2, "alert_loss_pct": 10, "mode": "udp"}}
	got = decodeInto[userOut](t, e.must(200, "PUT", "/api/settings", put))
	if got.Theme != "light" || got.Sound || !got.ResumeOnLaunch || got.Defaults["interval"] != 2.0 || got.Defaults["mode"] != "udp" || len(got.Targets) != 1 {
		t.Errorf("PUT /api/settings answered %+v; want the new settings and the one target", got)
	}
	u := e.loadUser()
	if u.Theme != "light" || u.Sound || !u.ResumeOnLaunch || u.Defaults.Interval == nil || *u.Defaults.Interval != config.Seconds(2e9) {
		t.Errorf("settings file %s; want what was PUT", mustJSON(t, u))
	}
	if got, want := e.savedTargets(), []string{"|dest.example"}; !slices.Equal(got, want) {
		t.Errorf("saved targets after a PUT without targets = %q; want %q", got, want)
	}
	// The file is replaced atomically: nothing else is left in the directory.
	ents, err := os.ReadDir(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != config.SettingsFile {
		var names []string
		for _, en := range ents {
			names = append(names, en.Name())
		}
		t.Errorf("settings directory holds %q; want only %s", names, config.SettingsFile)
	}
	if fi, err := os.Stat(e.dir + "/" + config.SettingsFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("settings file mode %v (%v); want 0600 (webhook URLs carry secrets)", fi.Mode(), err)
	}

	// New targets start from the defaults; a GET shows what was saved.
	s := e.add("other.example", map[string]any{"alert_window": 7})
	if s.Settings["interval"] != 2.0 || s.Settings["mode"] != "udp" || s.Settings["port"] != 33434.0 || s.Settings["alert_window"] != 7.0 {
		t.Errorf("new target settings %v; want the defaults (interval 2, udp) under its own alert_window", s.Settings)
	}
	got = decodeInto[userOut](t, e.must(200, "GET", "/api/settings", nil))
	if len(got.Targets) != 2 || got.Theme != "light" {
		t.Errorf("GET /api/settings = %+v; want two targets, light", got)
	}

	// With "targets" the list is replaced, even by an empty one.
	got = decodeInto[userOut](t, e.must(200, "PUT", "/api/settings", map[string]any{"theme": "dark", "targets": []any{}}))
	if len(got.Targets) != 0 || len(e.savedTargets()) != 0 {
		t.Errorf("PUT with an empty target list left %d (file: %q); want none", len(got.Targets), e.savedTargets())
	}
	if u := e.loadUser(); mustJSON(t, u.Defaults) != "{}" {
		t.Errorf("PUT without defaults kept %s; want none (a PUT replaces the settings)", mustJSON(t, u.Defaults))
	}
}

func TestPutSettingsRefused(t *testing.T) {
	e := newEnv(t)
	e.add("dest.example", map[string]any{"mode": "tcp", "port": 443})
	e.add("other.example", nil)
	type obj = map[string]any
	// A saved entry (as a person may write one) whose port relies on the
	// defaults' mode.
	e.must(200, "PUT", "/api/settings", obj{"theme": "light", "defaults": obj{"interval": 3, "mode": "tcp"},
		"targets": []any{obj{"target": "dest.example", "mode": "tcp", "port": 443}, obj{"target": "other.example"}, obj{"target": "legacy.example", "port": 8443}}})
	tests := []struct {
		name string
		body any
		code int
		want string
	}{
		{"malformed JSON", `{"theme": "light"`, 400, "malformed JSON"},
		{"not an object", `[]`, 400, "want a settings object"},
		{"null", `null`, 400, "want a settings object"},
		{"empty", ``, 400, "malformed JSON"},
		{"unknown key", obj{"theme": "light", "colour": "red"}, 400, `unknown key "colour"`},
		{"unknown default", obj{"defaults": obj{"intervall": 2}}, 400, `defaults: unknown key "intervall"`},
		{"interval 0", obj{"defaults": obj{"interval": 0}}, 400, "defaults: interval: 0 s is out of range"},
		{"port 70000", obj{"defaults": obj{"mode": "tcp", "port": 70000}}, 400, "defaults: port: 70000 is out of range"},
		{"timeout 0", obj{"defaults": obj{"timeout": 0}}, 400, "defaults: timeout: 0 s is out of range"},
		{"size -1", obj{"defaults": obj{"size": -1}}, 400, "defaults: size: -1 is out of range"},
		{"max_hops 300", obj{"defaults": obj{"max_hops": 300}}, 400, "defaults: max_hops: 300 is out of range"},
		{"negative loss", obj{"defaults": obj{"alert_loss_pct": -1}}, 400, "defaults: alert_loss_pct: -1 is out of range"},
		{"negative latency", obj{"defaults": obj{"alert_latency_ms": -1}}, 400, "defaults: alert_latency_ms: -1 is out of range"},
		{"webhook ftp", obj{"defaults": obj{"webhook_url": "ftp://x.example/"}}, 400, `defaults: webhook_url: scheme "ftp"`},
		{"dns not a boolean", obj{"defaults": obj{"dns": "no"}}, 400, `defaults: dns: "no" is not true or false`},
		{"theme", obj{"theme": "pink"}, 400, `theme: "pink" is not a theme`},
		{"sound not a boolean", obj{"sound": "on"}, 400, "sound"},
		{"newer version", obj{"version": 99}, 400, "99"},
		{"a target without host", obj{"targets": []any{obj{"name": "x"}}}, 400, "targets[0]: target: missing"},
		{"two targets with one ID", obj{"targets": []any{obj{"target": "a.example"}, obj{"target": "a.example"}}}, 400, "monitors the same host"},
		{"a target's override out of range", obj{"targets": []any{obj{"target": "a.example", "size": -1}}}, 400, "size: -1 is out of range"},
		// The kept list is checked against the new defaults.
		{"defaults that break a saved target", obj{"defaults": obj{"mode": "icmp"}}, 400,
			"targets[2] (legacy.example): port: only udp and tcp probes use a port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.state()
			r := e.api("PUT", "/api/settings", tt.body)
			if r.code != tt.code || !strings.Contains(r.errorText(), tt.want) {
				t.Errorf("PUT /api/settings %v = %v; want %d with %q", tt.body, r, tt.code, tt.want)
			}
			e.unchanged("a refused PUT /api/settings", before)
		})
	}
}

// TestSavedTargetList: the saved list follows the targets added, edited
// and removed, so "resume targets on launch" starts what was running.
func TestSavedTargetList(t *testing.T) {
	// An earlier run saved two targets; this one did not resume them.
	user := config.DefaultUser()
	user.Targets = []config.TargetEntry{{Host: "dest.example"}, {Host: "old.example", Name: "old"}}
	dir := t.TempDir()
	if err := config.SaveUser(dir, user); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *Config) { c.UserDir, c.User = dir, user })
	steps := []struct {
		do   func()
		want []string
	}{
		// The leftover entry of the same ID is replaced, not doubled.
		{func() { e.add("dest.example", map[string]any{"interval": 5}) }, []string{"old|old.example", "|dest.example"}},
		{func() { e.add("dest.example", nil) }, []string{"old|old.example", "|dest.example", "dest.example (2)|dest.example"}},
		{func() {
			e.must(201, "POST", "/api/targets", map[string]any{"host": "10.0.3.1", "name": "named"})
		}, []string{"old|old.example", "|dest.example", "dest.example (2)|dest.example", "named|10.0.3.1"}},
		{func() { e.must(204, "DELETE", "/api/targets/dest.example", nil) }, []string{"old|old.example", "dest.example (2)|dest.example", "named|10.0.3.1"}},
		{func() { e.must(204, "DELETE", "/api/targets/named", nil) }, []string{"old|old.example", "dest.example (2)|dest.example"}},
		{func() {
			e.must(200, "PUT", "/api/targets/dest.example%20%282%29/settings", map[string]any{"size": 64})
		}, []string{"old|old.example", "dest.example (2)|dest.example"}},
	}
	for i, st := range steps {
		st.do()
		if got := e.savedTargets(); !slices.Equal(got, st.want) {
			t.Errorf("step %d: saved targets %q; want %q", i, got, st.want)
		}
	}
	u := e.loadUser()
	if o := u.Targets[1].Options; o.Size == nil || *o.Size != 64 {
		t.Errorf("edited entry %s; want size 64", mustJSON(t, u.Targets[1]))
	}
	// What was saved resumes: config accepts it as a headless target list.
	rs, err := u.Resolve(e.dir)
	if err != nil || len(rs) != 2 || rs[1].ID != "dest.example (2)" || rs[1].Settings.Trace.Size != 64 {
		t.Errorf("Resolve of the saved list = %+v, %v; want old and dest.example (2) with size 64", rs, err)
	}
}

func TestDefaultDNS(t *testing.T) {
	e := newEnv(t)
	r := e.must(200, "PUT", "/api/settings", map[string]any{"defaults": map[string]any{"dns": false, "interval": 2}})
	if got := decodeInto[userOut](t, r); got.Defaults["dns"] != false || got.Defaults["interval"] != 2.0 {
		t.Errorf("PUT answered defaults %v; want dns false, interval 2", got.Defaults)
	}
	if got := decodeInto[userOut](t, e.must(200, "GET", "/api/settings", nil)); got.Defaults["dns"] != false {
		t.Errorf("GET defaults %v; want dns false", got.Defaults)
	}
	if s := e.add("dest.example", nil); s.Settings["dns"] != false {
		t.Errorf("a new target's dns = %v; want the default, false", s.Settings["dns"])
	}
	if s := e.add("other.example", map[string]any{"dns": true}); s.Settings["dns"] != true {
		t.Errorf("a new target asking for dns has %v; want true", s.Settings["dns"])
	}
	// The settings file keeps it, and the answers carry the key once.
	if u, err := config.LoadUser(e.dir); err != nil || u.Defaults.DNS == nil || *u.Defaults.DNS {
		t.Errorf("settings file defaults dns = %v (%v); want false", u.Defaults.DNS, err)
	}
	top := decodeInto[map[string]json.RawMessage](t, e.must(200, "GET", "/api/settings", nil))
	if n := strings.Count(string(top["defaults"]), `"dns"`); n != 1 {
		t.Errorf("GET /api/settings defaults = %s; want one dns key", top["defaults"])
	}
	// A PUT without it turns it back on.
	e.must(200, "PUT", "/api/settings", map[string]any{"defaults": map[string]any{"interval": 2}})
	if s := e.add("10.0.3.1", nil); s.Settings["dns"] != true {
		t.Errorf("dns after the default was removed = %v; want true", s.Settings["dns"])
	}
}

func TestSettingsInMemory(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.UserDir = "" })
	e.must(200, "PUT", "/api/settings", map[string]any{"theme": "light"})
	e.add("dest.example", nil)
	got := decodeInto[userOut](t, e.must(http.StatusOK, "GET", "/api/settings", nil))
	if got.Theme != "light" || len(got.Targets) != 1 {
		t.Errorf("in-memory settings %+v; want light and one target", got)
	}
}

// TestSavedPortKeepsItsMode: a target whose port came with the defaults'
// mode is saved with that mode, so changing the defaults later keeps the
// saved list valid.
func TestSavedPortKeepsItsMode(t *testing.T) {
	e := newEnv(t)
	e.must(200, "PUT", "/api/settings", map[string]any{"defaults": map[string]any{"mode": "tcp"}})
	e.add("dest.example", map[string]any{"port": 443})
	e.add("other.example", map[string]any{"mode": "udp"})
	e.must(200, "PUT", "/api/targets/other.example/settings", map[string]any{"port": 5000})
	u := e.loadUser()
	for i, want := range []string{`{"target":"dest.example","mode":"tcp","port":443}`, `{"target":"other.example","mode":"udp","port":5000}`} {
		if got := mustJSON(t, u.Targets[i]); got != want {
			t.Errorf("saved entry %d = %s; want %s", i, got, want)
		}
	}
	e.must(200, "PUT", "/api/settings", map[string]any{"defaults": map[string]any{"mode": "icmp"}})
}

// The name-resolution switches persist: the defaults' and a target's "dns"
// are in settings.json and a new server started from it keeps them.
func TestDNSPersists(t *testing.T) {
	e := newEnv(t)
	e.must(200, "PUT", "/api/settings", map[string]any{"defaults": map[string]any{"dns": false}})
	e.add("dest.example", map[string]any{"dns": false})
	e.add("other.example", map[string]any{"dns": true})
	u := e.loadUser()
	if u.Defaults.DNS == nil || *u.Defaults.DNS {
		t.Errorf("saved defaults dns = %v; want false", u.Defaults.DNS)
	}
	off := map[string]bool{}
	for _, te := range u.Targets {
		off[te.Host] = te.Options.DNS != nil && !*te.Options.DNS
	}
	if !off["dest.example"] || off["other.example"] {
		t.Errorf("saved dns off per target = %v; want dest.example only", off)
	}
	// A server started from that file: the defaults' switch is off, and the
	// targets resumed from it (as cli's resumeTargets does) keep theirs.
	e2 := newEnv(t, func(c *Config) { c.User = u; c.UserDir = e.dir })
	if got := decodeInto[userOut](t, e2.must(200, "GET", "/api/settings", nil)); got.Defaults["dns"] != false {
		t.Errorf("restarted server's defaults dns = %v; want false", got.Defaults["dns"])
	}
	rs, err := u.Resolve(e.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		addr, err := fakeResolve(context.Background(), r.Host)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e2.mon.Add(monitor.Target{ID: r.ID, Host: r.Host, Addr: addr, Settings: r.Settings}); err != nil {
			t.Fatal(err)
		}
	}
	dns := map[string]any{}
	for _, s := range decodeInto[[]summary](t, e2.must(200, "GET", "/api/targets", nil)) {
		dns[s.ID] = s.Settings["dns"]
	}
	if dns["dest.example"] != false || dns["other.example"] != true {
		t.Errorf("resumed targets' dns = %v; want dest.example false, other.example true", dns)
	}
}
