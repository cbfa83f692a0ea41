package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestRefusedInput: values the config refuses are refused by the flags
// with the same rule, and targets no trace can have are refused up front
// by every command, before anything is sent. None of these resolve a
// name or send a probe.
func TestRefusedInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"report", "-T", "-P", "0", "192.0.2.1"}, "-P/--port: 0 is out of range: want 1 to 65535"},
		{[]string{"trace", "-u", "--port", "0", "192.0.2.1"}, "-P/--port: 0 is out of range"},
		{[]string{"report", "-P", "0", "192.0.2.1"}, "-P/--port applies to UDP (-u) and TCP (-T) probes only"},
		{[]string{"report", "-T", "-P", "http", "192.0.2.1"}, `invalid value "http" for flag -P`},
		{[]string{"report", "-i", "0", "192.0.2.1"}, "-i/--interval: 0 s is out of range: want from 0.05 s to 86400 s"},
		{[]string{"report", "-i", "0.01", "192.0.2.1"}, "-i/--interval: 0.01 s is out of range"},
		{[]string{"tui", "-i", "0", "192.0.2.1"}, "-i/--interval: 0 s is out of range"},
		{[]string{"report", "10.77.5.300"}, `"10.77.5.300" is not a valid IPv4 address: 300 is above 255`},
		{[]string{"trace", "10.77.5.300"}, "not a valid IPv4 address"},
		{[]string{"tui", "10.77.5.300"}, "not a valid IPv4 address"},
		{[]string{"selftest", "10.77.5.300"}, "not a valid IPv4 address"},
		{[]string{"report", "224.0.0.1"}, "224.0.0.1 is a multicast group address"},
		{[]string{"trace", "ff02::1"}, "ff02::1 is a multicast group address"},
		{[]string{"tui", "ff02::1"}, "multicast"},
		{[]string{"report", "255.255.255.255"}, "255.255.255.255 is the broadcast address"},
		{[]string{"trace", "0.0.0.0"}, "0.0.0.0 is the unspecified address"},
		{[]string{"report", "::"}, ":: is the unspecified address"},
		{[]string{"selftest", "224.0.0.1"}, "multicast"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(context.Background(), tt.args, Env{Stdout: &out, Stderr: &errb})
			if code != 2 || !strings.Contains(errb.String(), tt.want) {
				t.Errorf("Run(%q) = %d, stderr %q; want 2 and %q", tt.args, code, errb.String(), tt.want)
			}
		})
	}
}

func TestResolveTargetRefusesSpecial(t *testing.T) {
	for _, host := range []string{"224.0.0.1", "255.255.255.255", "0.0.0.0", "::", "ff02::1", "::ffff:224.0.0.1"} {
		if a, err := resolveTarget(context.Background(), host, false, false); err == nil {
			t.Errorf("resolveTarget(%q) = %v, nil; want an error", host, a)
		}
	}
	for _, host := range []string{"127.0.0.1", "::1", "192.0.2.1"} {
		if _, err := resolveTarget(context.Background(), host, false, false); err != nil {
			t.Errorf("resolveTarget(%q) = %v; want no error", host, err)
		}
	}
}
