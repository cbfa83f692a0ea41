package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	zone := time.FixedZone("CET", 3600)
	now := time.Date(2026, 12, 4, 10, 30, 0, 0, zone)
	tests := []struct {
		in   string
		want time.Time
		err  string
	}{
		{in: "now", want: now},
		{in: "NOW", want: now},
		{in: "2h ago", want: now.Add(-2 * time.Hour)},
		{in: "90m ago", want: now.Add(-90 * time.Minute)},
		{in: "1h30m ago", want: now.Add(-90 * time.Minute)},
		{in: "3d ago", want: now.Add(-72 * time.Hour)},
		{in: "1.5d ago", want: now.Add(-36 * time.Hour)},
		{in: "1w ago", want: now.Add(-7 * 24 * time.Hour)},
		{in: "45s ago", want: now.Add(-45 * time.Second)},
		{in: "2026-12-03T21:00:00Z", want: time.Date(2026, 12, 3, 22, 0, 0, 0, zone)},
		{in: "2026-12-03T21:00:00+01:00", want: time.Date(2026, 12, 3, 21, 0, 0, 0, zone)},
		{in: "2026-12-03T21:00:00.5+01:00", want: time.Date(2026, 12, 3, 21, 0, 0, 5e8, zone)},
		{in: "2026-12-03 21:00", want: time.Date(2026, 12, 3, 21, 0, 0, 0, zone)},
		{in: "2026-12-03 21:00:15", want: time.Date(2026, 12, 3, 21, 0, 15, 0, zone)},
		{in: "2026-12-03T21:00", want: time.Date(2026, 12, 3, 21, 0, 0, 0, zone)},
		{in: "2026-12-03", want: time.Date(2026, 12, 3, 0, 0, 0, 0, zone)},
		{in: "21:00", want: time.Date(2026, 12, 4, 21, 0, 0, 0, zone)},
		{in: "today 08:15", want: time.Date(2026, 12, 4, 8, 15, 0, 0, zone)},
		{in: "yesterday 21:00", want: time.Date(2026, 12, 3, 21, 0, 0, 0, zone)},
		{in: "Yesterday", want: time.Date(2026, 12, 3, 0, 0, 0, 0, zone)},
		{in: "ago", err: "not understood"},
		{in: " ago", err: "not understood"},
		{in: "x ago", err: `"x" is not a duration`},
		{in: "-2h ago", err: `"-2h" is not a duration`},
		{in: "zd ago", err: `"z" is not a number of days`},
		{in: "last tuesday", err: `time "last tuesday" not understood; want RFC 3339`},
		{in: "25:00", err: "not understood"},
	}
	for _, tt := range tests {
		got, err := parseTime(tt.in, now)
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("parseTime(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.err)
			}
		case err != nil:
			t.Errorf("parseTime(%q): %v; want %v", tt.in, err, tt.want)
		case !got.Equal(tt.want):
			t.Errorf("parseTime(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

func TestWindow(t *testing.T) {
	now := time.Date(2026, 12, 4, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		from, to         string
		wantFrom, wantTo time.Time
		err              string
	}{
		{wantFrom: now.Add(-24 * time.Hour), wantTo: now},
		{from: "2h ago", wantFrom: now.Add(-2 * time.Hour), wantTo: now},
		{from: "3h ago", to: "1h ago", wantFrom: now.Add(-3 * time.Hour), wantTo: now.Add(-time.Hour)},
		{to: "1h ago", wantFrom: now.Add(-25 * time.Hour), wantTo: now.Add(-time.Hour)},
		{from: "1h ago", to: "2h ago", err: "is not before --to"},
		{from: "now", err: "is not before --to"},
		{from: "soon", err: "--from: time \"soon\" not understood"},
		{to: "later", err: "--to: time \"later\" not understood"},
	}
	for _, tt := range tests {
		from, to, err := window(tt.from, tt.to, now)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("window(%q, %q) error = %v; want one containing %q", tt.from, tt.to, err, tt.err)
			}
			continue
		}
		if err != nil || !from.Equal(tt.wantFrom) || !to.Equal(tt.wantTo) {
			t.Errorf("window(%q, %q) = %v, %v, %v; want %v, %v", tt.from, tt.to, from, to, err, tt.wantFrom, tt.wantTo)
		}
	}
}

func TestStoredWindowAsked(t *testing.T) {
	tests := []struct {
		args []string
		want bool
	}{
		{[]string{"-c", "5", "example.net"}, false},
		{[]string{"--from", "2h ago", "example.net"}, true},
		{[]string{"-from=2h ago", "example.net"}, true},
		{[]string{"example.net", "--to", "now"}, true},
		{[]string{"--history", "h.db", "example.net"}, true},
		{[]string{"--", "--from"}, false},
		{[]string{"from"}, false},
	}
	for _, tt := range tests {
		if got := storedWindowAsked(tt.args); got != tt.want {
			t.Errorf("storedWindowAsked(%q) = %v; want %v", tt.args, got, tt.want)
		}
	}
}

// TestHistoryCommandsUsage: what evidence and report --from refuse
// before they open anything.
func TestHistoryCommandsUsage(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.db")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"evidence"}, 2, "want exactly one TARGET"},
		{[]string{"evidence", "--from", "soon", "x"}, 2, `--from: time "soon" not understood`},
		{[]string{"evidence", "--from", "1h ago", "--to", "2h ago", "x"}, 2, "is not before --to"},
		{[]string{"evidence", "--history", missing, "x"}, 1, "no history file at " + missing},
		{[]string{"report", "--from", "2h ago"}, 2, "want exactly one TARGET (its key in the history)"},
		{[]string{"report", "--from", "2h ago", "--json", "--csv", "x"}, 2, "--json and --csv cannot be used together"},
		{[]string{"report", "--from", "2h ago", "-c", "3", "x"}, 2, "flag provided but not defined: -c"},
		{[]string{"report", "--history", missing, "x"}, 1, "no history file at " + missing},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := Run(context.Background(), tt.args, Env{Stdout: &out, Stderr: &errb})
		if code != tt.code || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("Run(%q) = %d, stderr %q; want %d and %q", tt.args, code, errb.String(), tt.code, tt.want)
		}
	}
}
