package hopstat

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

const ms = time.Millisecond

// op is one probe fed to an Acc: a reply with its RTT, or a loss (-1).
type op = time.Duration

const loss op = -1

func TestAcc(t *testing.T) {
	tests := []struct {
		name     string
		ops      []op
		want     Stats
		wantLoss float64
	}{
		{name: "empty", want: Stats{}},
		{name: "all lost", ops: []op{loss, loss, loss}, want: Stats{Sent: 3}, wantLoss: 100},
		{name: "one reply", ops: []op{5 * ms},
			want: Stats{Sent: 1, Recv: 1, Last: 5 * ms, Best: 5 * ms, Worst: 5 * ms, Avg: 5 * ms}},
		{name: "one reply after losses", ops: []op{loss, loss, loss, 7 * ms},
			want: Stats{Sent: 4, Recv: 1, Last: 7 * ms, Best: 7 * ms, Worst: 7 * ms, Avg: 7 * ms}, wantLoss: 75},
		// mean 20; deviations -10, 0, 10: sample variance 200/2 = 100, stdev 10.
		// Differences 10, 10: jitter 10, max 10.
		{name: "10 20 30", ops: []op{10 * ms, 20 * ms, 30 * ms},
			want: Stats{Sent: 3, Recv: 3, Last: 30 * ms, Best: 10 * ms, Worst: 30 * ms, Avg: 20 * ms, StdDev: 10 * ms, Jitter: 10 * ms, JitterMax: 10 * ms}},
		// Received 10 14 11 15 (a loss between the first two): mean 12.5;
		// squared deviations 6.25+2.25+2.25+6.25 = 17 ms², /3 → stdev
		// sqrt(17/3) ms = 2.380476 ms. Differences 4 3 4 (the loss is
		// skipped): jitter 11/3 ms, max 4 ms. Loss 1 in 5.
		{name: "with a loss", ops: []op{10 * ms, loss, 14 * ms, 11 * ms, 15 * ms},
			want: Stats{Sent: 5, Recv: 4, Last: 15 * ms, Best: 10 * ms, Worst: 15 * ms, Avg: 12500 * time.Microsecond,
				StdDev: 2380476, Jitter: 3666667, JitterMax: 4 * ms}, wantLoss: 20},
		{name: "constant", ops: []op{3 * ms, 3 * ms, 3 * ms, 3 * ms},
			want: Stats{Sent: 4, Recv: 4, Last: 3 * ms, Best: 3 * ms, Worst: 3 * ms, Avg: 3 * ms}},
		// Falling RTTs: best is the last, worst the first. Mean 37;
		// deviations 63, -27, -36: (3969+729+1296)/2 = 2997 ms², stdev
		// sqrt(2997) ms = 54.744863 ms. Differences 90, 9: jitter 49.5 ms.
		{name: "falling", ops: []op{100 * ms, 10 * ms, 1 * ms},
			want: Stats{Sent: 3, Recv: 3, Last: 1 * ms, Best: 1 * ms, Worst: 100 * ms, Avg: 37 * ms,
				StdDev: 54744863, Jitter: 49500 * time.Microsecond, JitterMax: 90 * ms}},
		{name: "zero rtt", ops: []op{0, 0},
			want: Stats{Sent: 2, Recv: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a Acc
			for _, o := range tt.ops {
				if o == loss {
					a.AddLoss()
				} else {
					a.Add(o)
				}
			}
			got := a.Stats()
			if got != tt.want {
				t.Errorf("Stats() = %+v; want %+v", got, tt.want)
			}
			if l := got.LossPct(); l != tt.wantLoss {
				t.Errorf("LossPct() = %v; want %v", l, tt.wantLoss)
			}
		})
	}
}

// TestAccStableForLargeRTTs checks Welford's method where naive sums of
// squares would lose the variance: large RTTs, tiny spread.
func TestAccStableForLargeRTTs(t *testing.T) {
	var a Acc
	base := 100 * time.Hour
	for i := range 1000 {
		a.Add(base + time.Duration(i%2)*2) // alternating base, base+2ns
	}
	s := a.Stats()
	// Population stdev is 1 ns; the sample one is a hair above.
	if s.StdDev != 1 || s.Avg != base+1 || s.Jitter != 2 {
		t.Errorf("Stats() = %+v; want StdDev 1ns, Avg base+1ns, Jitter 2ns", s)
	}
}

var (
	r1   = netip.MustParseAddr("10.0.0.1")
	r2   = netip.MustParseAddr("10.0.0.2")
	r3   = netip.MustParseAddr("10.0.0.3")
	ecmA = netip.MustParseAddr("10.1.0.1")
	ecmB = netip.MustParseAddr("10.1.0.2")
	dst  = netip.MustParseAddr("192.0.2.1")
)

