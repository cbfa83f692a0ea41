package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestTUIUsage: flag errors come first, then the refusal to draw into
// something that is not a terminal, before any name is resolved (the
// .invalid name would fail to resolve) or any probe sent.
func TestTUIUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"tui"}, 2, "want at least one TARGET"},
		{[]string{"tui", "-u", "-T", "192.0.2.1"}, 2, "cannot be used together"},
		{[]string{"tui", "-i", "0", "192.0.2.1"}, 2, "-i/--interval: 0 s is out of range"},
		{[]string{"tui", "-P", "80", "192.0.2.1"}, 2, "-P/--port applies to UDP"},
		{[]string{"tui", "-c", "5", "192.0.2.1"}, 2, "flag provided but not defined: -c"},
		{[]string{"tui", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}, 2, "at most 9 TARGETs"},
		{[]string{"tui", "host.example.invalid"}, 1, "standard output is not a terminal: the live table needs one; use 'pingerplot report'"},
		{[]string{"tui", "-n", "-T", "-P", "443", "192.0.2.1", "-i", "0.5"}, 1, "use 'pingerplot report'"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(context.Background(), tt.args, Env{Stdout: &out, Stderr: &errb})
			if code != tt.code || !strings.Contains(errb.String(), tt.want) {
				t.Errorf("Run(%q) = %d, stderr %q; want %d and %q", tt.args, code, errb.String(), tt.code, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("Run(%q) wrote %q to stdout; want nothing", tt.args, out.String())
			}
		})
	}
}

func TestTUIHelp(t *testing.T) {
	var out bytes.Buffer
	if code := Run(context.Background(), []string{"tui", "--help"}, Env{Stdout: &out, Stderr: &out}); code != 0 {
		t.Fatalf("tui --help = %d; want 0", code)
	}
	for _, want := range []string{"pingerplot tui [flags] TARGET [TARGET...]", "-i, --interval", "-u, --udp", "-T, --tcp", "-P, --port",
		"-n, --no-dns", "-m, --max-hops", "-f, --first-ttl", "-s, --size", "--timeout", "-z, --aslookup", "-4", "-6", "docs/tui.md"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("tui --help lacks %q:\n%s", want, out.String())
		}
	}
	for _, unwanted := range []string{"--count", "--json", "--csv"} {
		if strings.Contains(out.String(), unwanted) {
			t.Errorf("tui --help offers %s, which the live table has no use for", unwanted)
		}
	}
	out.Reset()
	Run(context.Background(), []string{"help"}, Env{Stdout: &out, Stderr: &out})
	if !strings.Contains(out.String(), "pingerplot tui [flags] TARGET...") {
		t.Errorf("top-level help lacks tui:\n%s", out.String())
	}
}
