//go:build linux

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/lab"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/pmtu"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
	pres "github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/web"
)

// TestMonitorPathMTU runs `pingerplot headless` unprivileged on a lab whose
// link between router 2 and router 3 carries 1400 bytes, with discovery
// switched on per target (the pmtu setting) and a 3 s --pmtu-interval. The
// metrics must show 1400 at hop 2 and router 2's address for an IPv4 ICMP
// and an IPv6 UDP target within seconds of start, none for a target whose
// setting is off, and a path_mtu event; once the link carries 1500 again,
// the next discovery must show 1500 with no hop and report the change.
func TestMonitorPathMTU(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3})
	if err := l.SetLinkMTU(2, 1400); err != nil {
		t.Fatal(err)
	}
	dir := workDir(t)
	h := startHeadlessWith(t, dir, map[string]any{
		"status_interval": 0,
		"metrics_listen":  "127.0.0.1:0",
		"defaults":        map[string]any{"interval": 0.5, "timeout": 0.5},
		"targets": []any{
			map[string]any{"target": l.TargetAddr4.String(), "name": "t4", "pmtu": true},
			map[string]any{"target": l.TargetAddr6.String(), "name": "t6", "mode": "udp", "pmtu": true},
			map[string]any{"target": l.TargetAddr4.String(), "name": "off"},
		},
	}, func(path string) *exec.Cmd {
		return l.CommandUnprivileged(context.Background(), l.Client, binary(t), "headless", "-n", "--pmtu-interval", "3s", path)
	})
	addrRE := regexp.MustCompile(`Prometheus metrics: http://(127\.0\.0\.1:\d+)/metrics`)
	var ap netip.AddrPort
	waitFor(t, 10*time.Second, "the metrics address", func() bool {
		m := addrRE.FindStringSubmatch(h.out.String())
		if m == nil {
			return false
		}
		ap = netip.MustParseAddrPort(m[1])
		return true
	})
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return l.DialTCP(ctx, l.Client, ap) },
	}}

	narrow := map[string]string{
		"t4": fmt.Sprintf(`pingerplot_path_mtu_bytes{addr="%s",target="t4",ttl="2"}`, l.Hops4[1]),
		"t6": fmt.Sprintf(`pingerplot_path_mtu_bytes{addr="%s",target="t6",ttl="2"}`, l.Hops6[1]),
	}
	start := time.Now()
	var s scrape
	waitFor(t, 15*time.Second, "path MTU 1400 at hop 2 of both targets", func() bool {
		s = scrapeMetrics(t, client, ap)
		return s.value(narrow["t4"]) == 1400 && s.value(narrow["t6"]) == 1400
	})
	t.Logf("path MTU 1400 at hop 2 of both targets %v after the first scrape", time.Since(start).Round(100*time.Millisecond))
	for series, v := range s {
		if strings.HasPrefix(series, "pingerplot_path_mtu_bytes{") && strings.Contains(series, `target="off"`) {
			t.Errorf("%s %v; want no path MTU for a target whose pmtu setting is off", series, v)
		}
	}
	for _, id := range []string{"t4", "t6"} {
		if n := s.value(fmt.Sprintf(`pingerplot_events_total{kind="path_mtu",target="%s"}`, id)); n != 1 {
			t.Errorf("%s: %v path_mtu events; want 1, for the first result", id, n)
		}
	}
	wantLine := fmt.Sprintf("path MTU 1400 bytes (drops at hop 2, %s)", l.Hops4[1])
	if !strings.Contains(h.out.String(), wantLine) {
		t.Errorf("the console lacks the event %q:\n%s", wantLine, h.out.String())
	}

	if err := l.SetLinkMTU(2, 1500); err != nil {
		t.Fatal(err)
	}
	clear := map[string]string{
		"t4": `pingerplot_path_mtu_bytes{addr="",target="t4",ttl="0"}`,
		"t6": `pingerplot_path_mtu_bytes{addr="",target="t6",ttl="0"}`,
	}
	waitFor(t, 15*time.Second, "path MTU 1500 with no hop once the link carries 1500", func() bool {
		s = scrapeMetrics(t, client, ap)
		return s.value(clear["t4"]) == 1500 && s.value(clear["t6"]) == 1500
	})
	for _, id := range []string{"t4", "t6"} {
		if s.has(narrow[id]) {
			t.Errorf("%s: the old series %s is still there beside the new one", id, narrow[id])
		}
		if n := s.value(fmt.Sprintf(`pingerplot_events_total{kind="path_mtu",target="%s"}`, id)); n != 2 {
			t.Errorf("%s: %v path_mtu events; want 2: the first result and the change", id, n)
		}
	}
	if want := "path MTU 1500 bytes (nothing smaller on the path)"; !strings.Contains(h.out.String(), want) {
		t.Errorf("the console lacks the event %q:\n%s", want, h.out.String())
	}
	h.stop(t)
}

