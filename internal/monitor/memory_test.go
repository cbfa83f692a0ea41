package monitor

import (
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/trace"
)

func TestPackRTT(t *testing.T) {
	for _, tc := range []struct {
		in, want time.Duration
	}{
		{0, 0},
		{-time.Millisecond, 0},
		{1, 1},
		{1234567, 1234567},
		{2*time.Second + 147483647, 2*time.Second + 147483647}, // the largest kept to the nanosecond
		{2*time.Second + 147483648, 2*time.Second + 147483*time.Microsecond},
		{90*time.Second + 1500, 90*time.Second + time.Microsecond},
		{time.Hour, (1<<31 - 1) * time.Microsecond}, // saturates at about 35 minutes
	} {
		if got := (slot{rtt: packRTT(tc.in)}).duration(); got != tc.want {
			t.Errorf("packRTT(%v) unpacks to %v; want %v", tc.in, got, tc.want)
		}
	}
	if got := unsafe.Sizeof(slot{}); got != 12 {
		t.Errorf("a slot is %d bytes; want 12", got)
	}
}

// memRound is a 30-hop round: a router at each TTL, the destination at 30.
func memRound(i int, start time.Time) trace.Round {
	r := trace.Round{Index: i, Start: start, End: start.Add(50 * time.Millisecond), EndTTL: 30, Reached: true}
	r.Hops = make([]trace.Hop, 30)
	for k := range r.Hops {
		ttl := k + 1
		rep := probe.Reply{Kind: probe.TimeExceeded, From: netip.AddrFrom4([4]byte{10, byte(ttl), 0, 1}),
			RTT: time.Duration(ttl)*time.Millisecond + time.Duration(i%13)*time.Microsecond}
		if ttl == 30 {
			rep.Kind = probe.Reached
		}
		r.Hops[k] = trace.Hop{TTL: ttl, Reply: rep}
	}
	return r
}

func vmRSS() float64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkHistoryMemory fills the in-memory state of 50 targets × 30
// hops with the default history (DefaultHistory rounds per hop) and
// reports the bytes per stored sample: of the history itself (slots,
// address tables, round times) and of the whole heap the states hold
// (per-hop statistics and percentile windows included), with the test
// process's RSS.
func BenchmarkHistoryMemory(b *testing.B) {
	const targets, hops = 50, 30
	for range b.N {
		before := heapInUse()
		states := make([]*state, targets)
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range states {
			tg, err := Target{ID: ID(fmt.Sprintf("t%02d", i)), Host: "dest.example", Addr: testDest}.withDefaults()
			if err != nil {
				b.Fatal(err)
			}
			states[i] = newState(tg, nil)
		}
		for r := range DefaultHistory {
			at := start.Add(time.Duration(r) * time.Second)
			for _, s := range states {
				round := memRound(r, at)
				s.apply(round.End, round)
			}
		}
		heap := heapInUse() - before
		var hist uintptr
		for _, s := range states {
			for _, h := range s.hist {
				hist += uintptr(cap(h.slots))*unsafe.Sizeof(slot{}) + uintptr(cap(h.addrs))*unsafe.Sizeof(netip.Addr{})
			}
			hist += uintptr(len(s.times.rounds))*4 + uintptr(len(s.times.starts))*8
		}
		samples := float64(targets * hops * DefaultHistory)
		b.ReportMetric(float64(hist)/samples, "history-B/sample")
		b.ReportMetric(float64(heap)/samples, "heap-B/sample")
		b.ReportMetric(vmRSS(), "RSS-MiB")
		runtime.KeepAlive(states)
	}
}
