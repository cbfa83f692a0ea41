package csvlog

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/trace"
)

func TestWriteRoundRows(t *testing.T) {
	r := round(7, 4)
	r.Hops = append(r.Hops[:3:3],
		trace.Hop{TTL: 4, Reply: result.Reply{Kind: result.Unreachable, From: netip.MustParseAddr("2001:db8::1"), Sent: r.Start, RTT: 1500 * time.Microsecond}},
		trace.Hop{TTL: 5, Reply: result.Reply{Kind: result.Failed, Err: errors.New("no route")}},
		trace.Hop{TTL: 6, Reply: result.Reply{Kind: result.Reached, From: netip.MustParseAddr("192.0.2.7"), Sent: r.Start, RTT: 12345678 * time.Nanosecond}},
	)
	got := string(appendRound(nil, `web, "main"`, r, names))
	want := `2025-03-01T12:00:07.001000Z,7,"web, ""main""",1,10.0.1.1,,1.234,time-exceeded
2025-03-01T12:00:07.002000Z,7,"web, ""main""",2,,,,timeout
2025-03-01T12:00:07.003000Z,7,"web, ""main""",3,10.0.3.1,,3.234,time-exceeded
2025-03-01T12:00:07.000000Z,7,"web, ""main""",4,2001:db8::1,,1.500,unreachable
2025-03-01T12:00:07.000000Z,7,"web, ""main""",5,,,,failed
2025-03-01T12:00:07.000000Z,7,"web, ""main""",6,192.0.2.7,dest.example,12.346,reached
`
	if got != want {
		t.Errorf("rows:\n%s\nwant:\n%s", got, want)
	}
	// A TCP destination's refusal (a closed port) is "refused", not
	// "reached"; a final-hop-only round logs its destination as TTL 1.
	closed := trace.Round{Index: 8, Start: r.Start, Reached: true, EndTTL: 1, Hops: []trace.Hop{{TTL: 1,
		Reply: result.Reply{Kind: result.Reached, Closed: true, From: netip.MustParseAddr("192.0.2.7"), Sent: r.Start, RTT: 250 * time.Microsecond}}}}
	if got, want := string(appendRound(nil, "svc", closed, nil)), "2025-03-01T12:00:07.000000Z,8,svc,1,192.0.2.7,,0.250,refused\n"; got != want {
		t.Errorf("closed port row:\n%s\nwant:\n%s", got, want)
	}
	// Without names the host column stays empty.
	if got := string(appendRound(nil, "x", round(1, 3), nil)); strings.Contains(got, "dest.example") {
		t.Errorf("rows without a name func carry a name:\n%s", got)
	}
}

func TestAppendFieldRoundTrip(t *testing.T) {
	for _, s := range []string{"", "plain", "a,b", `q"uote`, " lead", "\ttab", `\.`, "two\nlines", "cr\r\nlf", "ünï"} {
		line := string(appendField(nil, s)) + ",end\n"
		if strings.Count(line, "\n") != 1 {
			t.Errorf("appendField(%q) = %q; want no line break inside", s, line)
		}
		rec, err := csv.NewReader(strings.NewReader(line)).Read()
		if err != nil {
			t.Errorf("appendField(%q) = %q does not parse: %v", s, line, err)
			continue
		}
		want := strings.NewReplacer("\r\n", " ", "\n", " ").Replace(s)
		if rec[0] != want || rec[1] != "end" {
			t.Errorf("appendField(%q) reads back as %q; want %q", s, rec, []string{want, "end"})
		}
	}
}

