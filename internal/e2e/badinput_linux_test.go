//go:build linux

package e2e

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/pingerplot/pingerplot/internal/lab"
)

// TestBadInput runs the binary with bad input, unprivileged, inside the lab's
// client namespace (so even a DNS lookup cannot leave it): each case gets a
// clear message, a non-zero exit, and no stack trace.
func TestBadInput(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3})
	withNames(t, l)
	dst := l.TargetAddr4.String()
	tests := []struct {
		name string
		args []string
		code int
		want []string // all must appear in stderr
	}{
		{"unknown host", []string{"report", "-c", "1", "no-such-host.invalid"}, 1, []string{`"no-such-host.invalid"`, "IP address"}},
		{"unknown flag", []string{"report", "--bogus", dst}, 2, []string{"flag provided but not defined: -bogus", "--help"}},
		{"port out of range", []string{"report", "-T", "-P", "70000", dst}, 2, []string{"-P/--port: 70000 is out of range", "1 to 65535"}},
		{"negative port", []string{"trace", "-u", "--port", "-1", dst}, 2, []string{"-P/--port: -1 is out of range"}},
		{"port with icmp", []string{"report", "-P", "80", dst}, 2, []string{"-P/--port applies to UDP"}},
		{"raw without privilege", []string{"report", "--raw", "-c", "1", dst}, 1, []string{"CAP_NET_RAW", "setcap cap_net_raw+ep"}},
		{"raw udp without privilege", []string{"trace", "--raw", "-u", dst}, 1, []string{"CAP_NET_RAW"}},
		{"zero count", []string{"report", "-c", "0", dst}, 2, []string{"count 0 out of range"}},
		{"bad count", []string{"report", "-c", "lots", dst}, 2, []string{`invalid value "lots" for flag -c`}},
		{"udp and tcp", []string{"report", "-u", "-T", dst}, 2, []string{"cannot be used together"}},
		{"no target", []string{"report"}, 2, []string{"want exactly one TARGET"}},
		{"two targets", []string{"trace", dst, dst}, 2, []string{"want exactly one TARGET"}},
		{"max hops", []string{"report", "-m", "300", dst}, 2, []string{"-m/--max-hops: 300 is out of range"}},
		{"timeout", []string{"report", "--timeout", "0", dst}, 2, []string{"--timeout: 0 s is out of range"}},
		{"family mismatch", []string{"report", "-6", dst}, 2, []string{"not an IPv6 address"}},
		{"unknown command", []string{"frobnicate"}, 2, []string{`unknown command "frobnicate"`}},
		{"port 0", []string{"report", "-T", "-P", "0", dst}, 2, []string{"-P/--port: 0 is out of range"}},
		{"interval 0", []string{"report", "-i", "0", dst}, 2, []string{"-i/--interval: 0 s is out of range", "0.05 s"}},
		{"invalid address", []string{"report", "10.77.5.300"}, 2, []string{`"10.77.5.300" is not a valid IPv4 address: 300 is above 255`}},
		{"multicast", []string{"trace", "224.0.0.1"}, 2, []string{"224.0.0.1 is a multicast group address"}},
		{"multicast v6", []string{"report", "ff02::1"}, 2, []string{"ff02::1 is a multicast group address"}},
		{"limited broadcast", []string{"trace", "255.255.255.255"}, 2, []string{"is the broadcast address"}},
		{"subnet broadcast", []string{"report", "10.0.0.255"}, 2, []string{"10.0.0.255 is the broadcast address of 10.0.0.0/24"}},
		{"unspecified", []string{"report", "0.0.0.0"}, 2, []string{"unspecified address"}},
		{"unspecified v6", []string{"trace", "::"}, 2, []string{"unspecified address"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, l, true, tt.args...)
			noCrash(t, r)
			if r.code != tt.code {
				t.Errorf("exit %d; want %d\nstderr: %s", r.code, tt.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q; want nothing on bad input", r.stdout)
			}
		})
	}
}

// TestPingSocketsRefused: when net.ipv4.ping_group_range excludes the user,
// an ICMP trace says exactly that and how to fix it, while UDP and TCP
// traces go on working.
func TestPingSocketsRefused(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3})
	sysctl := func(v string) {
		t.Helper()
		if out, err := exec.Command("ip", "netns", "exec", l.Client, "sysctl", "-qw", "net.ipv4.ping_group_range="+v).CombinedOutput(); err != nil {
			t.Fatalf("sysctl: %v %s", err, out)
		}
	}
	sysctl("1 0")
	t.Cleanup(func() { sysctl("0 2147483647") })
	for _, fam := range []string{l.TargetAddr4.String(), l.TargetAddr6.String()} {
		r := run(t, l, true, "report", "-n", "-c", "1", fam)
		noCrash(t, r)
		if r.code != 1 {
			t.Errorf("ICMP report with ping sockets refused: exit %d; want 1", r.code)
		}
		for _, w := range []string{"net.ipv4.ping_group_range", `"1 0"`, "sysctl -w net.ipv4.ping_group_range=", "setcap cap_net_raw+ep", "-u", "-T"} {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
			}
		}
		if r := run(t, l, true, "report", "-n", "-c", "1", "-u", fam); r.code != 0 {
			t.Errorf("UDP report with ping sockets refused: exit %d; want 0 (UDP needs no ping socket)\n%s", r.code, r.stderr)
		}
	}
}
