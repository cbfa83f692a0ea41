package diagnose

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"
)

// goldenExtraWindows are the windows goldenWindows draws rarely or never:
// a destination silent from the start, routers that never answer while
// the destination does, routers answering "unreachable", direct pings
// beside loss on a link, problems that end inside the window, windows
// longer than the Watcher's, rounds missing TTLs, and RTTs all tied.
// They were recorded with the analysis as it was before it reused
// buffers, so that every shortcut taken since must give the same answers.
func goldenExtraWindows() []goldenCase {
	rng := rand.New(rand.NewPCG(7, 2027))
	var cases []goldenCase
	for i := range 300 {
		n := 2 + rng.IntN(5)
		hs := path(n)
		if rng.IntN(2) == 0 {
			hs = addJitter(hs, 1+rng.IntN(n), time.Duration(rng.IntN(5000))*time.Microsecond)
		}
		rounds := []int{20, 21, 50, 99, 100, 299, 300, 301, 450}[rng.IntN(9)]
		if rng.IntN(4) == 0 {
			rounds = 5 + rng.IntN(400)
		}
		kind := i % 10
		phases := []phase{{0, hs}}
		opt := Options{Target: hs[n-1].addr, Mode: []string{"icmp", "udp", "tcp", "UDP"}[rng.IntN(4)], EverAnswered: rng.IntN(3) != 0}
		from := rng.IntN(rounds)
		switch kind {
		case 0: // the destination drops the probe type from the start
			phases[0].hops = with(hs, n, func(h *simHop) { h.drops = true })
		case 1: // nothing answers at all
			all := append([]simHop(nil), hs...)
			for t := range all {
				all[t].silent = true
			}
			phases[0].hops = all
		case 2: // routers that never answer while the destination does
			s := hs
			for t := 1; t < n; t++ {
				if rng.IntN(2) == 0 {
					s = with(s, t, func(h *simHop) { h.silent = true })
				}
			}
			phases[0].hops = s
			if rng.IntN(2) == 0 {
				phases = append(phases, phase{from, with(s, 1+rng.IntN(n), func(h *simHop) { h.linkLoss = 0.05 + rng.Float64()*0.3 })})
			}
		case 3, 4: // loss on a link, with direct pings (some dropped by routers)
			lossy := with(hs, 1+rng.IntN(n), func(h *simHop) { h.linkLoss = 0.03 + rng.Float64()*0.3 })
			if rng.IntN(2) == 0 {
				lossy = with(lossy, 1+rng.IntN(n), func(h *simHop) { h.replyLoss = rng.Float64() * 0.7 })
			}
			if rng.IntN(2) == 0 {
				phases = append(phases, phase{from, lossy})
			} else {
				phases[0].hops = lossy
			}
		case 5: // a latency step that ends
			end := from + rng.IntN(rounds-from+1)
			phases = append(phases, phase{from, addDelay(hs, 1+rng.IntN(n), time.Duration(2+rng.IntN(30))*time.Millisecond)}, phase{end, hs})
		case 6: // a jitter step that ends, or loss that ends
			end := from + rng.IntN(rounds-from+1)
			if rng.IntN(2) == 0 {
				phases = append(phases, phase{from, addJitter(hs, 1+rng.IntN(n), time.Duration(2+rng.IntN(20))*time.Millisecond)}, phase{end, hs})
			} else {
				phases = append(phases, phase{from, with(hs, 1+rng.IntN(n), func(h *simHop) { h.linkLoss = 0.1 + rng.Float64()*0.5 })}, phase{end, hs})
			}
		case 7: // route changes back and forth, and ECMP alternation
			alt := with(hs, 1+rng.IntN(n), func(h *simHop) { h.addr = addr(10, 8, byte(rng.IntN(3)), 1) })
			phases = append(phases, phase{from, alt})
			if rng.IntN(2) == 0 {
				phases = append(phases, phase{from + rng.IntN(rounds-from+1), hs})
			}
		}
		ws := simulate(rng.Uint64(), rounds, phases...)
		switch kind {
		case 3, 4:
			loss := map[int]float64{}
			for t := 1; t < n; t++ {
				if rng.IntN(3) == 0 {
					loss[t] = rng.Float64() * 0.5
				}
			}
			ws = withDirect(rng.Uint64(), ws, phases[len(phases)-1].hops, rng.IntN(rounds/2+1), loss)
		case 7:
			if rng.IntN(2) == 0 { // ECMP: two routers alternate at one hop
				t := rng.IntN(n - 1)
				for r := range ws {
					if t < len(ws[r].Probes) && r%2 == 0 && !ws[r].Probes[t].Lost {
						ws[r].Probes[t].From = addr(10, 7, byte(t), 1)
					}
				}
			}
		case 8: // a router answers "unreachable" instead of the destination
			at := 1 + rng.IntN(n)
			ua := addr(10, 6, byte(at), 1)
			for r := range ws {
				if r < from || rng.IntN(5) == 0 {
					continue
				}
				ps := ws[r].Probes[:0]
				for _, p := range ws[r].Probes {
					if p.TTL < at {
						ps = append(ps, p)
					}
				}
				ws[r].Probes = append(ps, Probe{TTL: at, From: ua, RTT: time.Duration(at) * time.Millisecond, Unreachable: true})
				for t := at + 1; t <= n; t++ {
					ws[r].Probes = append(ws[r].Probes, Probe{TTL: t, Lost: true})
				}
			}
		case 9: // TTLs missing from rounds (probes never sent), rounds empty
			for r := range ws {
				if len(ws[r].Probes) > 1 && rng.IntN(4) == 0 {
					k := rng.IntN(len(ws[r].Probes))
					ws[r].Probes = append(ws[r].Probes[:k:k], ws[r].Probes[k+1:]...)
				}
				if rng.IntN(20) == 0 {
					ws[r].Probes = nil
				}
			}
		}
		switch rng.IntN(4) {
		case 0: // whole milliseconds: ties everywhere
			for r := range ws {
				for p := range ws[r].Probes {
					ws[r].Probes[p].RTT = ws[r].Probes[p].RTT.Truncate(time.Millisecond)
				}
			}
		case 1: // a few stalled replies
			for r := range ws {
				for p := range ws[r].Probes {
					if rng.IntN(50) == 0 {
						ws[r].Probes[p].RTT += time.Duration(rng.IntN(500)) * time.Millisecond
					}
				}
			}
		}
		if rng.IntN(3) == 0 {
			opt.Names = func(a netip.Addr) string { return "r" + a.String() + ".example" }
			opt.AS = func(a netip.Addr) (uint32, string) { return 64500 + uint32(a.As4()[2]), "AS-TEST" }
		}
		if rng.IntN(5) == 0 {
			opt.MinRounds = 1 + rng.IntN(60)
		}
		if rng.IntN(5) == 0 {
			at := t0.Add(time.Hour)
			opt.Now = func() time.Time { return at }
		}
		cases = append(cases, goldenCase{name: fmt.Sprintf("extra%03d", i), rounds: ws, opt: opt})
	}
	return cases
}

// TestAnalyzeGoldenExtra is TestAnalyzeGolden for goldenExtraWindows.
func TestAnalyzeGoldenExtra(t *testing.T) {
	cases := goldenExtraWindows()
	var got bytes.Buffer
	var reused scratch
	for _, c := range cases {
		line := goldenLine(t, c, Analyze(c.rounds, c.opt))
		if again := goldenLine(t, c, analyze(c.rounds, c.opt, &reused)); again != line {
			t.Errorf("with reused buffers:\n got %s\nwant %s", again, line)
		}
		fmt.Fprintln(&got, line)
	}
	checkGolden(t, "analyze_extra.golden", got.Bytes())
}