func TestOpenRepairs(t *testing.T) {
	const h = ProbeHeader + "\n"
	row := string(appendRound(nil, "t", round(1, 2), nil))
	tests := []struct {
		name, content, want string
		foreign             bool
	}{
		{name: "missing", content: "\x00", want: h},
		{name: "empty", content: "", want: h},
		{name: "torn header", content: h[:9], want: h},
		{name: "header only", content: h, want: h},
		{name: "whole rows", content: h + row, want: h + row},
		{name: "torn row", content: h + row + row[:20], want: h + row},
		{name: "torn first row", content: h + row[:5], want: h},
		{name: "zeros after a power cut", content: h + row + "\x00\x00\x00", want: h + row},
		{name: "someone's csv", content: "a,b,c\n1,2,3\n", foreign: true},
		{name: "an event log", content: EventHeader + "\n", foreign: true},
		{name: "a line of ours, no header", content: row, foreign: true},
		{name: "shorter, not a prefix", content: "time\n", foreign: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "log.csv")
			if tt.content != "\x00" {
				if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			l, err := Open(Config{Path: path})
			if tt.foreign {
				if !errors.Is(err, ErrForeign) {
					t.Fatalf("Open = %v; want ErrForeign", err)
				}
				if !strings.Contains(err.Error(), "move the file away or choose another log path") {
					t.Errorf("error %q does not say what to do", err)
				}
				if got := mustRead(t, path); got != tt.content {
					t.Errorf("foreign file changed to %q", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if got := mustRead(t, path); got != tt.want {
				t.Errorf("after Open: %q; want %q", got, tt.want)
			}
			if err := l.WriteRound("t", round(2, 3), nil); err != nil {
				t.Fatalf("WriteRound: %v", err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			for i, row := range readRows(t, path, ProbeHeader) {
				checkProbeRow(t, fmt.Sprintf("row %d", i+1), row)
			}
		})
	}
}

func TestOpenCreatesDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "log.csv")
	l, err := Open(Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.WriteRound("t", round(1, 3), nil); err != nil {
		t.Fatal(err)
	}
	if n := len(readRows(t, path, ProbeHeader)); n != 3 {
		t.Errorf("%d rows; want 3", n)
	}
}

func TestOpenRefusesBadConfigAndSecondOpen(t *testing.T) {
	dir := t.TempDir()
	for _, cfg := range []Config{
		{},
		{Path: filepath.Join(dir, "x.csv"), MaxBytes: 100},
		{Path: filepath.Join(dir, "x.csv"), MaxFiles: -1},
	} {
		if _, err := Open(cfg); err == nil {
			t.Errorf("Open(%+v) = nil error; want one", cfg)
		}
	}
	path := filepath.Join(dir, "log.csv")
	l, err := Open(Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Config{Path: path}); err == nil || !strings.Contains(err.Error(), "already open") {
		t.Errorf("second Open of one path = %v; want an \"already open\" error", err)
	}
	l.Close()
	l, err = Open(Config{Path: path})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	l.Close()
	if err := l.WriteRound("t", round(1, 1), nil); err == nil {
		t.Error("WriteRound after Close = nil; want an error")
	}
}

// roundsIn returns the round indexes of the rows of path, each once, in order.
func roundsIn(t *testing.T, path string) []int {
	t.Helper()
	var got []int
	for _, row := range readRows(t, path, ProbeHeader) {
		n, _ := strconv.Atoi(row[1])
		if len(got) == 0 || got[len(got)-1] != n {
			got = append(got, n)
		}
	}
	return got
}

func TestRollover(t *testing.T) {
	roundBytes := len(appendRound(nil, "t", round(1, 4), nil))
	for _, maxFiles := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("MaxFiles=%d", maxFiles), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "log.csv")
			const maxBytes = MinMaxBytes
			l, err := Open(Config{Path: path, MaxBytes: maxBytes, MaxFiles: maxFiles})
			if err != nil {
				t.Fatal(err)
			}
			perFile := (maxBytes - len(ProbeHeader) - 1) / roundBytes
			const rounds = 40
			for i := 1; i <= rounds; i++ {
				if err := l.WriteRound("t", round(i, 4), nil); err != nil {
					t.Fatalf("round %d: %v", i, err)
				}
			}
			l.Close()

			entries, _ := os.ReadDir(dir)
			if len(entries) != maxFiles {
				t.Errorf("%d files; want %d (MaxFiles)", len(entries), maxFiles)
			}
			// Oldest first: log.2.csv, log.1.csv, log.csv, with no gap.
			var all []int
			for i := maxFiles - 1; i >= 0; i-- {
				name := filepath.Join(dir, "log.csv")
				if i > 0 {
					name = filepath.Join(dir, fmt.Sprintf("log.%d.csv", i))
				}
				st, err := os.Stat(name)
				if err != nil {
					t.Fatal(err)
				}
				if st.Size() > maxBytes {
					t.Errorf("%s is %d bytes; want at most %d", name, st.Size(), maxBytes)
				}
				got := roundsIn(t, name)
				if i > 0 && len(got) != perFile {
					t.Errorf("%s holds %d rounds; want a full file of %d", name, len(got), perFile)
				}
				all = append(all, got...)
			}
			want := make([]int, 0)
			for i := rounds - len(all) + 1; i <= rounds; i++ {
				want = append(want, i)
			}
			if !slices.Equal(all, want) {
				t.Errorf("rounds across the files %v; want the newest, consecutive: %v", all, want)
			}
		})
	}
}

