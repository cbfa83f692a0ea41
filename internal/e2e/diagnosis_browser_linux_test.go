//go:build linux

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/diagnose"
	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/history/historytest"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
	"github.com/pingerplot/pingerplot/internal/web"
)

// TestDiagnosisInBrowser serves the dashboard (in this process, on
// loopback: no probe leaves it, the live target is a scripted network)
// with a diagnosis watcher over a path whose loss starts on the link into
// hop 2 and carries to the destination (one round in four lost from hop 2
// on), and a history that also holds a target no longer monitored. It
// runs web/test/diagnosis.mjs in headless Chromium: the line under the
// target's title, the Targets grid's Diagnosis column and the badge on
// hop 2's row must say what the API says; the removed target is listed
// from the history and its past opens read-only with the window's own
// diagnosis.
func TestDiagnosisInBrowser(t *testing.T) {
	node, script := browserPrereqs(t)
	script = filepath.Join(filepath.Dir(script), "diagnosis.mjs")
	dir := t.TempDir()

	// The removed target's past: an hour of rounds ending ten minutes ago.
	const pastKey = "gone.example"
	start := time.Now().Add(-70 * time.Minute).Truncate(time.Second)
	st, err := history.Open(history.Options{Path: filepath.Join(dir, "history.db")})
	if err != nil {
		t.Fatalf("history.Open: %v", err)
	}
	defer st.Close()
	pastHops := historytest.Path(3, map[int]float64{3: 0.05})
	historytest.Fill(t, st, pastKey, pastKey, (&historytest.Gen{Hops: pastHops, Start: start, Seed: 5}).Rounds(3600))

	// The live target: loss from hop 2 on, the same round at every TTL
	// from there (forward loss, as a lossy link makes it).
	const target = "lossy.example"
	lose := func(n int) bool { return n%4 == 0 }
	netw := probetest.Path(time.Millisecond, 2*time.Millisecond, 5*time.Millisecond)
	netw.Hops[1].Lose, netw.Hops[2].Lose = lose, lose
	mon := monitor.New(monitor.Config{Prober: netw})
	defer mon.Close()
	settings, err := config.DefaultUser().Defaults.Settings()
	if err != nil {
		t.Fatal(err)
	}
	settings.Interval = 250 * time.Millisecond
	if _, err := mon.Add(monitor.Target{ID: target, Host: target, Addr: netw.Hops[2].Addr, Settings: settings}); err != nil {
		t.Fatal(err)
	}
	watcher := diagnose.NewWatcher(diagnose.WatcherConfig{Reporter: mon})
	updates, unsub := mon.SubscribeWith(monitor.SubscriberConfig{Name: "diagnose", Buffer: 4096})

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const token = "diagnosisbrowsertesttoken01234567"
	srv := web.New(web.Config{Monitor: mon, History: st, Token: token, Listen: ln.Addr(), User: config.DefaultUser(),
		Names: func(netip.Addr) string { return "" }, Diagnosis: watcher.Latest})
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { watcher.Run(ctx, updates) })
	wg.Go(func() { _ = mon.Run(ctx) })
	wg.Go(func() { srv.Run(ctx) })
	wg.Go(func() { _ = hs.Serve(ln) })
	defer func() {
		cancel()
		unsub()
		hs.Close()
		wg.Wait()
	}()

	artifacts := browserArtifacts(t, "pp-diagnosis-browser-")
	var stored []string
	for _, h := range pastHops {
		stored = append(stored, h.Addr.String())
	}
	done := runLocalBrowserScript(t, node, script, fmt.Sprintf("http://%s/?token=%s", ln.Addr(), token),
		[]string{"PP_CHROMIUM=" + chromiumPath, "PP_ARTIFACTS=" + artifacts, "PP_TARGET=" + target, "PP_LOSS_TTL=2",
			"PP_PAST=" + pastKey, "PP_PAST_HOPS=" + strings.Join(stored, ",")}, 3*time.Minute, nil)
	if t.Failed() {
		return
	}
	if done == nil {
		t.Fatal("the script did not finish")
	}
	if done.Steps != 8 {
		t.Errorf("the script ran %d steps; want 8", done.Steps)
	}
}