func hit(ttl int, from netip.Addr, rtt time.Duration) Sample {
	return Sample{TTL: ttl, From: from, RTT: rtt}
}
func lost(ttl int) Sample { return Sample{TTL: ttl, Lost: true} }
func reached(ttl int, rtt time.Duration) Sample {
	return Sample{TTL: ttl, From: dst, RTT: rtt, Reached: true}
}

// view is the part of a Hop the path tests compare, written compactly:
// responders as "addr:recv" in order.
type view struct {
	TTL, Sent, Recv int
	Reached         bool
	Resp            string
}

func viewOf(hops []Hop) []view {
	var out []view
	for _, h := range hops {
		var rs []string
		for _, r := range h.Responders {
			if r.Stats.Sent != r.Stats.Recv {
				rs = append(rs, fmt.Sprintf("%v:%d/%d(responder loss!)", r.Addr, r.Stats.Recv, r.Stats.Sent))
				continue
			}
			rs = append(rs, fmt.Sprintf("%v:%d", r.Addr, r.Stats.Recv))
		}
		out = append(out, view{h.TTL, h.Stats.Sent, h.Stats.Recv, h.Reached, strings.Join(rs, ",")})
	}
	return out
}

func TestPath(t *testing.T) {
	tests := []struct {
		name     string
		rounds   [][]Sample
		want     []view
		wantDest int
	}{
		{name: "empty"},
		{name: "empty rounds", rounds: [][]Sample{{}, nil}},
		{name: "all lost", rounds: [][]Sample{
			{lost(1), lost(2), lost(3)},
			{lost(1), lost(2), lost(3)},
		}, want: []view{{1, 2, 0, false, ""}, {2, 2, 0, false, ""}, {3, 2, 0, false, ""}}},
		{name: "one sample", rounds: [][]Sample{{reached(1, ms)}},
			want: []view{{1, 1, 1, true, "192.0.2.1:1"}}, wantDest: 1},
		{name: "unreached lists trailing silent hops", rounds: [][]Sample{
			{hit(1, r1, ms), hit(2, r2, 2*ms), lost(3), lost(4)},
			{hit(1, r1, ms), lost(2), lost(3), lost(4)},
		}, want: []view{
			{1, 2, 2, false, "10.0.0.1:2"},
			{2, 2, 1, false, "10.0.0.2:1"},
			{3, 2, 0, false, ""},
			{4, 2, 0, false, ""},
		}},
		{name: "ttls beyond the destination ignored", rounds: [][]Sample{
			{hit(1, r1, ms), lost(2), reached(3, 3*ms), reached(4, 3*ms), lost(5)},
			// Out of order, and the destination answering at 5 as well.
			{reached(5, 3*ms), reached(3, 3*ms), hit(1, r1, ms), hit(2, r2, 2*ms), reached(4, 3*ms)},
		}, want: []view{
			{1, 2, 2, false, "10.0.0.1:2"},
			{2, 2, 1, false, "10.0.0.2:1"},
			{3, 2, 2, true, "192.0.2.1:2"},
		}, wantDest: 3},
		{name: "path grows", rounds: [][]Sample{
			{hit(1, r1, ms), hit(2, r2, ms), reached(3, ms), lost(4)},
			{hit(1, r1, ms), hit(2, r2, ms), hit(3, r3, ms), reached(4, ms)},
		}, want: []view{
			{1, 2, 2, false, "10.0.0.1:2"},
			{2, 2, 2, false, "10.0.0.2:2"},
			// One reply each: the most recent first.
			{3, 2, 2, false, "10.0.0.3:1,192.0.2.1:1"},
			{4, 1, 1, true, "192.0.2.1:1"},
		}, wantDest: 4},
		{name: "path grows then shrinks", rounds: [][]Sample{
			{hit(1, r1, ms), reached(2, ms)},
			{hit(1, r1, ms), hit(2, r2, ms), reached(3, ms)},
			{hit(1, r1, ms), reached(2, ms), reached(3, ms)},
		}, want: []view{
			{1, 3, 3, false, "10.0.0.1:3"},
			{2, 3, 3, true, "192.0.2.1:2,10.0.0.2:1"},
		}, wantDest: 2},
		{name: "destination stops answering", rounds: [][]Sample{
			{hit(1, r1, ms), reached(2, ms), lost(3)},
			{hit(1, r1, ms), lost(2), lost(3), lost(4)},
		}, want: []view{
			{1, 2, 2, false, "10.0.0.1:2"},
			{2, 2, 1, true, "192.0.2.1:1"},
		}, wantDest: 2},
		{name: "ecmp responders by count", rounds: [][]Sample{
			{hit(1, r1, ms), hit(2, ecmA, ms), reached(3, ms)},
			{hit(1, r1, ms), hit(2, ecmB, ms), reached(3, ms)},
			{hit(1, r1, ms), hit(2, ecmA, ms), reached(3, ms)},
			{hit(1, r1, ms), lost(2), reached(3, ms)},
		}, want: []view{
			{1, 4, 4, false, "10.0.0.1:4"},
			{2, 4, 3, false, "10.1.0.1:2,10.1.0.2:1"},
			{3, 4, 4, true, "192.0.2.1:4"},
		}, wantDest: 3},
		{name: "several probes per ttl in a round", rounds: [][]Sample{
			{hit(1, r1, ms), hit(1, r1, ms), lost(1), hit(2, ecmA, ms), hit(2, ecmB, ms), reached(3, ms), reached(3, ms)},
		}, want: []view{
			{1, 3, 2, false, "10.0.0.1:2"},
			{2, 2, 2, false, "10.1.0.1:1,10.1.0.2:1"},
			{3, 2, 2, true, "192.0.2.1:2"},
		}, wantDest: 3},
		{name: "first ttl above 1", rounds: [][]Sample{
			{hit(3, r3, ms), lost(4), reached(5, ms)},
		}, want: []view{
			{3, 1, 1, false, "10.0.0.3:1"},
			{4, 1, 0, false, ""},
			{5, 1, 1, true, "192.0.2.1:1"},
		}, wantDest: 5},
		{name: "lost sample marked reached is a loss", rounds: [][]Sample{
			{hit(1, r1, ms), {TTL: 2, Lost: true, Reached: true}, lost(3)},
		}, want: []view{
			{1, 1, 1, false, "10.0.0.1:1"},
			{2, 1, 0, false, ""},
			{3, 1, 0, false, ""},
		}},
		{name: "reply without an address", rounds: [][]Sample{
			{{TTL: 1, RTT: ms}, reached(2, ms)},
		}, want: []view{
			{1, 1, 1, false, ""},
			{2, 1, 1, true, "192.0.2.1:1"},
		}, wantDest: 2},
		{name: "out of range ttls ignored", rounds: [][]Sample{
			{hit(0, r1, ms), hit(-1, r1, ms), hit(1, r1, ms), reached(256, ms), hit(300, r2, ms)},
		}, want: []view{
			{1, 1, 1, false, "10.0.0.1:1"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Path
			for _, r := range tt.rounds {
				p.AddRound(r)
			}
			if got := viewOf(p.Hops()); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Hops() = %+v; want %+v", got, tt.want)
			}
			if got := p.DestTTL(); got != tt.wantDest {
				t.Errorf("DestTTL() = %d; want %d", got, tt.wantDest)
			}
			if got := p.Rounds(); got != len(tt.rounds) {
				t.Errorf("Rounds() = %d; want %d", got, len(tt.rounds))
			}
		})
	}
}

