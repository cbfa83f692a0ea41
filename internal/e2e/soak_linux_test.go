//go:build linux

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/lab"
)

// soakSample is one line of web/test/soak.mjs.
type soakSample struct {
	T     float64 `json:"t"`
	Heap  float64 `json:"heap"`
	Nodes float64 `json:"nodes"`
	// EventNodes are the nodes of the event log's rows: the page's one
	// legitimate, bounded growth (2,000 events at most), left out of the
	// DOM check. Events counts the rows by kind.
	EventNodes float64        `json:"eventNodes"`
	Events     map[string]int `json:"events"`
	Listeners  float64        `json:"listeners"`
	Frames     int            `json:"frames"`
	P50        *float64       `json:"p50"`
	P95        *float64       `json:"p95"`
	Max        *float64       `json:"max"`
	Long       float64        `json:"long"`
	Rows       int            `json:"rows"`
	Hops       int            `json:"hops"`
	Done       bool           `json:"done"`
	Error      string         `json:"error"`
}

// Soak limits. The page keeps fixed-size rings per hop of the selected
// target (web/src/history.ts) and at most 2,000 events, so its data does not
// grow. Its heap still climbs for the first ~15 minutes while V8 compiles
// hot functions to machine code (heap snapshots: all the growth is code;
// with --jitless the heap is flat), about 4–6 MB an hour in a short run's
// slope, levelling off near 4.3 MB. The limit leaves room for that warm-up
// and still catches a leak per round message (50 a second) or per sample.
const (
	soakHeapPerHour  = 16 << 20 // bytes of JS heap growth an hour, Theil–Sen slope
	soakNodesSpread  = 0.05     // DOM node count may vary this much (max/min-1)
	soakFrameP50     = 25.0     // ms: the median frame at 40 fps or better
	soakLongTaskFrac = 0.25     // share of a period spent in tasks over 50 ms
)

// TestDashboardSoak watches 50 targets of 30 hops each at a 1 s interval in
// the real dashboard (the binary unprivileged in the lab, headless
// Chromium) while the script browses between tabs and targets, and checks
// that the page's memory does not trend upward and its frames stay smooth.
// It runs PINGERPLOT_SOAK_MINUTES (default 3) minutes; docs/benchmarks.md
// has an hour's run.
func TestDashboardSoak(t *testing.T) {
	minutes := 3.0
	if v, err := strconv.ParseFloat(os.Getenv("PINGERPLOT_SOAK_MINUTES"), 64); err == nil && v > 0 {
		minutes = v
	}
	const targets, routers = 50, 29
	lab.Exclusive(t) // timing: frames are judged, and 1,500 probes a second load the machine
	node, script := browserPrereqs(t)
	script = filepath.Join(filepath.Dir(script), "soak.mjs")
	l := lab.New(t, lab.Options{Routers: routers, Targets: targets - 1})
	addrs := []string{l.TargetAddr4.String()}
	for _, a := range l.Targets4 {
		addrs = append(addrs, a.String())
	}
	dir := workDir(t)
	ui := startUI(t, l, dir)

	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(minutes*float64(time.Minute))+5*time.Minute)
	defer cancel()
	cmd := l.Command(ctx, l.Client, node, script, ui.url)
	cmd.Env = append(os.Environ(),
		"PP_TARGETS="+strings.Join(addrs, ","),
		"PP_HOPS="+strconv.Itoa(routers+1),
		"PP_MINUTES="+strconv.FormatFloat(minutes, 'f', -1, 64),
		"PP_CHROMIUM="+chromiumPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			_ = cmd.Wait()
		}
	})

	var samples []soakSample
	done := false
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var s soakSample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Logf("soak: %s", sc.Text())
			continue
		}
		switch {
		case s.Error != "":
			t.Errorf("soak script: %s", s.Error)
		case s.Done:
			done = true
		default:
			samples = append(samples, s)
			t.Logf("%6.0f s  heap %6.2f MB  nodes %5.0f (events' %4.0f)  listeners %4.0f  frames %4d  p50 %s  p95 %s  max %s ms  long %5.0f ms  targets %d  hops %d  events %v",
				s.T, s.Heap/(1<<20), s.Nodes, s.EventNodes, s.Listeners, s.Frames, fms(s.P50), fms(s.P95), fms(s.Max), s.Long, s.Rows, s.Hops, s.Events)
		}
	}
	werr := cmd.Wait()
	if t.Failed() || !done || werr != nil {
		t.Fatalf("the soak did not finish (%v); browser log:\n%s\npingerplot ui:\n%s", werr, tail(stderr.String(), 40), tail(ui.out.String(), 20))
	}
	judgeSoak(t, samples, targets, routers+1)
	ui.stop(t)
}

