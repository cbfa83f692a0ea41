//go:build linux

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/lab"
	"github.com/pingerplot/pingerplot/internal/report"
)

// TestMonitorFlows runs `pingerplot ui` unprivileged (a UDP socket per
// flow) on the ECMP lab of TestFlowsECMP4: router1 balances per flow over
// the main branch and an alt branch losing 30 % forward. Its settings hold
// an IPv4 and an IPv6 UDP target with "flows": 16 and a TCP target with
// "flows": 16. Through GET /api/targets/{id}/flows the UDP targets must
// show exactly the two paths with the lab's addresses, their shares
// summing to 100 % of the 16 flows and the alt path marked lossy; the TCP
// target a note saying why it has no flows and no path; and the targets'
// own tables must still be one path of four hops.
func TestMonitorFlows(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3, AltRouters: 1, AltCableLinks: []int{0}})
	if err := l.SetECMP(true); err != nil {
		t.Fatal(err)
	}
	if err := l.SetAltLink(0, lab.LinkParams{Loss: flowsLoss}, lab.LinkParams{}); err != nil {
		t.Fatal(err)
	}
	dir := workDir(t)
	settings := fmt.Sprintf(`{"version": 1, "resume_on_launch": true, "targets": [
		{"target": %q, "name": "t4", "mode": "udp", "interval": 0.3, "timeout": 0.5, "flows": %d},
		{"target": %q, "name": "t6", "mode": "udp", "interval": 0.3, "timeout": 0.5, "flows": %d},
		{"target": %q, "name": "tcp", "mode": "tcp", "interval": 0.3, "timeout": 0.5, "flows": %d}]}`,
		l.TargetAddr4, flowsCount, l.TargetAddr6, flowsCount, l.TargetAddr4, flowsCount)
	if err := os.WriteFile(filepath.Join(dir, "settings.json"), []byte(settings), 0o666); err != nil {
		t.Fatal(err)
	}
	u := startUI(t, l, dir)
	c, base, token := apiClient(l, u.url)

	type flowsOut struct {
		Target  string `json:"target"`
		Enabled bool   `json:"enabled"`
		Rounds  int    `json:"rounds"`
		Note    string `json:"note"`
		report.Flows
	}
	want := map[string]map[string]bool{ // per target: path addresses, target included → is the lossy one
		"t4": {
			fmt.Sprint(append(slices.Clone(l.Hops4), l.TargetAddr4)):      false,
			fmt.Sprint(append(slices.Clone(l.AltPath4()), l.TargetAddr4)): true,
		},
		"t6": {
			fmt.Sprint(append(slices.Clone(l.Hops6), l.TargetAddr6)):      false,
			fmt.Sprint(append(slices.Clone(l.AltPath6()), l.TargetAddr6)): true,
		},
	}
	start := time.Now()
	got := map[string]flowsOut{}
	// 25 rounds of flow 0: the other flows, a round behind at most, have
	// 20 or more, as the report's run of TestFlowsECMP.
	waitFor(t, 40*time.Second, "25 rounds of both UDP targets' flows", func() bool {
		for id := range want {
			var f flowsOut
			getJSON(t, c, base, token, "/api/targets/"+id+"/flows", &f)
			got[id] = f
			if f.Rounds < 25 {
				return false
			}
		}
		return true
	})
	t.Logf("25 rounds of flows after %v", time.Since(start).Round(100*time.Millisecond))
	for id, w := range want {
		t.Run(id, func(t *testing.T) {
			f := got[id]
			if !f.Enabled || f.Note != "" {
				t.Errorf("enabled %v, note %q; want enabled and no note", f.Enabled, f.Note)
			}
			checkFlows(t, &f.Flows, w)
		})
	}

	var tcp flowsOut
	getJSON(t, c, base, token, "/api/targets/tcp/flows", &tcp)
	if !tcp.Enabled || !strings.Contains(tcp.Note, "TCP probes have no fixed flow") || len(tcp.Paths) != 0 {
		t.Errorf("tcp target: enabled %v, note %q, %d paths; want enabled, a note naming TCP's lack of a fixed flow, no path",
			tcp.Enabled, tcp.Note, len(tcp.Paths))
	}

	// Flow 0 stays the target's own table: one path, the lab's four hops.
	var targets []struct {
		ID   string `json:"id"`
		Hops int    `json:"hops"`
	}
	getJSON(t, c, base, token, "/api/targets", &targets)
	for _, tg := range targets {
		if tg.Hops != 4 {
			t.Errorf("target %s: %d hops in its own table; want 4", tg.ID, tg.Hops)
		}
	}
	u.stop(t)
}

