package history_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/history/historytest"
	"github.com/pingerplot/pingerplot/internal/lab"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// tinyFS mounts a tmpfs of size on a new directory and unmounts it when
// the test ends: a disk that really fills. It needs root; as another user
// it skips, or fails when the lab is required (lab.RequiredEnv=1).
func tinyFS(t *testing.T, size string) string {
	t.Helper()
	if uid := os.Geteuid(); uid != 0 {
		if os.Getenv(lab.RequiredEnv) == "1" {
			t.Fatalf("%s=1 but not root (uid %d): mounting a tiny tmpfs needs root", lab.RequiredEnv, uid)
		}
		t.Skipf("mounting a tiny tmpfs needs root (running as uid %d); set %s=1 to make this a failure", uid, lab.RequiredEnv)
	}
	dir := history.ScratchDir(t)
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size="+size); err != nil {
		t.Fatalf("mount a %s tmpfs on %s: %v", size, dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// TestDiskFull writes into a file on a tiny file system until it fills:
// flushes fail without a panic, one record_error says the disk is full
// and how many rounds wait, rounds keep coming and are kept; once space
// returns, writing resumes, says so, and every round is stored.
func TestDiskFull(t *testing.T) {
	disk := tinyFS(t, "1m")
	filler := filepath.Join(disk, "filler")
	if err := os.WriteFile(filler, bytes.Repeat([]byte{'x'}, 600<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	c := &clock{now: t0}
	path := filepath.Join(disk, "history.db")
	st, err := history.Open(history.Options{Path: path, Now: c.Now, Flush: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	src := historytest.NewSource(monitor.Target{ID: "web", Host: "example.net"})
	f := newFeeder(st, src)
	gen := &historytest.Gen{Hops: historytest.Path(30, nil), Start: t0}
	step := func() error {
		r := gen.Next()
		c.set(r.Start)
		f.round("web", r)
		f.updates <- monitor.Update{}
		return st.Flush()
	}
	fullAt := 0
	for i := 1; fullAt == 0; i++ {
		if i > 20000 {
			t.Fatal("no write failed after 20000 rounds; the disk never filled?")
		}
		if step() != nil {
			fullAt = i
		}
	}
	for range 30 { // full for a while: each flush tries again
		if step() == nil {
			t.Fatal("a flush succeeded while the disk was still full")
		}
	}
	s := st.Status()
	if !strings.Contains(s.LastError, "full") || s.Pending < 30 {
		t.Errorf("status while full: error %q, %d pending; want a full disk and 30 or more rounds waiting", s.LastError, s.Pending)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := step(); err != nil {
		t.Fatalf("flush after space returned: %v", err)
	}
	f.close()
	total := gen.Next().Index - 1
	reports := src.Reports()
	if len(reports) != 2 || reports[0].Kind != monitor.RecordError || !strings.Contains(reports[0].Message, "disk is full") ||
		!strings.Contains(reports[0].Message, "rounds waiting") || !strings.Contains(reports[1].Message, "writing again") {
		t.Errorf("reports %v; want one saying the disk is full and rounds wait, one saying writing resumed", reports)
	}
	next := 1
	if err := st.Rounds(context.Background(), "web", t0, c.Now().Add(time.Second), func(r trace.Round) error {
		if r.Index == next {
			next++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if next-1 != total {
		t.Errorf("rounds stored in order up to %d; want all %d", next-1, total)
	}
	if s := st.Status(); s.Pending != 0 || s.LastError != "" || s.Lost != 0 {
		t.Errorf("status after: %d pending, error %q, %d lost; want none", s.Pending, s.LastError, s.Lost)
	}
	t.Logf("disk full at round %d, %d rounds in all; reports: %v", fullAt, total, reports)
}
