//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pingerplot/pingerplot/internal/lab"
)

// windowsUnit is a package whose tests run as a Windows program under Wine
// (TestWindowsUnitTestsUnderWine): every test of it, but those matched by
// skip, left out for the reason in why.
type windowsUnit struct {
	pkg  string
	skip string // a -test.skip pattern, anchored by the test
	why  string
	// console runs the program with a pseudo-terminal as its standard
	// input and output, which Wine turns into a Windows console.
	console bool
	// labOnly names Windows-only tests that skip themselves here because
	// they need a routed path; another test runs them in the lab.
	labOnly []string
}

// windowsUnits are all packages with tests but e2e and lab (Linux only).
// Left out of each, with why: tests that check POSIX behaviour a Windows
// file system does not have, and the few that need a Go toolchain. The
// prefix has a virtual display, so desktop's icon tests run too.
var windowsUnits = []windowsUnit{
	{pkg: "packet"}, {pkg: "hopstat"}, {pkg: "alert"}, {pkg: "report"}, {pkg: "trace"}, {pkg: "monitor"},
	{pkg: "session"}, {pkg: "workqueue"}, {pkg: "metrics"}, {pkg: "resolve"},
	{pkg: "recorder"}, {pkg: "notify"}, {pkg: "geo"}, {pkg: "atomicfile"}, {pkg: "probe/result"},
	// the history store: SQLite (pure Go) in WAL mode on a Windows file
	// system, a kill of a writing process included
	{pkg: "history", skip: "TestSimulatedWeek",
		why: "a simulated week of retention is the same arithmetic as on Linux and takes 100 s under Wine; the file's behaviour on Windows is the other tests'"},
	{pkg: "evidence", skip: "TestVantage",
		why: "it finds this machine's address with a connected UDP socket, which Wine 8 refuses (SIO_UDP_NETRESET)"},
	// the notification-area icon's window and message loop, on the
	// prefix's virtual display (Xvfb): a window station to add it to
	{pkg: "desktop"},
	{pkg: "probe", labOnly: []string{"TestWindowsSockTraceLab"}},
	{pkg: "tui", console: true},
	{pkg: "csvlog", skip: "TestKillDuringWrites|TestUnwritablePath|TestFileRemovedUnderneath",
		why: "a kill inside a row's write (Wine writes each WriteFile with one write(2), so no row is ever torn), chmod making a folder unwritable, and deleting the folder of an open file are POSIX behaviour"},
	{pkg: "config", skip: "TestUserRoundTrip",
		why: "it checks the settings file's 0600 mode; Windows protects %AppData% with the user's ACL instead"},
	{pkg: "web", skip: "TestGetPutSettings",
		why: "it checks the settings file's 0600 mode; Windows protects %AppData% with the user's ACL instead"},
	{pkg: "service", skip: "TestAutostartDir",
		why: "XDG autostart folders are Linux paths; filepath.IsAbs(\"/home/ann\") is false on Windows"},
	{pkg: "cli", skip: "TestServeMetrics|TestHeadlessSlowDNS",
		why: "TestServeMetrics expects Linux's text for a busy port (Windows says \"Only one usage of each socket address\", Wine only \"winapi error #10048\"); TestHeadlessSlowDNS logs its figures, so Wine's failed TempDir cleanup would make it a failure that cannot be told from a real one"},
	{pkg: "archtest", skip: "TestTransitiveImports",
		why: "it runs `go list`, and the Go toolchain here is a Linux program"},
	{pkg: "buildinfo", skip: "TestWindowsBuildCarriesResources|TestStampedBinaryPrintsVersion|TestReleaseScript",
		why: "they run the Go toolchain and the release script (bash) to build and inspect the .exe: Linux programs"},
}

// wineCleanupOnly matches the one failure that is Wine's, not ours: Go's
// os.RemoveAll deletes with FILE_DISPOSITION_INFORMATION_EX, which Wine 8
// does not implement (STATUS_NOT_IMPLEMENTED, where Go falls back only on
// the statuses of older Windows), so t.TempDir's cleanup fails after the
// test itself has passed.
var wineCleanupOnly = regexp.MustCompile(`^\s+testing\.go:\d+: TempDir RemoveAll cleanup: unlinkat .*: Invalid function\.\s*$`)

// testEvent is one line of `go tool test2json`.
type testEvent struct {
	Action string
	Test   string
	Output string
}

// unitVerdict is what one test binary's run showed, test by test.
type unitVerdict struct {
	passed    []string // top-level tests that passed
	cleanup   []string // failed only by Wine's TempDir cleanup
	skipped   map[string]string
	failed    map[string]string // test → its output
	finalLine string
}