// TestTracePathMTU: trace --pmtu ends with the path MTU line, the same as
// report's, over the narrow lab, unprivileged and with raw sockets.
func TestTracePathMTU(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3})
	if err := l.SetLinkMTU(2, 1400); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("Path MTU: 1400 bytes; larger packets stop at hop 2 (%s)", l.Hops4[1])
	for _, tt := range []struct {
		name   string
		unpriv bool
		args   []string
	}{
		{"unprivileged", true, nil},
		{"root-raw", false, []string{"--raw"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"trace", "--pmtu", "-n"}, tt.args...), l.TargetAddr4.String())
			r := run(t, l, tt.unpriv, args...)
			if r.code != 0 || !strings.Contains(r.stdout, want) {
				t.Errorf("trace --pmtu (exit %d) lacks %q:\n%s%s", r.code, want, r.stdout, r.stderr)
			}
		})
	}
}

// TestPathMTUInBrowser serves the dashboard (in this process, on loopback:
// no probe leaves it, the target is a scripted network) with a path MTU
// lookup that says 1400 bytes, dropping at hop 2, and runs
// web/test/pmtu.mjs in headless Chromium: the target header's info line
// must say it as the API words it.
func TestPathMTUInBrowser(t *testing.T) {
	node, script := browserPrereqs(t)
	script = filepath.Join(filepath.Dir(script), "pmtu.mjs")

	const target = "narrow.example"
	netw := probetest.Path(time.Millisecond, 2*time.Millisecond, 5*time.Millisecond)
	mon := monitor.New(monitor.Config{Prober: netw})
	defer mon.Close()
	settings, err := config.DefaultUser().Defaults.Settings()
	if err != nil {
		t.Fatal(err)
	}
	settings.Interval = 250 * time.Millisecond
	settings.PathMTU = true
	if _, err := mon.Add(monitor.Target{ID: target, Host: target, Addr: netw.Hops[2].Addr, Settings: settings}); err != nil {
		t.Fatal(err)
	}
	p := pres.PathMTU{MTU: 1400, Max: 1500, HopTTL: 2, HopAddr: netw.Hops[1].Addr, Reported: true, Probes: 36, At: time.Now()}
	lookup := func(id monitor.ID) (pres.PathMTU, bool) { return p, id == target }

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const token = "pmtubrowsertesttoken0123456789abc"
	srv := web.New(web.Config{Monitor: mon, Token: token, Listen: ln.Addr(), User: config.DefaultUser(),
		Names: func(netip.Addr) string { return "" }, PathMTU: lookup})
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

	artifacts := browserArtifacts(t, "pp-pmtu-browser-")
	done := runLocalBrowserScript(t, node, script, fmt.Sprintf("http://%s/?token=%s", ln.Addr(), token),
		[]string{"PP_CHROMIUM=" + chromiumPath, "PP_ARTIFACTS=" + artifacts, "PP_TARGET=" + target, "PP_WANT=" + pmtu.Summary(p)},
		2*time.Minute, nil)
	if t.Failed() {
		return
	}
	if done == nil {
		t.Fatal("the script did not finish")
	}
	if done.Steps != 3 {
		t.Errorf("the script ran %d steps; want 3", done.Steps)
	}
}
