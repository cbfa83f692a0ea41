package service

import (
	"strings"
	"testing"
)

func TestName(t *testing.T) {
	tests := []struct {
		path, want string
	}{
		{"/etc/pingerplot/monitor.json", "pingerplot-monitor"},
		{"monitor.json", "pingerplot-monitor"},
		{`C:\ProgramData\PingerPlot\Branch Office.json`, "pingerplot-branch-office"},
		{"/srv/a.b/WAN  links!.JSON", "pingerplot-wan-links"},
		{"/etc/pingerplot/pingerplot.json", "pingerplot"},
		{"/etc/pingerplot/pingerplot-dc1.json", "pingerplot-dc1"},
		{"/etc/pingerplot/.json", "pingerplot-json"}, // a dot file's name is its whole name
		{"/etc/pingerplot/___.json", "pingerplot"},
		{"/etc/Überwachung.json", "pingerplot-berwachung"},
		{"/etc/" + strings.Repeat("x", 39) + "-yyy.json", "pingerplot-" + strings.Repeat("x", 39)},
		{"noext", "pingerplot-noext"},
	}
	for _, tt := range tests {
		if got := Name(tt.path); got != tt.want {
			t.Errorf("Name(%q) = %q; want %q", tt.path, got, tt.want)
		}
	}
}

// Every name must be usable as a systemd unit name and a Windows service
// name: only a-z, 0-9 and "-", not empty, at most 51 bytes.
func TestNameCharset(t *testing.T) {
	for _, p := range []string{"", "/", "a/b\\c.d.e", "\x00\n\t", "🙂.json", strings.Repeat("é", 100)} {
		n := Name(p)
		if n == "" || len(n) > len("pingerplot-")+maxNameStem {
			t.Errorf("Name(%q) = %q; want 1 to %d bytes", p, n, len("pingerplot-")+maxNameStem)
		}
		for _, r := range n {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				t.Errorf("Name(%q) = %q; holds %q, want only a-z, 0-9 and -", p, n, r)
			}
		}
	}
}
