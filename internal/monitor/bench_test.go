package monitor

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// benchRounds traces n rounds of a 10-hop fake path with ECMP and loss.
func benchRounds(b *testing.B, n int) []trace.Round {
	b.Helper()
	net := newFakePath(10)
	dst := netip.MustParseAddr("192.0.2.9")
	net.add(dst)
	now := t0
	tr, err := trace.New(net, trace.Config{Target: dst}, func() time.Time { return now })
	if err != nil {
		b.Fatal(err)
	}
	out := make([]trace.Round, n)
	for i := range out {
		if out[i], err = tr.Round(context.Background(), i+1, nil); err != nil {
			b.Fatal(err)
		}
		now = now.Add(time.Second)
	}
	return out
}

// BenchmarkStateApply is the fold of one round of a 10-hop path into a
// target with the default history, in steady state (history full),
// including the snapshot every round publishes.
func BenchmarkStateApply(b *testing.B) {
	rounds := benchRounds(b, 4000)
	s := newState(testTarget(b, Settings{Alert: alert.Rules{LossPct: 10, Latency: time.Second}}), nil)
	for _, r := range rounds {
		s.apply(r.End, r)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := rounds[i%len(rounds)]
		s.apply(r.End, r)
		i++
	}
}

// BenchmarkMonitor500 runs 500 targets of 10 hops on the zero-latency fake
// as fast as they go (1 ms interval: the CPU is the limit), and reports the
// engine's cost per probe: scheduling, tracing, matching, folding,
// snapshots and publishing, with one subscriber reading everything. One
// op is one probe.
func BenchmarkMonitor500(b *testing.B) {
	const targets, hops = 500, 10
	net := newFakePath(hops)
	m := New(Config{Prober: net})
	for i := range targets {
		dst := netip.AddrFrom4([4]byte{10, 200, byte(i / 250), byte(1 + i%250)})
		net.add(dst)
		if _, err := m.Add(Target{Addr: dst, Settings: Settings{Interval: time.Millisecond, History: 600}}); err != nil {
			b.Fatal(err)
		}
	}
	updates, _ := m.Subscribe(4096)
	go func() {
		for range updates {
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		<-done
		m.Close()
	}()
	waitProbes := func(n uint64) {
		for m.Stats().Probes < n {
			time.Sleep(time.Millisecond)
		}
	}
	waitProbes(targets * hops * 50) // past the first rounds, rings filling
	b.ResetTimer()
	p0 := m.Stats().Probes
	cpu0, cpuOK := processCPU()
	start := time.Now()
	waitProbes(p0 + uint64(b.N))
	elapsed := time.Since(start)
	cpu1, _ := processCPU()
	b.StopTimer()
	probes := float64(m.Stats().Probes - p0)
	b.ReportMetric(probes/elapsed.Seconds(), "probes/s")
	if cpuOK {
		b.ReportMetric(float64((cpu1-cpu0).Microseconds())/probes, "cpu-µs/probe")
	}
}
