//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/cli"
	"github.com/pingerplot/pingerplot/internal/lab"
)

// BenchmarkHeadlessProfile runs `pingerplot headless` in-process in the
// lab's client namespace (as root: raw sockets) over
// PINGERPLOT_SCALE_TARGETS addresses (default 5000, 4 hops each) at a 1 s
// interval for 40 s (PINGERPLOT_SCALE_SECONDS if longer), so that
// PINGERPLOT_BENCH_PROFILE=dir can take its CPU and allocation profiles (a
// longer run also profiles its last 30 s alone). PINGERPLOT_SCALE_NO_HISTORY=1
// runs it with --no-history.
func BenchmarkHeadlessProfile(b *testing.B) {
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("PINGERPLOT_SCALE_TARGETS")); err == nil && v > 0 {
		n = v
	}
	// The inner run is told its config's path: the lab's topology, with
	// thousands of addresses, is too long for the environment.
	if path := os.Getenv("PINGERPLOT_SCALE_CONFIG"); path != "" {
		args := []string{"headless", "-n"}
		if os.Getenv("PINGERPLOT_SCALE_NO_HISTORY") == "1" {
			args = append(args, "--no-history")
		}
		run := profileRun()
		for range b.N {
			ctx, cancel := context.WithTimeout(context.Background(), run)
			if pd := os.Getenv("PINGERPLOT_BENCH_PROFILE"); pd != "" && run > 40*time.Second {
				// A long run also profiles its last 30 s on their own: the
				// steady state once every window (the diagnosis' 300
				// rounds, the hop rings) is full.
				late := time.AfterFunc(run-30*time.Second, func() {
					if f, err := os.Create(filepath.Join(pd, "headless-late-cpu.pprof")); err == nil {
						if pprof.StartCPUProfile(f) == nil {
							time.AfterFunc(29*time.Second, func() { pprof.StopCPUProfile(); f.Close() })
						}
					}
				})
				defer late.Stop()
			}
			if pd := os.Getenv("PINGERPLOT_BENCH_PROFILE"); pd != "" {
				// What is live near the end of the run (the memory profile
				// the test binary writes at exit sees the heap after it).
				heap := time.AfterFunc(run-2*time.Second, func() {
					runtime.GC()
					if f, err := os.Create(filepath.Join(pd, "headless-heap.pprof")); err == nil {
						_ = pprof.WriteHeapProfile(f)
						f.Close()
					}
				})
				defer heap.Stop()
			}
			var out syncBuffer
			code := cli.Run(ctx, append(args, path), cli.Env{Stdout: &out, Stderr: &out})
			cancel()
			ms := engineLine.FindAllString(out.String(), -1)
			b.Logf("exit %d; status lines:\n%s", code, strings.Join(ms, "\n"))
		}
		return
	}
	lab.Exclusive(b)
	l := lab.New(b, lab.Options{Routers: 3, Targets: n})
	dir, err := os.MkdirTemp("", "pp-scaleprof-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "scale.json")
	if err := os.WriteFile(path, scaleConfig(l.Targets4, 1), 0o644); err != nil {
		b.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	args := []string{"-test.run=^$", "-test.bench=^BenchmarkHeadlessProfile$", "-test.benchtime=1x", "-test.v",
		"-test.timeout=" + (5*time.Minute + 2*profileRun()).String()}
	if pd := os.Getenv("PINGERPLOT_BENCH_PROFILE"); pd != "" {
		args = append(args, "-test.memprofile="+pd+"/headless-mem.pprof")
		// One CPU profile at a time: a long run profiles its last 30 s
		// (above) instead of the whole run.
		if profileRun() <= 40*time.Second {
			args = append(args, "-test.cpuprofile="+pd+"/headless-cpu.pprof")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute+2*profileRun())
	defer cancel()
	cmd := l.Command(ctx, l.Client, self, args...)
	cmd.Env = append(os.Environ(), "PINGERPLOT_SCALE_CONFIG="+path, "XDG_DATA_HOME="+dir)
	out, err := cmd.CombinedOutput()
	b.Log(string(out))
	if err != nil {
		b.Fatal(err)
	}
	b.SkipNow() // the figures are the inner run's
}

// profileRun is how long BenchmarkHeadlessProfile's run lasts.
func profileRun() time.Duration {
	if v, err := strconv.Atoi(os.Getenv("PINGERPLOT_SCALE_SECONDS")); err == nil && v > 40 {
		return time.Duration(v) * time.Second
	}
	return 40 * time.Second
}

// scaleConfig is a headless config watching addrs at interval seconds.
func scaleConfig(addrs []netip.Addr, interval float64) []byte {
	var targets []any
	for i, a := range addrs {
		targets = append(targets, map[string]any{"target": a.String(), "name": fmt.Sprintf("t%05d", i)})
	}
	cfg, _ := json.Marshal(map[string]any{
		"status_interval": 5,
		"defaults":        map[string]any{"interval": interval, "timeout": 1},
		"targets":         targets,
	})
	return cfg
}
