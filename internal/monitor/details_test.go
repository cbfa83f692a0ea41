package monitor

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/packet"
	"github.com/pingerplot/pingerplot/internal/probe/result"
)

func TestDetailsLog(t *testing.T) {
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	labels := func(l ...uint32) result.Details {
		var d result.Details
		for _, v := range l {
			d.MPLS = append(d.MPLS, packet.MPLSLabel{Label: v, S: true, TTL: 1})
		}
		return d
	}
	type set struct {
		ttl  int
		from netip.Addr
		d    result.Details
	}
	for _, tc := range []struct {
		name string
		sets []set
		ttl  int
		want string // responders and their labels, as describe writes them
	}{
		{"nothing", nil, 1, ""},
		{"one", []set{{1, a, labels(16)}}, 1, "10.0.0.1[16]"},
		{"other TTL", []set{{1, a, labels(16)}}, 2, ""},
		{"latest wins", []set{{3, a, labels(16)}, {3, a, labels(17, 18)}}, 3, "10.0.0.1[17 18]"},
		{"empty keeps the last", []set{{3, a, labels(16)}, {3, a, result.Details{}}}, 3, "10.0.0.1[16]"},
		{"quoted only counts", []set{{3, a, result.Details{Quoted: true, TOS: 0xb8}}}, 3, "10.0.0.1[]"},
		{"two responders in first-seen order", []set{{2, b, labels(2)}, {2, a, labels(1)}, {2, b, labels(3)}}, 2, "10.0.0.2[3] 10.0.0.1[1]"},
		{"no address", []set{{1, netip.Addr{}, labels(16)}}, 1, ""},
		{"TTL 0", []set{{0, a, labels(16)}}, 0, ""},
		{"TTL past the last", []set{{256, a, labels(16)}}, 256, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l DetailsLog
			for _, s := range tc.sets {
				l.Set(s.ttl, s.from, s.d)
			}
			if got := describe(l.At(tc.ttl)); got != tc.want {
				t.Errorf("At(%d) = %q; want %q", tc.ttl, got, tc.want)
			}
		})
	}
}

// TestDetailsLogEvictsStalest: a TTL answering from ever new addresses
// keeps MaxDetailResponders of them, the most recently updated.
func TestDetailsLogEvictsStalest(t *testing.T) {
	var l DetailsLog
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 1, byte(i)}) }
	for i := range MaxDetailResponders {
		l.Set(1, addr(i), result.Details{MPLS: []packet.MPLSLabel{{Label: uint32(i)}}})
	}
	l.Set(1, addr(0), result.Details{MPLS: []packet.MPLSLabel{{Label: 100}}}) // 0 is fresh again; 1 is now the stalest
	l.Set(1, addr(99), result.Details{MPLS: []packet.MPLSLabel{{Label: 99}}})
	got := l.At(1)
	if len(got) != MaxDetailResponders {
		t.Fatalf("kept %d responders; want %d", len(got), MaxDetailResponders)
	}
	seen := map[netip.Addr]bool{}
	for _, d := range got {
		seen[d.Addr] = true
	}
	for _, tc := range []struct {
		addr netip.Addr
		want bool
	}{{addr(0), true}, {addr(1), false}, {addr(2), true}, {addr(99), true}} {
		if seen[tc.addr] != tc.want {
			t.Errorf("%s kept = %v; want %v", tc.addr, seen[tc.addr], tc.want)
		}
	}
}

// TestSnapshotDetails: a snapshot carries the details of its rounds per
// TTL and responder, and a restored state keeps them.
func TestSnapshotDetails(t *testing.T) {
	tg := testTarget(t, Settings{})
	s := newState(tg, nil)
	r := mkRound(t, t0, "1.1:1 2.1:2 D:3")
	r.Hops[1].Reply.Details = result.Details{MPLS: []packet.MPLSLabel{{Label: 24001, S: true, TTL: 1}}}
	snap, _ := s.apply(r.End, r)
	if got := describe(snap.Hops[1].Details); got != "10.0.2.1[24001]" {
		t.Errorf("hop 2 details = %q; want 10.0.2.1[24001]", got)
	}
	for _, i := range []int{0, 2} {
		if len(snap.Hops[i].Details) != 0 {
			t.Errorf("hop %d details = %q; want none", i+1, describe(snap.Hops[i].Details))
		}
	}
	// A later round without extensions keeps what the first said.
	r2 := mkRound(t, t0.Add(time.Second), "1.1:1 2.1:2 D:3")
	snap, _ = s.apply(r2.End, r2)
	if got := describe(snap.Hops[1].Details); got != "10.0.2.1[24001]" {
		t.Errorf("hop 2 details after a plain round = %q; want 10.0.2.1[24001]", got)
	}
	full := s.snapshot(true)
	back := restoreState(tg, nil, full.Hops, nil, full.Rounds, full.Started)
	if got := describe(back.snapshot(false).Hops[1].Details); got != "10.0.2.1[24001]" {
		t.Errorf("restored hop 2 details = %q; want 10.0.2.1[24001]", got)
	}
}

func describe(ds []ResponderDetails) string {
	out := ""
	for i, d := range ds {
		if i > 0 {
			out += " "
		}
		ls := ""
		for j, l := range d.MPLS {
			if j > 0 {
				ls += " "
			}
			ls += fmt.Sprint(l.Label)
		}
		out += fmt.Sprintf("%s[%s]", d.Addr, ls)
	}
	return out
}