// judgeTestJSON reads test2json events. A test that failed counts as
// passed only when every line it printed is a framing line or Wine's
// cleanup failure: a test that logs anything while failing is a failure,
// since a log line cannot be told from an error line.
func judgeTestJSON(r io.Reader) (unitVerdict, error) {
	v := unitVerdict{skipped: map[string]string{}, failed: map[string]string{}}
	out := map[string]*strings.Builder{}
	final := map[string]string{}
	var order []string
	dec := json.NewDecoder(r)
	for {
		var e testEvent
		if err := dec.Decode(&e); err == io.EOF {
			break
		} else if err != nil {
			return v, fmt.Errorf("test2json output: %w", err)
		}
		if e.Test == "" {
			if e.Output != "" {
				v.finalLine = strings.TrimSpace(e.Output)
			}
			continue
		}
		if out[e.Test] == nil {
			out[e.Test] = &strings.Builder{}
			order = append(order, e.Test)
		}
		switch e.Action {
		case "output":
			out[e.Test].WriteString(e.Output)
		case "pass", "fail", "skip":
			final[e.Test] = e.Action
		}
	}
	// A parent fails with its subtests; judge the leaves, then the parent
	// by its own lines and its children's verdicts.
	forgiven := map[string]bool{}
	sort.Slice(order, func(i, j int) bool { return strings.Count(order[i], "/") > strings.Count(order[j], "/") })
	for _, name := range order {
		switch final[name] {
		case "pass":
			if !strings.Contains(name, "/") {
				v.passed = append(v.passed, name)
			}
		case "skip":
			if !strings.Contains(name, "/") {
				v.skipped[name] = skipReason(out[name].String())
			}
		case "fail":
			own, cleanup := ownLines(out[name].String())
			kids := true
			for _, c := range order {
				if strings.HasPrefix(c, name+"/") && strings.Count(c, "/") == strings.Count(name, "/")+1 && final[c] == "fail" && !forgiven[c] {
					kids = false
				}
			}
			if own == 0 && kids && (cleanup > 0 || hasForgivenChild(name, order, forgiven)) {
				forgiven[name] = true
				if !strings.Contains(name, "/") {
					v.cleanup = append(v.cleanup, name)
				}
			} else if !strings.Contains(name, "/") || own > 0 {
				v.failed[name] = out[name].String()
			}
		default:
			v.failed[name] = "no verdict (the program died during this test)\n" + out[name].String()
		}
	}
	return v, nil
}

func hasForgivenChild(name string, order []string, forgiven map[string]bool) bool {
	for _, c := range order {
		if strings.HasPrefix(c, name+"/") && forgiven[c] {
			return true
		}
	}
	return false
}

// ownLines counts a test's printed lines other than framing and Wine's
// cleanup failure, and the cleanup failures.
func ownLines(s string) (own, cleanup int) {
	for _, line := range strings.Split(s, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "", strings.HasPrefix(trimmed, "=== "), strings.HasPrefix(trimmed, "--- "):
		case wineCleanupOnly.MatchString(line):
			cleanup++
		default:
			own++
		}
	}
	return own, cleanup
}

func skipReason(s string) string {
	for _, line := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "=== ") && !strings.HasPrefix(t, "--- ") {
			return t
		}
	}
	return "no reason given"
}

