package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHistorySettings(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, json string
		want       History
		problem    string
	}{
		{"absent", `{}`, History{}, ""},
		{"off", `{"enabled": false}`, History{Off: true}, ""},
		{"relative path starts at the config", `{"path": "h.db", "max_age_days": 7, "rollup_max_age_days": 365, "max_size_mb": 200}`,
			History{Path: filepath.Join(dir, "h.db"), MaxAgeDays: 7, RollupMaxAgeDays: 365, MaxSizeMB: 200}, ""},
		{"hours for a small device", `{"max_age_days": 0.25}`, History{MaxAgeDays: 0.25}, ""},
		{"tiny cap", `{"max_size_mb": 1}`, History{}, "history.max_size_mb: 1 is out of range"},
		{"negative age", `{"max_age_days": -1}`, History{}, "history.max_age_days: -1 is out of range"},
		{"rollups shorter than raw", `{"max_age_days": 30, "rollup_max_age_days": 7}`, History{MaxAgeDays: 30, RollupMaxAgeDays: 7}, "rollups must outlive"},
		{"typo", `{"max_age_dys": 3}`, History{}, `unknown key "max_age_dys" (did you mean "max_age_days"?)`},
		{"wrong type", `{"enabled": "yes"}`, History{Off: true}, "history.enabled: want true or false"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p problems
			got := decodeHistory([]byte(tt.json), dir, &p)
			err := p.err("f")
			switch {
			case tt.problem == "" && err != nil:
				t.Fatalf("decodeHistory(%s): %v; want no problem", tt.json, err)
			case tt.problem != "" && (err == nil || !strings.Contains(err.Error(), tt.problem)):
				t.Fatalf("decodeHistory(%s) error = %v; want one containing %q", tt.json, err, tt.problem)
			case tt.problem == "" && got != tt.want:
				t.Errorf("decodeHistory(%s) = %+v; want %+v", tt.json, got, tt.want)
			}
		})
	}
	h := History{MaxAgeDays: 2, RollupMaxAgeDays: 0.5, MaxSizeMB: 16}
	if h.MaxAge() != 48*time.Hour || h.RollupMaxAge() != 12*time.Hour || h.MaxBytes() != 16<<20 {
		t.Errorf("conversions = %v, %v, %d; want 48h, 12h, %d", h.MaxAge(), h.RollupMaxAge(), h.MaxBytes(), 16<<20)
	}
}

// TestHistoryRoundTrip: the settings file keeps what the dashboard does
// not change, history included.
func TestHistoryRoundTrip(t *testing.T) {
	dir := t.TempDir()
	u := DefaultUser()
	u.History = History{Path: "/x/h.db", MaxAgeDays: 3, MaxSizeMB: 64}
	if err := SaveUser(dir, u); err != nil {
		t.Fatal(err)
	}
	got, err := LoadUser(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.History != u.History {
		t.Errorf("history read back = %+v; want %+v", got.History, u.History)
	}
}
