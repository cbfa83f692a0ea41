//go:build linux

package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/lab"
)

// TestNothingSent runs the binary, unprivileged, in a client namespace
// whose routes to anywhere but its own link were removed: every probe is
// refused by the local system. Each command names the cause, never calls
// it a destination that does not answer, and exits non-zero.
func TestNothingSent(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3})
	for _, args := range [][]string{{"route", "del", "default"}, {"-6", "route", "del", "default"}} {
		if err := l.IP(l.Client, args...); err != nil {
			t.Fatal(err)
		}
	}
	const dst = "10.77.5.1" // beyond the link: no route
	tests := []struct {
		name   string
		args   []string
		stdout []string // all must appear in stdout
		stderr []string // all must appear in stderr
	}{
		{"report udp", []string{"report", "-n", "-u", "-c", "2", dst}, nil,
			[]string{"no probe to 10.77.5.1 could be sent, the local system refused them", "no route to that network"}},
		{"report icmp", []string{"report", "-n", "-c", "2", dst}, nil, []string{"could be sent", "no route to that network"}},
		{"trace", []string{"trace", "-n", dst}, []string{"  1  not sent: send to 10.77.5.1: no route to that network", "  2  to 30: the same error"},
			[]string{"no probe to 10.77.5.1 could be sent"}},
		{"trace tcp", []string{"trace", "-n", "-T", dst}, []string{"not sent:", "to 30: the same error"}, []string{"could be sent"}},
		{"selftest", []string{"selftest", dst}, []string{"cannot trace: no probe to 10.77.5.1 could be sent"},
			[]string{"no probe mode can trace 10.77.5.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, l, true, tt.args...)
			noCrash(t, r)
			if r.code != 1 {
				t.Errorf("exit %d; want 1\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			for _, bad := range []string{"did not answer", "not reached"} {
				if strings.Contains(r.stdout+r.stderr, bad) {
					t.Errorf("output says %q of a destination that was never asked:\n%s%s", bad, r.stdout, r.stderr)
				}
			}
			// Once on the first TTL and once in the verdict, per mode
			// traced: not once per TTL.
			limit := 2
			if tt.args[0] == "selftest" {
				limit = 6
			}
			if n := strings.Count(r.stdout, "network is unreachable"); n > limit {
				t.Errorf("the cause is printed %d times; want at most %d:\n%s", n, limit, r.stdout)
			}
		})
	}

	t.Run("headless", func(t *testing.T) {
		h := startHeadless(t, l, workDir(t), map[string]any{
			"status_interval": 1,
			"targets":         []any{map[string]any{"target": dst, "mode": "udp", "interval": 0.2}},
		})
		waitFor(t, 10*time.Second, "a send_failed event", func() bool { return strings.Contains(h.out.String(), "send_failed") })
		time.Sleep(time.Second) // rounds go on: the event is said once, the state stays
		h.stop(t)
		out := h.out.String()
		for _, w := range []string{"send_failed", "no probe could be sent, the local system refused them", "no route to that network", "cannot-send"} {
			if !strings.Contains(out, w) {
				t.Errorf("console lacks %q:\n%s", w, out)
			}
		}
		if strings.Contains(out, "does not answer this probe type") || strings.Contains(out, "no_answer") {
			t.Errorf("console calls the destination silent though nothing was sent:\n%s", out)
		}
		if n := strings.Count(out, "send_failed"); n != 1 {
			t.Errorf("%d send_failed lines; want 1:\n%s", n, out)
		}
	})
}
