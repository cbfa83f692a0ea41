package history

import (
	"context"
	"database/sql"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// fakeSource is a monitor holding rounds from held on.
type fakeSource struct {
	mu      sync.Mutex
	rounds  []trace.Round
	held    int
	reports []string
}

func (f *fakeSource) Target(id monitor.ID) (monitor.Target, bool) {
	return monitor.Target{ID: id, Host: "example.net"}, true
}

func (f *fakeSource) Rounds(id monitor.ID, first, last int) ([]trace.Round, error) {
	var out []trace.Round
	for _, r := range f.rounds {
		if r.Index >= max(first, f.held) && r.Index <= last {
			out = append(out, r)
		}
	}
	return out, nil
}

func (f *fakeSource) Events(monitor.ID) []monitor.Event { return nil }

func (f *fakeSource) Report(id monitor.ID, kind monitor.EventKind, msg string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reports = append(f.reports, string(kind)+": "+msg)
	return nil
}

func (f *fakeSource) said() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.reports...)
}

// TestWriteFailsAndOverflows makes every write fail (the file is opened
// read-only under the writer) while rounds keep coming past the pending
// buffer's bound: the oldest are dropped from memory, fetched again from
// the monitor when writing resumes, and what it no longer holds is
// counted and reported as a gap.
func TestWriteFailsAndOverflows(t *testing.T) {
	cases := []struct {
		name     string
		held     int // the monitor still holds rounds held..
		wantLost int
	}{
		{"the monitor holds them all", 1, 0},
		{"the monitor lost the first 150", 151, 150},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Date(2026, 3, 4, 21, 0, 0, 0, time.UTC)
			now := start
			path := filepath.Join(ScratchDir(t), "history.db")
			s, err := Open(Options{Path: path, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			src := &fakeSource{held: c.held}
			s.w.src = src
			s.w.limit = 4 << 10
			ro, err := sql.Open("sqlite", dsn(path, true))
			if err != nil {
				t.Fatal(err)
			}
			rw := s.db
			s.db = ro
			const n = 600
			for i := 1; i <= n; i++ {
				r := trace.Round{Index: i, Start: start.Add(time.Duration(i) * time.Second), EndTTL: 10, Reached: true}
				for ttl := 1; ttl <= 10; ttl++ {
					k := probe.TimeExceeded
					if ttl == 10 {
						k = probe.Reached
					}
					r.Hops = append(r.Hops, trace.Hop{TTL: ttl, Reply: probe.Reply{Kind: k, From: netip.AddrFrom4([4]byte{10, 0, 0, byte(ttl)}),
						RTT: time.Duration(ttl*1000+i%7) * time.Microsecond}})
				}
				src.rounds = append(src.rounds, r)
				s.handle(monitor.Update{Round: &monitor.RoundDone{Target: "web", Round: r}})
				now = r.Start
				if i%10 == 0 {
					if err := s.flush(); err == nil {
						t.Fatal("a flush into a read-only file succeeded")
					}
				}
			}
			st := s.Status()
			if !strings.Contains(st.LastError, "readonly") && !strings.Contains(st.LastError, "read-only") {
				t.Errorf("LastError %q; want it to say the file is read-only", st.LastError)
			}
			if st.Pending != n {
				t.Errorf("Pending %d; want %d (in memory or to fetch again)", st.Pending, n)
			}
			if len(s.w.dropped) == 0 {
				t.Errorf("nothing dropped from a buffer of %d bytes; want the oldest rounds dropped", s.w.limit)
			}
			if s.w.bytes > s.w.limit {
				t.Errorf("%d bytes held; want at most %d", s.w.bytes, s.w.limit)
			}
			s.db = rw
			ro.Close()
			if err := s.flush(); err != nil {
				t.Fatalf("flush after the file is writable again: %v", err)
			}
			// The refetched rounds are written by the next flushes, as
			// many at a time as the buffer has room for.
			for i := 0; s.Status().Pending > 0; i++ {
				if i == 50 {
					t.Fatalf("%d rounds still pending after 50 flushes", s.Status().Pending)
				}
				if err := s.flush(); err != nil {
					t.Fatal(err)
				}
			}
			var got []int
			if err := s.Rounds(context.Background(), "web", start, now.Add(time.Second), func(r trace.Round) error {
				got = append(got, r.Index)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) != n-c.wantLost {
				t.Errorf("%d rounds stored; want %d", len(got), n-c.wantLost)
			}
			for i := 1; i < len(got); i++ {
				if got[i] <= got[i-1] {
					t.Errorf("rounds out of order at %d: %v", i, got[max(0, i-3):i+1])
					break
				}
			}
			st = s.Status()
			if st.Lost != int64(c.wantLost) || st.Pending != 0 || st.LastError != "" {
				t.Errorf("status after: lost %d, pending %d, error %q; want %d, 0, none", st.Lost, st.Pending, st.LastError, c.wantLost)
			}
			said := strings.Join(src.said(), "\n")
			for _, want := range []string{"record_error: history: the file is read-only", "rounds waiting", "writing again",
				fmt.Sprintf("record_gap: history: %d rounds not stored", c.wantLost)} {
				if c.wantLost == 0 && strings.HasPrefix(want, "record_gap") {
					if strings.Contains(said, "record_gap") {
						t.Errorf("reports:\n%s\nwant no record_gap", said)
					}
					continue
				}
				if !strings.Contains(said, want) {
					t.Errorf("reports:\n%s\nwant one saying %q", said, want)
				}
			}
		})
	}
}
