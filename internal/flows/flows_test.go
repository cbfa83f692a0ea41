package flows

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/hopstat"
)

var (
	r1    = netip.MustParseAddr("10.0.1.1")
	mainR = netip.MustParseAddr("10.0.2.1")
	altR  = netip.MustParseAddr("10.1.0.2")
	dst   = netip.MustParseAddr("10.0.9.9")
	t0    = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
)

// round is one round of a three-hop path through via, the destination
// lost when lost is set.
func round(via netip.Addr, rtt time.Duration, lost bool) []hopstat.Sample {
	return []hopstat.Sample{
		{TTL: 1, From: r1, RTT: rtt},
		{TTL: 2, From: via, RTT: 2 * rtt},
		{TTL: 3, From: dst, RTT: 3 * rtt, Reached: !lost, Lost: lost},
	}
}

func addrs(p Path) []netip.Addr {
	var a []netip.Addr
	for _, h := range p.Hops {
		a = append(a, h.Addr)
	}
	return a
}

func TestPaths(t *testing.T) {
	type flowPlan struct {
		via      netip.Addr
		rounds   int
		lostEach int // every lostEach-th round loses the destination; 0 none
	}
	tests := []struct {
		name       string
		n          int
		plan       []flowPlan // index flow; flows past it get no round
		wantAddrs  [][]netip.Addr
		wantFlows  [][]int
		wantShares []float64
		wantLoss   []float64
		wantLossy  []bool
	}{
		{
			name:       "one path, nothing to compare",
			n:          3,
			plan:       []flowPlan{{mainR, 4, 2}, {mainR, 4, 2}, {mainR, 4, 2}},
			wantAddrs:  [][]netip.Addr{{r1, mainR, dst}},
			wantFlows:  [][]int{{0, 1, 2}},
			wantShares: []float64{1},
			wantLoss:   []float64{50},
			wantLossy:  []bool{false},
		},
		{
			name:       "two paths, the alt one lossy",
			n:          4,
			plan:       []flowPlan{{mainR, 10, 0}, {altR, 10, 2}, {mainR, 10, 0}, {mainR, 10, 0}},
			wantAddrs:  [][]netip.Addr{{r1, mainR, dst}, {r1, altR, dst}},
			wantFlows:  [][]int{{0, 2, 3}, {1}},
			wantShares: []float64{0.75, 0.25},
			wantLoss:   []float64{0, 50},
			wantLossy:  []bool{false, true},
		},
		{
			name:       "flows without a round count in no share",
			n:          4,
			plan:       []flowPlan{{altR, 2, 0}, {mainR, 2, 0}},
			wantAddrs:  [][]netip.Addr{{r1, altR, dst}, {r1, mainR, dst}},
			wantFlows:  [][]int{{0}, {1}},
			wantShares: []float64{0.5, 0.5},
			wantLoss:   []float64{0, 0},
			wantLossy:  []bool{false, false},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.n, 0)
			if err != nil {
				t.Fatal(err)
			}
			for f, fp := range tt.plan {
				for i := 1; i <= fp.rounds; i++ {
					lost := fp.lostEach > 0 && i%fp.lostEach == 0
					if err := s.AddRound(t0.Add(time.Duration(i)*time.Second), f, round(fp.via, time.Millisecond, lost)); err != nil {
						t.Fatal(err)
					}
				}
			}
			ps := s.Paths()
			if len(ps) != len(tt.wantAddrs) {
				t.Fatalf("got %d paths; want %d", len(ps), len(tt.wantAddrs))
			}
			for i, p := range ps {
				if got := addrs(p); !slices.Equal(got, tt.wantAddrs[i]) {
					t.Errorf("path %d addrs = %v; want %v", i, got, tt.wantAddrs[i])
				}
				if !slices.Equal(p.Flows, tt.wantFlows[i]) {
					t.Errorf("path %d flows = %v; want %v", i, p.Flows, tt.wantFlows[i])
				}
				if p.Share != tt.wantShares[i] {
					t.Errorf("path %d share = %v; want %v", i, p.Share, tt.wantShares[i])
				}
				if p.DestLossPct != tt.wantLoss[i] {
					t.Errorf("path %d destination loss = %v; want %v", i, p.DestLossPct, tt.wantLoss[i])
				}
				if p.Lossy != tt.wantLossy[i] {
					t.Errorf("path %d lossy = %v; want %v", i, p.Lossy, tt.wantLossy[i])
				}
				if !p.Reached {
					t.Errorf("path %d reached = false; want true", i)
				}
			}
		})
	}
}

