package cli

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe/probetest"
)

// soakEnv sets the simulated length of TestHeadlessSoak (a Go duration);
// the default keeps the test near 10 s of real time. "1h" is the figure
// docs report.
const soakEnv = "PINGERPLOT_SOAK"

// openFiles counts this process's open file descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("count open files: %v", err)
	}
	return len(fds)
}

// TestHeadlessSoak runs the headless wiring at full rate (8 targets every
// 50 ms, the shortest interval, with probe and event logs that rotate
// every few seconds) for simulated minutes, and samples the process's
// goroutines and open files once a simulated minute. Both must stay flat:
// a goroutine or a file left behind per round, per rotation or per
// retry would grow without bound in a long run.
func TestHeadlessSoak(t *testing.T) {
	length := 10 * time.Minute
	if s := os.Getenv(soakEnv); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("%s=%q: %v", soakEnv, s, err)
		}
		length = d
	}
	const targets = 8
	var entries []string
	for i := range targets {
		entries = append(entries, fmt.Sprintf(`{"target": "10.0.3.1", "name": "t%d", "log_path": "t%d.csv"}`, i, i%3))
	}
	path, h := loadHeadless(t, `{"version": 1, "status_interval": 0,
		"defaults": {"interval": 0.05, "log_max_bytes": 65536, "log_max_files": 2, "history": 60},
		"targets": [`+strings.Join(entries, ",")+`]}`)
	type sample struct {
		at                time.Duration
		goroutines, files int
	}
	var samples []sample
	var out syncBuffer
	realStart := time.Now()
	synctest.Test(t, func(t *testing.T) {
		begin := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), length+time.Second)
		defer cancel()
		done := make(chan error, 1)
		go func() {
			done <- runHeadlessConfig(ctx, path, h, headlessWiring{
				// Not zero RTTs: with the race detector, zero-length
				// timers inside a synctest bubble have crashed the
				// runtime of Go 1.26 under this load.
				Prober: probetest.Path(time.Millisecond, 2*time.Millisecond, 3*time.Millisecond),
				Names:  func(netip.Addr) string { return "" }, Lookup: parseAddr,
				Stdout: &out, Stderr: &out,
			})
		}()
		for el := time.Minute; el <= length; el += time.Minute {
			time.Sleep(time.Until(begin.Add(el)))
			synctest.Wait()
			samples = append(samples, sample{at: el, goroutines: runtime.NumGoroutine(), files: openFiles(t)})
		}
		if err := <-done; err != nil {
			t.Fatalf("runHeadlessConfig: %v", err)
		}
	})
	if len(samples) < 3 {
		t.Fatalf("%d samples; want a run of at least 3 simulated minutes", len(samples))
	}
	// A sample may catch rounds in flight: up to one goroutine per probe
	// of each target (probetest answers each probe on its own goroutine).
	// A leak grows with rounds (about 100,000 here) or rotations (about
	// 100 per log), far past these margins.
	const goroutineMargin, fileMargin = 3 * targets, 2
	first, last := samples[0], samples[len(samples)-1]
	for _, s := range samples {
		if s.goroutines > first.goroutines+goroutineMargin || s.files > first.files+fileMargin {
			t.Errorf("after %v: %d goroutines, %d open files; want at most %d and %d (%d and %d after %v)",
				s.at, s.goroutines, s.files, first.goroutines+goroutineMargin, first.files+fileMargin,
				first.goroutines, first.files, first.at)
		}
	}
	t.Logf("%v simulated (%v real), %d targets at 50 ms: goroutines %d → %d, open files %d → %d",
		length, time.Since(realStart).Round(time.Millisecond), targets, first.goroutines, last.goroutines, first.files, last.files)
}
