//go:build windows

package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unsafe"
)

var loopback4 = netip.MustParseAddr("127.0.0.1")

func newTestProber(t *testing.T) Prober {
	t.Helper()
	p, err := New(Config{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := p.Prepare(ICMP, false, false); err != nil {
		t.Fatalf("Prepare(ICMP, IPv4): %v", err)
	}
	return p
}

func TestICMPLoopbackTTL64(t *testing.T) {
	p := newTestProber(t)
	r, err := p.Probe(context.Background(), Probe{Dst: loopback4, TTL: 64, Mode: ICMP, Size: 56, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	if r.Kind != Reached || r.From != loopback4 || r.ICMPType != 0 {
		t.Fatalf("Probe(127.0.0.1, ttl 64) = %v from %v type %d (err %v); want reached from 127.0.0.1 type 0", r.Kind, r.From, r.ICMPType, r.Err)
	}
	if r.Sent.IsZero() || r.RTT < 0 || r.RTT >= time.Second || r.KernelTS {
		t.Errorf("Sent %v, RTT %v, KernelTS %v; want a send time, 0 <= RTT < 1s, no kernel timestamp", r.Sent, r.RTT, r.KernelTS)
	}
	if b := p.Backend(); !strings.Contains(b, "IcmpSendEcho2") {
		t.Errorf("Backend() = %q; want it to name IcmpSendEcho2", b)
	}
}

// A round's TTLs are all in flight at once: eight probes answer, each
// under its own index, in about one round trip.
func TestICMPLoopbackRound(t *testing.T) {
	p := newTestProber(t)
	ps := make([]Probe, 8)
	for i := range ps {
		ps[i] = Probe{Dst: loopback4, TTL: i + 1, Mode: ICMP, Timeout: 3 * time.Second}
	}
	seen := make([]int, len(ps))
	start := time.Now()
	err := p.ProbeAll(context.Background(), ps, 0, func(i int, r Reply) bool {
		seen[i]++
		if r.Kind != Reached || r.From != loopback4 {
			t.Errorf("probe ttl %d: %v from %v (err %v); want reached from 127.0.0.1", ps[i].TTL, r.Kind, r.From, r.Err)
		}
		return true
	})
	if err != nil {
		t.Fatalf("ProbeAll: %v", err)
	}
	for i, n := range seen {
		if n != 1 {
			t.Errorf("probe %d answered %d times; want 1", i, n)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("round took %v; want well under the 3 s timeout", d)
	}
}

// onReply false abandons the rest, and Close afterwards still returns.
func TestICMPLoopbackAbandon(t *testing.T) {
	p := newTestProber(t)
	ps := make([]Probe, 5)
	for i := range ps {
		ps[i] = Probe{Dst: loopback4, TTL: 64, Mode: ICMP, Timeout: time.Second}
	}
	calls := 0
	if err := p.ProbeAll(context.Background(), ps, 0, func(int, Reply) bool { calls++; return false }); err != nil || calls != 1 {
		t.Errorf("ProbeAll = %v after %d answers; want nil after 1", err, calls)
	}
}

// The system's reply buffer has the 64-bit ICMP_ECHO_REPLY layout the
// decoder assumes: a synchronous IcmpSendEcho2 (no event) to loopback
// comes back with DataSize at offset 12 equal to the payload sent, and the
// Data pointer at offset 16 pointing at those bytes inside the buffer.
func TestICMPReplyLayoutLive(t *testing.T) {
	ip := newICMPProber(Config{})
	defer ip.close()
	h, err := ip.handle(false)
	if err != nil {
		t.Fatalf("handle: %v", err)
	}
	payload := []byte("pingerplot-layout-check")
	opt := make([]byte, ip.layout.optionSize)
	ip.layout.putOptionInfo(opt, 64, false)
	buf := make([]byte, ip.layout.replyBufferSize(len(payload), false))
	n, _, callErr := ip.api.send.Call(uintptr(h), 0, 0, 0, uintptr(ipAddrArg(loopback4)),
		uintptr(unsafe.Pointer(&payload[0])), uintptr(len(payload)), uintptr(unsafe.Pointer(&opt[0])),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 2000)
	if n != 1 {
		t.Fatalf("IcmpSendEcho2 (synchronous) = %d replies (%v); want 1", n, callErr)
	}
	er, err := ip.layout.decodeEchoReply4(buf)
	if err != nil || er.status != ipSuccess || er.from != loopback4 {
		t.Fatalf("decoded reply %+v, %v; want IP_SUCCESS from 127.0.0.1", er, err)
	}
	size := binary.LittleEndian.Uint16(buf[12:14])
	ptr := uintptr(binary.LittleEndian.Uint64(buf[ip.layout.dataOff:]))
	base := uintptr(unsafe.Pointer(&buf[0]))
	if int(size) != len(payload) || ptr < base+uintptr(ip.layout.replySize) || ptr+uintptr(size) > base+uintptr(len(buf)) {
		t.Fatalf("DataSize %d, Data %#x (buffer %#x..%#x); want %d bytes inside the buffer after the reply", size, ptr, base, base+uintptr(len(buf)), len(payload))
	}
	off := int(ptr - base)
	if got := buf[off : off+int(size)]; !bytes.Equal(got, payload) {
		t.Errorf("echoed data %q; want %q", got, payload)
	}
}
