package monitor

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
)

func TestHopHistoryRing(t *testing.T) {
	var h hopHistory
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	for i := 1; i <= 1000; i++ {
		addr := a
		if i%3 == 0 {
			addr = b
		}
		h.add(100, slot{round: uint32(i), rtt: packRTT(time.Duration(i)), addr: h.addrIndex(addr)})
	}
	if len(h.slots) != 100 || cap(h.slots) != 100 || len(h.addrs) != 2 {
		t.Fatalf("after 1000 adds with limit 100: len %d cap %d, %d addresses; want 100, 100, 2", len(h.slots), cap(h.slots), len(h.addrs))
	}
	var rounds []uint32
	h.ordered(func(s slot) { rounds = append(rounds, s.round) })
	if rounds[0] != 901 || rounds[99] != 1000 {
		t.Errorf("kept rounds %d..%d; want 901..1000", rounds[0], rounds[99])
	}
	h.resize(10)
	rounds = rounds[:0]
	h.ordered(func(s slot) { rounds = append(rounds, s.round) })
	if len(rounds) != 10 || rounds[0] != 991 || cap(h.slots) != 10 {
		t.Errorf("after resize(10): rounds %v (cap %d); want 991..1000", rounds, cap(h.slots))
	}
}

func TestRoundTimesResizedKeepsNewest(t *testing.T) {
	rt := newRoundTimes(8)
	for r := 1; r <= 20; r++ {
		rt.set(r, t0.Add(time.Duration(r)*time.Second))
	}
	small := rt.resized(3)
	for r := 18; r <= 20; r++ {
		if got := small.at(r); !got.Equal(t0.Add(time.Duration(r) * time.Second)) {
			t.Errorf("resized(3).at(%d) = %v; want its start", r, got)
		}
	}
	if got := small.at(15); !got.IsZero() {
		t.Errorf("resized(3).at(15) = %v; want zero (not kept)", got)
	}
}

func TestDescribeChanges(t *testing.T) {
	a := testTarget(t, Settings{Webhook: "https://hooks.example/secret-token"}).Settings
	b := a
	b.Interval, b.Alert = 5*time.Second, alert.Rules{LossPct: 5, Latency: 150 * time.Millisecond, Window: 30}
	b.Webhook, b.Trace.FinalHopOnly = "https://hooks.example/other-token", true
	got := describeChanges(a, b)
	want := "final hop only off → on, interval 1s → 5s, loss alert off → 5%, latency alert off → 150 ms, alert window 20 → 30, webhook changed"
	if got != want {
		t.Errorf("describeChanges = %q; want %q", got, want)
	}
	if strings.Contains(got, "token") {
		t.Errorf("describeChanges quotes the webhook URL: %q", got)
	}
}
