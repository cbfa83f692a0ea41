//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pingerplot/pingerplot/internal/cli"
	"github.com/pingerplot/pingerplot/internal/lab"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/report"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// The benchmarks run on the accuracy lab's path (cables on links 0 and 2).
func benchLab(b *testing.B) *lab.Lab {
	lab.Exclusive(b) // CPU and timing figures need the machine to themselves
	l := lab.New(b, lab.Options{Routers: 3, CableLinks: cabled})
	for _, i := range cabled {
		if err := l.SetLink(i, lab.LinkParams{Delay: oneWay[i]}, lab.LinkParams{Delay: oneWay[i]}); err != nil {
			b.Fatal(err)
		}
	}
	stop, err := l.ListenTCP(l.Target, 8080)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(stop)
	return l
}

// BenchmarkEngine measures the probe engine in-process, inside the lab's
// client namespace: CPU time per probe (user+system, from getrusage) and
// each hop's median RTT error against the delay the lab injects.
func BenchmarkEngine(b *testing.B) {
	if lab.Inside() {
		engineInside(b)
		return
	}
	l := benchLab(b)
	args := []string{"-test.benchtime=300x"}
	// PINGERPLOT_BENCH_PROFILE=dir writes the inner run's CPU and
	// allocation profiles there (go tool pprof them with the test binary).
	if dir := os.Getenv("PINGERPLOT_BENCH_PROFILE"); dir != "" {
		args = append(args, "-test.cpuprofile="+dir+"/engine-cpu.pprof", "-test.memprofile="+dir+"/engine-mem.pprof")
	}
	out, err := l.RunTestInside(b, l.Client, "BenchmarkEngine", nil, args...)
	b.Log(out)
	if err != nil {
		b.Fatal(err)
	}
	b.SkipNow() // the figures are the inner run's
}

// BenchmarkReportProfile runs `pingerplot report` in-process in the lab's
// client namespace (the command's code, not a child process) so that
// PINGERPLOT_BENCH_PROFILE=dir can take its CPU and allocation profiles:
// 200 rounds at 50 ms over the benchmark path, ICMP, unprivileged sockets.
func BenchmarkReportProfile(b *testing.B) {
	if lab.Inside() {
		tp, _ := lab.InsideTopology()
		for range b.N {
			var out strings.Builder
			code := cli.Run(context.Background(), []string{"report", "--json", "-n", "-c", "200", "-i", "0.05", tp.TargetAddr4.String()},
				cli.Env{Stdout: &out, Stderr: &out})
			if code != 0 {
				b.Fatalf("report exited %d: %s", code, out.String())
			}
		}
		return
	}
	l := benchLab(b)
	var args []string
	if dir := os.Getenv("PINGERPLOT_BENCH_PROFILE"); dir != "" {
		args = append(args, "-test.cpuprofile="+dir+"/report-cpu.pprof", "-test.memprofile="+dir+"/report-mem.pprof")
	}
	out, err := l.RunTestInside(b, l.Client, "BenchmarkReportProfile", nil, append(args, "-test.benchtime=1x")...)
	b.Log(out)
	if err != nil {
		b.Fatal(err)
	}
	b.SkipNow() // the figures are the inner run's
}

type counting struct {
	probe.Prober
	n atomic.Int64
}

func (c *counting) ProbeAll(ctx context.Context, ps []probe.Probe, gap time.Duration, on func(int, probe.Reply) bool) error {
	c.n.Add(int64(len(ps)))
	return c.Prober.ProbeAll(ctx, ps, gap, on)
}

