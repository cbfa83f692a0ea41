//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/lab"
)

// uiScaleResult is one run of the dashboard over many targets.
type uiScaleResult struct {
	targets          int
	offered, rate    float64 // probes per second
	late, rounds     float64 // rounds in the steady state, and those that started late
	coreShare        float64
	rssStart, rssEnd float64 // MiB
	latency          map[string][]time.Duration
	// lateAt is when the status bar's count of late rounds went up, and
	// by how much, since the steady state began: bursts at one moment
	// are a stall of the whole process (or the machine), spread ones are
	// not.
	lateAt []lateStep
	// scrapedAt is when each /metrics scrape began, for comparison.
	scrapedAt []time.Duration
}

type lateStep struct {
	at time.Duration
	n  uint64
}

func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func (r uiScaleResult) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d targets: %.0f probes/s of %.0f offered, %.0f of %.0f rounds late, %.0f %% of one core, RSS %.0f → %.0f MiB;",
		r.targets, r.rate, r.offered, r.late, r.rounds, 100*r.coreShare, r.rssStart, r.rssEnd)
	keys := make([]string, 0, len(r.latency))
	for k := range r.latency {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		ds := r.latency[k]
		fmt.Fprintf(&b, " %s p50 %v p99 %v worst %v (%d);", k, pct(ds, 0.5).Round(10*time.Microsecond),
			pct(ds, 0.99).Round(10*time.Microsecond), pct(ds, 1).Round(10*time.Microsecond), len(ds))
	}
	if len(r.lateAt) > 0 {
		b.WriteString(" late rounds seen by the status bar at")
		for _, l := range r.lateAt {
			fmt.Fprintf(&b, " +%.1fs (%d)", l.at.Seconds(), l.n)
		}
		b.WriteString("; /metrics scraped at")
		for _, at := range r.scrapedAt {
			fmt.Fprintf(&b, " +%.1fs", at.Seconds())
		}
		b.WriteString(";")
	}
	return b.String()
}

// runUIScale runs `pingerplot ui` as an unprivileged user with n saved
// targets (resumed on launch, 1 s interval, 4 hops each over plain veth)
// and, after warmup, for steady: asks the dashboard's API what the page
// asks (the target list, one target's detail, the status bar) every
// 100 ms each and scrapes /metrics every 5 s, timing every answer; reads
// the probe rate and the late rounds from the status API, the CPU and RSS
// from /proc.
func runUIScale(tb testing.TB, n int, warmup, steady time.Duration) uiScaleResult {
	lab.Exclusive(tb)
	l := lab.New(tb, lab.Options{Routers: 3, Targets: n})
	dir, err := os.MkdirTemp("", "pp-uiscale-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o777)
	type entry struct {
		Target   string  `json:"target"`
		Name     string  `json:"name"`
		Interval float64 `json:"interval"`
	}
	var targets []entry
	for i, a := range l.Targets4 {
		targets = append(targets, entry{a.String(), fmt.Sprintf("t%05d", i), 1})
	}
	settings, _ := json.Marshal(map[string]any{"version": 1, "resume_on_launch": true, "targets": targets})
	if err := os.WriteFile(filepath.Join(dir, "settings.json"), settings, 0o666); err != nil {
		tb.Fatal(err)
	}
	out := &syncBuffer{}
	cmd := l.CommandUnprivileged(context.Background(), l.Client, binary(tb), "ui", "--no-browser", "--port", "0",
		"--config-dir", dir, "--metrics-listen", "127.0.0.1:0", "-n")
	cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+dir)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	pid := cmd.Process.Pid
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	time.Sleep(warmup)
	um := dashboardURL.FindStringSubmatch(out.String())
	mm := metricsAddrLine.FindStringSubmatch(out.String())
	if um == nil || mm == nil {
		tb.Fatalf("no dashboard or metrics address in the output:\n%s", out.String())
	}
	u, _ := url.Parse(um[1])
	token := u.Query().Get("token")
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return l.DialTCP(ctx, l.Client, netip.MustParseAddrPort(addr))
		},
	}}
	get := func(rawURL string, auth bool) (time.Duration, []byte) {
		req, _ := http.NewRequest("GET", rawURL, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			tb.Fatalf("GET %s: %v", rawURL, err)
		}
		// /metrics (asked without the token) is read and dropped, as the
		// headless benchmark reads it: growing a 24 MB buffer is the
		// client's cost, not the server's.
		var body []byte
		if auth {
			body, err = io.ReadAll(resp.Body)
		} else {
			_, err = io.Copy(io.Discard, resp.Body)
		}
		resp.Body.Close()
		d := time.Since(start)
		if err != nil || resp.StatusCode != http.StatusOK {
			tb.Fatalf("GET %s: %s %v", rawURL, resp.Status, err)
		}
		return d, body
	}
	metricsURL := "http://" + mm[1] + "/metrics"
	// The counters come from the status bar's API, read as it is asked:
	// /metrics may answer from a rendering up to 2 s old (docs/metrics.md),
	// which would blur the steady state's edges.
	counters := func() (rounds, probes, late float64) {
		_, body := get("http://"+u.Host+"/api/status", true)
		var st struct {
			Rounds, Probes, Missed float64
		}
		if err := json.Unmarshal(body, &st); err != nil {
			tb.Fatalf("/api/status: %v: %s", err, body)
		}
		return st.Rounds, st.Probes, st.Missed
	}
	var ids []struct {
		ID string `json:"id"`
	}
	_, body := get("http://"+u.Host+"/api/targets", true)
	if err := json.Unmarshal(body, &ids); err != nil || len(ids) != n {
		tb.Fatalf("/api/targets: %d targets, %v; want %d", len(ids), err, n)
	}

	// Prometheus scrapes from the start; the first scrape of a process's
	// life renders for itself (docs/metrics.md) and is not the steady state.
	get(metricsURL, false)

	res := uiScaleResult{targets: n, offered: float64(4 * n), latency: map[string][]time.Duration{}}
	r0, p0, late0 := counters()
	cpu0, _ := procCPU(pid)
	res.rssStart = rssKB(pid) / 1024
	t0 := time.Now()
	api := time.NewTicker(100 * time.Millisecond)
	defer api.Stop()
	nextScrape := t0.Add(scrapeEvery)
	rng := rand.New(rand.NewPCG(1, 2))
	var missed0 *uint64 // the status bar's late rounds when last read
	for i := 0; time.Since(t0) < steady; i++ {
		<-api.C
		base := "http://" + u.Host
		switch i % 3 {
		case 0:
			d, _ := get(base+"/api/targets", true)
			res.latency["/api/targets"] = append(res.latency["/api/targets"], d)
		case 1:
			d, _ := get(base+"/api/targets/"+url.PathEscape(ids[rng.IntN(len(ids))].ID), true)
			res.latency["/api/targets/{id}"] = append(res.latency["/api/targets/{id}"], d)
		case 2:
			d, body := get(base+"/api/status", true)
			res.latency["/api/status"] = append(res.latency["/api/status"], d)
			var st struct {
				Missed uint64 `json:"missed"`
			}
			if json.Unmarshal(body, &st) == nil {
				if missed0 == nil {
					missed0 = &st.Missed
				} else if st.Missed > *missed0 {
					res.lateAt = append(res.lateAt, lateStep{time.Since(t0), st.Missed - *missed0})
					*missed0 = st.Missed
				}
			}
		}
		if time.Now().After(nextScrape) {
			res.scrapedAt = append(res.scrapedAt, time.Since(t0))
			d, _ := get(metricsURL, false)
			res.latency["/metrics"] = append(res.latency["/metrics"], d)
			nextScrape = nextScrape.Add(scrapeEvery)
		}
	}
	el := time.Since(t0)
	cpu1, _ := procCPU(pid)
	res.rssEnd = rssKB(pid) / 1024
	r1, p1, late1 := counters()
	res.rate = (p1 - p0) / el.Seconds()
	res.rounds, res.late = r1-r0, late1-late0
	res.coreShare = (cpu1 - cpu0).Seconds() / el.Seconds()
	return res
}

