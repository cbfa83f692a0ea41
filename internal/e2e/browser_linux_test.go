//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
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
// every tab, the Map tab placing the lab's routers in the cities of a test
// database (labGeoDB) with nothing sent online, an alert raised and
// cleared by a latency step on the last
// link, pause and resume, one target's settings, the summary CSV, a saved
// session removed and loaded back, a second (IPv6) target, the theme, a
// reload, and the Engine dialog refusing bad values. With
// -update-screenshots it also writes
// docs/screenshots/{dashboard,map,timeline,alert}-{dark,light}.png (2x, after
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
	// The Map tab's places: a test database in the geo folder of the
	// config directory the unprivileged ui sees (XDG_CONFIG_HOME), and an
	// empty cache directory of its own, so nothing of the machine's is used.
	xdg := filepath.Join(dir, "xdg-config")
	labGeoDB(t, l, xdg)
	cache := filepath.Join(dir, "xdg-cache")
	if err := os.Mkdir(cache, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cache, 0o777); err != nil {
		t.Fatal(err)
	}
	ui := startUI(t, l, dir, "XDG_CONFIG_HOME="+xdg, "XDG_CACHE_HOME="+cache)

	var hops, hosts, hops6, places, asns []string
	for i, a := range append(l.Hops4, l.TargetAddr4) {
		hops = append(hops, a.String())
		hosts = append(hosts, names[a.String()])
		places = append(places, labPath4[i].City)
		asns = append(asns, fmt.Sprint(labPath4[i].ASN))
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
		"PP_PLACES=" + strings.Join(places, ","),
		"PP_ASNS=" + strings.Join(asns, ","),
		"PP_PLACE6=" + labPath4[len(labPath4)-1].City,
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

	finished := runBrowserScenario(t, l, ui, node, script, env, 8*time.Minute, func(need string) error { return applyNeed(l, need) })
	if finished != nil {
		for _, f := range finished.Screenshots {
			before, after, err := shrinkPNG(f)
			if err != nil {
				t.Errorf("screenshot %s: %v", f, err)
				continue
			}
			t.Logf("wrote %s (%d KB; %d KB as Chromium wrote it)", f, after/1024, before/1024)
		}
	}
	ui.stop(t)
}

// runBrowserScenario runs a step script of web/test (dashboard.mjs'
// protocol: step lines, lab requests answered through need, a final
// {"done":true}) in the client namespace against ui, logs every step and
// fails the test on a failed step, an unfinished run or the deadline. It
// returns the final line, nil when the run did not finish.
func runBrowserScenario(t *testing.T, l *lab.Lab, ui *uiProc, node, script string, env []string, timeout time.Duration, need func(string) error) *browserStep {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
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
			if err := need(s.Need); err != nil {
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
	return finished
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
// namespace, with its settings in dir and env ("KEY=value") added to the
// test's environment, and waits for the URL it prints.
func startUI(t *testing.T, l *lab.Lab, dir string, env ...string) *uiProc {
	t.Helper()
	u := &uiProc{out: &syncBuffer{}}
	u.cmd = l.CommandUnprivileged(context.Background(), l.Client, binary(t), "ui", "--no-browser", "--port", "0", "--config-dir", dir)
	if len(env) > 0 {
		u.cmd.Env = append(os.Environ(), env...)
	}
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

// shrinkPNG rewrites the screenshot at path with a 256-colour palette, so
// the committed screenshots stay small (a map at 2x is half a megabyte as
// Chromium writes it, a third of that paletted). The page's flat colours
// keep their exact values: the 64 most frequent colours are kept as they
// are and the rest (anti-aliasing of text, lines and coastlines) are
// median-cut into the other 192, without dithering. It returns the sizes
// before and after; the file is left alone if paletting would not shrink it.
func shrinkPNG(path string) (before, after int64, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, err
	}
	src, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		return 0, 0, err
	}
	b := src.Bounds()
	img := image.NewNRGBA(b)
	draw.Draw(img, b, src, b.Min, draw.Src)
	pal := medianCut(img, 256, 64)
	out := image.NewPaletted(b, pal)
	index := map[color.NRGBA]uint8{}
	for i := 0; i < len(img.Pix); i += 4 {
		c := color.NRGBA{img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3]}
		k, ok := index[c]
		if !ok {
			k = uint8(pal.Index(c))
			index[c] = k
		}
		out.Pix[i/4] = k
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, out); err != nil {
		return 0, 0, err
	}
	if buf.Len() >= len(raw) {
		return int64(len(raw)), int64(len(raw)), nil
	}
	return int64(len(raw)), int64(buf.Len()), os.WriteFile(path, buf.Bytes(), 0o644)
}

