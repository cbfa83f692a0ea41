//go:build linux

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/lab"
)

var updateScreenshots = flag.Bool("update-screenshots", false, "write docs/screenshots/*.png from TestDashboardInBrowser (the real binary in the lab, both themes, 2x)")

// Where the browser test finds its tools. The script and its dependencies
// live in web/: `cd web && npm ci` installs playwright-core.
const (
	chromiumPath = "/usr/bin/chromium"
	webDir       = "../../web"
)

// Delays of the lab's links, one way: a plausible path (about 20 ms to the
// target) so the graphs have something to show, and the step on the last
// link that raises the latency alert (threshold 50 ms, set by the page).
var (
	baseDelays = []lab.LinkParams{
		{Delay: 1 * time.Millisecond, Jitter: 200 * time.Microsecond},
		{Delay: 3 * time.Millisecond, Jitter: 500 * time.Microsecond},
		{Delay: 2 * time.Millisecond, Jitter: 500 * time.Microsecond},
		{Delay: 4 * time.Millisecond, Jitter: 1 * time.Millisecond},
	}
	// +50 ms each way on the last link: about 120 ms to the target.
	stepDelay = lab.LinkParams{Delay: 54 * time.Millisecond, Jitter: 1 * time.Millisecond}
)

// browserStep is one line the script prints: a step's result, a request
// for a lab change, or the end.
type browserStep struct {
	Step        string   `json:"step"`
	OK          bool     `json:"ok"`
	MS          int      `json:"ms"`
	Info        string   `json:"info"`
	Error       string   `json:"error"`
	Screenshot  string   `json:"screenshot"`
	Need        string   `json:"need"`
	Done        bool     `json:"done"`
	Steps       int      `json:"steps"`
	Screenshots []string `json:"screenshots"`
}

// TestDashboardInBrowser runs `pingerplot ui` unprivileged in the lab's
// client namespace and drives its dashboard with headless Chromium, also in
// that namespace (web/test/dashboard.mjs; web/test/README.md lists its
// steps): add the lab's target and see its hops, click a hop, copy its IP,
// every tab, an alert raised and cleared by a latency step on the last
// link, pause and resume, one target's settings, the summary CSV, a saved
// session removed and loaded back, a second (IPv6) target, the theme, a
// reload, and the Engine dialog refusing bad values. With
// -update-screenshots it also writes
// docs/screenshots/{dashboard,timeline,alert}-{dark,light}.png (2x, after
// a minute of history, so the run takes about 1.5 min longer).
func TestDashboardInBrowser(t *testing.T) {
	lab.Exclusive(t) // timing: rounds every 200 ms while a browser renders
	node, script := browserPrereqs(t)
	l := lab.New(t, lab.Options{Routers: 3, Cables: true})
	names := withNames(t, l)
	for i, p := range baseDelays {
		if err := l.SetLink(i, p, p); err != nil {
			t.Fatal(err)
		}
	}

	dir := workDir(t)
	ui := startUI(t, l, dir)

	var hops, hosts, hops6 []string
	for _, a := range append(l.Hops4, l.TargetAddr4) {
		hops = append(hops, a.String())
		hosts = append(hosts, names[a.String()])
	}
	for _, a := range append(l.Hops6, l.TargetAddr6) {
		hops6 = append(hops6, a.String())
	}
	// the failed step's screenshot, the saved session and CSV: kept when
	// the test fails
	artifacts, err := os.MkdirTemp("", "pp-browser-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the failed step's screenshot and the downloads are kept in %s", artifacts)
		} else {
			os.RemoveAll(artifacts)
		}
	})
	env := []string{
		"PP_TARGET=" + l.TargetAddr4.String(),
		"PP_HOPS=" + strings.Join(hops, ","),
		"PP_NAMES=" + strings.Join(hosts, ","),
		"PP_TARGET6=" + l.TargetAddr6.String(),
		"PP_HOPS6=" + strings.Join(hops6, ","),
		"PP_ARTIFACTS=" + artifacts,
		"PP_CHROMIUM=" + chromiumPath,
	}
	if *updateScreenshots {
		shots, err := filepath.Abs("../../docs/screenshots")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
		env = append(env, "PP_SCREENSHOTS="+shots)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	cmd := l.Command(ctx, l.Client, node, script, ui.url)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// On a timeout: SIGTERM lets Playwright close the browser it started;
	// WaitDelay then kills what is left.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// normally gone by now. Otherwise SIGTERM the script (alone in its
		// process group): Playwright then closes the browser it started.
		if cmd.ProcessState == nil {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
			}
		}
	})

	var (
		failed   bool
		finished *browserStep
		steps    int
	)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		var s browserStep
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Logf("browser: %s", line)
			continue
		}
		switch {
		case s.Need != "":
			reply := map[string]any{"ok": true}
			if err := applyNeed(l, s.Need); err != nil {
				reply = map[string]any{"ok": false, "error": err.Error()}
				t.Errorf("lab change %q: %v", s.Need, err)
			}
			b, _ := json.Marshal(reply)
			if _, err := fmt.Fprintf(stdin, "%s\n", b); err != nil {
				t.Errorf("answer the script's %q request: %v", s.Need, err)
			}
		case s.Done:
			finished = &s
		case s.Step != "" && s.OK:
			steps++
			t.Logf("ok   %-62s %6.1f s  %s", s.Step, float64(s.MS)/1000, s.Info)
		case s.Step != "":
			failed = true
			t.Errorf("FAIL %s (after %.1f s): %s\nscreenshot of the page: %s", s.Step, float64(s.MS)/1000, s.Error, s.Screenshot)
		}
	}
	_ = stdin.Close()
	werr := cmd.Wait()
	t.Logf("browser scenario: %d steps in %v", steps, time.Since(start).Round(100*time.Millisecond))
	if ctx.Err() != nil {
		t.Errorf("the browser scenario did not finish within its deadline")
	}
	switch {
	case failed:
	case werr != nil:
		t.Errorf("node %s: %v", script, werr)
	case finished == nil:
		t.Errorf("the browser script ended without finishing its scenario")
	}
	// shown with -v, or when the test fails
	t.Logf("browser log (console errors and warnings, lab changes):\n%s", tail(stderr.String(), 80))
	if t.Failed() {
		t.Logf("pingerplot ui output:\n%s", tail(ui.out.String(), 40))
	}
	if finished != nil {
		for _, f := range finished.Screenshots {
			st, err := os.Stat(f)
			if err != nil {
				t.Errorf("screenshot %s: %v", f, err)
				continue
			}
			t.Logf("wrote %s (%d KB)", f, st.Size()/1024)
		}
	}
	ui.stop(t)
}

