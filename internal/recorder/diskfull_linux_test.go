package recorder

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/lab"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
)

// tinyFS mounts a 64 KiB tmpfs on a new directory and unmounts it when the
// test ends: a disk that really fills. It needs root (and nothing else of
// the lab's tools); as another user it skips, or fails when the lab is
// required (lab.RequiredEnv=1).
func tinyFS(t *testing.T) string {
	t.Helper()
	if uid := os.Geteuid(); uid != 0 {
		if os.Getenv(lab.RequiredEnv) == "1" {
			t.Fatalf("%s=1 but not root (uid %d): mounting a tiny tmpfs needs root", lab.RequiredEnv, uid)
		}
		t.Skipf("mounting a tiny tmpfs needs root (running as uid %d); set %s=1 to make this a failure", uid, lab.RequiredEnv)
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size=64k"); err != nil {
		t.Fatalf("mount a 64 KiB tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestProbeLogDiskFull runs a monitor whose probe log is on a tiny file
// system that fills up, then gets space back. Probing goes on at its
// pace throughout, a record_error event (in an event log elsewhere) says
// why, the log never holds a torn row, and rounds are written again once
// there is room.
func TestProbeLogDiskFull(t *testing.T) {
	disk := tinyFS(t)
	// Most of the space is taken already, so the log fills it in minutes
	// of rounds.
	filler := filepath.Join(disk, "filler")
	if err := os.WriteFile(filler, bytes.Repeat([]byte{'x'}, 44<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(disk, "probes.csv")
	evPath := filepath.Join(t.TempDir(), "events.csv")
	var fullAt, freedAt int // rounds completed when the disk filled and when space came back
	var rounds int
	var missed uint64
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(time.Millisecond, 2*time.Millisecond, 3*time.Millisecond)
		m := monitor.New(monitor.Config{Prober: net})
		lookup := func(id monitor.ID) (monitor.Target, bool) {
			for _, t := range m.Targets() {
				if t.ID == id {
					return t, true
				}
			}
			return monitor.Target{}, false
		}
		rec := New(Config{Target: lookup, Monitor: m, EventLogPath: func(monitor.ID) string { return evPath }})
		updates, _ := m.SubscribeWith(monitor.SubscriberConfig{Name: "recorder", Buffer: 64, Durable: true})
		recDone := make(chan struct{})
		go func() { defer close(recDone); rec.Run(context.Background(), updates) }()
		ctx, cancel := context.WithCancel(context.Background())
		runDone := make(chan error, 1)
		go func() { runDone <- m.Run(ctx) }()
		id, err := m.Add(monitor.Target{ID: "web", Host: "web", Addr: net.Hops[2].Addr,
			Settings: monitor.Settings{Interval: time.Second, LogPath: logPath}})
		if err != nil {
			t.Fatal(err)
		}
		roundsNow := func() int { s, _ := m.Snapshot(id, false); return s.Rounds }
		for i := 0; fullAt == 0; i++ {
			if i > 3600 {
				t.Fatalf("no record_error after an hour of rounds; the disk never filled?")
			}
			time.Sleep(time.Second)
			synctest.Wait()
			for _, e := range m.Events(id) {
				if e.Kind == monitor.RecordError {
					fullAt = roundsNow()
				}
			}
		}
		time.Sleep(20 * time.Second) // full for a while: two more tries fail
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		freedAt = roundsNow()
		time.Sleep(30 * time.Second)
		cancel()
		<-runDone
		m.Close()
		<-recDone
		if err := rec.Close(); err != nil {
			t.Errorf("closing the logs: %v", err)
		}
		rounds = roundsNow()
		missed = m.Stats().Missed
	})

	if want := freedAt + 30; rounds < want-1 {
		t.Errorf("%d rounds; want about %d: probing must go on while the log cannot be written", rounds, want)
	}
	if missed != 0 {
		t.Errorf("%d rounds started late; want 0 while the disk is full", missed)
	}
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("probe log ends with %q; want a whole last row", b[max(0, len(b)-40):])
	}
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatalf("probe log does not parse (a torn row?): %v", err)
	}
	var logged []int
	for _, r := range rows[1:] {
		n, err := strconv.Atoi(r[1])
		if err != nil || len(r) != 8 || r[7] == "" {
			t.Fatalf("torn or glued row %q", r)
		}
		if len(logged) == 0 || logged[len(logged)-1] != n {
			logged = append(logged, n)
		}
	}
	resumed := 0
	for _, n := range logged {
		if n > freedAt {
			resumed++
		}
	}
	// Space returned at round freedAt; the log tries again within 10 s.
	if resumed < 30-11 {
		t.Errorf("%d rounds logged after space returned at round %d; want the last 20 or so (logged: %v)", resumed, freedAt, logged)
	}
	if len(logged) > 0 && logged[len(logged)-1] != rounds {
		t.Errorf("last round logged %d; want %d, the last completed", logged[len(logged)-1], rounds)
	}
	ev := readRows(t, evPath)
	var why []string
	for _, e := range ev[1:] {
		if e[2] == string(monitor.RecordError) {
			why = append(why, e[4])
		}
	}
	if len(why) == 0 || !strings.Contains(why[0], "disk full") || !strings.Contains(why[0], "probing continues") {
		t.Errorf("record_error events %q; want one that says the disk is full and probing continues", why)
	}
	// Once per try while full (every 10 s for ~20 s), not once per round.
	if len(why) > 4 {
		t.Errorf("%d record_error events; want one per try of the log, not one per round", len(why))
	}
	t.Logf("disk full at round %d, space back at round %d, %d rounds, %d rounds logged, %d record_error events",
		fullAt, freedAt, rounds, len(logged), len(why))
}
