package history_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/history/historytest"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// TestGapCatchUp: rounds dropped from the store's channel are fetched
// again from the monitor; those it no longer holds are counted and a
// record_gap says so.
func TestGapCatchUp(t *testing.T) {
	cases := []struct {
		name       string
		gap        monitor.TargetGap
		heldFrom   int // the monitor still holds rounds heldFrom.. and events with Seq ≥ 3
		wantLost   int64
		wantReport string // "" for none
	}{
		{"all still held", monitor.TargetGap{Target: "web", FirstRound: 11, LastRound: 60}, 1, 0, ""},
		{"the first ones gone", monitor.TargetGap{Target: "web", FirstRound: 11, LastRound: 60}, 30, 19, "19 rounds"},
		{"events gone", monitor.TargetGap{Target: "web", FirstRound: 11, LastRound: 60, Events: 4, FirstSeq: 1, LastSeq: 4}, 1, 0, "2 events"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rounds := (&historytest.Gen{Hops: historytest.Path(4, nil), Start: t0}).Rounds(70)
			src := historytest.NewSource(monitor.Target{ID: "web", Host: "example.net"})
			src.Hold("web", rounds[c.heldFrom-1:]...)
			for seq := uint64(3); seq <= 4; seq++ {
				src.HoldEvents("web", monitor.Event{Seq: seq, Time: t0.Add(time.Duration(seq) * time.Second), Target: "web", Kind: monitor.RouteChange, TTL: 2, Message: "changed"})
			}
			st := openStore(t, history.Options{})
			updates := make(chan monitor.Update, 100)
			for i := range rounds {
				if i+1 == c.gap.FirstRound {
					g := c.gap
					updates <- monitor.Update{Gap: &monitor.Gap{Targets: []monitor.TargetGap{g}}}
				}
				if i+1 >= c.gap.FirstRound && i+1 <= c.gap.LastRound {
					continue // dropped
				}
				updates <- monitor.Update{Round: &monitor.RoundDone{Target: "web", Round: rounds[i]}}
			}
			close(updates)
			st.Run(context.Background(), updates, src)
			var got []int
			if err := st.Rounds(context.Background(), "web", t0, t0.Add(time.Hour), func(r trace.Round) error {
				got = append(got, r.Index)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			var want []int
			for i := 1; i <= 70; i++ {
				if i < c.gap.FirstRound || i > c.gap.LastRound || i >= c.heldFrom {
					want = append(want, i)
				}
			}
			if !equalInts(got, want) {
				t.Errorf("rounds stored %v; want %v", got, want)
			}
			if s := st.Status(); s.Lost != c.wantLost {
				t.Errorf("Status().Lost %d; want %d", s.Lost, c.wantLost)
			}
			reports := src.Reports()
			switch {
			case c.wantReport == "" && len(reports) > 0:
				t.Errorf("reports %v; want none", reports)
			case c.wantReport != "" && (len(reports) != 1 || reports[0].Kind != monitor.RecordGap || !strings.Contains(reports[0].Message, c.wantReport)):
				t.Errorf("reports %v; want one record_gap naming %s", reports, c.wantReport)
			}
			if c.gap.Events > 0 {
				ev, err := st.Events(context.Background(), "web", t0, t0.Add(time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				if len(ev) != 2 || ev[0].Seq != 3 || ev[0].Kind != monitor.RouteChange || ev[0].TTL != 2 {
					t.Errorf("events %+v; want the two the monitor held", ev)
				}
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestReadOnlyBesideWriter: a reader opens the file while a writer
// writes into it, reads what was flushed, and never writes.
func TestReadOnlyBesideWriter(t *testing.T) {
	path := filepath.Join(history.ScratchDir(t), "history.db")
	if _, err := history.Open(history.Options{Path: path, ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "no history file") {
		t.Fatalf("read-only Open of a missing file: %v; want an error saying there is none", err)
	}
	if fileSize(path) != 0 {
		t.Fatalf("a read-only Open created %s", path)
	}
	w := openStore(t, history.Options{Path: path})
	gen := &historytest.Gen{Hops: historytest.Path(10, nil), Start: t0}
	historytest.Fill(t, w, "web", "example.net", gen.Rounds(120))
	r, err := history.Open(history.Options{Path: path, ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only Open beside a writer: %v", err)
	}
	defer r.Close()
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		historytest.Fill(t, w, "web", "example.net", gen.Rounds(60))
		sum, err := r.Summary(ctx, "web", t0, t0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if want := 180 + 60*i; sum.Rounds != want || len(sum.Hops) != 10 {
			t.Errorf("reader sees %d rounds, %d hops; want %d, 10", sum.Rounds, len(sum.Hops), want)
		}
	}
	before := fileSize(path)
	if err := r.Flush(); err != nil {
		t.Errorf("Flush of a reader: %v; want nothing done", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close of a reader: %v", err)
	}
	if after := fileSize(path); after != before {
		t.Errorf("the reader changed the file: %d bytes, then %d", before, after)
	}
}
