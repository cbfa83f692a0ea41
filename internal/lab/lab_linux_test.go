//go:build linux

package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pingCmd runs iputils ping in ns and returns its output. ping exits non-zero
// when some request got no echo reply, which several tests expect, so only
// failures to run at all are fatal.
func pingCmd(t *testing.T, l *Lab, ns string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := l.Command(ctx, ns, "ping", args...).CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("ping %v: %v: %s", args, err, out)
	}
	return string(out)
}

func family(a netip.Addr) string {
	if a.Is4() {
		return "v4"
	}
	return "v6"
}

func TestTopology(t *testing.T) {
	for _, cables := range []bool{false, true} {
		t.Run(fmt.Sprintf("cables=%v", cables), func(t *testing.T) {
			l := New(t, Options{Cables: cables, Targets: 2})
			if got, want := len(l.Hops4), len(l.Routers); got != want || len(l.Hops6) != want {
				t.Fatalf("len(Hops4), len(Hops6) = %d, %d; want %d", got, len(l.Hops6), want)
			}
			targets := []netip.Addr{l.TargetAddr4, l.TargetAddr6, l.Targets4[1], l.Targets6[1]}
			for _, dst := range targets {
				t.Run("reach/"+dst.String(), func(t *testing.T) {
					out := pingCmd(t, l, l.Client, "-c", "3", "-i", "0.2", "-W", "2", "-n", dst.String())
					if !strings.Contains(out, " 3 received") {
						t.Errorf("ping %s from the client: want 3 replies; got:\n%s", dst, out)
					}
				})
			}
			for _, hops := range [][]netip.Addr{l.Hops4, l.Hops6} {
				dst := l.TargetAddr4
				if hops[0].Is6() {
					dst = l.TargetAddr6
				}
				for k := 1; k <= len(hops); k++ {
					t.Run(fmt.Sprintf("%s/ttl=%d", family(dst), k), func(t *testing.T) {
						out := pingCmd(t, l, l.Client, "-c", "1", "-W", "2", "-n", "-t", fmt.Sprint(k), dst.String())
						want := fmt.Sprintf("From %s icmp_seq=1 Time", hops[k-1])
						if !strings.Contains(out, want) || !strings.Contains(out, "exceeded") {
							t.Errorf("ping -t %d %s: want time exceeded from router %d (%s); got:\n%s", k, dst, k, hops[k-1], out)
						}
					})
				}
				t.Run(fmt.Sprintf("%s/ttl=%d", family(dst), len(hops)+1), func(t *testing.T) {
					out := pingCmd(t, l, l.Client, "-c", "1", "-W", "2", "-n", "-t", fmt.Sprint(len(hops)+1), dst.String())
					if !strings.Contains(out, " 1 received") {
						t.Errorf("ping -t %d %s: want the target's reply; got:\n%s", len(hops)+1, dst, out)
					}
				})
			}
		})
	}
}

