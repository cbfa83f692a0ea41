package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// timeForms is what parseTime accepts, for its error message and the
// flags' usage.
const timeForms = `RFC 3339 ("2026-12-04T21:00:00+01:00"), local "2026-12-04 21:00", "21:00", "yesterday 21:00", "2h ago", "90m ago", "3d ago" or "now"`

// localLayouts are the wall-clock forms read in the caller's location.
var localLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"}

// parseTime reads a time argument relative to now, in now's location
// for the forms without a zone.
func parseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	low := strings.ToLower(s)
	switch {
	case low == "now":
		return now, nil
	case strings.HasSuffix(low, " ago"):
		d, err := parseAgo(strings.TrimSpace(strings.TrimSuffix(low, " ago")))
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q: %v; want %s", s, err, timeForms)
		}
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.In(now.Location()), nil
	}
	for _, l := range localLayouts {
		if t, err := time.ParseInLocation(l, s, now.Location()); err == nil {
			return t, nil
		}
	}
	// "21:00", "today 21:00", "yesterday 21:00": a wall-clock time of a day.
	day := 0
	clock := low
	if rest, ok := strings.CutPrefix(low, "today "); ok {
		clock = strings.TrimSpace(rest)
	} else if rest, ok := strings.CutPrefix(low, "yesterday "); ok {
		day, clock = -1, strings.TrimSpace(rest)
	} else if low == "yesterday" || low == "today" {
		// Midnight starting that day.
		clock = "00:00"
		if low == "yesterday" {
			day = -1
		}
	}
	for _, l := range []string{"15:04", "15:04:05"} {
		if c, err := time.Parse(l, clock); err == nil {
			y, m, d := now.Date()
			return time.Date(y, m, d+day, c.Hour(), c.Minute(), c.Second(), 0, now.Location()), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q not understood; want %s", s, timeForms)
}

// parseAgo reads "2h", "90m", "3d", "1w", "1h30m", "45s".
func parseAgo(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("no duration before \"ago\"")
	}
	for unit, d := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, unit); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("%q is not a number of %s", n, map[string]string{"d": "days", "w": "weeks"}[unit])
			}
			return time.Duration(v * float64(d)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration such as 2h, 90m or 3d", s)
	}
	return d, nil
}

// window reads --from and --to: --to defaults to now, --from to 24 h
// before --to. The start must come before the end.
func window(fromArg, toArg string, now time.Time) (from, to time.Time, err error) {
	to = now
	if toArg != "" {
		if to, err = parseTime(toArg, now); err != nil {
			return from, to, usageError{"--to: " + err.Error()}
		}
	}
	from = to.Add(-24 * time.Hour)
	if fromArg != "" {
		if from, err = parseTime(fromArg, now); err != nil {
			return from, to, usageError{"--from: " + err.Error()}
		}
	}
	if !from.Before(to) {
		return from, to, usagef("--from %s is not before --to %s: give a start earlier than the end",
			from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	return from, to, nil
}