func TestRoundLargerThanCap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.csv")
	l, err := Open(Config{Path: path, MaxBytes: MinMaxBytes, MaxFiles: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for i := 1; i <= 3; i++ {
		if err := l.WriteRound("t", round(i, 60), nil); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
	}
	// Each oversized round gets a file of its own, whole.
	if got := roundsIn(t, path); !slices.Equal(got, []int{3}) {
		t.Errorf("current file holds rounds %v; want [3]", got)
	}
	if got := roundsIn(t, path[:len(path)-4]+".1.csv"); !slices.Equal(got, []int{2}) {
		t.Errorf("log.1.csv holds rounds %v; want [2]", got)
	}
}

func TestDiskFullThenRecovers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.csv")
	clk := newClock()
	var fsys faults
	l, err := openLog(Config{Path: path, TimeNow: clk.Now, RetryAfter: 10 * time.Second}, fsys.open)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.WriteRound("t", round(1, 3), nil); err != nil {
		t.Fatal(err)
	}
	before := mustRead(t, path)

	fsys.set(nil, syscall.ENOSPC, 50) // a partial write, then the disk is full
	err = l.WriteRound("t", round(2, 3), nil)
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "disk full writing probe log "+path+": free space or lower the log caps; probing continues") {
		t.Fatalf("WriteRound on a full disk = %v; want a disk-full error saying what to do", err)
	}
	if got := mustRead(t, path); got != before {
		t.Errorf("a failed write left %q; want the file as before it", got[len(before):])
	}
	writes := fsys.writes
	fsys.set(nil, nil, 0) // space freed, but the retry is not due yet
	clk.Advance(9 * time.Second)
	if err := l.WriteRound("t", round(3, 3), nil); !errors.Is(err, ErrSuspended) {
		t.Errorf("WriteRound before the retry = %v; want ErrSuspended", err)
	}
	if fsys.writes != writes {
		t.Errorf("the file was written before the retry was due")
	}
	clk.Advance(time.Second)
	if err := l.WriteRound("t", round(4, 3), nil); err != nil {
		t.Fatalf("WriteRound after the retry delay: %v", err)
	}
	if got := roundsIn(t, path); !slices.Equal(got, []int{1, 4}) {
		t.Errorf("rounds in the file %v; want [1 4]", got)
	}

	// A failure to reopen is retried the same way.
	fsys.set(nil, syscall.ENOSPC, 0)
	l.WriteRound("t", round(5, 3), nil)
	fsys.set(syscall.ENOSPC, nil, 0)
	clk.Advance(10 * time.Second)
	if err := l.WriteRound("t", round(6, 3), nil); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("WriteRound with a failing reopen = %v; want ENOSPC", err)
	}
	fsys.set(nil, nil, 0)
	clk.Advance(10 * time.Second)
	if err := l.WriteRound("t", round(7, 3), nil); err != nil {
		t.Fatalf("WriteRound once the disk has space: %v", err)
	}
	if got := roundsIn(t, path); !slices.Equal(got, []int{1, 4, 7}) {
		t.Errorf("rounds in the file %v; want [1 4 7]", got)
	}
}