// TestDashboardFlows: the dashboard's Paths tab on the ECMP lab of
// TestMonitorFlows (one IPv4 UDP target, "flows": 16, the ui unprivileged)
// shows the two paths side by side with the lab's addresses and the alt
// one marked LOSSY (web/test/flows.mjs drives headless Chromium).
func TestDashboardFlows(t *testing.T) {
	node, script := browserPrereqs(t)
	script = filepath.Join(filepath.Dir(script), "flows.mjs")
	l := lab.New(t, lab.Options{Routers: 3, AltRouters: 1, AltCableLinks: []int{0}})
	if err := l.SetECMP(true); err != nil {
		t.Fatal(err)
	}
	if err := l.SetAltLink(0, lab.LinkParams{Loss: flowsLoss}, lab.LinkParams{}); err != nil {
		t.Fatal(err)
	}
	dir := workDir(t)
	settings := fmt.Sprintf(`{"version": 1, "resume_on_launch": true, "targets": [
		{"target": %q, "mode": "udp", "interval": 0.3, "timeout": 0.5, "flows": %d}]}`, l.TargetAddr4, flowsCount)
	if err := os.WriteFile(filepath.Join(dir, "settings.json"), []byte(settings), 0o666); err != nil {
		t.Fatal(err)
	}
	ui := startUI(t, l, dir)
	join := func(as []netip.Addr) string {
		var s []string
		for _, a := range append(slices.Clone(as), l.TargetAddr4) {
			s = append(s, a.String())
		}
		return strings.Join(s, ",")
	}
	env := []string{
		"PP_TARGET=" + l.TargetAddr4.String(),
		"PP_MAIN=" + join(l.Hops4),
		"PP_ALT=" + join(l.AltPath4()),
		"PP_ARTIFACTS=" + t.TempDir(),
		"PP_CHROMIUM=" + chromiumPath,
	}
	if runBrowserScenario(t, l, ui, node, script, env, 2*time.Minute, func(need string) error {
		return fmt.Errorf("unknown request %q", need)
	}) == nil && !t.Failed() {
		t.Errorf("the browser scenario did not finish")
	}
	ui.stop(t)
}

// TestHeadlessFlowsMetrics runs `pingerplot headless` unprivileged on the
// ECMP lab of TestMonitorFlows with an IPv4 UDP target of "flows": 16 and
// scrapes its Prometheus endpoint: exactly two flow paths with the lab's
// addresses, their shares summing to 1, the alt path marked lossy with a
// destination loss near the injected 30 %, the main one not, and both a
// destination RTT.
func TestHeadlessFlowsMetrics(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3, AltRouters: 1, AltCableLinks: []int{0}})
	if err := l.SetECMP(true); err != nil {
		t.Fatal(err)
	}
	if err := l.SetAltLink(0, lab.LinkParams{Loss: flowsLoss}, lab.LinkParams{}); err != nil {
		t.Fatal(err)
	}
	h := startHeadless(t, l, workDir(t), map[string]any{
		"status_interval": 0,
		"metrics_listen":  "127.0.0.1:0",
		"targets": []any{map[string]any{"target": l.TargetAddr4.String(), "name": "t4", "mode": "udp",
			"interval": 0.3, "timeout": 0.5, "flows": flowsCount}},
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
	join := func(addrs []netip.Addr) string {
		s := make([]string, len(addrs))
		for i, a := range addrs {
			s[i] = a.String()
		}
		return strings.Join(s, ",")
	}
	want := map[string]bool{ // hops label → is the lossy path
		join(append(slices.Clone(l.Hops4), l.TargetAddr4)):      false,
		join(append(slices.Clone(l.AltPath4()), l.TargetAddr4)): true,
	}
	infoRE := regexp.MustCompile(`^pingerplot_flow_path_info\{hops="([^"]*)",path="(\d+)",target="t4"\}$`)
	var s scrape
	paths := map[string]string{} // hops → path index
	start := time.Now()
	// 25 rounds of flow 0, as TestMonitorFlows: the other flows have 20 or more.
	waitFor(t, 40*time.Second, "25 rounds and two flow paths", func() bool {
		s = scrapeMetrics(t, client, ap)
		clear(paths)
		for series := range s {
			if m := infoRE.FindStringSubmatch(series); m != nil {
				paths[m[1]] = m[2]
			}
		}
		return s.value(`pingerplot_target_rounds_total{target="t4"}`) >= 25 && len(paths) == 2
	})
	t.Logf("25 rounds and two paths after %v; the target's own destination mean RTT %.3f ms", time.Since(start).Round(100*time.Millisecond),
		s.value(`pingerplot_hop_rtt_avg_seconds{target="t4",ttl="4"}`)*1000)
	share := 0.0
	for hops, lossy := range want {
		path, ok := paths[hops]
		if !ok {
			t.Errorf("no flow path with hops %s; got %v", hops, paths)
			continue
		}
		series := func(name string) string { return fmt.Sprintf(`%s{path="%s",target="t4"}`, name, path) }
		sh, loss := s.value(series("pingerplot_flow_path_share_ratio")), s.value(series("pingerplot_flow_path_loss_ratio"))
		rtt := s.value(series("pingerplot_flow_path_rtt_seconds"))
		t.Logf("path %s (%s): share %.4f, destination loss %.3f, RTT %.3f ms", path, hops, sh, loss, rtt*1000)
		share += sh
		if got := s.value(series("pingerplot_flow_path_lossy")) == 1; got != lossy || !s.has(series("pingerplot_flow_path_lossy")) {
			t.Errorf("path %s: lossy %v; want %v", hops, got, lossy)
		}
		lo, hi := 0.0, 0.05
		if lossy {
			lo, hi = flowsLoss-0.15, flowsLoss+0.15
		}
		if loss < lo || loss > hi {
			t.Errorf("path %s: destination loss %.3f; want %.2f to %.2f", hops, loss, lo, hi)
		}
		if sh <= 0 || rtt <= 0 || rtt > 0.5 {
			t.Errorf("path %s: share %v, RTT %v s; want a share and an RTT under the 0.5 s timeout", hops, sh, rtt)
		}
	}
	if share < 0.999 || share > 1.001 {
		t.Errorf("shares sum to %v; want 1", share)
	}
	h.stop(t)
}
