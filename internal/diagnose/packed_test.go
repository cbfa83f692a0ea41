package diagnose

import (
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// TestPackedWindowReadsAsFromTrace: a window packed by the Watcher and
// unpacked for an analysis gives exactly the rounds FromTrace gives,
// failed probes left out, lost, unreachable and reached ones kept, in
// ring order.
func TestPackedWindowReadsAsFromTrace(t *testing.T) {
	start := time.Date(2026, 12, 4, 10, 0, 0, 123456789, time.UTC)
	a1, a2, dst := addr(10, 0, 1, 1), addr(10, 0, 2, 1), addr(10, 0, 5, 1)
	rounds := []trace.Round{
		{Index: 1, Start: start, Hops: []trace.Hop{
			{TTL: 1, Reply: probe.Reply{Kind: probe.TimeExceeded, From: a1, RTT: 1234567}},
			{TTL: 2, Reply: probe.Reply{Kind: probe.Timeout}},
			{TTL: 3, Reply: probe.Reply{Kind: probe.Reached, From: dst, RTT: 9 * time.Millisecond}},
		}},
		{Index: 2, Start: start.Add(time.Second), Hops: []trace.Hop{
			{TTL: 1, Reply: probe.Reply{Kind: probe.Failed}},
			{TTL: 2, Reply: probe.Reply{Kind: probe.Unreachable, From: a2, RTT: 3 * time.Millisecond}},
		}},
		{Index: 3, Start: start.Add(2 * time.Second), Hops: []trace.Hop{
			{TTL: 1, Reply: probe.Reply{Kind: probe.TimeExceeded, From: a2, RTT: 2 * time.Millisecond}},
		}},
	}
	var tab addrTable
	var packed []packedRound
	for _, r := range rounds {
		packed = append(packed, tab.pack(r))
	}
	// A ring whose oldest round is packed[1]: second part wraps round.
	var u unpacked
	u.unpack(packed[1:], packed[:1], &tab)
	order := []trace.Round{rounds[1], rounds[2], rounds[0]}
	if len(u.rounds) != len(order) {
		t.Fatalf("%d rounds unpacked; want %d", len(u.rounds), len(order))
	}
	for i, r := range order {
		want, got := FromTrace(r), u.rounds[i]
		if got.Index != want.Index || !got.Time.Equal(want.Time) || len(got.Probes) != len(want.Probes) {
			t.Fatalf("round %d: got index %d at %v with %d probes; want %d at %v with %d", i, got.Index, got.Time, len(got.Probes),
				want.Index, want.Time, len(want.Probes))
		}
		for j := range want.Probes {
			if got.Probes[j] != want.Probes[j] {
				t.Errorf("round %d probe %d: got %+v; want %+v", want.Index, j, got.Probes[j], want.Probes[j])
			}
		}
	}
	if len(tab.list) != 3 {
		t.Errorf("%d addresses in the table; want 3 (each responder once)", len(tab.list))
	}
}
