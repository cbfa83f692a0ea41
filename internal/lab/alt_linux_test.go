//go:build linux

package lab

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// traceICMP returns who answered TTL-limited echo requests to dst for TTLs
// 1 to maxTTL, one request each: the path as Lab.Ping sees it. A TTL nobody
// answered gives the zero Addr.
func traceICMP(t *testing.T, l *Lab, dst netip.Addr, maxTTL int) []netip.Addr {
	t.Helper()
	var path []netip.Addr
	for ttl := 1; ttl <= maxTTL; ttl++ {
		r, err := l.Ping(context.Background(), l.Client, dst, PingOptions{Count: 1, TTL: ttl, Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		var from netip.Addr
		if len(r.Replies) == 1 {
			from = r.Replies[0].From
		}
		path = append(path, from)
	}
	return path
}

func TestReroute(t *testing.T) {
	// The last alt link has a cable delaying only its reverse direction,
	// so the target's RTT tells which branch the replies took.
	const back = 15 * time.Millisecond
	labs := []struct {
		name string
		opts Options
	}{
		// Two alt routers against one main middle router: the reroute
		// lengthens the path, as real ones may.
		{"longer-alt", Options{AltRouters: 2, AltCableLinks: []int{2}, Targets: 2}},
		// One alt router against three: a shortcut, every link cabled.
		{"shorter-alt-cables", Options{Routers: 5, AltRouters: 1, Cables: true, Targets: 2}},
	}
	for _, lb := range labs {
		t.Run(lb.name, func(t *testing.T) { testReroute(t, New(t, lb.opts), back) })
	}
}

func testReroute(t *testing.T, l *Lab, back time.Duration) {
	last := l.AltLinks() - 1
	if err := l.SetAltLink(last, LinkParams{}, LinkParams{Delay: back}); err != nil {
		t.Fatal(err)
	}
	want4 := append(append([]netip.Addr{l.Hops4[0]}, l.AltHops4...), l.AltLast4)
	if got := l.AltPath4(); !slices.Equal(got, want4) || len(got) != len(l.AltRouters)+2 {
		t.Fatalf("AltPath4() = %v; want %v", got, want4)
	}
	steps := []struct {
		name  string
		alt   bool
		built bool // check the lab as built, without a Reroute
	}{
		{"built", false, true},
		{"alt", true, false},
		{"main", false, false},
		{"alt-again", true, false},
		{"alt-twice", true, false},
		{"main-again", false, false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if !st.built {
				start := time.Now()
				if err := l.Reroute(st.alt); err != nil {
					t.Fatal(err)
				}
				t.Logf("Reroute(%v) took %v", st.alt, time.Since(start).Round(time.Microsecond))
			}
			for _, dst := range []netip.Addr{l.TargetAddr4, l.TargetAddr6, l.Targets4[1], l.Targets6[1]} {
				t.Run(family(dst)+"/"+dst.String(), func(t *testing.T) {
					path := l.Hops4
					if st.alt {
						path = l.AltPath4()
					}
					if dst.Is6() {
						path = l.Hops6
						if st.alt {
							path = l.AltPath6()
						}
					}
					want := append(slices.Clone(path), dst)
					if got := traceICMP(t, l, dst, len(want)); !slices.Equal(got, want) {
						t.Errorf("trace to %s = %v; want %v", dst, got, want)
					}
					r, err := l.Ping(context.Background(), l.Client, dst, PingOptions{Count: 3})
					if err != nil {
						t.Fatal(err)
					}
					// Only the alt branch's way back is delayed.
					med := r.Median()
					if len(r.Replies) != 3 || st.alt != (med >= back) {
						want := fmt.Sprintf("below %v (replies over the main branch)", back)
						if st.alt {
							want = fmt.Sprintf("at least %v (replies over the alt branch)", back)
						}
						t.Errorf("ping %s: %d of 3 replies, median %v; want 3, median %s", dst, len(r.Replies), med, want)
					}
				})
			}
		})
	}
}

func TestECMP(t *testing.T) {
	// One alt router: both branches are equally long, as ECMP paths are.
	l := New(t, Options{AltRouters: 1})
	ctx := context.Background()
	// udpSeen sends a TTL-limited UDP probe from each of 64 source ports
	// and returns who answered, and how often.
	udpSeen := func(t *testing.T, dst netip.Addr, ttl int) map[netip.Addr]int {
		t.Helper()
		seen := map[netip.Addr]int{}
		for i := range 64 {
			e, ok, err := udpProbe(l.Client, netip.AddrPortFrom(dst, 33434), 40000+i, ttl, time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if !ok || !e.timeExceeded() {
				t.Fatalf("UDP probe from port %d, TTL %d: got %v, %v; want time exceeded", 40000+i, ttl, e, ok)
			}
			seen[e.From]++
		}
		return seen
	}
	// icmpSeen pings at ttl from sockets ping sockets, count requests
	// each, and returns who answered each socket's requests.
	icmpSeen := func(t *testing.T, dst netip.Addr, ttl, sockets, count int) []map[netip.Addr]int {
		t.Helper()
		var seen []map[netip.Addr]int
		for range sockets {
			r, err := l.Ping(ctx, l.Client, dst, PingOptions{Count: count, Interval: time.Millisecond, TTL: ttl, Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			m := map[netip.Addr]int{}
			for _, rep := range r.Replies {
				m[rep.From]++
			}
			seen = append(seen, m)
		}
		return seen
	}
	type fam struct {
		dst               netip.Addr
		main2, alt2       netip.Addr // who answers TTL 2 on each branch
		mainLast, altLast netip.Addr // the last router, as reached over each branch
	}
	fams := []fam{
		{dst: l.TargetAddr4, main2: l.Hops4[1], alt2: l.AltHops4[0], mainLast: l.Hops4[2], altLast: l.AltLast4},
		{dst: l.TargetAddr6, main2: l.Hops6[1], alt2: l.AltHops6[0], mainLast: l.Hops6[2], altLast: l.AltLast6},
	}
	keys := func(m map[netip.Addr]int) []netip.Addr {
		var out []netip.Addr
		for a := range m {
			out = append(out, a)
		}
		slices.SortFunc(out, netip.Addr.Compare)
		return out
	}
	sorted := func(as ...netip.Addr) []netip.Addr {
		slices.SortFunc(as, netip.Addr.Compare)
		return as
	}
	steps := []struct {
		name string
		do   func() error
		ttl2 func(f fam) []netip.Addr // who answers UDP at TTL 2
		ttl3 func(f fam) []netip.Addr // who answers UDP at TTL 3
	}{
		{"ecmp-on", func() error { return l.SetECMP(true) },
			func(f fam) []netip.Addr { return sorted(f.main2, f.alt2) },
			func(f fam) []netip.Addr { return sorted(f.mainLast, f.altLast) }},
		{"ecmp-off", func() error { return l.SetECMP(false) },
			func(f fam) []netip.Addr { return []netip.Addr{f.main2} },
			func(f fam) []netip.Addr { return []netip.Addr{f.mainLast} }},
		// SetECMP(false) returns to the branch of the last Reroute.
		{"alt-then-ecmp-off", func() error {
			if err := l.Reroute(true); err != nil {
				return err
			}
			if err := l.SetECMP(true); err != nil {
				return err
			}
			return l.SetECMP(false)
		},
			func(f fam) []netip.Addr { return []netip.Addr{f.alt2} },
			func(f fam) []netip.Addr { return []netip.Addr{f.altLast} }},
		// Reroute turns ECMP off.
		{"ecmp-then-reroute-main", func() error {
			if err := l.SetECMP(true); err != nil {
				return err
			}
			return l.Reroute(false)
		},
			func(f fam) []netip.Addr { return []netip.Addr{f.main2} },
			func(f fam) []netip.Addr { return []netip.Addr{f.mainLast} }},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if err := st.do(); err != nil {
				t.Fatal(err)
			}
			for _, f := range fams {
				t.Run(family(f.dst), func(t *testing.T) {
					s2 := udpSeen(t, f.dst, 2)
					if got, want := keys(s2), st.ttl2(f); !slices.Equal(got, want) {
						t.Errorf("UDP TTL 2 from 64 source ports answered by %v; want %v", s2, want)
					}
					s3 := udpSeen(t, f.dst, 3)
					if got, want := keys(s3), st.ttl3(f); !slices.Equal(got, want) {
						t.Errorf("UDP TTL 3 from 64 source ports answered by %v; want %v", s3, want)
					}
					t.Logf("UDP TTL 2: %v; TTL 3: %v", s2, s3)
					// ICMP echo: this kernel (6.18) hashes the echo
					// identifier like a port, so one ping socket's requests
					// keep to one branch while other sockets may take the
					// other. (Older kernels hash ICMP on addresses only.)
					all := map[netip.Addr]int{}
					for i, si := range icmpSeen(t, f.dst, 2, 8, 8) {
						if ks := keys(si); len(ks) != 1 || !slices.Contains(st.ttl2(f), ks[0]) || si[ks[0]] != 8 {
							t.Errorf("ICMP TTL 2, ping socket %d: 8 requests answered by %v; want all 8 by one of %v", i, si, st.ttl2(f))
						}
						for a, n := range si {
							all[a] += n
						}
					}
					t.Logf("ICMP TTL 2 from 8 ping sockets: %v", all)
				})
			}
		})
	}
}

func TestAltErrors(t *testing.T) {
	plain := New(t, Options{})
	alt := New(t, Options{AltRouters: 1, AltCableLinks: []int{1}})
	tests := []struct {
		name string
		err  error
		want string // in the error; "" for no error
	}{
		{"reroute without alt", plain.Reroute(true), "no alt branch"},
		{"ecmp without alt", plain.SetECMP(true), "no alt branch"},
		{"alt link without alt", plain.SetAltLink(0, LinkParams{}, LinkParams{}), "no alt branch"},
		{"alt link without cable", alt.SetAltLink(0, LinkParams{}, LinkParams{}), "has no cable"},
		{"alt link out of range", alt.SetAltLink(2, LinkParams{}, LinkParams{}), "out of range"},
		{"alt link bad params", alt.SetAltLink(1, LinkParams{Loss: 2}, LinkParams{}), "loss"},
		{"alt link with cable", alt.SetAltLink(1, LinkParams{Delay: time.Millisecond}, LinkParams{}), ""},
		{"reroute back and forth", errorsOf(alt.Reroute(true), alt.Reroute(false)), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			switch {
			case tt.want == "" && tt.err != nil:
				t.Errorf("error = %v; want nil", tt.err)
			case tt.want != "" && (tt.err == nil || !strings.Contains(tt.err.Error(), tt.want)):
				t.Errorf("error = %v; want one containing %q", tt.err, tt.want)
			}
		})
	}
	if _, _, err := alt.AltLinkStats(1); err != nil {
		t.Errorf("AltLinkStats(1) = %v; want nil error", err)
	}
	if got, want := fmt.Sprint(alt.AltLinks(), plain.AltLinks(), plain.AltPath4() == nil), "2 0 true"; got != want {
		t.Errorf("AltLinks() with 1 and 0 alt routers, AltPath4() == nil without = %s; want %s", got, want)
	}
}

func errorsOf(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