// TestUnwritablePath: a path that cannot be written is reported by the
// first write, not refused by Open, and logging starts once it can.
func TestUnwritablePath(t *testing.T) {
	clk := newClock()
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "log.csv")
	var fsys faults
	var fix func()
	if os.Geteuid() == 0 {
		// Permissions do not bind root: fail the opens through the seam.
		t.Log("running as root: EACCES is injected instead of a read-only directory")
		fsys.set(syscall.EACCES, nil, 0)
		fix = func() { fsys.set(nil, nil, 0) }
	} else {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		fix = func() { os.Chmod(dir, 0o755) }
	}
	l, err := openLog(Config{Path: path, TimeNow: clk.Now}, fsys.open)
	if err != nil {
		t.Fatalf("Open of an unwritable path = %v; want it to succeed and report on write", err)
	}
	defer l.Close()
	err = l.WriteRound("t", round(1, 2), nil)
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "no permission to write probe log "+path+": fix the permissions") {
		t.Fatalf("first WriteRound = %v; want a permission error saying what to do", err)
	}
	if err := l.WriteRound("t", round(2, 2), nil); !errors.Is(err, ErrSuspended) {
		t.Errorf("second WriteRound = %v; want ErrSuspended", err)
	}
	fix()
	clk.Advance(DefaultRetry)
	if err := l.WriteRound("t", round(3, 2), nil); err != nil {
		t.Fatalf("WriteRound once writable: %v", err)
	}
	if got := roundsIn(t, path); !slices.Equal(got, []int{3}) {
		t.Errorf("rounds %v; want [3]", got)
	}
}

func TestOneWritePerRound(t *testing.T) {
	var fsys faults
	l, err := openLog(Config{Path: filepath.Join(t.TempDir(), "log.csv")}, fsys.open)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	before := fsys.writes
	if err := l.WriteRound("t", round(1, 30), names); err != nil {
		t.Fatal(err)
	}
	if n := fsys.writes - before; n != 1 {
		t.Errorf("a 30-hop round took %d writes; want 1", n)
	}
}

func BenchmarkWriteRound(b *testing.B) {
	l, err := Open(Config{Path: filepath.Join(b.TempDir(), "log.csv"), MaxBytes: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	r := round(1, 15)
	b.ReportAllocs()
	for b.Loop() {
		if err := l.WriteRound("example.org", r, names); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFileRemovedUnderneath: a log whose file or directory is deleted or
// moved away (by hand, by logrotate) starts a new file within RetryAfter
// instead of writing on into a file nobody can see.
func TestFileRemovedUnderneath(t *testing.T) {
	for _, remove := range []struct {
		name string
		do   func(dir, path string) error
	}{
		{"directory deleted", func(dir, _ string) error { return os.RemoveAll(dir) }},
		{"file moved away", func(dir, path string) error { return os.Rename(path, filepath.Join(dir, "old.csv")) }},
	} {
		t.Run(remove.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "logs")
			path := filepath.Join(dir, "log.csv")
			clk := newClock()
			l, err := Open(Config{Path: path, TimeNow: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if err := l.WriteRound("t", round(1, 2), nil); err != nil {
				t.Fatal(err)
			}
			if err := remove.do(dir, path); err != nil {
				t.Fatal(err)
			}
			clk.Advance(DefaultRetry)
			if err := l.WriteRound("t", round(2, 2), nil); err != nil {
				t.Fatalf("WriteRound after the file went: %v", err)
			}
			if got := roundsIn(t, path); !slices.Equal(got, []int{2}) {
				t.Errorf("rounds in the new file %v; want [2]", got)
			}
		})
	}
}