// TestJudgeTestJSON: the verdicts that decide whether a Windows test
// binary passed under Wine, on recorded test2json streams.
func TestJudgeTestJSON(t *testing.T) {
	const cleanupLine = "    testing.go:1464: TempDir RemoveAll cleanup: unlinkat C:\\users\\root\\Temp\\TestA1\\001\\f: Invalid function.\n"
	ev := func(action, test, output string) string {
		b, _ := json.Marshal(testEvent{Action: action, Test: test, Output: output})
		return string(b) + "\n"
	}
	cases := []struct {
		name                    string
		stream                  string
		passed, cleanup, failed []string
		skipped                 []string
		wantErr                 bool
	}{
		{"pass and skip", ev("run", "TestA", "") + ev("output", "TestA", "=== RUN   TestA\n") + ev("pass", "TestA", "") +
			ev("run", "TestB", "") + ev("output", "TestB", "    b_test.go:9: needs a console\n") + ev("skip", "TestB", ""),
			[]string{"TestA"}, nil, nil, []string{"TestB"}, false},
		{"failed only by Wine's cleanup", ev("run", "TestA", "") + ev("output", "TestA", cleanupLine) +
			ev("output", "TestA", "--- FAIL: TestA (0.00s)\n") + ev("fail", "TestA", ""),
			nil, []string{"TestA"}, nil, nil, false},
		{"a real failure beside the cleanup", ev("run", "TestA", "") + ev("output", "TestA", "    a_test.go:12: got 1; want 2\n") +
			ev("output", "TestA", cleanupLine) + ev("fail", "TestA", ""),
			nil, nil, []string{"TestA"}, nil, false},
		{"a failure with no line at all", ev("run", "TestA", "") + ev("fail", "TestA", ""),
			nil, nil, []string{"TestA"}, nil, false},
		{"subtests: cleanup forgiven, a real one not", ev("run", "TestA/x", "") + ev("output", "TestA/x", cleanupLine) +
			ev("fail", "TestA/x", "") + ev("output", "TestA", "--- FAIL: TestA (0.00s)\n") + ev("fail", "TestA", "") +
			ev("run", "TestB/y", "") + ev("output", "TestB/y", "    b_test.go:3: got nil; want an error\n") + ev("fail", "TestB/y", "") +
			ev("fail", "TestB", ""),
			nil, []string{"TestA"}, []string{"TestB", "TestB/y"}, nil, false},
		{"the program died in a test", ev("run", "TestA", "") + ev("output", "TestA", "panic: boom\n"),
			nil, nil, []string{"TestA"}, nil, false},
		{"not test2json", "PASS\n", nil, nil, nil, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := judgeTestJSON(strings.NewReader(c.stream))
			if (err != nil) != c.wantErr {
				t.Fatalf("error %v; want error %v", err, c.wantErr)
			}
			var failed, skipped []string
			for k := range v.failed {
				failed = append(failed, k)
			}
			for k := range v.skipped {
				skipped = append(skipped, k)
			}
			slices.Sort(failed)
			for _, f := range []struct {
				what      string
				got, want []string
			}{{"passed", v.passed, c.passed}, {"cleanup", v.cleanup, c.cleanup}, {"failed", failed, c.failed}, {"skipped", skipped, c.skipped}} {
				if !slices.Equal(f.got, f.want) {
					t.Errorf("%s %q; want %q", f.what, f.got, f.want)
				}
			}
		})
	}
}

// windowsOnlyTests lists the tests in a package's *_windows_test.go files:
// the ones that exercise the Windows-only code, which must run (not skip)
// under Wine.
func windowsOnlyTests(t *testing.T, pkg string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", pkg, "*_windows_test.go"))
	re := regexp.MustCompile(`(?m)^func (Test\w+)\(t \*testing\.T\)`)
	var names []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			names = append(names, m[1])
		}
	}
	return names
}

// openConsole returns a pseudo-terminal's two ends; Wine makes a Windows
// console of a terminal on a program's standard input and output.
func openConsole() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open a pseudo-terminal: %w", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("unlock the pseudo-terminal: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("pseudo-terminal number: %w", err)
	}
	// Wide, so the console does not wrap a test's long lines.
	if err := unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: 50, Col: 1000}); err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("pseudo-terminal size: %w", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		m.Close()
		return nil, nil, fmt.Errorf("open the pseudo-terminal's terminal end: %w", err)
	}
	return m, s, nil
}

