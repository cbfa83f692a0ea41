//go:build linux

package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// probeTCP reports how dst:port answers a connection from ns within timeout:
// "open", "refused" (an RST) or "silent".
func probeTCP(l *Lab, ns string, dst netip.AddrPort, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, err := l.DialTCP(ctx, ns, dst)
	switch {
	case err == nil:
		c.Close()
		return "open", nil
	case errors.Is(err, unix.ECONNREFUSED):
		return "refused", nil
	case ctx.Err() != nil, errors.Is(err, os.ErrDeadlineExceeded):
		// The dial's socket deadline may fire just before ctx is done.
		return "silent", nil
	}
	return "", err
}

// sample picks about n of as, spread out, always with the first and last.
func sample(as []netip.Addr, n int) []netip.Addr {
	if len(as) <= n {
		return as
	}
	var out []netip.Addr
	for i := 0; i < n-1; i++ {
		out = append(out, as[i*(len(as)-1)/(n-1)])
	}
	return append(out, as[len(as)-1])
}

func TestManyTargets(t *testing.T) {
	tests := []struct {
		targets  int
		maxBuild time.Duration // generous: the VM stalls, and tests run in parallel packages
	}{
		{targets: 300, maxBuild: 3 * time.Second},
		{targets: 500, maxBuild: 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("targets=%d", tt.targets), func(t *testing.T) {
			start := time.Now()
			l := New(t, Options{Targets: tt.targets})
			build := time.Since(start)
			t.Logf("%d extra targets: lab built in %v", tt.targets, build.Round(time.Millisecond))
			if build > tt.maxBuild {
				t.Errorf("building a lab with %d targets took %v; want under %v", tt.targets, build, tt.maxBuild)
			}
			if len(l.Targets4) != tt.targets || len(l.Targets6) != tt.targets {
				t.Fatalf("len(Targets4), len(Targets6) = %d, %d; want %d", len(l.Targets4), len(l.Targets6), tt.targets)
			}
			for _, targets := range [][]netip.Addr{l.Targets4, l.Targets6} {
				t.Run(family(targets[0]), func(t *testing.T) {
					// Every target, back to back: the target's ICMP rate
					// limits are off, so each one's port unreachable comes.
					start := time.Now()
					got, err := udpBurst(l.Client, targets, 33434, 2*time.Second)
					if err != nil {
						t.Fatal(err)
					}
					missing := 0
					for _, dst := range targets {
						if e, ok := got[dst]; !ok || !e.portUnreachable() || e.From != dst {
							if missing++; missing <= 5 {
								t.Errorf("UDP to %s: got %v (answered %v); want port unreachable from %s", dst, e, ok, dst)
							}
						}
					}
					t.Logf("UDP to %d targets back to back: %d port unreachables in %v", len(targets), len(got), time.Since(start).Round(time.Millisecond))
					if missing > 0 {
						t.Errorf("%d of %d targets did not answer UDP", missing, len(targets))
					}
					var wg sync.WaitGroup
					for _, dst := range sample(targets, 10) {
						wg.Go(func() {
							r, err := l.Ping(context.Background(), l.Client, dst, PingOptions{Count: 2, Timeout: time.Second})
							if err != nil {
								t.Error(err)
							} else if len(r.Replies) != 2 || !r.Replies[0].Echo || r.Replies[0].From != dst {
								t.Errorf("ping %s: %+v; want 2 echo replies from it", dst, r.Replies)
							}
							if got, err := probeTCP(l, l.Client, netip.AddrPortFrom(dst, 80), 2*time.Second); err != nil || got != "refused" {
								t.Errorf("TCP to %s port 80 = %q, %v; want refused (RST)", dst, got, err)
							}
						})
					}
					wg.Wait()
				})
			}
		})
	}
}