// medianCut returns a palette of at most n colours for img: its exact most
// frequent colours, then the weighted means of the boxes that splitting
// the other colours at their weighted median gives (the box with the most
// pixels times the widest channel range is split first).
func medianCut(img *image.NRGBA, n, exact int) color.Palette {
	type count struct {
		c color.NRGBA
		n int
	}
	seen := map[color.NRGBA]int{}
	for i := 0; i < len(img.Pix); i += 4 {
		seen[color.NRGBA{img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3]}]++
	}
	all := make([]count, 0, len(seen))
	for c, k := range seen {
		all = append(all, count{c, k})
	}
	key := func(c color.NRGBA) uint32 { return uint32(c.R)<<24 | uint32(c.G)<<16 | uint32(c.B)<<8 | uint32(c.A) }
	sort.Slice(all, func(i, j int) bool {
		if all[i].n != all[j].n {
			return all[i].n > all[j].n
		}
		return key(all[i].c) < key(all[j].c)
	})
	var pal color.Palette
	if len(all) <= n {
		for _, x := range all {
			pal = append(pal, x.c)
		}
		return pal
	}
	for _, x := range all[:exact] {
		pal = append(pal, x.c)
	}
	channel := func(c color.NRGBA, k int) int { return int([4]uint8{c.R, c.G, c.B, c.A}[k]) }
	boxes := [][]count{all[exact:]}
	for len(boxes) < n-exact {
		best, bestK, bestScore := -1, 0, 0
		for i, box := range boxes {
			if len(box) < 2 {
				continue
			}
			pixels := 0
			for _, x := range box {
				pixels += x.n
			}
			for k := 0; k < 4; k++ {
				lo, hi := 255, 0
				for _, x := range box {
					lo, hi = min(lo, channel(x.c, k)), max(hi, channel(x.c, k))
				}
				if score := (hi - lo) * pixels; score > bestScore {
					best, bestK, bestScore = i, k, score
				}
			}
		}
		if best < 0 {
			break
		}
		box := boxes[best]
		sort.Slice(box, func(i, j int) bool {
			a, b := channel(box[i].c, bestK), channel(box[j].c, bestK)
			return a < b || a == b && key(box[i].c) < key(box[j].c)
		})
		pixels := 0
		for _, x := range box {
			pixels += x.n
		}
		cut, acc := len(box)-1, 0
		for i, x := range box {
			if acc += x.n; 2*acc >= pixels {
				cut = min(max(i+1, 1), len(box)-1)
				break
			}
		}
		boxes = append(boxes[:best], append([][]count{box[:cut], box[cut:]}, boxes[best+1:]...)...)
	}
	for _, box := range boxes {
		var r, g, bl, a, t int
		for _, x := range box {
			r, g, bl, a, t = r+int(x.c.R)*x.n, g+int(x.c.G)*x.n, bl+int(x.c.B)*x.n, a+int(x.c.A)*x.n, t+x.n
		}
		pal = append(pal, color.NRGBA{uint8((r + t/2) / t), uint8((g + t/2) / t), uint8((bl + t/2) / t), uint8((a + t/2) / t)})
	}
	return pal
}
