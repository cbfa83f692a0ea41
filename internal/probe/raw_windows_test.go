//go:build windows

package probe

import (
	"context"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestWindowsSockTraceLab walks the TTL to a lab target in TCP and UDP mode
// through the administrator path (raw ICMP socket). It needs a routed path,
// which only the Linux lab builds (it runs this binary under Wine in its
// client namespace), so it runs when PINGERPLOT_WINSOCK_TRACE names the
// path: "TARGET,HOPS[,TCPPORT]", HOPS counting the target (a TCP port that
// listens on the target, else only the UDP walk runs).
func TestWindowsSockTraceLab(t *testing.T) {
	spec := os.Getenv("PINGERPLOT_WINSOCK_TRACE")
	if spec == "" {
		t.Skip("needs a routed lab path: set PINGERPLOT_WINSOCK_TRACE=TARGET,HOPS[,TCPPORT] (the Linux lab tests do)")
	}
	f := strings.Split(spec, ",")
	dst, err := netip.ParseAddr(f[0])
	if err != nil || len(f) < 2 {
		t.Fatalf("PINGERPLOT_WINSOCK_TRACE=%q: want TARGET,HOPS[,TCPPORT]", spec)
	}
	hops, err := strconv.Atoi(f[1])
	if err != nil || hops < 1 {
		t.Fatalf("PINGERPLOT_WINSOCK_TRACE=%q: bad hop count", spec)
	}
	modes := []struct {
		mode Mode
		port uint16
	}{{UDP, 33434}}
	if len(f) > 2 {
		p, err := strconv.Atoi(f[2])
		if err != nil {
			t.Fatalf("PINGERPLOT_WINSOCK_TRACE=%q: bad port", spec)
		}
		modes = append(modes, struct {
			mode Mode
			port uint16
		}{TCP, uint16(p)})
	}
	s := newSockProber(Config{}, true)
	defer s.close()
	for _, m := range modes {
		t.Run(m.mode.String(), func(t *testing.T) {
			if err := s.prepare(m.mode, dst.Is6(), false); err != nil {
				t.Fatalf("prepare(%v) = %v", m.mode, err)
			}
			var ps []Probe
			for ttl := 1; ttl <= hops; ttl++ {
				ps = append(ps, Probe{Dst: dst, TTL: ttl, Mode: m.mode, Port: m.port, Timeout: 2 * time.Second})
			}
			got := make([]Reply, len(ps))
			if err := s.probeAll(context.Background(), ps, 0, func(i int, r Reply) bool { got[i] = r; return true }); err != nil {
				t.Fatalf("probeAll = %v", err)
			}
			seen := map[netip.Addr]bool{}
			for i, r := range got {
				t.Logf("%v ttl %d: %v from %v rtt %v closed=%v err=%v", m.mode, i+1, r.Kind, r.From, r.RTT, r.Closed, r.Err)
				last := i == len(got)-1
				switch {
				case !last && (r.Kind != TimeExceeded || !r.From.IsValid() || seen[r.From] || r.From == dst):
					t.Errorf("ttl %d: %v from %v; want time exceeded from a router not seen before", i+1, r.Kind, r.From)
				case last && (r.Kind != Reached || r.From != dst):
					t.Errorf("ttl %d: %v from %v; want reached from %v", i+1, r.Kind, r.From, dst)
				}
				seen[r.From] = true
				if r.Kind != Timeout && (r.RTT <= 0 || r.RTT > 2*time.Second) {
					t.Errorf("ttl %d: RTT %v; want within (0, 2s]", i+1, r.RTT)
				}
			}
		})
	}
	t.Logf("notes: %s", strings.Join(s.notes(), " | "))
}
