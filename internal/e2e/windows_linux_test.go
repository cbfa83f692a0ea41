//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/lab"
	"github.com/pingerplot/pingerplot/internal/report"
)

// The real windows/amd64 pingerplot.exe, run under Wine in the lab's client
// namespace (lab.Wine): the Windows backend (IcmpSendEcho2 through Wine's
// implementation, which sends real packets from that namespace) against
// the lab's routers, the same way the Linux binary is tested.

// windowsExe is pingerplot.exe, built once per test run.
var windowsExe built

// windowsBinary builds pingerplot.exe once per test run.
func windowsBinary(t testing.TB) string {
	t.Helper()
	return windowsExe.get(t, "pingerplot.exe", "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
}

// wineRun runs pingerplot.exe with args under w and returns its output.
func wineRun(t *testing.T, w *lab.Wine, timeout time.Duration, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return runCmd(t, w.Command(ctx, windowsBinary(t), args...))
}

// wineReport runs `report --json -n` under Wine and decodes it.
func wineReport(t *testing.T, w *lab.Wine, args ...string) report.Report {
	t.Helper()
	r := wineRun(t, w, 3*time.Minute, append([]string{"report", "--json", "-n"}, args...)...)
	if r.code != 0 {
		t.Fatalf("pingerplot.exe report %v: exit %d\nstderr: %s", args, r.code, r.stderr)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("decode report JSON: %v\n%s", err, r.stdout)
	}
	return rep
}

// windowsDelays are the one-way delays of the lab's links for the Windows
// tests: every link cabled and delayed (a zero-delay cable costs a wake-up,
// see the lab's doc), about 16 ms to the target.
var windowsDelays = []time.Duration{1 * time.Millisecond, 2 * time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond}

// TestWindowsReportHopsAndRTT: `pingerplot.exe report` finds exactly the
// lab's hops, and each hop's median RTT is within 2 ms of what the lab
// injects (Windows' API reports whole milliseconds; the backend keeps its
// own clock inside that millisecond, and Wine adds its scheduling delay).
// The Linux binary measures the same path in the same test, for
// docs/benchmarks.md.
func TestWindowsReportHopsAndRTT(t *testing.T) {
	lab.RequireWine(t)
	lab.Exclusive(t) // timing
	l := lab.New(t, lab.Options{Routers: 3, Cables: true, RealTime: true})
	for i, d := range windowsDelays {
		p := lab.LinkParams{Delay: d}
		if err := l.SetLink(i, p, p); err != nil {
			t.Fatal(err)
		}
	}
	w := l.NewWine(t, l.Client)
	want := append(append([]string{}, addrStrings(l.Hops4)...), l.TargetAddr4.String())
	lab.WaitQuiet(t, 0.3, 45*time.Second)

	const count = 40
	win := wineReport(t, w, "-c", fmt.Sprint(count), "-i", "0.2", l.TargetAddr4.String())
	lin := reportJSON(t, l, true, "-c", fmt.Sprint(count), "-i", "0.2", l.TargetAddr4.String())
	if !win.Reached {
		t.Fatalf("pingerplot.exe: destination not reached\n%+v", win)
	}
	if got := hopAddrs(win); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("pingerplot.exe hops %v; want the lab's %v", got, want)
	}
	t.Logf("backend: %s", win.Backend)
	var inject time.Duration
	for i, h := range win.Hops {
		inject += 2 * windowsDelays[i]
		if h.MedianMs == nil || h.Recv < count*9/10 {
			t.Errorf("hop %d (%s): %d of %d answered, median %v; want nearly all answered", h.TTL, h.Addr, h.Recv, h.Sent, h.MedianMs)
			continue
		}
		winErr := *h.MedianMs - msf(inject)
		linMed := math.NaN()
		if i < len(lin.Hops) && lin.Hops[i].MedianMs != nil {
			linMed = *lin.Hops[i].MedianMs
		}
		t.Logf("hop %d %-12s injected %5.1f ms: Windows median %7.3f ms (error %+.3f), Linux median %7.3f ms (error %+.3f); Windows loss %.1f %%",
			h.TTL, h.Addr, msf(inject), *h.MedianMs, winErr, linMed, linMed-msf(inject), h.LossPct)
		if math.Abs(winErr) > 2 {
			t.Errorf("hop %d: Windows median %.3f ms for %.1f ms injected; want within 2 ms", h.TTL, *h.MedianMs, msf(inject))
		}
	}
}

