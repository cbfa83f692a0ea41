package cli

import (
	"flag"
	"strings"
	"testing"

	"github.com/pingerplot/pingerplot/internal/config"
)

// TestFlagsFollowOptionTable checks that the probe flags' help and their
// range errors carry the option table's ranges, not figures of their own.
func TestFlagsFollowOptionTable(t *testing.T) {
	tests := []struct {
		flag, key string
		args      []string // arguments one past the key's range
	}{
		{"max-hops", "max_hops", []string{"-m", "256"}},
		{"first-ttl", "first_ttl", []string{"-f", "0"}},
		{"size", "size", []string{"-s", "65001"}},
		{"timeout", "timeout", []string{"--timeout", "0"}},
		{"interval", "interval", []string{"-i", "0"}},
		{"port", "port", []string{"-u", "-P", "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			op, ok := config.Lookup(tt.key)
			if !ok {
				t.Fatalf("config.Lookup(%q): no such option", tt.key)
			}
			fs := flag.NewFlagSet("report", flag.ContinueOnError)
			var pf probeFlags
			pf.register(fs, true)
			if got := fs.Lookup(tt.flag).Usage; !strings.Contains(got, op.RangeText()) {
				t.Errorf("--%s usage = %q; want it to contain %q", tt.flag, got, op.RangeText())
			}
			if _, err := parse(fs, append(tt.args, "192.0.2.1")); err != nil {
				t.Fatal(err)
			}
			_, err := pf.validate(true, true)
			if err == nil || !strings.Contains(err.Error(), op.RangeText()) {
				t.Errorf("validate(%q) = %v; want an error containing %q", tt.args, err, op.RangeText())
			}
		})
	}
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	var pf probeFlags
	pf.register(fs, false)
	for mode, port := range config.PortOption().DefaultByMode {
		want := secs(float64(port)) + " " + strings.ToUpper(mode)
		if got := fs.Lookup("port").Usage; !strings.Contains(got, want) {
			t.Errorf("--port usage = %q; want it to name the default %q", got, want)
		}
	}
}
