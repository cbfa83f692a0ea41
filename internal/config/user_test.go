package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sampleUser() UserSettings {
	return UserSettings{
		Version: Version,
		Defaults: Options{
			Interval: new(Seconds(2 * time.Second)), AlertLossPct: new(20.0),
			AlertLatency: new(Millis(250 * time.Millisecond)),
		},
		Targets: []TargetEntry{
			{Host: "8.8.8.8"},
			{Host: "example.com", Name: "web", Options: Options{Mode: new("tcp"), Port: new(443), FinalHopOnly: new(true)}},
		},
		Theme:          "light",
		ResumeOnLaunch: true,
		Sound:          false,
	}
}

// dirFiles lists the names in dir.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func TestLoadUserFirstLaunch(t *testing.T) {
	s, err := LoadUser(filepath.Join(t.TempDir(), "never-created"))
	if err != nil || !reflect.DeepEqual(s, DefaultUser()) {
		t.Errorf("LoadUser(empty) = %+v, %v; want defaults, no error", s, err)
	}
}

func TestUserRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pingerplot")
	want := sampleUser()
	if err := SaveUser(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := LoadUser(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LoadUser after SaveUser:\n got %+v\nwant %+v", got, want)
	}
	fi, err := os.Stat(filepath.Join(dir, SettingsFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("settings file mode %v; want 0600", perm)
	}
	if names := dirFiles(t, dir); !reflect.DeepEqual(names, []string{SettingsFile}) {
		t.Errorf("files after save: %v; want only %s (no temporary files)", names, SettingsFile)
	}
	// Again over the existing file.
	want.Theme = "dark"
	if err := SaveUser(dir, want); err != nil {
		t.Fatal(err)
	}
	if got, _ := LoadUser(dir); got.Theme != "dark" {
		t.Errorf("second save not read back: theme %q", got.Theme)
	}
}

func TestUserFileLayout(t *testing.T) {
	dir := t.TempDir()
	if err := SaveUser(dir, sampleUser()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, SettingsFile))
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "version": 1,
  "theme": "light",
  "resume_on_launch": true,
  "sound": false,
  "online_lookups": false,
  "geo_dbs": [],
  "history": {
    "enabled": true
  },
  "defaults": {
    "interval": 2,
    "alert_loss_pct": 20,
    "alert_latency_ms": 250
  },
  "targets": [
    {
      "target": "8.8.8.8"
    },
    {
      "target": "example.com",
      "name": "web",
      "mode": "tcp",
      "port": 443,
      "final_hop_only": true
    }
  ]
}
`
	if string(b) != want {
		t.Errorf("settings.json =\n%s\nwant\n%s", b, want)
	}
}

func TestLoadUserRefuses(t *testing.T) {
	tests := []struct{ name, text, want, aside string }{
		{"truncated", `{"version": 1, "theme": "da`, "settings.json: line 1, column 28: the JSON ends too early", "corrupt"},
		{"binary", "\x00\x01garbage", "settings.json: line 1, column 1: invalid character", "corrupt"},
		{"unknown key", `{"themes": "dark"}`, `unknown key "themes" (did you mean "theme"?)`, "corrupt"},
		{"bad theme", `{"theme": "blue"}`, `theme: "blue" is not a theme`, "corrupt"},
		{"bad target", `{"targets": [{"target": "h", "interval": -1}]}`, "targets[0] (h): interval: -1 s is out of range", "corrupt"},
		{"newer", `{"version": 3, "theme": "dark", "mystery": {}}`,
			"version 3 is newer than this PingerPlot understands (1); upgrade PingerPlot", "v3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, SettingsFile)
			if err := os.WriteFile(path, []byte(tt.text), 0o600); err != nil {
				t.Fatal(err)
			}
			mtime := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
			if err := os.Chtimes(path, mtime, mtime); err != nil {
				t.Fatal(err)
			}
			s, err := LoadUser(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "using the default settings") {
				t.Errorf("LoadUser = %v; want an error containing %q and saying defaults are used", err, tt.want)
			}
			if !reflect.DeepEqual(s, DefaultUser()) {
				t.Errorf("LoadUser returned %+v with its error; want the defaults", s)
			}
			if b, _ := os.ReadFile(path); string(b) != tt.text {
				t.Errorf("LoadUser changed the refused file")
			}
			// The next save keeps the refused file aside.
			if err := SaveUser(dir, sampleUser()); err != nil {
				t.Fatal(err)
			}
			aside := path + "." + tt.aside + "-20260304T050607Z"
			if b, err := os.ReadFile(aside); err != nil || string(b) != tt.text {
				t.Errorf("refused file not kept as %s: %v (files %v)", filepath.Base(aside), err, dirFiles(t, dir))
			}
			if _, err := LoadUser(dir); err != nil {
				t.Errorf("LoadUser after the save: %v", err)
			}
		})
	}
}

func TestKeepAsideDoesNotClobber(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, SettingsFile)
	mtime := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for i, text := range []string{"{", "[", "x"} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(path, mtime, mtime)
		if err := SaveUser(dir, DefaultUser()); err != nil {
			t.Fatalf("save %d: %v", i, err)
		}
	}
	want := []string{SettingsFile, SettingsFile + ".corrupt-20260304T050607Z", SettingsFile + ".corrupt-20260304T050607Z-2",
		SettingsFile + ".corrupt-20260304T050607Z-3"}
	if got := dirFiles(t, dir); !reflect.DeepEqual(got, want) {
		t.Errorf("files = %v; want %v", got, want)
	}
}

func TestSaveUserValidates(t *testing.T) {
	dir := t.TempDir()
	s := sampleUser()
	s.Targets = append(s.Targets, TargetEntry{Host: "8.8.8.8"})
	err := SaveUser(dir, s)
	if err == nil || !strings.Contains(err.Error(), "targets[2] (8.8.8.8): targets[0] (8.8.8.8) monitors the same host") {
		t.Errorf("SaveUser(duplicate) = %v; want a refusal", err)
	}
	if names := dirFiles(t, dir); len(names) != 0 {
		t.Errorf("SaveUser wrote %v after refusing", names)
	}
}

func TestUserJSONMethods(t *testing.T) {
	b, err := json.Marshal(sampleUser())
	if err != nil {
		t.Fatal(err)
	}
	var got UserSettings
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sampleUser()) {
		t.Errorf("JSON round trip = %+v; want %+v", got, sampleUser())
	}
	// Missing keys keep the first-launch values.
	if err := json.Unmarshal([]byte(`{}`), &got); err != nil || !reflect.DeepEqual(got, DefaultUser()) {
		t.Errorf("Unmarshal({}) = %+v, %v; want the defaults", got, err)
	}
}
