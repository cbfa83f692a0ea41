package monitor

import (
	"context"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/trace"
)

const (
	day        = 24 * time.Hour
	weekRounds = 7 * 24 * 60 // a week at one round a minute
)

func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// historyBound is what a target's state may hold at most: every hop's
// history (16 bytes a sample) and percentile window (16 bytes a reply:
// arrival order and sorted) full, the round times, plus a fixed allowance
// for the rest (hop statistics, route windows, alert window, scratch space
// and one snapshot).
func historyBound(hops, history int) uint64 {
	perHop := uint64(history)*16 + uint64(percentileWindow(history))*16
	return uint64(hops)*perHop + uint64(history)*12 + 64<<10
}

// TestWeekOfRoundsMemoryFlat folds a week of one-minute rounds (10,080)
// with ECMP alternation and loss into one target's state and checks that
// the heap stops growing once the history (one day) is full, and that what
// the state holds stays under the bound History sets.
func TestWeekOfRoundsMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("a week of rounds")
	}
	const hops, history = 10, 24 * 60
	net := newFakePath(hops)
	dst := netip.MustParseAddr("192.0.2.77")
	net.add(dst)
	now := t0
	clock := func() time.Time { return now }
	tr, err := trace.New(net, trace.Config{Target: dst}, clock)
	if err != nil {
		t.Fatal(err)
	}
	before := heapInUse()
	s := newState(testTarget(t, Settings{History: history, Interval: time.Minute,
		Alert: alert.Rules{LossPct: 10, Latency: 500 * time.Millisecond}}), nil)
	var events []string
	var heapDay1 uint64
	for i := 1; i <= weekRounds; i++ {
		r, err := tr.Round(context.Background(), i, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, evs := s.apply(now, r)
		for _, e := range evs {
			events = append(events, fmt.Sprintf("round %d: %s", i, e.Message))
		}
		now = now.Add(time.Minute)
		if i == history {
			heapDay1 = heapInUse()
		}
	}
	heapDay7 := heapInUse()
	held := int64(heapDay7) - int64(before)
	t.Logf("one target, %d hops, History %d: heap %d KiB after day 1, %d KiB after day 7 (growth %+d B); state holds %d KiB, bound %d KiB",
		hops, history, heapDay1>>10, heapDay7>>10, int64(heapDay7)-int64(heapDay1), held>>10, historyBound(hops, history)>>10)
	if growth := int64(heapDay7) - int64(heapDay1); growth > 32<<10 {
		t.Errorf("heap grew %d bytes from day 1 to day 7; want it flat once the history is full", growth)
	}
	if held > int64(historyBound(hops, history)) {
		t.Errorf("the state holds %d bytes; want at most %d for History %d", held, historyBound(hops, history), history)
	}
	snap := s.snapshot(true)
	for _, h := range snap.Hops {
		if len(h.History) != history || h.History[0].Round != weekRounds-history+1 {
			t.Errorf("hop %d: %d samples from round %d; want the last %d rounds", h.TTL, len(h.History), h.History[0].Round, history)
		}
	}
	if h := snap.Hops[fakeECMPTTL-1]; len(h.Responders) != 2 || h.Stats.Sent != weekRounds {
		t.Errorf("ECMP hop: %d responders, %d sent; want 2 and %d", len(h.Responders), h.Stats.Sent, weekRounds)
	}
	// ECMP says multipath once; 2% loss in a 20-probe window sits below
	// the 10% threshold: a week without an alert.
	if len(events) != 1 || !strings.Contains(events[0], "hop 3: multipath, 2 addresses") {
		t.Errorf("a week of ECMP and light loss: events %q; want one multipath event", events)
	}
}

// TestWeekOfMonitorMemoryFlat runs the monitor itself for a week of fake
// time: four targets at a one-minute interval, each with a day of history,
// and checks the heap after day 1 and after day 7.
func TestWeekOfMonitorMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("a week of rounds")
	}
	synctest.Test(t, func(t *testing.T) {
		const targets, hops = 4, 10
		net := newFakePath(hops)
		m := New(Config{Prober: net})
		for i := range targets {
			dst := netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)})
			net.add(dst)
			if _, err := m.Add(Target{Addr: dst, Settings: Settings{Interval: time.Minute, History: 24 * 60}}); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- m.Run(ctx) }()
		time.Sleep(day + time.Minute)
		heapDay1 := heapInUse()
		time.Sleep(6 * day)
		heapDay7 := heapInUse()
		cancel()
		<-done
		st := m.Stats()
		t.Logf("%d targets, a week at 1/min: %d rounds, %d missed; heap %d KiB after day 1, %d KiB after day 7 (growth %+d B)",
			targets, st.Rounds, st.Missed, heapDay1>>10, heapDay7>>10, int64(heapDay7)-int64(heapDay1))
		if st.Rounds < targets*(weekRounds) || st.Missed != 0 {
			t.Errorf("Stats() = %+v; want %d rounds, none missed", st, targets*weekRounds)
		}
		if growth := int64(heapDay7) - int64(heapDay1); growth > 64<<10 {
			t.Errorf("heap grew %d bytes from day 1 to day 7; want it flat", growth)
		}
		for _, snap := range m.Snapshots() {
			if n := len(m.Events(snap.ID)); n != 2 { // added, multipath
				t.Errorf("%s: %d events in a week; want 2", snap.ID, n)
			}
		}
		m.Close()
	})
}
