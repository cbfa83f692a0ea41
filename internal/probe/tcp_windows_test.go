//go:build windows

package probe

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// loopbackPorts returns the port of a TCP listener on 127.0.0.1 that
// accepts, and a port of 127.0.0.1 where nothing listens.
func loopbackPorts(t *testing.T) (open, closed uint16) {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	gone, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed = uint16(gone.Addr().(*net.TCPAddr).Port)
	gone.Close()
	return uint16(ln.Addr().(*net.TCPAddr).Port), closed
}

func TestWindowsTCPFinalHopLoopback(t *testing.T) {
	open, closed := loopbackPorts(t)
	lo := netip.MustParseAddr("127.0.0.1")
	for _, admin := range []bool{false, true} {
		s := newSockProber(Config{}, admin)
		if err := s.prepare(TCP, false, true); err != nil {
			t.Fatalf("admin=%v: prepare(TCP, final hop) = %v; want nil", admin, err)
		}
		tests := []struct {
			name       string
			port       uint16
			wantClosed bool
		}{
			{"open port is up", open, false},
			{"closed port is reached but closed", closed, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ps := []Probe{{Dst: lo, TTL: 64, Mode: TCP, Port: tt.port, Timeout: 2 * time.Second, FinalHopOnly: true}}
				var got Reply
				n := 0
				start := time.Now()
				err := s.probeAll(context.Background(), ps, 0, func(i int, r Reply) bool { got = r; n++; return true })
				took := time.Since(start)
				if err != nil || n != 1 {
					t.Fatalf("admin=%v: probeAll = %v after %d replies; want nil after 1", admin, err, n)
				}
				if got.Kind != Reached || got.Closed != tt.wantClosed || got.From != lo {
					t.Fatalf("admin=%v: reply = %v closed=%v from %v (err %v); want reached closed=%v from %v",
						admin, got.Kind, got.Closed, got.From, got.Err, tt.wantClosed, lo)
				}
				// One SYN, no retransmission after the RST: a refusal is
				// quick, far below the timeout (generous for slow hosts).
				if got.RTT <= 0 || got.RTT > time.Second || took > 1500*time.Millisecond {
					t.Errorf("admin=%v: RTT %v, probe took %v; want 0 < RTT <= 1s and under 1.5s", admin, got.RTT, took)
				}
			})
		}
		if len(s.notes()) == 0 {
			t.Errorf("admin=%v: notes() is empty after prepare; want the chosen method", admin)
		}
		if err := s.close(); err != nil {
			t.Errorf("close = %v", err)
		}
	}
}

func TestWindowsSockRefusesTracesWithoutAdmin(t *testing.T) {
	open, _ := loopbackPorts(t)
	lo := netip.MustParseAddr("127.0.0.1")
	s := newSockProber(Config{}, false)
	defer s.close()
	tests := []struct {
		name  string
		mode  Mode
		v6    bool
		final bool
		want  string
	}{
		{"tcp trace", TCP, false, false, "final-hop-only for a TCP service check"},
		{"tcp v6 trace", TCP, true, false, "administrator"},
		{"udp trace", UDP, false, false, "administrator"},
		{"udp final hop", UDP, false, true, "port unreachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.prepare(tt.mode, tt.v6, tt.final)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("prepare(%v, v6=%v, final=%v) = %v; want an error containing %q", tt.mode, tt.v6, tt.final, err, tt.want)
			}
			// Probing anyway gives Failed with the same advice at once,
			// never a lost probe.
			ps := []Probe{{Dst: lo, TTL: 1, Mode: tt.mode, Port: open, Timeout: time.Second, FinalHopOnly: tt.final}}
			var got Reply
			if err := s.probeAll(context.Background(), ps, 0, func(_ int, r Reply) bool { got = r; return true }); err != nil {
				t.Fatalf("probeAll = %v", err)
			}
			if got.Kind != Failed || got.Err == nil || !strings.Contains(got.Err.Error(), tt.want) {
				t.Errorf("reply = %v (%v); want failed with %q", got.Kind, got.Err, tt.want)
			}
		})
	}
}