func engineInside(b *testing.B) {
	tp, _ := lab.InsideTopology()
	cases := []struct {
		name string
		mode probe.Mode
		priv probe.Privilege
		port uint16
	}{
		{"icmp-unprivileged", probe.ICMP, probe.Unprivileged, 0},
		{"udp-unprivileged", probe.UDP, probe.Unprivileged, 0},
		{"tcp", probe.TCP, probe.Unprivileged, 8080},
		{"icmp-raw", probe.ICMP, probe.Raw, 0},
		{"udp-raw", probe.UDP, probe.Raw, 0},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			p, err := probe.New(probe.Config{Privilege: c.priv})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			cp := &counting{Prober: p}
			tr, err := trace.New(cp, trace.Config{Target: tp.TargetAddr4, Mode: c.mode, Port: c.port}, nil)
			if err != nil {
				b.Fatal(err)
			}
			rtts := make([][]time.Duration, 4)
			var replies, kernelTS int
			// One round to learn the path, outside the measurement.
			if _, err := tr.Round(context.Background(), 0, nil); err != nil {
				b.Fatal(err)
			}
			cp.n.Store(0)
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := tr.Round(context.Background(), i+1, nil)
				if err != nil {
					b.Fatal(err)
				}
				for _, h := range r.Hops {
					if h.TTL <= 4 && (h.Reply.Kind == probe.TimeExceeded || h.Reply.Kind == probe.Reached) {
						rtts[h.TTL-1] = append(rtts[h.TTL-1], h.Reply.RTT)
						replies++
						if h.Reply.KernelTS {
							kernelTS++
						}
					}
				}
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(cpu.Microseconds())/float64(cp.n.Load()), "cpu-µs/probe")
			b.ReportMetric(100*float64(kernelTS)/float64(max(replies, 1)), "%kernel-ts")
			for k := 1; k <= 4; k++ {
				b.ReportMetric(float64((median(rtts[k-1]) - expectedRTT(k)).Microseconds()), fmt.Sprintf("err-µs/hop%d", k))
			}
		})
	}
}