// BenchmarkUIScale is BenchmarkHeadlessScale for the dashboard: `ui`
// with PINGERPLOT_SCALE_TARGETS saved targets (default 5000: 20,000
// probes a second) for PINGERPLOT_SCALE_SECONDS (default 40) after
// PINGERPLOT_SCALE_WARMUP (default 20), timing the
// API the page polls and /metrics while it probes.
func BenchmarkUIScale(b *testing.B) {
	n, warmup, steady := scaleEnv(20 * time.Second)
	for i := 0; i < b.N; i++ {
		r := runUIScale(b, n, warmup, steady)
		b.ReportMetric(r.rate, "probes/s")
		b.ReportMetric(r.late, "late-rounds")
		b.ReportMetric(r.rssEnd-r.rssStart, "rss-growth-MiB")
		for k, ds := range r.latency {
			b.ReportMetric(float64(pct(ds, 0.99).Microseconds())/1000, strings.NewReplacer("/", "", "{", "", "}", "").Replace(k)+"-p99-ms")
		}
		b.Log(r)
	}
}

// TestUIScaleShort: the dashboard with 500 targets (2,000 probes a
// second) keeps up, starts its rounds on time and answers the API the
// page polls promptly while it probes. The limits leave room for a
// machine shared with other tests; BenchmarkUIScale gives the figures.
func TestUIScaleShort(t *testing.T) {
	if testing.Short() {
		t.Skip("a 40-second load test; -short skips it")
	}
	r := runUIScale(t, 500, 12*time.Second, 20*time.Second)
	t.Log(r)
	if r.rate < 0.9*r.offered {
		t.Errorf("sustained %.0f probes/s; want at least 90 %% of the %.0f offered", r.rate, r.offered)
	}
	if r.late > r.rounds/100 {
		t.Errorf("%.0f of %.0f rounds started late; want at most 1 %%", r.late, r.rounds)
	}
	for k, ds := range r.latency {
		if p := pct(ds, 0.99); p > 500*time.Millisecond {
			t.Errorf("%s p99 %v; want at most 500 ms at 500 targets on a shared machine", k, p)
		}
	}
}
