package pmtu

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/probe/result"
)

// fhop is one router of a scripted path and the link after it.
type fhop struct {
	addr   netip.Addr
	mtu    int  // MTU of the link towards the target; 0 means 1500
	mute   bool // drops too-big packets without a word (a black hole)
	noMTU  bool // says "fragmentation needed" with a next-hop MTU of 0
	silent bool // does not answer time exceeded either
}

// path is a scripted network: the local interface, routers, destination.
type path struct {
	v6      bool
	local   int // local interface MTU; 0 means 1500
	hops    []fhop
	mute    bool // the destination answers nothing
	lose    int  // the first lose probes vanish
	sent    []probe.Probe
	maxSeen int
}

func (n *path) reply(pr probe.Probe) probe.Reply {
	n.sent = append(n.sent, pr)
	if !pr.DontFragment {
		return probe.Reply{Kind: probe.Failed, Err: errors.New("probe without DontFragment")}
	}
	if n.lose > 0 {
		n.lose--
		return probe.Reply{Kind: probe.Timeout}
	}
	hdr := 28
	if n.v6 {
		hdr = 48
	}
	size := pr.Size + hdr
	n.maxSeen = max(n.maxSeen, size)
	if l := cmp(n.local); size > l {
		return probe.Reply{Kind: probe.Failed, MTU: uint32(l), Err: fmt.Errorf("send: %w", syscall.EMSGSIZE)}
	}
	for k, h := range n.hops {
		if pr.TTL == k+1 {
			if h.silent {
				return probe.Reply{Kind: probe.Timeout}
			}
			return probe.Reply{Kind: probe.TimeExceeded, From: h.addr}
		}
		if m := cmp(h.mtu); size > m {
			switch {
			case h.mute:
				return probe.Reply{Kind: probe.Timeout}
			case n.v6:
				return probe.Reply{Kind: probe.Unreachable, From: h.addr, ICMPType: 2, MTU: uint32(m)}
			case h.noMTU:
				return probe.Reply{Kind: probe.Unreachable, From: h.addr, ICMPType: 3, ICMPCode: 4}
			default:
				return probe.Reply{Kind: probe.Unreachable, From: h.addr, ICMPType: 3, ICMPCode: 4, MTU: uint32(m)}
			}
		}
	}
	if n.mute {
		return probe.Reply{Kind: probe.Timeout}
	}
	return probe.Reply{Kind: probe.Reached, From: pr.Dst}
}

func cmp(m int) int {
	if m == 0 {
		return 1500
	}
	return m
}

func (n *path) ProbeAll(ctx context.Context, ps []probe.Probe, gap time.Duration, onReply func(int, probe.Reply) bool) error {
	for i, pr := range ps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !onReply(i, n.reply(pr)) {
			return nil
		}
	}
	return nil
}

func a(s string) netip.Addr { return netip.MustParseAddr(s) }

func routers4(n int) []fhop {
	hs := make([]fhop, n)
	for i := range hs {
		hs[i].addr = netip.AddrFrom4([4]byte{10, 0, byte(i), 2})
	}
	return hs
}

func with(hs []fhop, i int, f func(*fhop)) []fhop {
	f(&hs[i])
	return hs
}

var at = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

