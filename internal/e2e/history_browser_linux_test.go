//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/history/historytest"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
	"github.com/pingerplot/pingerplot/internal/web"
)

// historyKey is the target of TestHistoryInBrowser: stored in the history
// and monitored live under the same ID, as a target removed and added
// again is.
const historyKey = "dest.example"

// historyWindow is one window the page showed and its hop table as the
// page printed it.
type historyWindow struct {
	From string `json:"from"`
	To   string `json:"to"`
	View string `json:"view"`
	Rows []struct {
		TTL  int    `json:"ttl"`
		Addr string `json:"addr"`
		Sent string `json:"sent"`
		Loss string `json:"loss"`
		Avg  string `json:"avg"`
	} `json:"rows"`
}

// TestHistoryInBrowser serves the dashboard (in this process, on
// loopback: no probe leaves it, the live target is a scripted network)
// over a history of five hours of synthetic rounds, hop 2 losing 20 % at
// 30 ms and the destination 5 %, with a route change and an alert; it
// runs web/test/history.mjs in headless Chromium: the range picker's 6 h,
// a drag across the latency graph, a drag across the timeline and a
// custom from/to each show a window whose hop table (sent, loss %, avg)
// must equal the store's Summary of that exact window; Evidence…
// downloads the window's file; Back to live shows the live path again.
// With -update-screenshots it writes docs/img/history-*.png.
func TestHistoryInBrowser(t *testing.T) {
	node, script := browserPrereqs(t)
	script = filepath.Join(filepath.Dir(script), "history.mjs")
	dir := t.TempDir()

	// Five hours of rounds ending ten minutes ago, so "6 h" holds them
	// all and a drag across its middle lands in them.
	start := time.Now().Add(-5*time.Hour - 10*time.Minute).Truncate(time.Second)
	st, err := history.Open(history.Options{Path: filepath.Join(dir, "history.db")})
	if err != nil {
		t.Fatalf("history.Open: %v", err)
	}
	defer st.Close()
	hops := historytest.Path(3, map[int]float64{2: 0.20, 3: 0.05})
	hops[1].RTT, hops[1].Jitter = 30*time.Millisecond, 2*time.Millisecond
	g := historytest.Gen{Hops: hops, Start: start, Seed: 3}
	historytest.Fill(t, st, historyKey, historyKey, g.Rounds(5*3600))
	events := []monitor.Event{
		{Seq: 1, Time: start.Add(2 * time.Hour), Target: historyKey, Kind: monitor.RouteChange, TTL: 2, Message: "hop 2 changed from 10.0.0.9 to 10.0.0.2"},
		{Seq: 2, Time: start.Add(150 * time.Minute), Target: historyKey, Kind: monitor.AlertRaised, Message: "loss 6 % over 60 probes"},
	}
	updates := make(chan monitor.Update, len(events))
	for i := range events {
		updates <- monitor.Update{Event: &events[i]}
	}
	close(updates)
	st.Run(context.Background(), updates, historytest.NewSource(monitor.Target{ID: historyKey, Host: historyKey}))
	if err := st.Flush(); err != nil {
		t.Fatal(err)
	}

	// The live target: the same key over a scripted network.
	netw := probetest.Path(time.Millisecond, 2*time.Millisecond, 5*time.Millisecond)
	mon := monitor.New(monitor.Config{Prober: netw})
	defer mon.Close()
	settings, err := config.DefaultUser().Defaults.Settings()
	if err != nil {
		t.Fatal(err)
	}
	settings.Interval = 500 * time.Millisecond
	if _, err := mon.Add(monitor.Target{ID: historyKey, Host: historyKey, Addr: netip.MustParseAddr("10.0.3.1"), Settings: settings}); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const token = "historybrowsertesttoken0123456789"
	srv := web.New(web.Config{Monitor: mon, History: st, Token: token, Listen: ln.Addr(), User: config.DefaultUser(),
		Names: func(a netip.Addr) string { return "" }})
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = mon.Run(ctx) })
	wg.Go(func() { srv.Run(ctx) })
	wg.Go(func() { _ = hs.Serve(ln) })
	defer func() {
		cancel()
		hs.Close()
		wg.Wait()
	}()

	artifacts := browserArtifacts(t, "pp-history-browser-")
	shots := ""
	if *updateScreenshots {
		var err error
		shots, err = filepath.Abs("../../docs/img")
		if err != nil {
			t.Fatal(err)
		}
	}
	var stored, live []string
	for _, h := range hops {
		stored = append(stored, h.Addr.String())
	}
	for _, h := range netw.Hops {
		live = append(live, h.Addr.String())
	}
	var windows []historyWindow
	var evidenceFile string
	done := runLocalBrowserScript(t, node, script, fmt.Sprintf("http://%s/?token=%s", ln.Addr(), token),
		[]string{"PP_CHROMIUM=" + chromiumPath, "PP_ARTIFACTS=" + artifacts, "PP_SHOTS=" + shots,
			fmt.Sprintf("PP_START=%d", start.Unix()), "PP_STORED_HOPS=" + strings.Join(stored, ","), "PP_LIVE_HOPS=" + strings.Join(live, ",")},
		4*time.Minute, func(raw []byte) bool {
			var line struct {
				Window *historyWindow `json:"window"`
				File   string         `json:"file"`
			}
			if json.Unmarshal(raw, &line) != nil {
				return false // the runner says what it could not read
			}
			switch {
			case line.Window != nil:
				windows = append(windows, *line.Window)
			case line.File != "":
				evidenceFile = line.File
			default:
				return false
			}
			return true
		})
	if t.Failed() {
		return
	}
	if done == nil {
		t.Fatal("the script did not finish")
	}
	if done.Steps != 8 {
		t.Errorf("the script ran %d steps; want 8", done.Steps)
	}
	if len(windows) != 4 {
		t.Fatalf("the script reported %d windows; want 4 (6 h, graph drag, timeline drag, custom)", len(windows))
	}
	for _, w := range windows {
		checkWindow(t, st, w)
	}
	if b, err := os.ReadFile(evidenceFile); err != nil || !bytes.Contains(b, []byte(`id="hops"`)) {
		t.Errorf("the evidence download %s: %v; want an evidence file with its hop table", evidenceFile, err)
	}
	for _, s := range done.Screenshots {
		before, after, err := shrinkPNG(s)
		if err != nil {
			t.Errorf("re-encoding %s: %v", s, err)
			continue
		}
		t.Logf("wrote %s (%d KB, from %d KB)", s, after>>10, before>>10)
	}
}

