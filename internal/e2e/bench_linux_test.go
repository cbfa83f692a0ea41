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
	out, err := l.RunTestInside(b, l.Client, "BenchmarkEngine", nil, "-test.benchtime=300x")
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

// BenchmarkVersusMtr runs the pingerplot binary and Debian's mtr (with its
// mtr-packet helper) over the same lab path in the same run, one after the
// other, and reports each one's CPU per probe and per-hop median RTT error.
// Run it with scripts/bench-vs-mtr.sh, which prints the table.
func BenchmarkVersusMtr(b *testing.B) {
	l := benchLab(b)
	const n = 200
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				// pingerplot, as root like mtr so both use their best backends.
				cmd := l.Command(ctx, l.Client, binary(b), append(append([]string{"report", "--json", "-n", "-c", fmt.Sprint(n), "-i", "0.05"}, m.flags...), l.TargetAddr4.String())...)
				out, err := cmd.Output()
				if err != nil {
					b.Fatalf("pingerplot: %v", err)
				}
				ourCPU := childCPU(cmd.ProcessState)
				var rep report.Report
				if err := json.Unmarshal(out, &rep); err != nil {
					b.Fatal(err)
				}
				var ourProbes int
				var ourErr []string
				for k, h := range rep.Hops {
					ourProbes += h.Sent
					if h.MedianMs != nil {
						ourErr = append(ourErr, fmt.Sprintf("%+.3f", *h.MedianMs-msf(expectedRTT(k+1))))
					}
				}
				mcmd := l.Command(ctx, l.Client, "mtr", append(append([]string{"--raw", "-n", "-c", fmt.Sprint(n), "-i", "0.05"}, m.flags...), l.TargetAddr4.String())...)
				mout, err := mcmd.Output()
				if err != nil {
					b.Fatalf("mtr: %v", err)
				}
				mtrCPU := childCPU(mcmd.ProcessState)
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
				for k := 0; k < len(rep.Hops); k++ {
					mtrErr = append(mtrErr, fmt.Sprintf("%+.3f", msf(median(rtts[k])-expectedRTT(k+1))))
				}
				ourPer := float64(ourCPU.Microseconds()) / float64(ourProbes)
				mtrPer := float64(mtrCPU.Microseconds()) / float64(mtrProbes)
				b.ReportMetric(ourPer, "pingerplot-cpu-µs/probe")
				b.ReportMetric(mtrPer, "mtr-cpu-µs/probe")
				b.Logf("%s: pingerplot %d probes, %.1f µs CPU/probe, median RTT error per hop (ms) %s", m.name, ourProbes, ourPer, strings.Join(ourErr, " "))
				b.Logf("%s: mtr        %d probes, %.1f µs CPU/probe, median RTT error per hop (ms) %s", m.name, mtrProbes, mtrPer, strings.Join(mtrErr, " "))
			}
		})
	}
}
