//go:build linux

package probe

import (
	"context"
	"runtime"
	"testing"
)

// TestTOSOnLoopback: probes sent with a TOS byte are answered on loopback
// (port unreachable for UDP, echo reply for ICMP); a raw socket's answer
// quotes the TOS the probe arrived with, an unprivileged socket's has no
// quote; and a marked probe allocates nothing more than an unmarked one.
func TestTOSOnLoopback(t *testing.T) {
	const tos = 0xba // EF + ECT(0)
	for _, c := range allocCases {
		t.Run(c.name, func(t *testing.T) {
			p := openFor(t, c)
			ps, on, got := roundOf(t, c, 8)
			for i := range ps {
				ps[i].TOS = tos
			}
			var replies []Reply
			check := func(i int, r Reply) bool {
				replies = append(replies, r)
				return on(i, r)
			}
			if err := p.ProbeAll(context.Background(), ps, 0, check); err != nil {
				t.Fatal(err)
			}
			// A UDP probe's port unreachable quotes it; an echo reply is
			// the destination's own packet.
			wantQuoted := c.priv == Raw && c.mode == UDP
			for i, r := range replies {
				if r.Quoted != wantQuoted {
					t.Errorf("reply %d: Quoted = %v; want %v", i, r.Quoted, wantQuoted)
				}
				if wantQuoted && r.TOS != tos {
					t.Errorf("reply %d: quoted TOS %#02x; want %#02x", i, r.TOS, tos)
				}
				if r.NAT {
					t.Errorf("reply %d: NAT on loopback; want none", i)
				}
			}
			for range 20 {
				if err := p.ProbeAll(context.Background(), ps, 0, on); err != nil {
					t.Fatal(err)
				}
			}
			*got = 0
			const rounds = 100
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
			if perProbe := float64(after.Mallocs-before.Mallocs) / float64(*got); perProbe > 0.05 {
				t.Errorf("got %.3f allocations per marked probe; want 0 (at most 0.05 for runtime noise)", perProbe)
			}
		})
	}
}