// applyNeed makes the lab change the browser script asks for.
func applyNeed(l *lab.Lab, need string) error {
	last := len(l.Routers)
	switch need {
	case "latency-on":
		return l.SetLink(last, stepDelay, stepDelay)
	case "latency-off":
		return l.SetLink(last, baseDelays[last], baseDelays[last])
	}
	return fmt.Errorf("unknown request %q", need)
}

// browserPrereqs returns node and the script's absolute paths, or ends the
// test saying what to install: a skip, or a failure when the lab is
// required (CI), so the browser test can never pass by not running.
func browserPrereqs(t *testing.T) (node, script string) {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		msg := fmt.Sprintf(format, args...)
		if os.Getenv(lab.RequiredEnv) == "1" {
			t.Fatalf("%s (%s=1: the browser test may not skip)", msg, lab.RequiredEnv)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node not found in PATH: install Node 20 or later (scripts/install-deps.sh installs npm and node)")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		missing("%s not found: run scripts/install-deps.sh (Debian's chromium package)", chromiumPath)
	}
	web, err := filepath.Abs(webDir)
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		DevDependencies map[string]string `json:"devDependencies"`
	}
	b, err := os.ReadFile(filepath.Join(web, "package.json"))
	if err == nil {
		err = json.Unmarshal(b, &pkg)
	}
	if err != nil {
		t.Fatalf("read %s/package.json: %v", web, err)
	}
	want := pkg.DevDependencies["playwright-core"]
	var have struct {
		Version string `json:"version"`
	}
	b, err = os.ReadFile(filepath.Join(web, "node_modules", "playwright-core", "package.json"))
	if err == nil {
		err = json.Unmarshal(b, &have)
	}
	if err != nil || have.Version != want {
		missing("playwright-core %s is not installed in %s/node_modules (found %q): run `cd web && npm ci`", want, web, have.Version)
	}
	return node, filepath.Join(web, "test", "dashboard.mjs")
}

// uiProc is a running `pingerplot ui`.
type uiProc struct {
	cmd *exec.Cmd
	out *syncBuffer
	url string
}

var dashboardURL = regexp.MustCompile(`PingerPlot dashboard: (http://127\.0\.0\.1:\d+/\?token=\S+)`)

// startUI starts `pingerplot ui` as the unprivileged user in the client
// namespace, with its settings in dir, and waits for the URL it prints.
func startUI(t *testing.T, l *lab.Lab, dir string) *uiProc {
	t.Helper()
	u := &uiProc{out: &syncBuffer{}}
	u.cmd = l.CommandUnprivileged(context.Background(), l.Client, binary(t), "ui", "--no-browser", "--port", "0", "--config-dir", dir)
	u.cmd.Stdout, u.cmd.Stderr = u.out, u.out
	if err := u.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if u.cmd.ProcessState == nil {
			_ = u.cmd.Process.Kill()
			_ = u.cmd.Wait()
		}
	})
	waitFor(t, 20*time.Second, "the dashboard URL", func() bool {
		m := dashboardURL.FindStringSubmatch(u.out.String())
		if m != nil {
			u.url = m[1]
		}
		return m != nil
	})
	return u
}

// stop interrupts the ui as Ctrl-C would and waits for a clean exit.
func (u *uiProc) stop(t *testing.T) {
	t.Helper()
	_ = u.cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- u.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("pingerplot ui did not exit cleanly on SIGINT: %v\n%s", err, u.out.String())
		}
	case <-time.After(20 * time.Second):
		_ = u.cmd.Process.Kill()
		<-done
		t.Errorf("pingerplot ui did not stop within 20 s of SIGINT\n%s", u.out.String())
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