// TestWindowsReportLoss: a lossy last link shows at the destination as
// about the loss the lab injects, and not at the routers before it.
func TestWindowsReportLoss(t *testing.T) {
	lab.RequireWine(t)
	l := lab.New(t, lab.Options{Routers: 3, CableLinks: []int{3}})
	const loss = 0.25
	if err := l.SetLink(3, lab.LinkParams{Delay: time.Millisecond, Loss: loss}, lab.LinkParams{Delay: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	w := l.NewWine(t, l.Client)
	const count = 120
	rep := wineReport(t, w, "-c", fmt.Sprint(count), "-i", "0.1", "--timeout", "0.5", l.TargetAddr4.String())
	dest := rep.Hops[len(rep.Hops)-1]
	if !dest.Dest || dest.Addr != l.TargetAddr4.String() {
		t.Fatalf("last hop %+v; want the destination %v", dest, l.TargetAddr4)
	}
	fwd, _, err := l.LinkStats(3)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("destination loss %.1f %% (%d of %d); the cable dropped %d of %d frames forward",
		dest.LossPct, dest.Sent-dest.Recv, dest.Sent, fwd.Lost, fwd.Frames)
	// 120 probes at 25 %: the binomial's standard deviation is 4 points;
	// 12 points either way is three of them.
	if math.Abs(dest.LossPct-100*loss) > 12 {
		t.Errorf("destination loss %.1f %%; want %.0f %% ± 12", dest.LossPct, 100*loss)
	}
	for _, h := range rep.Hops[:len(rep.Hops)-1] {
		if h.LossPct > 5 {
			t.Errorf("hop %d (%s) loss %.1f %% before the lossy link; want about 0", h.TTL, h.Addr, h.LossPct)
		}
	}
}

// TestWindowsTraceAndSilentHop: `pingerplot.exe trace` prints the lab's
// hops in order; with the second router silent, a report round still
// takes about one timeout, not one per silent TTL.
func TestWindowsTraceAndSilentHop(t *testing.T) {
	lab.RequireWine(t)
	l := lab.New(t, lab.Options{Routers: 3})
	w := l.NewWine(t, l.Client)
	r := wineRun(t, w, time.Minute, "trace", "-n", l.TargetAddr4.String())
	if r.code != 0 {
		t.Fatalf("pingerplot.exe trace: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	pos := -1
	for i, a := range append(addrStrings(l.Hops4), l.TargetAddr4.String()) {
		p := hopLine(r.stdout, i+1, a)
		if p < 0 {
			t.Errorf("trace output has no line \"%d  %s\":\n%s", i+1, a, r.stdout)
			continue
		}
		if p < pos {
			t.Errorf("hop %d (%s) printed out of order:\n%s", i+1, a, r.stdout)
		}
		pos = p
	}

	// Routers 1 and 2 silent: waiting for TTLs one after the other would
	// cost two timeouts a round, in flight at once one.
	for _, r := range []int{0, 1} {
		if err := l.DropTimeExceeded(r, true); err != nil {
			t.Fatal(err)
		}
	}
	const rounds, timeout = 6, 1.0
	rep := wineReport(t, w, "-c", fmt.Sprint(rounds), "-i", "0.1", "--timeout", fmt.Sprint(timeout), l.TargetAddr4.String())
	for _, h := range rep.Hops[:2] {
		if h.Recv != 0 {
			t.Errorf("hop %d with its router silent: %d answers from %q; want none", h.TTL, h.Recv, h.Addr)
		}
	}
	if !rep.Reached {
		t.Errorf("destination not reached past silent routers")
	}
	perRound := rep.End.Sub(rep.Start) / rounds
	t.Logf("%d rounds with 2 silent hops (timeout %.0f s): %v a round", rounds, timeout, perRound.Round(time.Millisecond))
	if perRound > 1600*time.Millisecond {
		t.Errorf("a round with two silent hops took %v; want about one %.0f s timeout, not two", perRound, timeout)
	}
}

// TestWindowsHeadless: `pingerplot.exe headless` writes its CSV probe log
// and its event log, and a latency step on the last link raises the
// latency alert, posted to a webhook on the client's loopback.
func TestWindowsHeadless(t *testing.T) {
	lab.RequireWine(t)
	l := lab.New(t, lab.Options{Routers: 3, CableLinks: []int{3}})
	ws := startWebhookServer(t, l)
	w := l.NewWine(t, l.Client)
	dir := workDir(t)
	const window = 8
	cfg := map[string]any{
		"status_interval": 0,
		"defaults": map[string]any{"interval": 0.2, "timeout": 0.5, "alert_latency_ms": 20, "alert_loss_pct": 0,
			"alert_window": window, "webhook_url": ws.url},
		"targets": []any{map[string]any{"target": l.TargetAddr4.String(), "name": "t", "log_path": "t.csv"}},
	}
	h := startWineHeadless(t, w, dir, cfg)
	logPath, evPath := filepath.Join(dir, "t.csv"), filepath.Join(dir, "t.events.csv")
	waitFor(t, 60*time.Second, "a full window of rounds in the probe log", func() bool { n, _ := rounds(logPath); return n >= window+2 })
	if e := findEvent(events(evPath), "alert_raised"); e != nil {
		t.Fatalf("alert raised before the latency step: %v", e)
	}
	step := lab.LinkParams{Delay: 15 * time.Millisecond} // +30 ms RTT
	if err := l.SetLink(3, step, step); err != nil {
		t.Fatal(err)
	}
	var raised []string
	waitFor(t, 30*time.Second, "alert_raised in the event log", func() bool { raised = findEvent(events(evPath), "alert_raised"); return raised != nil })
	if raised[5] != "latency" {
		t.Errorf("raised %v; want the latency condition", raised)
	}
	waitFor(t, 30*time.Second, "the alert_raised webhook", func() bool { return ws.got("alert_raised") != nil })
	if b := ws.got("alert_raised"); b["condition"] != "latency" || b["target"] != "t" {
		t.Errorf("webhook body %v; want target t, condition latency", b)
	}
	n, _ := rounds(logPath)
	t.Logf("probe log %d rounds; alert raised: %v", n, raised)

	// Ctrl-C: Wine turns SIGINT into the console's CTRL_C_EVENT.
	h.stop(t)
}

// startWineHeadless runs pingerplot.exe headless under w on cfg.
func startWineHeadless(t *testing.T, w *lab.Wine, dir string, cfg map[string]any) *headless {
	t.Helper()
	return startHeadlessWith(t, dir, cfg, func(path string) *exec.Cmd {
		return w.Command(context.Background(), windowsBinary(t), "headless", "-n", path)
	})
}

// TestWindowsDashboardInBrowser: `pingerplot.exe ui --no-browser` under
// Wine serves the dashboard, and headless Chromium in the same namespace
// adds the lab's target and sees its hops, the Timeline and the Events
// (web/test/windows.mjs).
func TestWindowsDashboardInBrowser(t *testing.T) {
	lab.RequireWine(t)
	node, script := browserPrereqs(t)
	script = filepath.Join(filepath.Dir(script), "windows.mjs")
	l := lab.New(t, lab.Options{Routers: 3})
	w := l.NewWine(t, l.Client)
	dir := workDir(t)
	ui := &uiProc{out: &syncBuffer{}}
	ui.cmd = w.Command(context.Background(), windowsBinary(t), "ui", "--no-browser", "--port", "0", "--config-dir", dir)
	ui.cmd.Stdout, ui.cmd.Stderr = ui.out, ui.out
	if err := ui.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if ui.cmd.ProcessState == nil {
			_ = ui.cmd.Process.Kill()
			_ = ui.cmd.Wait()
		}
	})
	waitFor(t, 60*time.Second, "the dashboard URL from pingerplot.exe", func() bool {
		m := dashboardURL.FindStringSubmatch(ui.out.String())
		if m != nil {
			ui.url = m[1]
		}
		return m != nil
	})
	hops := append(addrStrings(l.Hops4), l.TargetAddr4.String())
	env := []string{
		"PP_TARGET=" + l.TargetAddr4.String(),
		"PP_HOPS=" + strings.Join(hops, ","),
		"PP_CHROMIUM=" + chromiumPath,
	}
	if runBrowserScenario(t, l, ui, node, script, env, 4*time.Minute, func(need string) error {
		return fmt.Errorf("unknown request %q", need)
	}) == nil {
		return
	}
	ui.stop(t)
}

func hopAddrs(r report.Report) []string {
	var s []string
	for _, h := range r.Hops {
		s = append(s, h.Addr)
	}
	return s
}

// hopLine returns the offset in s of the line "TTL  ADDR ..." of a trace,
// or -1.
func hopLine(s string, ttl int, addr string) int {
	off := 0
	for _, line := range strings.SplitAfter(s, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == fmt.Sprint(ttl) && f[1] == addr {
			return off
		}
		off += len(line)
	}
	return -1
}

// TestWindowsWithoutAdministrator runs pingerplot.exe as a Linux user with
// no capabilities (uid 65534, so Wine's ICMP helper has only ping sockets)
// and with --unprivileged (Wine calls every user an administrator): the
// ICMP trace needs no rights and reaches the destination; TCP and UDP traces
// are refused with what to do instead of showing hops that all timed out;
// and a final-hop-only TCP service check (headless) tells an open port
// (reached, hop 1) from a closed one (refused, the closed alert raised).
func TestWindowsWithoutAdministrator(t *testing.T) {
	lab.RequireWine(t)
	const openPort, closedPort = 8080, 8081
	l := lab.New(t, lab.Options{Routers: 3})
	stopOpen, err := l.ListenTCP(l.Target, openPort)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stopOpen)
	w := l.NewWineUnprivileged(t, l.Client)
	target := l.TargetAddr4.String()

	// Wine without root serves IcmpSendEcho2 from a Linux ping socket and
	// never reads that socket's error queue, so routers' time-exceeded
	// messages are lost to it (as root it uses a raw socket and reports
	// every router: the other tests). Real Windows reports routers to any
	// user; what Wine can show here is the destination at the right TTL,
	// through the same code, with no privilege at all.
	rep := wineReport(t, w, "--unprivileged", "-c", "5", "-i", "0.2", target)
	got := hopAddrs(rep)
	if !rep.Reached || len(got) != len(l.Hops4)+1 || got[len(got)-1] != target {
		t.Errorf("ICMP without administrator rights: hops %q (reached %v); want the destination %s at TTL %d", got, rep.Reached, target, len(l.Hops4)+1)
	}
	if !strings.Contains(rep.Backend, "IcmpSendEcho2") || !strings.Contains(rep.Backend, "no raw sockets") {
		t.Errorf("backend %q; want the ICMP helper API and no raw sockets", rep.Backend)
	}
	t.Logf("ICMP as uid 65534, --unprivileged: hops %q; backend %s", got, rep.Backend)

	for _, mode := range [][]string{{"-T", "-P", fmt.Sprint(openPort)}, {"-u"}} {
		r := wineRun(t, w, time.Minute, append(append([]string{"report", "--unprivileged", "-c", "2"}, mode...), target)...)
		t.Logf("report %v without administrator rights: exit %d: %s", mode, r.code, strings.TrimSpace(r.stderr))
		if r.code == 0 || !strings.Contains(r.stderr, "administrator") || strings.Contains(r.stdout, "???") {
			t.Errorf("report %v without administrator rights: exit %d, stdout %q, stderr %q; want a refusal that says administrator rights are needed", mode, r.code, r.stdout, r.stderr)
		}
	}

	dir := workDir(t)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	cfg := map[string]any{
		"status_interval": 0,
		"defaults": map[string]any{"interval": 0.2, "timeout": 0.5, "mode": "tcp", "final_hop_only": true,
			"alert_loss_pct": 20, "alert_window": 5},
		"targets": []any{
			map[string]any{"target": target, "name": "open", "port": openPort, "log_path": "open.csv"},
			map[string]any{"target": target, "name": "closed", "port": closedPort, "log_path": "closed.csv"},
		},
	}
	h := startWineHeadless(t, w, dir, cfg)
	closedEvents := filepath.Join(dir, "closed.events.csv")
	var raised []string
	waitFor(t, 60*time.Second, "the closed alert", func() bool { raised = findEvent(events(closedEvents), "alert_raised"); return raised != nil })
	if raised[5] != "closed" {
		t.Errorf("alert_raised %q; want the closed condition", raised)
	}
	openLog := filepath.Join(dir, "open.csv")
	waitFor(t, 30*time.Second, "rounds of the open port", func() bool { n, _ := rounds(openLog); return n >= 10 })
	for _, c := range []struct{ path, status string }{{filepath.Join(dir, "closed.csv"), "refused"}, {openLog, "reached"}} {
		rows := readCSV(t, c.path)[1:]
		n := 0
		for _, r := range rows {
			if r[3] != "1" {
				t.Errorf("%s: row %q has ttl %s; want 1", filepath.Base(c.path), r, r[3])
			}
			if r[7] == c.status && r[4] == target {
				n++
			}
		}
		t.Logf("%s: %d of %d rows %s", filepath.Base(c.path), n, len(rows), c.status)
		if n < len(rows)*9/10 {
			t.Errorf("%s: %d of %d rows %s; want nearly all", filepath.Base(c.path), n, len(rows), c.status)
		}
	}
	if ev := events(filepath.Join(dir, "open.events.csv")); findEvent(ev, "alert_raised") != nil {
		t.Errorf("the open port raised an alert: %q", ev)
	}
	h.stop(t)
}

// TestWindowsTCPAndUDPTraces: as administrator (Wine as root), TCP and UDP
// traces send from ordinary sockets with the TTL set and read the routers'
// answers from a raw ICMP socket: each finds exactly the lab's hops, and
// the TCP trace says whether the destination's port is open or closed.
func TestWindowsTCPAndUDPTraces(t *testing.T) {
	lab.RequireWine(t)
	l := lab.New(t, lab.Options{Routers: 3})
	stop, err := l.ListenTCP(l.Target, 8080)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	w := l.NewWine(t, l.Client)
	target := l.TargetAddr4.String()
	want := strings.Join(append(addrStrings(l.Hops4), target), " ")
	for _, c := range []struct {
		name  string
		flags []string
		port  string
	}{
		{"tcp open", []string{"-T", "-P", "8080"}, "open"},
		{"tcp closed", []string{"-T", "-P", "8081"}, "closed"},
		{"udp", []string{"-u"}, ""},
	} {
		rep := wineReport(t, w, append(append([]string{"-c", "5", "-i", "0.2"}, c.flags...), target)...)
		got := strings.Join(hopAddrs(rep), " ")
		t.Logf("%s: hops %s, port %q", c.name, got, rep.PortState)
		if got != want || !rep.Reached {
			t.Errorf("%s trace: hops %s (reached %v); want the lab's %s", c.name, got, rep.Reached, want)
		}
		if rep.PortState != c.port {
			t.Errorf("%s trace: port_state %q; want %q", c.name, rep.PortState, c.port)
		}
	}
}
