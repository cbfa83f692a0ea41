package diagnose

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/trace"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenWindows are many windows of varied paths and problems, from a
// seed: the same every run. They exist so that the analysis can be made
// cheaper without changing a single diagnosis (TestAnalyzeGolden).
func goldenWindows() []goldenCase {
	rng := rand.New(rand.NewPCG(2026, 12))
	var cases []goldenCase
	for i := range 400 {
		n := 2 + rng.IntN(6) // hops, the last the destination
		hs := path(n)
		if rng.IntN(3) == 0 {
			hs = addJitter(hs, 1, time.Duration(rng.IntN(3000))*time.Microsecond)
		}
		rounds := 10 + rng.IntN(300)
		if rng.IntN(3) == 0 {
			rounds = 300
		}
		after := hs
		switch rng.IntN(10) {
		case 0: // loss on a link, forward
			after = with(hs, 1+rng.IntN(n), func(h *simHop) { h.linkLoss = 0.02 + rng.Float64()*0.4 })
		case 1: // a router rate-limiting its replies
			after = with(hs, 1+rng.IntN(n), func(h *simHop) { h.replyLoss = rng.Float64() * 0.8 })
		case 2: // a latency step
			after = addDelay(hs, 1+rng.IntN(n), time.Duration(1+rng.IntN(40))*time.Millisecond)
		case 3: // a jitter step
			after = addJitter(hs, 1+rng.IntN(n), time.Duration(1+rng.IntN(20))*time.Millisecond)
		case 4: // a route change: another router at a hop
			after = with(hs, 1+rng.IntN(n), func(h *simHop) { h.addr = addr(10, 9, byte(rng.IntN(4)), 1) })
		case 5: // a silent router
			after = with(hs, 1+rng.IntN(max(n-1, 1)), func(h *simHop) { h.silent = true })
		case 6: // a destination that drops the probe type
			after = with(hs, n, func(h *simHop) { h.drops = true })
		case 7: // the path breaks: everything from a hop on is silent
			at := 1 + rng.IntN(n)
			after = append([]simHop(nil), hs...)
			for t := at; t <= n; t++ {
				after[t-1].silent = true
			}
		}
		from := rng.IntN(rounds)
		ws := simulate(rng.Uint64(), rounds, phase{0, hs}, phase{from, after})
		if rng.IntN(4) == 0 { // whole milliseconds: ties in every rank test
			for r := range ws {
				for p := range ws[r].Probes {
					ws[r].Probes[p].RTT = ws[r].Probes[p].RTT.Truncate(time.Millisecond)
				}
			}
		}
		if rng.IntN(6) == 0 { // the destination refuses (unreachable) in some rounds
			for r := range ws {
				if k := len(ws[r].Probes) - 1; k >= 0 && ws[r].Probes[k].Reached && rng.IntN(3) == 0 {
					ws[r].Probes[k].Reached, ws[r].Probes[k].Unreachable = false, true
				}
			}
		}
		if rng.IntN(4) == 0 {
			loss := map[int]float64{1 + rng.IntN(n): rng.Float64()}
			ws = withDirect(rng.Uint64(), ws, after, rng.IntN(rounds), loss)
		}
		if rng.IntN(8) == 0 { // rounds with nothing sent
			ws[rng.IntN(len(ws))].Probes = nil
		}
		opt := Options{Target: hs[n-1].addr, Mode: []string{"icmp", "udp", "tcp"}[rng.IntN(3)], EverAnswered: rng.IntN(5) != 0}
		if rng.IntN(3) == 0 {
			opt.Names = func(a netip.Addr) string { return "r" + a.String() + ".example" }
			opt.AS = func(a netip.Addr) (uint32, string) { return 64500 + uint32(a.As4()[2]), "AS-TEST" }
		}
		cases = append(cases, goldenCase{name: fmt.Sprintf("case%03d", i), rounds: ws, opt: opt})
	}
	return cases
}

func goldenLine(t *testing.T, c goldenCase, d Diagnosis) string {
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s %s %s", c.name, d.Key(), b)
}

type goldenCase struct {
	name   string
	rounds []Round
	opt    Options
}

// TestAnalyzeGolden checks every golden window's diagnosis, field by
// field, against the one recorded in testdata (go test -update rewrites
// it, which only a change meant to alter diagnoses may do).
// The Watcher's reused buffers must give the same diagnoses too, whatever
// the windows analysed before: they are checked in reverse order through
// one scratch.
func TestAnalyzeGolden(t *testing.T) {
	cases := goldenWindows()
	var got bytes.Buffer
	for _, c := range cases {
		fmt.Fprintln(&got, goldenLine(t, c, Analyze(c.rounds, c.opt)))
	}
	var reused scratch
	for i := len(cases) - 1; i >= 0; i-- {
		c := cases[i]
		if want, got := goldenLine(t, c, Analyze(c.rounds, c.opt)), goldenLine(t, c, analyze(c.rounds, c.opt, &reused)); got != want {
			t.Errorf("with reused buffers:\n got %s\nwant %s", got, want)
		}
	}
	checkGolden(t, "analyze.golden", got.Bytes())
}

// BenchmarkWatcherFullWindow is one round handled by the watcher at
// scale: a full 300-round window of a 4-hop path (3 routers and the
// destination, some jitter and reply loss) analysed, as every target's is
// once its window has filled.
func BenchmarkWatcherFullWindow(b *testing.B) {
	hs := addJitter(path(4), 1, 500*time.Microsecond)
	hs = with(hs, 2, func(h *simHop) { h.replyLoss = 0.01 })
	snap := monitor.Snapshot{Target: monitor.Target{ID: "t", Addr: hs[3].addr,
		Settings: monitor.Settings{Trace: trace.Config{Mode: probe.ICMP}}}}
	var ups []monitor.Update
	for _, r := range simulate(1, DefaultWindow+100, phase{0, hs}) {
		ups = append(ups, monitor.Update{Round: &monitor.RoundDone{Target: "t", Round: toTrace(r), Snapshot: snap}})
	}
	// Every round analysed, as a monitor under the analyses bound does.
	w := NewWatcher(WatcherConfig{MaxAnalyses: math.MaxInt32})
	for _, u := range ups[:DefaultWindow] {
		w.Handle(u)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		w.Handle(ups[DefaultWindow+i%100])
	}
}

// The median by selection is the median by sorting, for any length and
// any ties.
func TestMedianBySelection(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	var s scratch
	for i := range 2000 {
		n := 1 + rng.IntN(60)
		xs := make([]time.Duration, n)
		for j := range xs {
			xs[j] = time.Duration(rng.IntN(1 + i%20)) // many ties when i%20 is small
		}
		sorted := slices.Sorted(slices.Values(xs))
		want := sorted[n/2]
		if n%2 == 0 {
			want = (sorted[n/2-1] + sorted[n/2]) / 2
		}
		if got := s.median(xs); got != want {
			t.Fatalf("median(%v) = %v, want %v", xs, got, want)
		}
		s.reset()
	}
}

// checkGolden compares got, line by line, with testdata/name, which
// -update rewrites first.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run %s -update writes it)", err, t.Name())
	}
	gl, wl := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	bad := 0
	for i := range max(len(gl), len(wl)) {
		var g, w []byte
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if !bytes.Equal(g, w) {
			if bad++; bad <= 5 {
				t.Errorf("diagnosis changed:\n got %s\nwant %s", g, w)
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d diagnoses changed in all", bad)
	}
}
