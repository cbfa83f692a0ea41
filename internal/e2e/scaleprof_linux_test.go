//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
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
// interval for 40 s (PINGERPLOT_SCALE_SECONDS if longer), with /metrics
// scraped every 5 s as Prometheus would, so that
// PINGERPLOT_BENCH_PROFILE=dir can take its CPU and allocation profiles (a
// longer run also profiles its last 30 s alone). PINGERPLOT_SCALE_NO_HISTORY=1
// runs it with --no-history; PINGERPLOT_SCALE_HISTORY sets the rounds of
// history per hop as in BenchmarkHeadlessScale. PINGERPLOT_BENCH_TRACE=dir
// keeps an execution trace of the last seconds in a flight recorder and
// writes it out when a status line reports rounds that missed their start,
// to show what the process did instead.
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
			w := newStatusWatch()
			done := make(chan struct{})
			go scrapeLikePrometheus(w, done)
			if td := os.Getenv("PINGERPLOT_BENCH_TRACE"); td != "" {
				stop := traceLateRounds(b, td, w)
				defer stop()
			}
			code := cli.Run(ctx, append(args, path), cli.Env{Stdout: w, Stderr: w})
			close(done)
			cancel()
			ms := engineLine.FindAllString(w.out.String(), -1)
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
	d := scaleDefaults()
	d["interval"] = interval
	cfg, _ := json.Marshal(map[string]any{
		"status_interval": 5,
		"metrics_listen":  "127.0.0.1:0",
		"defaults":        d,
		"targets":         targets,
	})
	return cfg
}

// statusWatch is the in-process run's output: it keeps the output, and
// tells the run's helpers of the metrics address and of status lines as
// they are written, so that no helper ever reads the whole output while
// the run goes on (copying megabytes under the writer's lock held up the
// monitor's own logging, and with it rounds: the very stalls measured).
type statusWatch struct {
	out    syncBuffer
	addr   chan string // the metrics address, once
	missed chan int    // the missed-rounds count of each status line
	line   []byte      // a line not yet complete
}

func newStatusWatch() *statusWatch {
	return &statusWatch{addr: make(chan string, 1), missed: make(chan int, 64)}
}

func (w *statusWatch) Write(p []byte) (int, error) {
	n, err := w.out.Write(p)
	w.out.mu.Lock()
	defer w.out.mu.Unlock()
	w.line = append(w.line, p...)
	for {
		i := bytes.IndexByte(w.line, '\n')
		if i < 0 {
			break
		}
		l := w.line[:i]
		if m := metricsAddrLine.FindSubmatch(l); m != nil {
			select {
			case w.addr <- string(m[1]):
			default:
			}
		}
		if m := engineLine.FindSubmatch(l); m != nil {
			v, _ := strconv.Atoi(string(m[5]))
			select {
			case w.missed <- v:
			default:
			}
		}
		w.line = w.line[i+1:]
	}
	w.line = slices.Clip(w.line) // the consumed head is not kept alive
	return n, err
}

// scrapeLikePrometheus reads /metrics every scrapeEvery, once the run's
// output names its address, until done closes.
func scrapeLikePrometheus(w *statusWatch, done <-chan struct{}) {
	var addr string
	select {
	case <-done:
		return
	case addr = <-w.addr:
	}
	tick := time.NewTicker(scrapeEvery)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		if resp, err := http.Get("http://" + addr + "/metrics"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
}

// traceLateRounds runs a flight recorder over the last 15 s of the
// process and writes its window to dir whenever a status line counts more
// missed rounds than the one before (at most five times: each is tens of
// megabytes). The status line comes up to 5 s after the rounds it counts,
// well inside the window.
func traceLateRounds(tb testing.TB, dir string, w *statusWatch) (stop func()) {
	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{MinAge: 15 * time.Second, MaxBytes: 512 << 20})
	if err := fr.Start(); err != nil {
		tb.Logf("no flight recorder: %v", err)
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		missed, written := -1, 0
		for written < 5 {
			var n int
			select {
			case <-done:
				return
			case n = <-w.missed:
			}
			if missed >= 0 && n > missed {
				name := filepath.Join(dir, fmt.Sprintf("late-%d-%s.trace", n-missed, time.Now().Format("150405")))
				if f, err := os.Create(name); err == nil {
					_, err = fr.WriteTo(f)
					f.Close()
					tb.Logf("%d rounds late: trace %s (%v)", n-missed, name, err)
					written++
				}
			}
			missed = n
		}
	}()
	return func() { close(done); fr.Stop() }
}