func TestPathHopStats(t *testing.T) {
	var p Path
	rtts := []time.Duration{10 * ms, 20 * ms, 30 * ms}
	for i, rtt := range rtts {
		from := ecmA
		if i == 1 {
			from = ecmB
		}
		p.AddRound([]Sample{hit(1, from, rtt), lost(2)})
	}
	p.AddRound([]Sample{lost(1), lost(2)})
	hops := p.Hops()
	if len(hops) != 2 {
		t.Fatalf("got %d hops; want 2", len(hops))
	}
	want := Stats{Sent: 4, Recv: 3, Last: 30 * ms, Best: 10 * ms, Worst: 30 * ms, Avg: 20 * ms, StdDev: 10 * ms, Jitter: 10 * ms, JitterMax: 10 * ms}
	if got := hops[0].Stats; got != want {
		t.Errorf("hop 1 Stats = %+v; want %+v", got, want)
	}
	if got := hops[0].Stats.LossPct(); got != 25 {
		t.Errorf("hop 1 LossPct = %v; want 25", got)
	}
	// Responder A answered 10 and 30 ms: its own series, no loss.
	wantA := Stats{Sent: 2, Recv: 2, Last: 30 * ms, Best: 10 * ms, Worst: 30 * ms, Avg: 20 * ms, StdDev: 14142136, Jitter: 20 * ms, JitterMax: 20 * ms}
	if got := hops[0].Responders[0]; got.Addr != ecmA || got.Stats != wantA {
		t.Errorf("hop 1 first responder = %v %+v; want %v %+v", got.Addr, got.Stats, ecmA, wantA)
	}
	if got := hops[1].Stats.LossPct(); got != 100 || len(hops[1].Responders) != 0 {
		t.Errorf("hop 2 = %+v; want 100%% loss and no responder", hops[1])
	}
}