func TestNeverReachedPathLosesAll(t *testing.T) {
	s, _ := New(2, 0)
	_ = s.AddRound(t0, 0, round(mainR, time.Millisecond, false))
	_ = s.AddRound(t0, 1, []hopstat.Sample{{TTL: 1, From: r1, RTT: time.Millisecond}, {TTL: 2, Lost: true}, {TTL: 3, Lost: true}})
	ps := s.Paths()
	if len(ps) != 2 {
		t.Fatalf("got %d paths; want 2", len(ps))
	}
	if ps[1].Reached || ps[1].DestLossPct != 100 || !ps[1].Lossy {
		t.Errorf("unreached path: reached %v, loss %v, lossy %v; want false, 100, true", ps[1].Reached, ps[1].DestLossPct, ps[1].Lossy)
	}
	if got, want := addrs(ps[1]), []netip.Addr{r1, {}, {}}; !slices.Equal(got, want) {
		t.Errorf("unreached path addrs = %v; want %v", got, want)
	}
}

func TestMergeMatchesOnePath(t *testing.T) {
	// Two flows on one path must give the statistics one hopstat.Path
	// folding all their probes gives (percentiles aside).
	rtts := [][]time.Duration{{10, 12, 11, 30}, {20, 21, 25}}
	s, _ := New(2, 0)
	var all hopstat.Path
	var at time.Time
	for f, rs := range rtts {
		for i, r := range rs {
			at = t0.Add(time.Duration(10*f+i) * time.Second)
			smp := []hopstat.Sample{{TTL: 1, From: dst, RTT: r * time.Millisecond, Reached: true}}
			_ = s.AddRound(at, f, smp)
			all.AddRound(smp)
		}
	}
	// Losses too.
	_ = s.AddRound(at, 0, []hopstat.Sample{{TTL: 1, Lost: true}})
	all.AddRound([]hopstat.Sample{{TTL: 1, Lost: true}})
	got := s.Paths()[0].Hops[0].Stats
	want := all.Hops()[0].Stats
	tol := time.Microsecond
	for _, c := range []struct {
		name      string
		got, want time.Duration
	}{
		{"avg", got.Avg, want.Avg}, {"stddev", got.StdDev, want.StdDev},
		{"best", got.Best, want.Best}, {"worst", got.Worst, want.Worst},
	} {
		if d := c.got - c.want; d < -tol || d > tol {
			t.Errorf("%s = %v; want %v", c.name, c.got, c.want)
		}
	}
	if got.Sent != want.Sent || got.Recv != want.Recv {
		t.Errorf("sent/recv = %d/%d; want %d/%d", got.Sent, got.Recv, want.Sent, want.Recv)
	}
	if got.Last != 25*time.Millisecond {
		t.Errorf("last = %v; want 25ms (the most recent flow's)", got.Last)
	}
}

func TestNewAndAddRoundBounds(t *testing.T) {
	for _, n := range []int{0, -1, MaxFlows + 1} {
		if _, err := New(n, 0); err == nil {
			t.Errorf("New(%d) = nil error; want one", n)
		}
	}
	s, _ := New(2, 0)
	for _, f := range []int{-1, 2} {
		if err := s.AddRound(t0, f, nil); err == nil {
			t.Errorf("AddRound(flow %d) = nil error; want one", f)
		}
	}
}
