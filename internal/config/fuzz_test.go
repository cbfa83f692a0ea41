package config

import "testing"

// FuzzParse feeds the headless config and settings parsers arbitrary
// bytes: they must never panic, and settings they accept must save and
// read back.
func FuzzParse(f *testing.F) {
	f.Add(Starter())
	f.Add([]byte(`{"defaults": {"mode": "tcp", "port": 443}, "targets": [{"target": "h", "log_path": "a.csv"}, {"target": "i", "name": "x", "log_path": "a.csv"}]}`))
	f.Add([]byte(`{"version": 1, "theme": "light", "targets": [{"target": "h", "interval": 0.5, "_c": 1}]}`))
	f.Add([]byte(`{"targets": [{"target": "h", "intervall": 1, "interval": 1e400}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var p problems
		h := parseHeadless(data, "/etc/pingerplot", &p)
		if len(p) == 0 && len(h.Targets) == 0 {
			t.Fatalf("a config without targets was accepted: %q", data)
		}
		s, up, _ := parseUser(data)
		if len(up) > 0 {
			return
		}
		b, err := s.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		s2, up2, _ := parseUser(b)
		if len(up2) > 0 {
			t.Fatalf("settings accepted from %q do not read back from %s: %v", data, b, up2.err(""))
		}
		if b2, _ := s2.MarshalJSON(); string(b2) != string(b) {
			t.Fatalf("settings changed through a save:\n%s\n%s", b, b2)
		}
	})
}
