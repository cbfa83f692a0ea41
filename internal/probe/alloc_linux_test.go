//go:build linux

package probe

import (
	"context"
	"net"
	"net/netip"
	"os"
	"runtime"
	"testing"
	"time"
)

// The engine's steady state allocates nothing per probe. These measure it
// on loopback (no lab, no privilege for UDP and TCP): a round of eight
// probes to a closed UDP port, each answered by port unreachable through
// the error queue; eight TCP connects to a closed port, each answered by a
// reset; and, as root, the UDP round over raw sockets.

type allocCase struct {
	name string
	mode Mode
	priv Privilege
	root bool
}

var allocCases = []allocCase{
	{"udp-unprivileged", UDP, Unprivileged, false},
	{"tcp", TCP, Unprivileged, false},
	{"icmp-raw", ICMP, Raw, true},
	{"udp-raw", UDP, Raw, true},
}

// closedPort returns a loopback UDP (or, for TCP, TCP) port nothing
// listens on.
func closedPort(t testing.TB, mode Mode) uint16 {
	if mode == TCP {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := uint16(l.Addr().(*net.TCPAddr).Port)
		l.Close()
		return port
	}
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(c.LocalAddr().(*net.UDPAddr).Port)
	c.Close()
	return port
}

// roundOf returns n probes to loopback and a ProbeAll callback that counts
// answers, failing on anything but a reached destination.
func roundOf(t testing.TB, c allocCase, n int) ([]Probe, func(int, Reply) bool, *int) {
	port := closedPort(t, c.mode)
	ps := make([]Probe, n)
	for i := range ps {
		ps[i] = Probe{Dst: netip.MustParseAddr("127.0.0.1"), TTL: 1 + i, Mode: c.mode, Port: port, Timeout: 2 * time.Second}
	}
	got := new(int)
	on := func(i int, r Reply) bool {
		if r.Kind != Reached {
			t.Errorf("probe %d: got %v (%v); want reached", i, r.Kind, r.Err)
		}
		*got++
		return true
	}
	return ps, on, got
}

func openFor(t testing.TB, c allocCase) Prober {
	if c.root && os.Geteuid() != 0 {
		t.Skip("raw sockets need root")
	}
	p, err := New(Config{Privilege: c.priv})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestProbeAllAllocatesNothingPerProbe: after warm-up, 200 rounds of 8
// probes allocate less than one object per 20 probes, all goroutines
// counted (the reader's included).
func TestProbeAllAllocatesNothingPerProbe(t *testing.T) {
	for _, c := range allocCases {
		t.Run(c.name, func(t *testing.T) {
			p := openFor(t, c)
			ps, on, got := roundOf(t, c, 8)
			for range 20 { // warm up: sockets, pools, maps at their size
				if err := p.ProbeAll(context.Background(), ps, 0, on); err != nil {
					t.Fatal(err)
				}
			}
			*got = 0
			const rounds = 200
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for range rounds {
				if err := p.ProbeAll(context.Background(), ps, 0, on); err != nil {
					t.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			if *got != rounds*len(ps) {
				t.Fatalf("got %d answers; want %d", *got, rounds*len(ps))
			}
			perProbe := float64(after.Mallocs-before.Mallocs) / float64(*got)
			if perProbe > 0.05 {
				t.Errorf("got %.3f allocations per probe; want 0 (at most 0.05 for runtime noise)", perProbe)
			}
		})
	}
}

// BenchmarkProbeAll reports allocations and CPU per probe (op = one
// probe) of rounds of eight loopback probes.
func BenchmarkProbeAll(b *testing.B) {
	for _, c := range allocCases {
		b.Run(c.name, func(b *testing.B) {
			p := openFor(b, c)
			ps, on, _ := roundOf(b, c, 8)
			if err := p.ProbeAll(context.Background(), ps, 0, on); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += len(ps) {
				if err := p.ProbeAll(context.Background(), ps[:min(len(ps), b.N-i)], 0, on); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
