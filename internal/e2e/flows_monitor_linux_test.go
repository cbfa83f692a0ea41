//go:build linux

package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
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
