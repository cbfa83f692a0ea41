package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Usage errors are caught before anything resolves or sends, so these run
// anywhere without a network.
func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--bogus"}, 2, "flag provided but not defined"},
		{[]string{"ui", "extra"}, 2, "ui takes no arguments"},
		{[]string{"ui", "--port", "70000"}, 2, "port 70000 out of range"},
		{[]string{"ui", "--listen", "nowhere"}, 2, "not an IP address"},
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"report"}, 2, "want exactly one TARGET"},
		{[]string{"report", "-c", "0", "192.0.2.1"}, 2, "count 0 out of range"},
		{[]string{"report", "-T", "-P", "65536", "192.0.2.1"}, 2, "-P/--port: 65536 is out of range: want 1 to 65535"},
		{[]string{"report", "-u", "-T", "192.0.2.1"}, 2, "cannot be used together"},
		{[]string{"report", "--json", "--csv", "192.0.2.1"}, 2, "cannot be used together"},
		{[]string{"report", "-4", "2001:db8::1"}, 2, "not an IPv4 address"},
		{[]string{"report", "-s", "70000", "192.0.2.1"}, 2, "-s/--size: 70000 is out of range"},
		{[]string{"trace", "--timeout", "-1", "192.0.2.1"}, 2, "--timeout: -1 s is out of range"},
		{[]string{"trace", "-m", "0", "192.0.2.1"}, 2, "-m/--max-hops: 0 is out of range"},
		{[]string{"trace", "-f", "9", "-m", "5", "192.0.2.1"}, 2, "-f/--first-ttl: 9 is above max_hops (5)"},
		{[]string{"trace", "--raw", "--unprivileged", "192.0.2.1"}, 2, "cannot be used together"},
		{[]string{"selftest", "a", "b"}, 2, "at most one HOST"},
		{[]string{"report", "bad host name", "-n"}, 2, "not a host name"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(context.Background(), tt.args, Env{Stdout: &out, Stderr: &errb})
			if code != tt.code || !strings.Contains(errb.String(), tt.want) {
				t.Errorf("Run(%q) = %d, stderr %q; want %d and %q", tt.args, code, errb.String(), tt.code, tt.want)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"report", "--help"}, {"help", "trace"}} {
		var out, errb bytes.Buffer
		if code := Run(context.Background(), args, Env{Stdout: &out, Stderr: &errb}); code != 0 {
			t.Errorf("Run(%q) = %d; want 0", args, code)
		}
		if !strings.Contains(out.String(), "Usage") {
			t.Errorf("Run(%q) printed %q; want usage", args, out.String())
		}
	}
	var out bytes.Buffer
	Run(context.Background(), []string{"report", "-h"}, Env{Stdout: &out, Stderr: &out})
	for _, flag := range []string{"-c, --count", "-u, --udp", "-T, --tcp", "-P, --port", "-n, --no-dns", "--json", "--timeout"} {
		if !strings.Contains(out.String(), flag) {
			t.Errorf("report help lacks %q:\n%s", flag, out.String())
		}
	}
}