func TestHopsIsASnapshot(t *testing.T) {
	var p Path
	p.AddRound([]Sample{hit(1, ecmA, ms), hit(1, ecmB, ms), reached(2, ms)})
	before := p.Hops()
	before[0].Responders[0].Addr = netip.Addr{}
	p.AddRound([]Sample{hit(1, ecmB, ms), reached(2, ms)})
	after := p.Hops()
	if got := after[0].Responders[0].Addr; got != ecmB {
		t.Errorf("after a second round, first responder = %v; want %v", got, ecmB)
	}
	if before[0].Stats.Sent != 2 {
		t.Errorf("an earlier snapshot changed: Sent = %d; want 2", before[0].Stats.Sent)
	}
}

func TestAddRoundAllocs(t *testing.T) {
	var p Path
	round := benchRound()
	p.AddRound(round)
	if n := testing.AllocsPerRun(100, func() { p.AddRound(round) }); n != 0 {
		t.Errorf("AddRound allocates %v times per round in steady state; want 0", n)
	}
}

func benchRound() []Sample {
	var round []Sample
	for ttl := 1; ttl <= 15; ttl++ {
		switch {
		case ttl == 15:
			round = append(round, reached(ttl, 30*ms))
		case ttl%5 == 0:
			round = append(round, lost(ttl))
		default:
			round = append(round, hit(ttl, netip.AddrFrom4([4]byte{10, 0, byte(ttl), 1}), time.Duration(ttl)*ms))
		}
	}
	return append(round, reached(16, 30*ms), lost(17))
}

func BenchmarkAccAdd(b *testing.B) {
	var a Acc
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a.Add(time.Duration(i%1000) * time.Microsecond)
	}
}

func BenchmarkPathAddRound(b *testing.B) {
	var p Path
	round := benchRound()
	b.ReportAllocs()
	for b.Loop() {
		p.AddRound(round)
	}
}

// TestRefusedIsAnAnswerCountedApart: a destination's refusals (TCP RST)
// are replies, so they are not loss, but Refused counts them for the hop
// and for the responder; a refusal flag off the destination is ignored.
func TestRefusedIsAnAnswerCountedApart(t *testing.T) {
	refused := func(ttl int, rtt time.Duration) Sample {
		s := reached(ttl, rtt)
		s.Refused = true
		return s
	}
	tests := []struct {
		name        string
		rounds      [][]Sample
		wantSent    int
		wantRecv    int
		wantRefused int
		wantLoss    float64
		wantAvg     time.Duration
	}{
		{name: "closed port", rounds: [][]Sample{{refused(1, 2*ms)}, {refused(1, 4*ms)}, {lost(1)}, {refused(1, 3*ms)}},
			wantSent: 4, wantRecv: 3, wantRefused: 3, wantLoss: 25, wantAvg: 3 * ms},
		{name: "open port", rounds: [][]Sample{{reached(1, 2*ms)}, {reached(1, 4*ms)}},
			wantSent: 2, wantRecv: 2, wantRefused: 0, wantAvg: 3 * ms},
		{name: "port closes", rounds: [][]Sample{{reached(1, 2*ms)}, {refused(1, 4*ms)}, {refused(1, 6*ms)}},
			wantSent: 3, wantRecv: 3, wantRefused: 2, wantAvg: 4 * ms},
		// Refused without Reached is not a refusal: only a destination refuses.
		{name: "refused flag on a router", rounds: [][]Sample{{{TTL: 1, From: r1, RTT: ms, Refused: true}, reached(2, 2*ms)}},
			wantSent: 1, wantRecv: 1, wantRefused: 0, wantAvg: ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Path
			for _, r := range tt.rounds {
				p.AddRound(r)
			}
			h := p.Hops()[0]
			got := h.Stats
			if got.Sent != tt.wantSent || got.Recv != tt.wantRecv || got.Refused != tt.wantRefused || got.Avg != tt.wantAvg {
				t.Errorf("hop 1 = sent %d recv %d refused %d avg %v; want %d %d %d %v",
					got.Sent, got.Recv, got.Refused, got.Avg, tt.wantSent, tt.wantRecv, tt.wantRefused, tt.wantAvg)
			}
			if l := got.LossPct(); l != tt.wantLoss {
				t.Errorf("LossPct() = %v; want %v", l, tt.wantLoss)
			}
			if len(h.Responders) > 0 && h.Responders[0].Stats.Refused != tt.wantRefused {
				t.Errorf("responder refused = %d; want %d", h.Responders[0].Stats.Refused, tt.wantRefused)
			}
			// A restored accumulator keeps counting refusals where it stopped.
			a := RestoreAcc(got)
			a.AddRefused(ms)
			if r := a.Stats().Refused; r != tt.wantRefused+1 {
				t.Errorf("restored then one more refusal: Refused = %d; want %d", r, tt.wantRefused+1)
			}
		})
	}
}