func fms(v *float64) string {
	if v == nil {
		return "  -  "
	}
	return fmt.Sprintf("%5.1f", *v)
}

// judgeSoak checks the samples after the first minute (or the first
// quarter of a shorter run): the page has loaded every target, its history
// rings are allocated and its caches warm by then.
func judgeSoak(t *testing.T, all []soakSample, targets, hops int) {
	t.Helper()
	if len(all) < 6 {
		t.Fatalf("%d samples; want at least 6", len(all))
	}
	warm := min(60, all[len(all)-1].T/4)
	var s []soakSample
	for _, x := range all {
		if x.T >= warm {
			s = append(s, x)
		}
	}
	if len(s) < 4 {
		t.Fatalf("%d samples after the warm-up; want at least 4", len(s))
	}
	for _, x := range s {
		if x.Rows != targets || x.Hops != hops {
			t.Errorf("at %.0f s the page shows %d targets and %d hops; want %d and %d", x.T, x.Rows, x.Hops, targets, hops)
		}
	}
	// Theil–Sen: the median of the slopes between every pair of samples,
	// which a garbage collector's timing or a VM stall cannot tilt.
	var slopes []float64
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if dt := s[j].T - s[i].T; dt > 0 {
				slopes = append(slopes, (s[j].Heap-s[i].Heap)/dt)
			}
		}
	}
	slices.Sort(slopes)
	perHour := slopes[len(slopes)/2] * 3600
	t.Logf("JS heap after GC: %.2f MB at %.0f s, %.2f MB at %.0f s; trend %+.2f MB an hour (limit %d)",
		s[0].Heap/(1<<20), s[0].T, s[len(s)-1].Heap/(1<<20), s[len(s)-1].T, perHour/(1<<20), soakHeapPerHour>>20)
	if perHour > soakHeapPerHour {
		t.Errorf("the page's heap grows %.2f MB an hour; want at most %d MB", perHour/(1<<20), soakHeapPerHour>>20)
	}
	lo, hi := s[0].Nodes-s[0].EventNodes, s[0].Nodes-s[0].EventNodes
	for _, x := range s {
		n := x.Nodes - x.EventNodes
		lo, hi = min(lo, n), max(hi, n)
	}
	t.Logf("DOM nodes besides the event log %.0f to %.0f; event log %.0f nodes at the end", lo, hi, s[len(s)-1].EventNodes)
	if hi > lo*(1+soakNodesSpread) {
		t.Errorf("DOM nodes range %.0f to %.0f; want within %.0f%% (a leak of elements)", lo, hi, soakNodesSpread*100)
	}
	// Smoothness: the median period's median frame and long-task share, so
	// that one period hit by a VM stall does not decide.
	var p50s, longs []float64
	for i, x := range s {
		if x.P50 == nil {
			t.Errorf("at %.0f s no animation frames were drawn", x.T)
			continue
		}
		p50s = append(p50s, *x.P50)
		period := x.T
		if i > 0 {
			period = x.T - s[i-1].T
		}
		longs = append(longs, x.Long/1000/period)
	}
	if len(p50s) == 0 {
		return
	}
	slices.Sort(p50s)
	slices.Sort(longs)
	p50, long := p50s[len(p50s)/2], longs[len(longs)/2]
	t.Logf("frames: median of the periods' median frame %.1f ms; median long-task share %.1f%%", p50, long*100)
	if p50 > soakFrameP50 {
		t.Errorf("median frame %.1f ms; want at most %.0f ms (smooth)", p50, soakFrameP50)
	}
	if long > soakLongTaskFrac {
		t.Errorf("the main thread spends %.0f%% of the time in long tasks; want at most %.0f%%", long*100, soakLongTaskFrac*100)
	}
}
