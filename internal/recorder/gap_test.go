package recorder

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// TestSlowRecorderLosesNoRound runs a real monitor over a scripted network
// with a recorder that is deliberately slow (each update takes longer than
// a round), subscribed durably with a small channel. Its probe log must
// hold every round each target completed, or a gap row that covers it,
// and a gap must also be an event in the event log.
func TestSlowRecorderLosesNoRound(t *testing.T) {
	tests := []struct {
		name     string
		history  int
		wantGaps bool
	}{
		{name: "history covers the lag", history: 3600, wantGaps: false},
		{name: "history shorter than the lag", history: 2, wantGaps: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			logPath := filepath.Join(dir, "probes.csv")
			const targets = 3
			published := map[monitor.ID]int{}
			synctest.Test(t, func(t *testing.T) {
				net := probetest.Path(time.Millisecond, 2*time.Millisecond, 3*time.Millisecond)
				net.Hops[1].Lose = func(n int) bool { return n%4 == 3 }
				m := monitor.New(monitor.Config{Prober: net})
				lookup := func(id monitor.ID) (monitor.Target, bool) {
					for _, t := range m.Targets() {
						if t.ID == id {
							return t, true
						}
					}
					return monitor.Target{}, false
				}
				rec := New(Config{Target: lookup, Monitor: m})
				updates, _ := m.SubscribeWith(monitor.SubscriberConfig{Name: "recorder", Buffer: 8, Durable: true})
				recDone := make(chan struct{})
				go func() {
					defer close(recDone)
					monitor.Consume(context.Background(), updates, func(u monitor.Update) {
						time.Sleep(1500 * time.Millisecond) // a slow disk
						rec.Handle(u)
					})
				}()
				ctx, cancel := context.WithCancel(context.Background())
				runDone := make(chan error, 1)
				go func() { runDone <- m.Run(ctx) }()
				for i := range targets {
					_, err := m.Add(monitor.Target{ID: monitor.ID(fmt.Sprintf("t%d", i)), Host: "dest", Addr: net.Hops[2].Addr,
						Settings: monitor.Settings{Interval: time.Second, History: tc.history, LogPath: logPath}})
					if err != nil {
						t.Fatal(err)
					}
				}
				time.Sleep(40 * time.Second)
				cancel()
				<-runDone
				m.Close()
				<-recDone
				if err := rec.Close(); err != nil {
					t.Fatal(err)
				}
				for _, s := range m.Snapshots() {
					published[s.ID] = s.Rounds
				}
				var drops uint64
				for _, s := range m.Stats().Subscribers {
					if s.Name == "recorder" {
						drops = s.Dropped
					}
				}
				if drops == 0 {
					t.Fatalf("recorder dropped nothing; the test did not make it fall behind")
				}
			})

			rows := readRows(t, logPath)
			// Per target: the rounds logged, and the gap rows' first rounds.
			logged := map[string]map[int]bool{}
			gaps := map[string][]int{}
			var order = map[string][]int{} // round of each row, in file order
			for _, r := range rows[1:] {
				n, err := strconv.Atoi(r[1])
				if err != nil {
					t.Fatalf("row %q: round %q: %v", r, r[1], err)
				}
				if logged[r[2]] == nil {
					logged[r[2]] = map[int]bool{}
				}
				order[r[2]] = append(order[r[2]], n)
				if r[7] == "gap" {
					gaps[r[2]] = append(gaps[r[2]], n)
					continue
				}
				logged[r[2]][n] = true
			}
			for id, total := range published {
				seq := order[string(id)]
				// A gap row covers its round up to the next row's round.
				covered := map[int]bool{}
				for i, n := range seq {
					if !isGap(gaps[string(id)], n) || logged[string(id)][n] {
						continue
					}
					end := total + 1
					for _, m := range seq[i+1:] {
						if m > n {
							end = m
							break
						}
					}
					for k := n; k < end; k++ {
						if !logged[string(id)][k] {
							covered[k] = true
						}
					}
				}
				for k := 1; k <= total; k++ {
					if !logged[string(id)][k] && !covered[k] {
						t.Errorf("%s: round %d of %d neither logged nor covered by a gap row", id, k, total)
					}
				}
				for i := 1; i < len(seq); i++ {
					if seq[i] < seq[i-1] {
						t.Errorf("%s: round %d logged after round %d; want rounds in order", id, seq[i], seq[i-1])
						break
					}
				}
				if got := len(gaps[string(id)]) > 0; got != tc.wantGaps {
					t.Errorf("%s: gap rows %v; want gaps: %v", id, gaps[string(id)], tc.wantGaps)
				}
			}
			events := readRows(t, EventLogPathFor(logPath))
			var gapEvents int
			for _, e := range events[1:] {
				if e[2] == string(monitor.RecordGap) {
					gapEvents++
					if !strings.Contains(e[4], "rounds not recorded") {
						t.Errorf("record_gap message %q; want how many rounds", e[4])
					}
				}
			}
			if tc.wantGaps != (gapEvents > 0) {
				t.Errorf("%d record_gap events; want some: %v", gapEvents, tc.wantGaps)
			}
		})
	}
}

func isGap(gaps []int, n int) bool {
	for _, g := range gaps {
		if g == n {
			return true
		}
	}
	return false
}

func readRows(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// closedSource is a monitor that has closed: its history is gone and it
// takes no more reports.
type closedSource struct{}

func (closedSource) Rounds(monitor.ID, int, int) ([]trace.Round, error) { return nil, nil }
func (closedSource) Events(monitor.ID) []monitor.Event                  { return nil }
func (closedSource) Report(monitor.ID, monitor.EventKind, string) error { return monitor.ErrClosed }

// TestGapAfterClose: the last Gap arrives as the monitor closes, when it
// no longer publishes reports; the recorder writes the gap row and the
// record_gap event itself.
func TestGapAfterClose(t *testing.T) {
	dir := t.TempDir()
	logPath := filepath.Join(dir, "p.csv")
	var console strings.Builder
	r := New(Config{
		Target: func(id monitor.ID) (monitor.Target, bool) {
			return monitor.Target{ID: id, Settings: monitor.Settings{LogPath: logPath}}, true
		},
		Monitor: closedSource{}, Console: &console,
	})
	r.Handle(monitor.Update{Round: &monitor.RoundDone{Target: "a", Round: round(1)}})
	r.Handle(monitor.Update{Gap: &monitor.Gap{Targets: []monitor.TargetGap{
		{Target: "a", FirstRound: 2, LastRound: 9, Events: 2, FirstSeq: 5, LastSeq: 7}}}})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	rows := readRows(t, logPath)
	if last := rows[len(rows)-1]; last[1] != "2" || last[7] != "gap" {
		t.Errorf("last probe-log row %q; want the gap row from round 2", last)
	}
	var gaps []string
	for _, e := range readRows(t, EventLogPathFor(logPath))[1:] {
		if e[2] == string(monitor.RecordGap) {
			gaps = append(gaps, e[4])
		}
	}
	if len(gaps) != 2 || !strings.HasPrefix(gaps[0], "8 rounds not recorded") || !strings.HasPrefix(gaps[1], "2 events not recorded") {
		t.Errorf("record_gap events %q; want 8 rounds, then 2 events", gaps)
	}
	if n := strings.Count(console.String(), "record_gap"); n != 2 {
		t.Errorf("console has %d record_gap lines; want 2:\n%s", n, console.String())
	}
}