func TestDiscover(t *testing.T) {
	dst4, dst6 := a("10.9.9.9"), a("fd00:9::9")
	hops6 := []fhop{{addr: a("fd00::1:2")}, {addr: a("fd00::2:2"), mtu: 1280}, {addr: a("fd00::3:2")}}
	tests := []struct {
		name     string
		net      *path
		dst      netip.Addr
		mode     probe.Mode
		want     result.PathMTU
		wantErr  error
		anyErr   bool
		maxProbe int // the search sends at most this many probes
	}{
		{name: "clean path", net: &path{hops: routers4(3)}, dst: dst4,
			want: result.PathMTU{MTU: 1500, Max: 1500, Probes: 1}, maxProbe: 1},
		{name: "router 2 reports 1400", net: &path{hops: with(routers4(4), 1, func(h *fhop) { h.mtu = 1400 })}, dst: dst4,
			want: result.PathMTU{MTU: 1400, Max: 1500, HopTTL: 2, HopAddr: a("10.0.1.2"), Reported: true}, maxProbe: 2 + 30},
		{name: "two narrow links, the second narrower", net: &path{hops: with(with(routers4(4), 0, func(h *fhop) { h.mtu = 1450 }), 2, func(h *fhop) { h.mtu = 1400 })}, dst: dst4,
			want: result.PathMTU{MTU: 1400, Max: 1500, HopTTL: 3, HopAddr: a("10.0.2.2"), Reported: true}, maxProbe: 3 + 30},
		{name: "router reports no MTU: bisection", net: &path{hops: with(routers4(4), 1, func(h *fhop) { h.mtu = 1400; h.noMTU = true })}, dst: dst4,
			want: result.PathMTU{MTU: 1400, Max: 1500, HopTTL: 2, HopAddr: a("10.0.1.2"), Reported: true}, maxProbe: 14 + 30},
		{name: "black hole: silence above 1400", net: &path{hops: with(routers4(4), 1, func(h *fhop) { h.mtu = 1400; h.mute = true })}, dst: dst4,
			want: result.PathMTU{MTU: 1400, Max: 1500, HopTTL: 2, HopAddr: a("10.0.1.2")}, maxProbe: 2*14 + 30},
		{name: "local interface is the limit", net: &path{local: 1300, hops: routers4(3)}, dst: dst4,
			want: result.PathMTU{MTU: 1300, Max: 1500, Local: true, Reported: true}, maxProbe: 2},
		{name: "IPv6 packet too big at hop 2", net: &path{v6: true, hops: hops6}, dst: dst6,
			want: result.PathMTU{MTU: 1280, Max: 1500, HopTTL: 2, HopAddr: a("fd00::2:2"), Reported: true}, maxProbe: 2 + 30},
		{name: "UDP probes", net: &path{hops: with(routers4(3), 2, func(h *fhop) { h.mtu = 1492 })}, dst: dst4, mode: probe.UDP,
			want: result.PathMTU{MTU: 1492, Max: 1500, HopTTL: 3, HopAddr: a("10.0.2.2"), Reported: true}, maxProbe: 2 + 30},
		{name: "one lost probe does not lower the result", net: &path{lose: 1, hops: routers4(3)}, dst: dst4,
			want: result.PathMTU{MTU: 1500, Max: 1500, Probes: 2}, maxProbe: 2},
		{name: "mute destination", net: &path{mute: true, hops: routers4(3)}, dst: dst4,
			want: result.PathMTU{Max: 1500, Probes: 4}, wantErr: ErrNoAnswer, maxProbe: 4},
		{name: "TCP cannot carry a size", net: &path{hops: routers4(3)}, dst: dst4, mode: probe.TCP,
			want: result.PathMTU{Max: 1500}, anyErr: true},
		{name: "destination beyond MaxTTL", net: &path{hops: routers4(35)}, dst: dst4,
			want: result.PathMTU{Max: 1500, Probes: 1}, anyErr: true, maxProbe: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mode := tt.mode
			if mode == 0 {
				mode = probe.ICMP
			}
			got, err := Discover(context.Background(), tt.net, Config{Dst: tt.dst, Mode: mode, Port: 33434, TimeNow: func() time.Time { return at }})
			switch {
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("Discover error = %v; want %v", err, tt.wantErr)
			case tt.anyErr && err == nil:
				t.Fatalf("Discover error = nil; want an error")
			case tt.wantErr == nil && !tt.anyErr && err != nil:
				t.Fatalf("Discover error = %v; want nil", err)
			}
			if (err != nil) != (got.Err != "") {
				t.Errorf("result Err = %q with error %v; want both or neither", got.Err, err)
			}
			if got.At != at {
				t.Errorf("At = %v; want %v", got.At, at)
			}
			if got.Probes != len(tt.net.sent) {
				t.Errorf("Probes = %d; want %d sent", got.Probes, len(tt.net.sent))
			}
			if tt.maxProbe > 0 && got.Probes > tt.maxProbe {
				t.Errorf("Probes = %d; want at most %d", got.Probes, tt.maxProbe)
			}
			want := tt.want
			want.At, want.Err = at, got.Err
			if want.Probes == 0 {
				want.Probes = got.Probes
			}
			if got != want {
				t.Errorf("Discover = %+v; want %+v", got, want)
			}
			if tt.net.maxSeen > 1500 {
				t.Errorf("largest probe %d bytes; want at most Max 1500", tt.net.maxSeen)
			}
			for _, pr := range tt.net.sent {
				if pr.Dst != tt.dst || pr.Mode != mode || !pr.DontFragment {
					t.Fatalf("sent %+v; want DF %v probes to %v", pr, mode, tt.dst)
				}
			}
		})
	}
}

// The result must be a size that was confirmed: the probe of exactly the
// path MTU reached the destination.
func TestDiscoverConfirms(t *testing.T) {
	for _, mtu := range []int{1500, 1499, 1400, 1280, 576, 68} {
		for _, kind := range []string{"reports", "no-mtu", "black-hole"} {
			t.Run(fmt.Sprintf("%d-%s", mtu, kind), func(t *testing.T) {
				n := &path{hops: with(routers4(3), 1, func(h *fhop) {
					h.mtu, h.noMTU, h.mute = mtu, kind == "no-mtu", kind == "black-hole"
				})}
				got, err := Discover(context.Background(), n, Config{Dst: a("10.9.9.9"), Mode: probe.ICMP})
				if err != nil {
					t.Fatalf("Discover: %v", err)
				}
				if got.MTU != mtu {
					t.Fatalf("MTU = %d; want %d", got.MTU, mtu)
				}
				confirmed := false
				for _, pr := range n.sent {
					if pr.Size+28 == mtu && pr.TTL == 30 {
						confirmed = true
					}
				}
				if !confirmed {
					t.Errorf("no probe of %d bytes was sent; want the result confirmed", mtu)
				}
			})
		}
	}
}