// checkWindow compares the hop table the page printed for w with the
// store's Summary of that exact window, formatted as the page formats it.
func checkWindow(t *testing.T, st *history.Store, w historyWindow) {
	t.Helper()
	from, err1 := time.Parse(time.RFC3339Nano, w.From)
	to, err2 := time.Parse(time.RFC3339Nano, w.To)
	if err1 != nil || err2 != nil {
		t.Errorf("window %q – %q: %v %v", w.From, w.To, err1, err2)
		return
	}
	sum, err := st.Summary(context.Background(), historyKey, from, to)
	if err != nil {
		t.Errorf("Summary(%s, %s): %v", from, to, err)
		return
	}
	if sum.Rounds < 100 {
		t.Errorf("window %s – %s (%s) holds %d rounds; want a window over the stored rounds", w.From, w.To, w.View, sum.Rounds)
	}
	if len(sum.Hops) != len(w.Rows) {
		t.Errorf("window %s – %s (%s): the page shows %d hops; the store %d", w.From, w.To, w.View, len(w.Rows), len(sum.Hops))
		return
	}
	for i, h := range sum.Hops {
		got := w.Rows[i]
		want := []string{fmt.Sprint(h.TTL), h.Responders[0].Addr.String(), pageCount(h.Stats.Sent), pagePct(h.Stats.LossPct()), pageMs(h.Stats.Avg)}
		have := []string{fmt.Sprint(got.TTL), got.Addr, got.Sent, got.Loss, got.Avg}
		if strings.Join(have, " ") != strings.Join(want, " ") {
			t.Errorf("window %s – %s (%s), hop %d: the page shows ttl, addr, sent, loss, avg = %v; want the store's %v",
				w.From, w.To, w.View, h.TTL, have, want)
		}
	}
	t.Logf("window %s – %s (%s): %d rounds, the hop table equals the store's (hop 2 loss %s %%, destination %s %%)",
		w.From, w.To, w.View, sum.Rounds, pagePct(sum.Hops[1].Stats.LossPct()), pagePct(sum.Hops[2].Stats.LossPct()))
}

// pageCount, pagePct and pageMs format as the page does (web/src/format.ts):
// the API rounds loss to a tenth and RTTs to a microsecond first.
func pageCount(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func pagePct(v float64) string {
	v = math.Round(v*10) / 10
	switch {
	case v == 0:
		return "0"
	case v < 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprint(math.Round(v))
}

func pageMs(d time.Duration) string {
	v := math.Round(float64(d)/1e3) / 1e3
	switch {
	case v < 10:
		return fmt.Sprintf("%.3f", v)
	case v < 100:
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.1f", v)
}