func cpuTime() time.Duration {
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func childCPU(ps *os.ProcessState) time.Duration {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkVersusMtr runs, over the same lab path in the same run, one
// after the other: the floor prober (floor_linux_test.go, the cheapest
// prober that can exist), the pingerplot binary as root and as an
// unprivileged user, and Debian's mtr (with its mtr-packet helper) as
// root. Each reports the CPU of its whole process per probe, user and
// system apart, and the per-hop median RTT error. Run it with
// scripts/bench-vs-mtr.sh, which prints the table.
func BenchmarkVersusMtr(b *testing.B) {
	l := benchLab(b)
	const (
		n        = 200
		interval = 50 * time.Millisecond
		hops     = 4
	)
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	selfCopy := lab.ExecutableCopy(b, self)
	bin := binary(b)
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			port := map[string]uint16{"icmp": 0, "udp": 33434, "tcp": 8080}[m.name]
			for i := 0; i < b.N; i++ {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				// The floor as root and as the unprivileged user, with the
				// socket each may open.
				floorRoot, floorUser := m.name, m.name
				if m.name == "icmp" {
					floorRoot, floorUser = "icmp-raw", "icmp-ping"
				}
				for _, f := range []struct {
					label  string
					mode   string
					unpriv bool
				}{{"floor-root", floorRoot, false}, {"floor-user", floorUser, true}} {
					// Both ways of waiting, on one processor and on the
					// runtime's default: the cheapest of the four is the
					// floor (pingerplot's report runs on one processor).
					best := -1.0
					for _, v := range []struct{ wait, procs string }{{"poll", "1"}, {"netpoll", "1"}, {"poll", ""}, {"netpoll", ""}} {
						wait := v.wait
						if v.procs != "" {
							wait += "-p" + v.procs
						}
						spec := floorSpec{mode: f.mode, dst: l.TargetAddr4, rounds: n, interval: interval, hops: hops, port: port, wait: v.wait}
						cmd := l.Command(ctx, l.Client, self)
						if f.unpriv {
							cmd = l.CommandUnprivileged(ctx, l.Client, selfCopy)
						}
						cmd.Env = append(os.Environ(), floorEnv+"="+spec.String())
						if v.procs != "" {
							cmd.Env = append(cmd.Env, "GOMAXPROCS="+v.procs)
						}
						out, err := cmd.CombinedOutput()
						if err != nil {
							b.Fatalf("%s %v: %v\n%s", f.label, spec, err, out)
						}
						var sent, answered int
						if _, err := fmt.Sscanf(string(out), "floor %d %d", &sent, &answered); err != nil || sent == 0 {
							b.Fatalf("%s: unreadable output %q: %v", f.label, out, err)
						}
						c := reportCPU(b, m.name, f.label+"-"+wait, cmd.ProcessState, sent, fmt.Sprintf("%d of %d answered", answered, sent))
						if best < 0 || c < best {
							best = c
						}
					}
					b.ReportMetric(best, f.label+"-µs/probe")
					b.Logf("cpu %-4s %-16s the cheapest of the four: %6.1f µs/probe", m.name, f.label, best)
				}
				for _, who := range []string{"root", "user"} {
					args := append(append([]string{"report", "--json", "-n", "-c", fmt.Sprint(n), "-i", fmt.Sprint(interval.Seconds())}, m.flags...), l.TargetAddr4.String())
					cmd := l.Command(ctx, l.Client, bin, args...)
					if who == "user" {
						cmd = l.CommandUnprivileged(ctx, l.Client, bin, args...)
					}
					// PINGERPLOT_BENCH_ENV adds to pingerplot's environment
					// (GOMAXPROCS=1, GODEBUG=…) to compare runtime settings.
					if e := os.Getenv("PINGERPLOT_BENCH_ENV"); e != "" {
						cmd.Env = append(os.Environ(), strings.Fields(e)...)
					}
					out, err := cmd.Output()
					if err != nil {
						b.Fatalf("pingerplot as %s: %v", who, err)
					}
					var rep report.Report
					if err := json.Unmarshal(out, &rep); err != nil {
						b.Fatal(err)
					}
					var probes int
					var errs []string
					for k, h := range rep.Hops {
						probes += h.Sent
						if h.MedianMs != nil {
							errs = append(errs, fmt.Sprintf("%+.3f", *h.MedianMs-msf(expectedRTT(k+1))))
						}
					}
					reportCPU(b, m.name, "pingerplot-"+who, cmd.ProcessState, probes, "RTT error per hop (ms) "+strings.Join(errs, " "))
				}
				mcmd := l.Command(ctx, l.Client, "mtr", append(append([]string{"--raw", "-n", "-c", fmt.Sprint(n), "-i", fmt.Sprint(interval.Seconds())}, m.flags...), l.TargetAddr4.String())...)
				mout, err := mcmd.Output()
				if err != nil {
					b.Fatalf("mtr: %v", err)
				}
				cancel()
				mtrProbes := strings.Count(string(mout), "\nx ")
				if strings.HasPrefix(string(mout), "x ") {
					mtrProbes++
				}
				rtts := map[int][]time.Duration{}
				for _, line := range strings.Split(string(mout), "\n") {
					var hop, us, seq int
					if _, err := fmt.Sscanf(line, "p %d %d %d", &hop, &us, &seq); err == nil {
						rtts[hop] = append(rtts[hop], time.Duration(us)*time.Microsecond)
					}
				}
				var mtrErr []string
				for k := 0; k < hops; k++ {
					mtrErr = append(mtrErr, fmt.Sprintf("%+.3f", msf(median(rtts[k])-expectedRTT(k+1))))
				}
				reportCPU(b, m.name, "mtr-root", mcmd.ProcessState, mtrProbes, "RTT error per hop (ms) "+strings.Join(mtrErr, " "))
			}
		})
	}
}

// reportCPU reports a process's CPU per probe (user, system, total) as
// metrics named after who, logs one line of the side-by-side table and
// returns the total.
func reportCPU(b *testing.B, mode, who string, ps *os.ProcessState, probes int, note string) float64 {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok || probes == 0 {
		b.Fatalf("%s: no rusage or no probes", who)
	}
	user := float64(time.Duration(ru.Utime.Nano()).Microseconds()) / float64(probes)
	sys := float64(time.Duration(ru.Stime.Nano()).Microseconds()) / float64(probes)
	b.ReportMetric(user+sys, who+"-µs/probe")
	b.Logf("cpu %-4s %-20s %5d probes  user %6.1f  sys %6.1f  total %6.1f µs/probe  %s", mode, who, probes, user, sys, user+sys, note)
	return user + sys
}