func TestDropProbesAtTarget(t *testing.T) {
	l := New(t, Options{Targets: 2})
	const (
		listening = 7 // ListenTCP answers SYN-ACK
		closed    = 9 // RST
		udpA      = 33434
		udpB      = 33435
		wait      = 300 * time.Millisecond
	)
	stop, err := l.ListenTCP(l.Target, listening)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	// answers probes dst every way once and says which ways answered.
	answers := func(dst netip.Addr) (string, error) {
		var out []string
		r, err := l.Ping(context.Background(), l.Client, dst, PingOptions{Count: 2, Interval: time.Millisecond, Timeout: wait})
		if err != nil {
			return "", err
		}
		if len(r.Replies) > 0 {
			out = append(out, "icmp")
		}
		for _, port := range []int{udpA, udpB} {
			e, ok, err := udpProbe(l.Client, netip.AddrPortFrom(dst, uint16(port)), 0, 0, wait)
			if err != nil {
				return "", err
			}
			if ok && e.portUnreachable() {
				out = append(out, fmt.Sprintf("udp:%d", port))
			}
		}
		for _, port := range []int{listening, closed} {
			got, err := probeTCP(l, l.Client, netip.AddrPortFrom(dst, uint16(port)), wait)
			if err != nil {
				return "", err
			}
			if got != "silent" {
				out = append(out, fmt.Sprintf("tcp:%d", port))
			}
		}
		// A router before the target answers regardless.
		r, err = l.Ping(context.Background(), l.Client, dst, PingOptions{Count: 1, TTL: 1, Timeout: wait})
		if err != nil {
			return "", err
		}
		if len(r.Replies) == 1 && r.Replies[0].TimeExceeded {
			out = append(out, "hop1")
		}
		return strings.Join(out, " "), nil
	}
	// check probes every dst at once (a silent probe costs a whole wait).
	check := func(t *testing.T, state string, want string, dsts ...netip.Addr) {
		t.Helper()
		var wg sync.WaitGroup
		for _, dst := range dsts {
			wg.Go(func() {
				got, err := answers(dst)
				if err != nil {
					t.Errorf("%s: probing %s: %v", state, dst, err)
				} else if got != want {
					t.Errorf("%s: %s answers %q; want %q", state, dst, got, want)
				}
			})
		}
		wg.Wait()
	}
	const all = "icmp udp:33434 udp:33435 tcp:7 tcp:9 hop1"
	tests := []struct {
		proto string
		want  string // what still answers while proto is dropped
	}{
		{"icmp", "udp:33434 udp:33435 tcp:7 tcp:9 hop1"},
		{"udp", "icmp tcp:7 tcp:9 hop1"},
		{"udp:33434", "icmp udp:33435 tcp:7 tcp:9 hop1"},
		{"tcp", "icmp udp:33434 udp:33435 hop1"},
		{"tcp:7", "icmp udp:33434 udp:33435 tcp:9 hop1"},
		{"tcp:9", "icmp udp:33434 udp:33435 tcp:7 hop1"},
	}
	for _, tt := range tests {
		t.Run(tt.proto, func(t *testing.T) {
			for range 2 { // idempotent
				if err := l.DropProbesAtTarget(tt.proto, true); err != nil {
					t.Fatal(err)
				}
			}
			check(t, tt.proto+" dropped", tt.want, l.TargetAddr4, l.TargetAddr6, l.Targets4[1], l.Targets6[1])
			for range 2 {
				if err := l.DropProbesAtTarget(tt.proto, false); err != nil {
					t.Fatal(err)
				}
			}
			check(t, tt.proto+" no longer dropped", all, l.TargetAddr4, l.TargetAddr6)
		})
	}
	t.Run("together", func(t *testing.T) {
		for _, p := range []string{"icmp", "udp", "tcp"} {
			if err := l.DropProbesAtTarget(p, true); err != nil {
				t.Fatal(err)
			}
		}
		check(t, "icmp, udp and tcp dropped", "hop1", l.TargetAddr4, l.TargetAddr6)
		if err := l.DropProbesAtTarget("udp", false); err != nil {
			t.Fatal(err)
		}
		check(t, "icmp and tcp dropped", "udp:33434 udp:33435 hop1", l.TargetAddr4, l.TargetAddr6)
		for _, p := range []string{"icmp", "tcp"} {
			if err := l.DropProbesAtTarget(p, false); err != nil {
				t.Fatal(err)
			}
		}
		check(t, "nothing dropped", all, l.TargetAddr4, l.TargetAddr6)
	})
	for _, bad := range []string{"", "sctp", "icmp:7", "udp:0", "tcp:70000", "tcp:x"} {
		t.Run("bad/"+bad, func(t *testing.T) {
			if err := l.DropProbesAtTarget(bad, true); err == nil {
				t.Errorf("DropProbesAtTarget(%q) = nil error; want bad proto", bad)
			}
		})
	}
}
