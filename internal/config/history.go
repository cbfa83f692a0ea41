package config

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"
)

// History is where the history store keeps every round and for how long:
// "history" in a headless config and in the user settings. The zero value
// is the default: on, in the user's data directory, with the store's own
// retention (docs/history.md), which a home user never has to change.
type History struct {
	// Off switches the store off ("enabled": false): nothing is kept
	// beyond the monitor's in-memory hour.
	Off bool
	// Path is the database file; "" is the store's default file. A
	// relative path in a headless config starts at the config's
	// directory, like the logs.
	Path string
	// MaxAgeDays keeps raw rounds this many days; RollupMaxAgeDays keeps
	// the per-minute rollups (long windows, beyond the raw rounds) this
	// many; MaxSizeMB caps the file, oldest raw rounds deleted first. 0
	// is the store's default for each.
	MaxAgeDays       float64
	RollupMaxAgeDays float64
	MaxSizeMB        float64
}

// History's bounds. A size under 16 MB would hold less than an hour of a
// busy monitor's raw rounds; ages are whole-day-ish but fractions are
// allowed so a test or a tiny device can keep hours.
const (
	minHistoryMB   = 16
	maxHistoryMB   = 1 << 20 // 1 TB
	maxHistoryDays = 36600   // a century
)

// MaxAge, RollupMaxAge and MaxBytes convert History to the store's units;
// 0 stays 0 (the store's default).
func (h History) MaxAge() time.Duration       { return days(h.MaxAgeDays) }
func (h History) RollupMaxAge() time.Duration { return days(h.RollupMaxAgeDays) }
func (h History) MaxBytes() int64             { return int64(h.MaxSizeMB * (1 << 20)) }

func days(d float64) time.Duration { return time.Duration(d * 24 * float64(time.Hour)) }

// historyFile is History's JSON layout, keys in the order written.
type historyFile struct {
	Enabled          bool    `json:"enabled"`
	Path             string  `json:"path,omitempty"`
	MaxAgeDays       float64 `json:"max_age_days,omitempty"`
	RollupMaxAgeDays float64 `json:"rollup_max_age_days,omitempty"`
	MaxSizeMB        float64 `json:"max_size_mb,omitempty"`
}

var historyKeys = []string{"enabled", "path", "max_age_days", "rollup_max_age_days", "max_size_mb"}

// MarshalJSON writes History as the files do.
func (h History) MarshalJSON() ([]byte, error) {
	return json.Marshal(historyFile{!h.Off, h.Path, h.MaxAgeDays, h.RollupMaxAgeDays, h.MaxSizeMB})
}

// decodeHistory reads the "history" object; dir, if not "", is where a
// relative path starts.
func decodeHistory(raw json.RawMessage, dir string, p *problems) History {
	var h History
	ms, err := members(raw)
	if err != nil {
		p.add("", "history: %v", err)
		return h
	}
	num := func(key string, val json.RawMessage, lo, hi float64, unit string) float64 {
		var v float64
		if err := decodeValue(val, &v, "a number of "+unit); err != nil {
			p.add("", "history.%s: %v", key, err)
			return 0
		}
		if v != 0 && (v < lo || v > hi) {
			p.add("", "history.%s: %g is out of range: want 0 (the default) or %g to %g %s", key, v, lo, hi, unit)
			return 0
		}
		return v
	}
	for _, m := range ms {
		switch m.key {
		case "enabled":
			var on bool
			if err := decodeValue(m.val, &on, wantBool); err != nil {
				p.add("", "history.enabled: %v", err)
			}
			h.Off = !on
		case "path":
			if err := decodeValue(m.val, &h.Path, "a file path"); err != nil {
				p.add("", "history.path: %v", err)
			} else if h.Path != "" && dir != "" && !filepath.IsAbs(h.Path) {
				h.Path = filepath.Join(dir, h.Path)
			}
		case "max_age_days":
			h.MaxAgeDays = num(m.key, m.val, 1.0/24, maxHistoryDays, "days")
		case "rollup_max_age_days":
			h.RollupMaxAgeDays = num(m.key, m.val, 1.0/24, maxHistoryDays, "days")
		case "max_size_mb":
			h.MaxSizeMB = num(m.key, m.val, minHistoryMB, maxHistoryMB, "MB")
		default:
			if !isComment(m.key) {
				p.add("", "history: %s", unknownKey(m.key, historyKeys))
			}
		}
	}
	if h.RollupMaxAgeDays != 0 && h.MaxAgeDays != 0 && h.RollupMaxAgeDays < h.MaxAgeDays {
		p.add("", "history.rollup_max_age_days: %g is less than max_age_days %g: the per-minute rollups must outlive the raw rounds", h.RollupMaxAgeDays, h.MaxAgeDays)
	}
	return h
}

// String describes the settings for a console line.
func (h History) String() string {
	if h.Off {
		return "off"
	}
	path := h.Path
	if path == "" {
		path = "the default file"
	}
	return fmt.Sprintf("%s (raw %s days, rollups %s days, at most %s MB; 0 = default)", path, fmtG(h.MaxAgeDays), fmtG(h.RollupMaxAgeDays), fmtG(h.MaxSizeMB))
}

func fmtG(v float64) string { return fmt.Sprintf("%g", v) }
