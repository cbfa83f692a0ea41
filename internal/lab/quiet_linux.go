//go:build linux

package lab

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// WaitQuiet waits until the machine's CPUs, all of them together, were busy
// at most maxBusy (0 to 1) over a whole second, or until timeout has passed.
// Exclusive keeps other lab tests away, but not compilers or the unit tests
// of other packages that `go test ./...` runs at the same time; a test that
// judges microseconds waits for them to finish. It reports whether the
// machine became quiet, and logs how long that took.
func WaitQuiet(t testing.TB, maxBusy float64, timeout time.Duration) bool {
	t.Helper()
	start := time.Now()
	prev, err := cpuTimes()
	if err != nil {
		t.Logf("lab: cannot read CPU load (%v); not waiting for a quiet machine", err)
		return false
	}
	busy := 1.0
	for time.Since(start) < timeout {
		time.Sleep(time.Second)
		cur, err := cpuTimes()
		if err != nil {
			t.Logf("lab: cannot read CPU load (%v); not waiting for a quiet machine", err)
			return false
		}
		busy = cur.busySince(prev)
		prev = cur
		if busy <= maxBusy {
			if waited := time.Since(start); waited > 1500*time.Millisecond {
				t.Logf("lab: waited %v for a quiet machine (CPU %.0f%% busy)", waited.Round(time.Second), busy*100)
			}
			return true
		}
	}
	t.Logf("lab: machine still %.0f%% busy after %v; measuring anyway", busy*100, timeout)
	return false
}

// cpuSample is the first line of /proc/stat: clock ticks spent per state,
// summed over all CPUs.
type cpuSample struct{ idle, total uint64 }

func (c cpuSample) busySince(p cpuSample) float64 {
	total := c.total - p.total
	if total == 0 {
		return 0
	}
	return 1 - float64(c.idle-p.idle)/float64(total)
}

func cpuTimes() (cpuSample, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSample{}, err
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 6 || string(f[0]) != "cpu" {
		return cpuSample{}, fmt.Errorf("unexpected /proc/stat line %q", line)
	}
	var s cpuSample
	// user nice system idle iowait irq softirq steal …; guest time is
	// already inside user, so it stops at steal.
	for i, v := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return cpuSample{}, fmt.Errorf("/proc/stat: %w", err)
		}
		s.total += n
		if i == 3 || i == 4 { // idle, iowait
			s.idle += n
		}
	}
	return s, nil
}
