//go:build linux

package probe

import (
	"context"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"
)

// These tests probe only the loopback address, so they need no lab and no
// privilege: UDP and TCP probes work for any user.

func TestLoopbackUDPReachesClosedPort(t *testing.T) {
	p, err := New(Config{Privilege: Unprivileged})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// A port that is certainly closed: bind one, note it, close it.
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(c.LocalAddr().(*net.UDPAddr).Port)
	c.Close()
	for i := 0; i < 20; i++ {
		r, err := p.Probe(context.Background(), Probe{Dst: netip.MustParseAddr("127.0.0.1"), TTL: 1, Mode: UDP, Port: port, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind != Reached || r.From != netip.MustParseAddr("127.0.0.1") || !r.KernelTS {
			t.Fatalf("probe %d = %+v; want reached from 127.0.0.1 with a kernel timestamp", i, r)
		}
	}
}

func TestLoopbackTCPOpenAndClosed(t *testing.T) {
	p, err := New(Config{Privilege: Unprivileged})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	open := uint16(ln.Addr().(*net.TCPAddr).Port)
	closedLn, _ := net.Listen("tcp4", "127.0.0.1:0")
	closed := uint16(closedLn.Addr().(*net.TCPAddr).Port)
	closedLn.Close()
	for _, port := range []uint16{open, closed} {
		r, err := p.Probe(context.Background(), Probe{Dst: netip.MustParseAddr("127.0.0.1"), TTL: 3, Mode: TCP, Port: port, Timeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind != Reached {
			t.Errorf("TCP probe to port %d = %+v; want reached (SYN-ACK or RST)", port, r)
		}
	}
}

func TestConcurrentProbesAreMatchedToTheirOwnReplies(t *testing.T) {
	p, err := New(Config{Privilege: Unprivileged})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	dsts := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")}
	type res struct {
		dst netip.Addr
		r   Reply
	}
	// Batches stay under the kernel's global ICMP burst (50 messages), which
	// would otherwise drop port unreachables and turn them into timeouts.
	for batch := 0; batch < 5; batch++ {
		out := make(chan res, 39)
		for i := 0; i < 39; i++ {
			go func(d netip.Addr) {
				r, _ := p.Probe(context.Background(), Probe{Dst: d, TTL: 1, Mode: UDP, Port: 9, Timeout: 3 * time.Second})
				out <- res{d, r}
			}(dsts[i%3])
		}
		for i := 0; i < 39; i++ {
			x := <-out
			if x.r.Kind != Reached || x.r.From != x.dst {
				t.Fatalf("probe to %v = %+v; want reached from %v", x.dst, x.r, x.dst)
			}
		}
		time.Sleep(100 * time.Millisecond) // let the ICMP token bucket refill
	}
}

func TestProbeAfterClose(t *testing.T) {
	p, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if _, err := p.Probe(context.Background(), Probe{Dst: netip.MustParseAddr("127.0.0.1"), TTL: 1, Mode: UDP, Port: 9}); err != ErrClosed {
		t.Errorf("Probe after Close = %v; want ErrClosed", err)
	}
}

func TestBadProbe(t *testing.T) {
	p, _ := New(Config{})
	defer p.Close()
	for _, pr := range []Probe{{TTL: 1, Mode: UDP}, {Dst: netip.MustParseAddr("127.0.0.1"), TTL: 0, Mode: UDP}, {Dst: netip.MustParseAddr("127.0.0.1"), TTL: 256, Mode: UDP}} {
		r, err := p.Probe(context.Background(), pr)
		if err != nil || r.Kind != Failed || r.Err == nil {
			t.Errorf("Probe(%+v) = %+v, %v; want a Failed reply with an error", pr, r, err)
		}
	}
}

// TestCloseWhileRawRepliesArrive closes raw UDP probers while the port
// unreachables of their probes are arriving. The raw socket's reader takes
// the prober's lock inside its read to find the raw UDP socket; Close once
// held that lock while closing the socket, which waits for the read: a
// deadlock about one time in a few dozen. Needs CAP_NET_RAW (root).
func TestCloseWhileRawRepliesArrive(t *testing.T) {
	p0, err := New(Config{Privilege: Raw})
	if err == nil {
		err = p0.Prepare(UDP, false, false)
		p0.Close()
	}
	if err != nil {
		if os.Getenv("PINGERPLOT_LAB_REQUIRED") == "1" {
			t.Fatalf("raw sockets required (PINGERPLOT_LAB_REQUIRED=1): %v", err)
		}
		t.Skipf("raw sockets unavailable: %v (run as root)", err)
	}
	dst := netip.MustParseAddr("127.0.0.1")
	for i := 0; i < 200; i++ {
		p, err := New(Config{Privilege: Raw})
		if err != nil {
			t.Fatal(err)
		}
		ps := make([]Probe, 8)
		for j := range ps {
			ps[j] = Probe{Dst: dst, TTL: 64, Mode: UDP, Port: 33434, Timeout: time.Second}
		}
		// The first answer ends the batch; the others are still coming.
		if err := p.ProbeAll(context.Background(), ps, 0, func(int, Reply) bool { return false }); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { p.Close(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Close did not return within 10 s (run %d): deadlocked with the raw reader", i)
		}
	}
}
