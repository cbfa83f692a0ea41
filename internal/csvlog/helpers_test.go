package csvlog

import (
	"encoding/csv"
	"errors"
	"io"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/trace"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is a fake clock for retry pacing.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// faults is the I/O seam: it opens real files and fails opens or writes
// on demand, the way a full disk or a revoked permission would.
type faults struct {
	mu       sync.Mutex
	openErr  error // returned by the next opens
	writeErr error // returned by the next writes ...
	partial  int   // ... after writing this many bytes of them
	writes   int   // write calls that reached the file
}

func (fs *faults) set(openErr, writeErr error, partial int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.openErr, fs.writeErr, fs.partial = openErr, writeErr, partial
}

func (fs *faults) open(path string) (file, error) {
	fs.mu.Lock()
	err := fs.openErr
	fs.mu.Unlock()
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	f, err := openOSFile(path)
	if err != nil {
		return nil, err
	}
	return &faultyFile{File: f.(*os.File), fs: fs}, nil
}

type faultyFile struct {
	*os.File
	fs *faults
}

func (f *faultyFile) Write(b []byte) (int, error) {
	f.fs.mu.Lock()
	err, partial := f.fs.writeErr, f.fs.partial
	f.fs.writes++
	f.fs.mu.Unlock()
	if err != nil {
		n, _ := f.File.Write(b[:min(partial, len(b))])
		return n, &os.PathError{Op: "write", Path: f.Name(), Err: err}
	}
	return f.File.Write(b)
}

// round builds a round of n hops: routers, one lost probe at TTL 2 and
// the destination at TTL n.
func round(index, n int) trace.Round {
	start := t0.Add(time.Duration(index) * time.Second)
	r := trace.Round{Index: index, Start: start, End: start.Add(time.Second), EndTTL: n, Reached: true}
	for ttl := 1; ttl <= n; ttl++ {
		rep := result.Reply{
			Kind: result.TimeExceeded, From: netip.AddrFrom4([4]byte{10, 0, byte(ttl), 1}),
			Sent: start.Add(time.Duration(ttl) * time.Millisecond), RTT: time.Duration(ttl)*time.Millisecond + 234*time.Microsecond,
		}
		switch {
		case ttl == 2:
			rep = result.Reply{Kind: result.Timeout, Sent: rep.Sent}
		case ttl == n:
			rep.Kind = result.Reached
			rep.From = netip.MustParseAddr("192.0.2.7")
		}
		r.Hops = append(r.Hops, trace.Hop{TTL: ttl, Reply: rep})
	}
	return r
}

func names(a netip.Addr) string {
	if a == netip.MustParseAddr("192.0.2.7") {
		return "dest.example"
	}
	return ""
}

// readRows parses a probe or event log file with encoding/csv and checks
// its header; it returns the rows after the header.
func readRows(t *testing.T, path, header string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	want, _ := csv.NewReader(strings.NewReader(header)).Read()
	r.FieldsPerRecord = len(want)
	var rows [][]string
	for i := 0; ; i++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if i == 0 {
			if !slices.Equal(rec, want) {
				t.Fatalf("%s: header %q; want %q", path, rec, want)
			}
			continue
		}
		rows = append(rows, rec)
	}
	if len(rows) == 0 && r.InputOffset() == 0 {
		t.Fatalf("%s: empty file; want a header at least", path)
	}
	return rows
}

// checkProbeRow fails unless row is a complete, well-formed probe row.
func checkProbeRow(t *testing.T, where string, row []string) {
	t.Helper()
	if _, err := time.Parse(time.RFC3339Nano, row[0]); err != nil {
		t.Fatalf("%s: time %q: %v", where, row[0], err)
	}
	for _, i := range []int{1, 3} {
		if _, err := strconv.Atoi(row[i]); err != nil {
			t.Fatalf("%s: column %d = %q; want an integer", where, i, row[i])
		}
	}
	if row[4] != "" {
		if _, err := netip.ParseAddr(row[4]); err != nil {
			t.Fatalf("%s: responder %q: %v", where, row[4], err)
		}
	}
	switch row[7] {
	case "time-exceeded", "reached", "unreachable":
		if _, err := strconv.ParseFloat(row[6], 64); err != nil {
			t.Fatalf("%s: rtt_ms %q: %v", where, row[6], err)
		}
	case "timeout", "failed":
		if row[6] != "" {
			t.Fatalf("%s: rtt_ms %q for a lost probe; want empty", where, row[6])
		}
	default:
		t.Fatalf("%s: status %q is not one of the five", where, row[7])
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
