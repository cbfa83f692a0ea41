//go:build linux

package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/lab"
)

// windowsUnits are the packages whose tests run as Windows programs under
// Wine (TestWindowsUnitTestsUnderWine), with the tests to run: all of them
// (run "") for the pure logic and for probe (the ICMP helper API and
// Winsock on loopback) and session; desktop's structure layouts (its tray
// window needs a window station that a Wine prefix without a display
// driver does not give);
// only the Windows-specific ones where the rest checks POSIX behaviour a
// Windows file system does not have (0600 modes, deleting or renaming an
// open file, chmod to make a folder unwritable): csvlog (LockFileEx),
// config (atomic replacement against an open handle), service (the
// service handler) and tui (console modes). Left out: geo, web, cli,
// resolve, metrics, notify and recorder, whose tests open Go UDP sockets
// (Wine 8 refuses SIO_UDP_NETRESET, which Go sets on every one) or servers
// and files in numbers that Wine's missing unlink makes fail at cleanup;
// they are cross-built for Windows by CI and hold no Windows-only code.
var windowsUnits = []struct{ pkg, run string }{
	{"packet", ""}, {"hopstat", ""}, {"alert", ""}, {"report", ""}, {"trace", ""},
	{"monitor", ""}, {"session", ""}, {"probe", ""}, {"desktop", "TestLayouts|TestDecide|TestMenuCommand|TestIconCommand|TestConfigDo|TestTooltip"}, {"buildinfo", "TestFromBuildInfo|TestString"},
	{"csvlog", "TestLockWindows"}, {"config", "TestWriteAtomicWhileOpen|TestSharingError"},
	{"service", "TestHandler|TestCommandLine"}, {"tui", "TestOpenTTYConsoleModes|TestRender"},
}

// wineCleanupOnly matches the one failure that is Wine's, not ours: Go's
// os.RemoveAll deletes with FILE_DISPOSITION_INFORMATION_EX, which Wine 8
// does not implement, so t.TempDir's cleanup fails after the test itself
// has passed.
var wineCleanupOnly = regexp.MustCompile(`^\s+testing\.go:\d+: TempDir RemoveAll cleanup: unlinkat .*: Invalid function\.$`)

// onlyWineCleanup reports whether a failed test binary's output (without
// -test.v) shows nothing but failures of t.TempDir's cleanup.
func onlyWineCleanup(out string) (bool, int) {
	n := 0
	for _, line := range strings.Split(out, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "", trimmed == "FAIL", strings.HasPrefix(trimmed, "--- FAIL: "):
		case wineCleanupOnly.MatchString(line):
			n++
		default:
			return false, 0
		}
	}
	return n > 0, n
}

// TestWindowsUnitTestsUnderWine builds each package's tests as a
// windows/amd64 program (`GOOS=windows go test -c`) and runs it under Wine
// in a namespace of its own that has only a loopback interface, from the
// package's folder as go test would: the Windows build of the pure logic
// behaves as the Linux one, and the Windows-only code (build-tagged
// *_windows.go with its tests) runs for real against Wine's implementation
// of the Windows API.
func TestWindowsUnitTestsUnderWine(t *testing.T) {
	lab.RequireWine(t)
	w := lab.NewWineNamespace(t)
	dir := t.TempDir()
	for _, u := range windowsUnits {
		t.Run(u.pkg, func(t *testing.T) {
			exe := filepath.Join(dir, u.pkg+".test.exe")
			build := exec.Command("go", "test", "-c", "-o", exe, "github.com/pingerplot/pingerplot/internal/"+u.pkg)
			build.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("GOOS=windows go test -c %s: %v\n%s", u.pkg, err, out)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			args := []string{"-test.count=1", "-test.timeout=4m"}
			if u.run != "" {
				args = append(args, "-test.run", u.run)
			}
			cmd := w.Command(ctx, exe, args...)
			cmd.Dir = filepath.Join("..", u.pkg) // its testdata
			start := time.Now()
			out, err := cmd.CombinedOutput()
			s := string(out)
			took := time.Since(start).Round(time.Millisecond)
			if err == nil && strings.Contains(s, "PASS") {
				t.Logf("%s: PASS under Wine in %v", u.pkg, took)
				return
			}
			if ok, n := onlyWineCleanup(s); err != nil && ok {
				t.Logf("%s: every test passed under Wine in %v; %d temporary folders were left, Wine cannot delete them", u.pkg, took, n)
				return
			}
			t.Fatalf("%s.test.exe under Wine: %v\n%s", u.pkg, err, tail(s, 60))
		})
	}
}
