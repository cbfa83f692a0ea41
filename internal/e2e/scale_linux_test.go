//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/lab"
)

// procCPU returns the user+system CPU time of a process from /proc.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which may hold spaces: it ends at ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, nil // USER_HZ is 100 on Linux
}

func procRSS(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmRSS:"))
		}
	}
	return "?"
}

var engineLine = regexp.MustCompile(`engine +status +(\d+) targets, (\d+) rounds, (\d+) probes \((\d+)/s\), (\d+) rounds missed`)

// BenchmarkHeadlessScale monitors hundreds of target addresses behind the
// lab's routers (4 hops each, plain veth links) at a 1 s interval with the
// headless binary, and reports the sustained probe rate, CPU per 1,000
// probes, RSS and rounds that missed their start, next to Debian's mtr's
// CPU per 1,000 probes on the same path in the same run.
// PINGERPLOT_SCALE_TARGETS sets the number of targets (default 1250:
// 5,000 probes a second).
func BenchmarkHeadlessScale(b *testing.B) {
	n := 1250
	if v, err := strconv.Atoi(os.Getenv("PINGERPLOT_SCALE_TARGETS")); err == nil && v > 0 {
		n = v
	}
	lab.Exclusive(b)
	l := lab.New(b, lab.Options{Routers: 3, Targets: n})
	dir, err := os.MkdirTemp("", "pp-scale-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o777)
	var targets []any
	for i, a := range l.Targets4 {
		targets = append(targets, map[string]any{"target": a.String(), "name": fmt.Sprintf("t%04d", i)})
	}
	cfg, _ := json.Marshal(map[string]any{
		"status_interval": 5,
		"defaults":        map[string]any{"interval": 1, "timeout": 1},
		"targets":         targets,
	})
	path := dir + "/scale.json"
	os.WriteFile(path, cfg, 0o644)
	for i := 0; i < b.N; i++ {
		out := &syncBuffer{}
		cmd := l.CommandUnprivileged(context.Background(), l.Client, binary(b), "headless", "-n", path)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		pid := cmd.Process.Pid
		time.Sleep(12 * time.Second) // warm up: every target's first round, steady state
		cpu0, _ := procCPU(pid)
		t0 := time.Now()
		lines0 := len(engineLine.FindAllStringSubmatch(out.String(), -1))
		time.Sleep(30 * time.Second)
		cpu1, _ := procCPU(pid)
		el := time.Since(t0)
		rss := procRSS(pid)
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		ms := engineLine.FindAllStringSubmatch(out.String(), -1)
		if len(ms) < lines0+3 {
			b.Fatalf("too few status lines:\n%s", out.String())
		}
		first, last := ms[lines0], ms[len(ms)-1]
		p0, _ := strconv.ParseFloat(first[3], 64)
		p1, _ := strconv.ParseFloat(last[3], 64)
		missed, _ := strconv.Atoi(last[5])
		rate := (p1 - p0) / (5 * float64(len(ms)-1-lines0))
		cpuPer1000 := (cpu1 - cpu0).Seconds() / (rate * el.Seconds() / 1000)
		b.ReportMetric(rate, "probes/s")
		b.ReportMetric(cpuPer1000, "cpu-s/1000probes")
		b.ReportMetric(float64(missed), "missed-rounds")
		b.Logf("%d targets: %.0f probes/s sustained, %.3f CPU s per 1000 probes (%.0f%% of one core), RSS %s, %d rounds missed their start",
			n, rate, cpuPer1000, 100*(cpu1-cpu0).Seconds()/el.Seconds(), rss, missed)

		// mtr on the same path, same run: one target, 1 s is too slow to
		// measure, so it probes at 0.1 s (as root, which mtr needs for that).
		mctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		mcmd := l.Command(mctx, l.Client, "mtr", "--json", "-n", "-c", "100", "-i", "0.1", l.Targets4[0].String())
		mout, err := mcmd.Output()
		cancel()
		if err != nil {
			b.Fatalf("mtr: %v", err)
		}
		var mj struct {
			Report struct {
				Hubs []struct {
					Snt int `json:"snt"`
				} `json:"hubs"`
			} `json:"report"`
		}
		if err := json.Unmarshal(mout, &mj); err != nil {
			b.Fatalf("mtr json: %v\n%s", err, mout)
		}
		sent := 0
		for _, h := range mj.Report.Hubs {
			sent += h.Snt
		}
		mcpu := childCPU(mcmd.ProcessState)
		mtrPer1000 := mcpu.Seconds() / (float64(sent) / 1000)
		b.ReportMetric(mtrPer1000, "mtr-cpu-s/1000probes")
		b.Logf("mtr: %d probes, %.3f CPU s per 1000 probes", sent, mtrPer1000)
	}
}