// consoleNoise is what a console adds around a program's text: escape
// sequences and carriage returns.
var consoleNoise = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r`)

// runUnderWine runs a test binary under w from the package's folder (its
// testdata), in a console when asked, and returns its -test.v=test2json
// output.
func runUnderWine(t *testing.T, w *lab.Wine, u windowsUnit, exe string, env []string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := w.Command(ctx, exe, args...)
	cmd.Dir = filepath.Join("..", u.pkg)
	cmd.Env = append(cmd.Env, env...)
	if !u.console {
		return cmd.CombinedOutput()
	}
	master, slave, err := openConsole()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	if err := cmd.Start(); err != nil {
		slave.Close()
		return nil, err
	}
	slave.Close()
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() {
		// EIO once every holder of the terminal end has exited
		_, _ = io.Copy(&out, master)
		close(copied)
	}()
	err = cmd.Wait()
	select {
	case <-copied:
	case <-time.After(5 * time.Second):
		// wineserver may hold the terminal a little longer
	}
	return consoleNoise.ReplaceAll(out.Bytes(), nil), err
}

// test2json turns a test binary's -test.v=test2json output into events.
func test2json(raw []byte) ([]byte, error) {
	cmd := exec.Command("go", "tool", "test2json")
	cmd.Stdin = bytes.NewReader(raw)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go tool test2json: %v: %s", err, errb.String())
	}
	return out.Bytes(), nil
}

// TestWindowsUnitTestsUnderWine builds each package's tests as a
// windows/amd64 program (`GOOS=windows go test -c`) and runs it under Wine
// in a namespace of its own that has only a loopback interface, from the
// package's folder as go test would: the Windows build of the pure logic
// behaves as the Linux one, and the Windows-only code (build-tagged
// *_windows.go with its tests) runs for real against Wine's implementation
// of the Windows API. Each test's verdict is read from test2json; the tests
// of the package's *_windows_test.go files must pass, not skip.
func TestWindowsUnitTestsUnderWine(t *testing.T) {
	lab.RequireWine(t)
	w := lab.NewWineNamespaceWithDisplay(t)
	dir, err := os.MkdirTemp("", "pp-wine-units-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, u := range windowsUnits {
		t.Run(u.pkg, func(t *testing.T) {
			exe := filepath.Join(dir, strings.ReplaceAll(u.pkg, "/", "-")+".test.exe")
			build := exec.Command("go", "test", "-c", "-o", exe, "github.com/pingerplot/pingerplot/internal/"+u.pkg)
			build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("GOOS=windows go test -c %s: %v\n%s", u.pkg, err, out)
			}
			args := []string{"-test.v=test2json", "-test.count=1", "-test.timeout=4m"}
			if u.skip != "" {
				args = append(args, "-test.skip", "^("+u.skip+")$")
				t.Logf("%s: not run under Wine: %s: %s", u.pkg, u.skip, u.why)
			}
			start := time.Now()
			raw, runErr := runUnderWine(t, w, u, exe, nil, args...)
			took := time.Since(start).Round(time.Millisecond)
			events, err := test2json(raw)
			if err != nil {
				t.Fatal(err)
			}
			v, err := judgeTestJSON(bytes.NewReader(events))
			if err != nil {
				t.Fatal(err)
			}
			for name, out := range v.failed {
				t.Errorf("%s under Wine: %s failed:\n%s", u.pkg, name, tail(out, 30))
			}
			if runErr != nil && len(v.failed) == 0 && len(v.cleanup) == 0 {
				t.Errorf("%s.test.exe under Wine: %v, yet no test failed:\n%s", u.pkg, runErr, tail(string(raw), 30))
			}
			if len(v.passed)+len(v.cleanup) == 0 {
				t.Errorf("%s under Wine: no test passed; want the package's tests run (%s)", u.pkg, v.finalLine)
			}
			for _, name := range windowsOnlyTests(t, u.pkg) {
				switch {
				case regexp.MustCompile("^("+u.skip+")$").MatchString(name) && u.skip != "":
				case slices.Contains(u.labOnly, name):
					if _, ok := v.skipped[name]; !ok && !slices.Contains(v.passed, name) {
						t.Errorf("%s: %s neither ran nor skipped", u.pkg, name)
					}
				case slices.Contains(v.passed, name), slices.Contains(v.cleanup, name):
				default:
					t.Errorf("%s: the Windows-only %s did not pass under Wine (skipped: %q)", u.pkg, name, v.skipped[name])
				}
			}
			var skips []string
			for name, why := range v.skipped {
				skips = append(skips, name+" ("+why+")")
			}
			sort.Strings(skips)
			t.Logf("%s under Wine in %v: %d tests passed, %d more passed but Wine could not delete their t.TempDir, %d skipped themselves%s",
				u.pkg, took, len(v.passed), len(v.cleanup), len(v.skipped), strings.Join(append([]string{""}, skips...), "\n    "))
		})
	}
}

// TestWindowsSockTraceUnderWine runs probe's TestWindowsSockTraceLab, the
// Winsock backend's TCP and UDP TTL walk through the administrator path (a
// raw ICMP socket), as a Windows program under Wine in a lab's client
// namespace, where it has a routed path to walk.
func TestWindowsSockTraceUnderWine(t *testing.T) {
	lab.RequireWine(t)
	l := lab.New(t, lab.Options{Routers: 3})
	const port = 8080
	stop, err := l.ListenTCP(l.Target, port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	w := l.NewWine(t, l.Client)
	dir, err := os.MkdirTemp("", "pp-wine-sock-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	exe := filepath.Join(dir, "probe.test.exe")
	build := exec.Command("go", "test", "-c", "-o", exe, "github.com/pingerplot/pingerplot/internal/probe")
	build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=windows go test -c probe: %v\n%s", err, out)
	}
	spec := fmt.Sprintf("%s,%d,%d", l.TargetAddr4, len(l.Hops4)+1, port)
	raw, runErr := runUnderWine(t, w, windowsUnit{pkg: "probe"}, exe, []string{"PINGERPLOT_WINSOCK_TRACE=" + spec},
		"-test.v=test2json", "-test.count=1", "-test.run", "^TestWindowsSockTraceLab$")
	events, err := test2json(raw)
	if err != nil {
		t.Fatal(err)
	}
	v, err := judgeTestJSON(bytes.NewReader(events))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(v.passed, "TestWindowsSockTraceLab") || len(v.failed) > 0 || runErr != nil {
		t.Fatalf("TestWindowsSockTraceLab under Wine (PINGERPLOT_WINSOCK_TRACE=%s): %v; passed %q, skipped %q\n%s",
			spec, runErr, v.passed, v.skipped, tail(string(raw), 40))
	}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); strings.Contains(line, "raw_windows_test.go") {
			t.Log(line)
		}
	}
}