func TestTopologyMoreRouters(t *testing.T) {
	l := New(t, Options{Routers: 6})
	for _, dst := range []netip.Addr{l.TargetAddr4, l.TargetAddr6} {
		r, err := l.Ping(context.Background(), l.Client, dst, PingOptions{Count: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Replies) != 3 {
			t.Errorf("Ping(%s) across 6 routers: %d of 3 replies", dst, len(r.Replies))
		}
		for k := 1; k <= 6; k++ {
			r, err := l.Ping(context.Background(), l.Client, dst, PingOptions{Count: 1, TTL: k})
			if err != nil {
				t.Fatal(err)
			}
			want := l.Hops4[k-1]
			if dst.Is6() {
				want = l.Hops6[k-1]
			}
			if len(r.Replies) != 1 || r.Replies[0].From != want || !r.Replies[0].TimeExceeded {
				t.Errorf("Ping(%s, TTL %d) = %+v; want time exceeded from %s", dst, k, r.Replies, want)
			}
		}
	}
}

func TestMtr(t *testing.T) {
	if _, err := exec.LookPath("mtr"); err != nil {
		t.Skip("mtr not installed (apt-get install mtr-tiny)")
	}
	l := New(t, Options{})
	for _, dst := range []netip.Addr{l.TargetAddr4, l.TargetAddr6} {
		t.Run(family(dst), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := l.Command(ctx, l.Client, "mtr", "-n", "-r", "-c", "3", "-i", "0.1", "-G", "0.5", dst.String()).CombinedOutput()
			if err != nil {
				t.Fatalf("mtr: %v: %s", err, out)
			}
			hops := append(append([]netip.Addr(nil), l.Hops4...), l.TargetAddr4)
			if dst.Is6() {
				hops = append(append([]netip.Addr(nil), l.Hops6...), l.TargetAddr6)
			}
			for k, h := range hops {
				if want := fmt.Sprintf("%d.|-- %s ", k+1, h); !strings.Contains(string(out), want) {
					t.Errorf("mtr report lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestUnprivileged(t *testing.T) {
	l := New(t, Options{})
	ctx := context.Background()
	out, err := l.CommandUnprivileged(ctx, l.Client, "sh", "-c", "id -u; id -G; grep CapEff /proc/self/status").CombinedOutput()
	if err != nil {
		t.Fatalf("unprivileged sh: %v: %s", err, out)
	}
	if got, want := strings.Fields(string(out)), []string{"65534", "65534", "CapEff:", "0000000000000000"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("unprivileged uid, groups, capabilities = %q; want %q", got, want)
	}
	// A copy of ping has no file capabilities: it can only use ping sockets,
	// which ping_group_range grants in the client namespace.
	ping := ExecutableCopy(t, "/usr/bin/ping")
	for _, dst := range []netip.Addr{l.TargetAddr4, l.TargetAddr6} {
		out, _ := l.CommandUnprivileged(ctx, l.Client, ping, "-c", "2", "-i", "0.2", "-W", "2", "-n", dst.String()).CombinedOutput()
		if !strings.Contains(string(out), " 2 received") {
			t.Errorf("unprivileged ping %s: want 2 replies; got:\n%s", dst, out)
		}
	}
	// The kernel's default range admits nobody: no ping sockets.
	if err := l.Sysctl(l.Client, "net.ipv4.ping_group_range", "1 0"); err != nil {
		t.Fatal(err)
	}
	out, err = l.CommandUnprivileged(ctx, l.Client, ping, "-c", "1", "-W", "1", "-n", l.TargetAddr4.String()).CombinedOutput()
	if err == nil || strings.Contains(string(out), " 1 received") {
		t.Errorf("unprivileged ping with ping_group_range \"1 0\" succeeded; want a permission error:\n%s", out)
	}
}

func TestDropTimeExceeded(t *testing.T) {
	l := New(t, Options{})
	ctx := context.Background()
	answers := func(dst netip.Addr, ttl int) int {
		t.Helper()
		r, err := l.Ping(ctx, l.Client, dst, PingOptions{Count: 3, TTL: ttl, Timeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return len(r.Replies)
	}
	for _, dst := range []netip.Addr{l.TargetAddr4, l.TargetAddr6} {
		t.Run(family(dst), func(t *testing.T) {
			for range 2 { // twice: turning it on is idempotent
				if err := l.DropTimeExceeded(1, true); err != nil {
					t.Fatal(err)
				}
			}
			if n := answers(dst, 2); n != 0 {
				t.Errorf("router 1 dropping time exceeded: %d of 3 TTL-2 probes answered; want 0", n)
			}
			if n := answers(dst, 1); n != 3 {
				t.Errorf("router 0 untouched: %d of 3 TTL-1 probes answered; want 3", n)
			}
			if n := answers(dst, 64); n != 3 {
				t.Errorf("target behind a silent router: %d of 3 probes answered; want 3", n)
			}
			for range 2 {
				if err := l.DropTimeExceeded(1, false); err != nil {
					t.Fatal(err)
				}
			}
			if n := answers(dst, 2); n != 3 {
				t.Errorf("router 1 answering again: %d of 3 TTL-2 probes answered; want 3", n)
			}
		})
	}
}

func TestICMPRateLimit(t *testing.T) {
	l := New(t, Options{})
	answered := func(dst netip.Addr) int {
		t.Helper()
		r, err := l.Ping(context.Background(), l.Client, dst, PingOptions{Count: 100, Interval: time.Millisecond, TTL: 1, Timeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return len(r.Replies)
	}
	dsts := []netip.Addr{l.TargetAddr4, l.TargetAddr6}
	for _, dst := range dsts {
		if n := answered(dst); n != 100 {
			t.Errorf("%s rate limit off: router answered %d of 100 probes in 0.1 s; want all", family(dst), n)
		}
	}
	if err := l.SetICMPRateLimit(0, true); err != nil {
		t.Fatal(err)
	}
	for _, dst := range dsts {
		n := answered(dst)
		if n > 50 {
			t.Errorf("%s kernel rate limit on: router answered %d of 100 probes in 0.1 s; want a few", family(dst), n)
		}
		t.Logf("%s kernel rate limit on: %d of 100 answered", family(dst), n)
	}
	if err := l.SetICMPRateLimit(0, false); err != nil {
		t.Fatal(err)
	}
	// An exhausted global ICMP credit is refilled only when 20 ms have passed
	// since its last refill; this waits out the kernel's clock, not an event.
	time.Sleep(50 * time.Millisecond)
	for _, dst := range dsts {
		if n := answered(dst); n != 100 {
			t.Errorf("%s rate limit off again: router answered %d of 100 probes in 0.1 s; want all", family(dst), n)
		}
	}
}

func TestRunTestInside(t *testing.T) {
	if Inside() {
		tp, ok := InsideTopology()
		if !ok {
			t.Fatal("InsideTopology() not ok inside")
		}
		if _, err := net.InterfaceByName(tp.Prefix + "-0a"); err != nil {
			t.Fatalf("inside %s: client interface: %v", tp.Client, err)
		}
		b, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("inside-marker %s ping_group_range=%q extra=%s", tp.TargetAddr4, strings.Join(strings.Fields(string(b)), " "), os.Getenv("PPLAB_EXTRA"))
		return
	}
	l := New(t, Options{})
	out, err := l.RunTestInside(t, l.Client, "TestRunTestInside", map[string]string{"PPLAB_EXTRA": "yes"})
	if err != nil {
		t.Fatalf("RunTestInside: %v\n%s", err, out)
	}
	want := fmt.Sprintf("inside-marker %s ping_group_range=\"0 2147483647\" extra=yes", l.TargetAddr4)
	if !strings.Contains(out, want) || !strings.Contains(out, "--- PASS: TestRunTestInside") {
		t.Errorf("inner run output lacks %q or a PASS:\n%s", want, out)
	}
	if _, err := l.RunTestInside(t, l.Client, "TestNoSuchTest", nil); err == nil {
		t.Error("RunTestInside(TestNoSuchTest) = nil error; want no test matched")
	}
}

func TestTeardown(t *testing.T) {
	RequireRoot(t)
	var (
		l     *Lab
		sleep *exec.Cmd
	)
	t.Run("build", func(t *testing.T) {
		// Cables on every link, alt branch included.
		l = New(t, Options{Cables: true, AltRouters: 1})
		if got := l.cableCount(); got != l.Links()+l.AltLinks() {
			t.Errorf("%d cables; want one per link, %d", got, l.Links()+l.AltLinks())
		}
		// Something still running inside must not keep the lab alive.
		sleep = l.Command(context.Background(), l.Target, "sleep", "600")
		if err := sleep.Start(); err != nil {
			t.Fatal(err)
		}
	}) // the subtest's cleanup closes the lab
	if l == nil || sleep == nil {
		t.Fatal("no lab built")
	}
	if err := sleep.Wait(); err == nil {
		t.Error("a process left in the lab exited cleanly; want it killed by Close")
	}
	for _, ns := range l.namespaces() {
		if nsExists(ns) {
			t.Errorf("namespace %s still exists after Close", ns)
		}
	}
	for _, c := range append(slices.Clone(l.cables), l.altCables...) {
		if err := unix.Kill(c.cmd.Process.Pid, 0); !errors.Is(err, unix.ESRCH) {
			t.Errorf("cable %s (pid %d) still running after Close: kill 0 = %v", c.name, c.cmd.Process.Pid, err)
		}
	}
	if stateExists(l.Prefix) {
		t.Errorf("state file of %s still exists after Close", l.Prefix)
	}
	l.Close() // idempotent
	if err := l.SetLink(0, LinkParams{}, LinkParams{}); err == nil {
		t.Error("SetLink after Close = nil error; want an error")
	}
}

func TestSweepStale(t *testing.T) {
	RequireRoot(t)
	// A process that has exited owns the fake lab.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	prefix := newPrefix()
	ns := prefix + "-c"
	t.Cleanup(func() { _ = removeNamespaces([]string{ns}); _ = removeState(prefix) })
	if err := run("ip", "netns", "add", ns); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf("%d 12345\n%s\n", dead.Process.Pid, ns)
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stateDir, prefix), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	live := New(t, Options{}) // sweeps first, and must not sweep itself later
	if nsExists(ns) || stateExists(prefix) {
		t.Errorf("stale lab %s of dead pid %d survived a sweep", prefix, dead.Process.Pid)
	}
	sweepStale(t)
	if !nsExists(live.Client) {
		t.Errorf("sweep removed the live lab %s", live.Prefix)
	}
}

func TestParseState(t *testing.T) {
	pid, start, nss, err := parseState([]byte("42 777\npp1-c\npp1-r1\n"))
	if err != nil || pid != 42 || start != "777" || strings.Join(nss, ",") != "pp1-c,pp1-r1" {
		t.Errorf("parseState = %d, %q, %q, %v; want 42, 777, [pp1-c pp1-r1], nil", pid, start, nss, err)
	}
	if _, _, _, err := parseState([]byte("garbage\n")); err == nil {
		t.Error("parseState(garbage) = nil error")
	}
}
