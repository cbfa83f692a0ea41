//go:build linux

package probe

import (
	"context"
	"runtime"
	"testing"
)

// TestFlowsMatchAndAllocateNothing: probes spread over four flows are each
// answered (a raw probe's answer matches only on its own flow's source port
// or identifier), each flow's socket or port opens once, and after warm-up
// rounds over the flows allocate nothing per probe.
func TestFlowsMatchAndAllocateNothing(t *testing.T) {
	for _, c := range allocCases {
		t.Run(c.name, func(t *testing.T) {
			p := openFor(t, c)
			ps, on, got := roundOf(t, c, 8)
			for i := range ps {
				ps[i].Flow = uint16(i % 4)
			}
			for range 20 {
				if err := p.ProbeAll(context.Background(), ps, 0, on); err != nil {
					t.Fatal(err)
				}
			}
			if *got != 20*len(ps) {
				t.Fatalf("got %d answers; want %d", *got, 20*len(ps))
			}
			lp := p.(*linuxProber)
			lp.mu.Lock()
			switch c.name {
			case "udp-unprivileged":
				n := 0
				ports := map[uint16]bool{}
				for k, s := range lp.shared {
					if k.kind == kindUDP && !k.v6 {
						n++
						ports[s.port] = true
					}
				}
				if n != 4 || len(ports) != 4 {
					t.Errorf("got %d UDP sockets with %d source ports; want 4 and 4 (one per flow)", n, len(ports))
				}
			case "udp-raw":
				s := lp.shared[sockKey{kind: kindRawUDP}]
				ports := map[uint16]bool{s.port: true}
				for _, port := range s.flowPorts {
					ports[port] = true
				}
				if len(s.flowPorts) != 3 || len(ports) != 4 {
					t.Errorf("got %d reserved flow ports, %d distinct with flow 0's; want 3 and 4", len(s.flowPorts), len(ports))
				}
			}
			lp.mu.Unlock()
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
			if perProbe := float64(after.Mallocs-before.Mallocs) / float64(*got); perProbe > 0.05 {
				t.Errorf("got %.3f allocations per probe; want 0 (at most 0.05 for runtime noise)", perProbe)
			}
		})
	}
}
