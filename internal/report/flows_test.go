package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/flows"
	"github.com/pingerplot/pingerplot/internal/hopstat"
)

func TestFlowsOfAndText(t *testing.T) {
	a, b, d := netip.MustParseAddr("10.0.1.2"), netip.MustParseAddr("10.1.0.2"), netip.MustParseAddr("10.0.3.2")
	set, err := flows.New(2, 0)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 4 {
		_ = set.AddRound(at, 0, []hopstat.Sample{{TTL: 1, From: a, RTT: time.Millisecond}, {TTL: 2, From: d, RTT: 2 * time.Millisecond, Reached: true}})
		lost := i%2 == 0
		_ = set.AddRound(at, 1, []hopstat.Sample{{TTL: 1, From: b, RTT: time.Millisecond}, {TTL: 2, From: d, RTT: 2 * time.Millisecond, Reached: !lost, Lost: lost}})
	}
	f := FlowsOf(2, "source port", set.Paths(), nil)
	if len(f.Paths) != 2 {
		t.Fatalf("got %d paths; want 2", len(f.Paths))
	}
	for i, want := range []struct {
		first string
		share float64
		loss  float64
		lossy bool
	}{{"10.0.1.2", 50, 0, false}, {"10.1.0.2", 50, 50, true}} {
		p := f.Paths[i]
		if p.Hops[0].Addr != want.first || p.SharePct != want.share || p.DestLossPct != want.loss || p.Lossy != want.lossy {
			t.Errorf("path %d: first hop %s, share %v, loss %v, lossy %v; want %s, %v, %v, %v",
				i, p.Hops[0].Addr, p.SharePct, p.DestLossPct, p.Lossy, want.first, want.share, want.loss, want.lossy)
		}
	}
	var buf bytes.Buffer
	if err := WriteFlowsText(&buf, f); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Flows: 2 (differing in the source port), 2 distinct paths",
		"Path 1: 50.0% of flows (1: 0), destination loss 0.0%\n",
		"Path 2: 50.0% of flows (1: 1), destination loss 50.0%  LOSSY\n",
		"10.1.0.2"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text lacks %q; got\n%s", want, buf.String())
		}
	}
}
