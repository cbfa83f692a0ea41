//go:build linux

package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/lab"
	"github.com/pingerplot/pingerplot/internal/report"
)

// labTarget returns the target address and the expected hop list (routers,
// then the target) of family f.
func labTarget(l *lab.Lab, f family) (netip.Addr, []netip.Addr) {
	if f.name == "ipv6" {
		return l.TargetAddr6, append(append([]netip.Addr(nil), l.Hops6...), l.TargetAddr6)
	}
	return l.TargetAddr4, append(append([]netip.Addr(nil), l.Hops4...), l.TargetAddr4)
}

// checkPath fails unless rep lists exactly want, in TTL order, with the
// destination recognised at the last hop.
func checkPath(t *testing.T, rep report.Report, want []netip.Addr) {
	t.Helper()
	if !rep.Reached {
		t.Errorf("destination not reached; hops %+v", rep.Hops)
	}
	var got []string
	for _, h := range rep.Hops {
		got = append(got, h.Addr)
	}
	var ws []string
	for _, a := range want {
		ws = append(ws, a.String())
	}
	if strings.Join(got, " ") != strings.Join(ws, " ") {
		t.Fatalf("hops = %v; want %v", got, ws)
	}
	for i, h := range rep.Hops {
		if h.TTL != i+1 {
			t.Errorf("hop %d has ttl %d; want %d", i, h.TTL, i+1)
		}
		if last := i == len(rep.Hops)-1; h.Dest != last {
			t.Errorf("hop %d destination=%v; want %v", h.TTL, h.Dest, last)
		}
	}
}

// TestPathDiscovery traces the lab in every mode and family, unprivileged
// and as root (where ICMP and UDP use raw sockets), and checks the hops are
// exactly the lab's routers and the target.
func TestPathDiscovery(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3})
	stop, err := l.ListenTCP(l.Target, 8080)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	for _, f := range families {
		for _, m := range append(modes, mode{"tcp-closed-port", []string{"-T", "-P", "81"}}) {
			for _, who := range []string{"unprivileged", "root", "root-raw"} {
				if who == "root-raw" && strings.HasPrefix(m.name, "tcp") {
					continue // TCP uses connect() sockets at every privilege
				}
				t.Run(fmt.Sprintf("%s/%s/%s", f.name, m.name, who), func(t *testing.T) {
					dst, want := labTarget(l, f)
					args := append([]string{"-c", "3", "-i", "0.05", f.flag, "--verbose"}, m.flags...)
					if who == "root-raw" {
						args = append(args, "--raw")
					}
					rep := reportJSON(t, l, who == "unprivileged", append(args, dst.String())...)
					checkPath(t, rep, want)
					for _, h := range rep.Hops {
						if h.Recv != 3 {
							t.Errorf("hop %d answered %d of 3 probes; want all (a clean lab)", h.TTL, h.Recv)
						}
					}
					wantBackend := map[bool]string{true: "raw socket", false: "unprivileged"}[who != "unprivileged" && !strings.HasPrefix(m.name, "tcp")]
					if strings.HasPrefix(m.name, "tcp") {
						wantBackend = "connect()"
					}
					if !strings.Contains(rep.Backend, wantBackend) {
						t.Errorf("backend %q; want one mentioning %q", rep.Backend, wantBackend)
					}
				})
			}
		}
	}
}

// TestReverseDNS: without -n, hops carry the names the client's resolver
// gives (here from the namespace's hosts file), in the report and in trace.
func TestReverseDNS(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3})
	names := withNames(t, l)
	for _, f := range families {
		dst, want := labTarget(l, f)
		r := run(t, l, true, "report", "--json", "-c", "2", "-i", "0.05", dst.String())
		if r.code != 0 {
			t.Fatalf("report: exit %d: %s", r.code, r.stderr)
		}
		var rep report.Report
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatal(err)
		}
		checkPath(t, rep, want)
		for _, h := range rep.Hops {
			if h.Host != names[h.Addr] {
				t.Errorf("hop %d (%s) host %q; want %q", h.TTL, h.Addr, h.Host, names[h.Addr])
			}
		}
		tr := run(t, l, true, "trace", "-T", dst.String())
		if !strings.Contains(tr.stdout, "("+names[want[0].String()]+")") {
			t.Errorf("trace output lacks the first hop's name %q:\n%s", names[want[0].String()], tr.stdout)
		}
	}
}

// TestTraceCommand checks the one-shot traceroute prints each hop and marks
// the destination, as an unprivileged user.
func TestTraceCommand(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3})
	for _, f := range families {
		dst, want := labTarget(l, f)
		r := run(t, l, true, "trace", "-n", "-u", dst.String())
		noCrash(t, r)
		if r.code != 0 {
			t.Fatalf("trace: exit %d: %s", r.code, r.stderr)
		}
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 1+len(want) {
			t.Fatalf("trace printed %d lines; want a header and %d hops:\n%s", len(lines), len(want), r.stdout)
		}
		for i, a := range want {
			if !strings.Contains(lines[i+1], " "+a.String()+" ") {
				t.Errorf("line %q; want hop %d at %v", lines[i+1], i+1, a)
			}
		}
		if !strings.Contains(lines[len(lines)-1], "[destination]") {
			t.Errorf("last line %q; want it marked [destination]", lines[len(lines)-1])
		}
	}
}

// TestSelftestUnprivileged runs selftest as an unprivileged user: it must
// see the lab's ping socket range and trace the target in every mode.
func TestSelftestUnprivileged(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3})
	r := run(t, l, true, "selftest", "-n", l.TargetAddr4.String())
	noCrash(t, r)
	if r.code != 0 {
		t.Fatalf("selftest: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{`ping_group_range = "0 2147483647"`, "CAP_NET_RAW: no", "ICMP: yes (unprivileged ping sockets)", "== icmp", "== udp", "== tcp"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("selftest output lacks %q:\n%s", want, r.stdout)
		}
	}
	// "[destination]", or for TCP "[destination: port closed, RST]" (the
	// lab's target listens on no port by default)
	if n := strings.Count(r.stdout, "[destination"); n != 3 || !strings.Contains(r.stdout, "[destination: port closed, RST]") {
		t.Errorf("selftest reached the destination %d times; want 3 (one per mode), the TCP one saying the port is closed:\n%s", n, r.stdout)
	}
}

// TestSilentRouter makes router 2 drop the time exceeded it should send:
// loss shows at that hop only, and the destination stays clean.
func TestSilentRouter(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3})
	stop, err := l.ListenTCP(l.Target, 8080)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	if err := l.DropTimeExceeded(1, true); err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range modes {
			t.Run(f.name+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				dst, want := labTarget(l, f)
				args := append([]string{"-c", "10", "-i", "0.05", "--timeout", "0.3", f.flag}, m.flags...)
				rep := reportJSON(t, l, true, append(args, dst.String())...)
				if len(rep.Hops) != len(want) {
					t.Fatalf("got %d hops; want %d: %+v", len(rep.Hops), len(want), rep.Hops)
				}
				for i, h := range rep.Hops {
					switch {
					case i == 1:
						if h.LossPct != 100 || h.Addr != "" {
							t.Errorf("silent hop 2: loss %.0f%% addr %q; want 100%% and no address", h.LossPct, h.Addr)
						}
					default:
						if h.LossPct != 0 || h.Addr != want[i].String() {
							t.Errorf("hop %d: loss %.0f%% addr %q; want 0%% from %v", h.TTL, h.LossPct, h.Addr, want[i])
						}
					}
				}
			})
		}
	}
}

// TestTwoSilentHopsRoundTakesOneTimeout: all TTLs are in flight at once, so
// a round with two silent routers lasts about one timeout, not two.
func TestTwoSilentHopsRoundTakesOneTimeout(t *testing.T) {
	lab.Exclusive(t) // timing: no other lab test may load the machine meanwhile
	l := lab.New(t, lab.Options{Routers: 3})
	stop, err := l.ListenTCP(l.Target, 8080)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	for _, r := range []int{0, 1} {
		if err := l.DropTimeExceeded(r, true); err != nil {
			t.Fatal(err)
		}
	}
	const rounds, timeout = 4, 400 * time.Millisecond
	for _, f := range families {
		for _, m := range modes {
			t.Run(f.name+"/"+m.name, func(t *testing.T) {
				dst, _ := labTarget(l, f)
				args := append([]string{"-c", fmt.Sprint(rounds), "-i", "0.05", "--timeout", "0.4", f.flag}, m.flags...)
				rep := reportJSON(t, l, true, append(args, dst.String())...)
				took := rep.End.Sub(rep.Start)
				// Each round waits one timeout for the silent hops; allow
				// 100 ms a round for scheduling and the VM's stalls.
				lo, hi := rounds*timeout, rounds*(timeout+100*time.Millisecond)
				if took < lo || took > hi {
					t.Errorf("%d rounds with two silent hops took %v; want %v to %v (one timeout each)", rounds, took, lo, hi)
				}
				if rep.Hops[0].LossPct != 100 || rep.Hops[1].LossPct != 100 || !rep.Reached {
					t.Errorf("hops 1-2 loss %.0f%%/%.0f%%, reached %v; want 100%%/100%% and reached",
						rep.Hops[0].LossPct, rep.Hops[1].LossPct, rep.Reached)
				}
			})
		}
	}
}
