//go:build linux

package lab

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Wine runs Windows programs (the real windows/amd64 pingerplot.exe and
// `GOOS=windows go test -c` binaries) inside one namespace of a lab, so the
// Windows code paths are tested on this Linux machine.
//
// Wine opens its sockets in its wineserver's helper processes, which live
// in the network namespace of whatever first started them and outlive the
// last Wine program by a few seconds. So each Wine has a private prefix
// that is created and used only inside its namespace, and its teardown
// stops that prefix's wineserver inside the same namespace: no probe of a
// Windows program ever leaves from the root namespace.
type Wine struct {
	t      testing.TB
	ns     string
	prefix string // WINEPREFIX
	home   string // HOME for Wine; it keeps nothing there but must exist
	loader string // the wine64 loader
	server string // wineserver
	// unpriv runs every Wine process as uid and gid 65534 with no
	// capabilities, like the lab's CommandUnprivileged.
	unpriv bool
}

//go:embed winshim/processprng.c
var processPrngC []byte

// mingwCC is the cross compiler that builds the ProcessPrng shim.
const mingwCC = "x86_64-w64-mingw32-gcc"

// wineTools finds Wine's 64-bit loader and its server. Debian's wine64
// package puts them under /usr/lib/wine without putting wine64 on PATH.
func wineTools() (loader, server string, err error) {
	for _, c := range []string{"/usr/lib/wine/wine64", "/usr/lib64/wine/wine64"} {
		if _, err := os.Stat(c); err == nil {
			loader = c
			break
		}
	}
	if loader == "" {
		if p, err := exec.LookPath("wine64"); err == nil {
			loader = p
		}
	}
	for _, c := range []string{filepath.Join(filepath.Dir(loader), "wineserver64"), filepath.Join(filepath.Dir(loader), "wineserver")} {
		if _, err := os.Stat(c); err == nil && loader != "" {
			server = c
			break
		}
	}
	if server == "" {
		if p, err := exec.LookPath("wineserver"); err == nil {
			server = p
		}
	}
	switch {
	case loader == "":
		return "", "", errors.New("Wine's 64-bit loader (wine64) not found: apt-get install wine64 (scripts/install-deps.sh)")
	case server == "":
		return "", "", errors.New("wineserver not found: apt-get install wine64 (scripts/install-deps.sh)")
	}
	if _, err := exec.LookPath(mingwCC); err != nil {
		return "", "", fmt.Errorf("%s not found: apt-get install gcc-mingw-w64-x86-64 (scripts/install-deps.sh)", mingwCC)
	}
	return loader, server, nil
}

// RequireWine skips the test unless Wine and mingw-w64 are installed and
// the lab can run; with PINGERPLOT_LAB_REQUIRED=1 it fails instead.
func RequireWine(t testing.TB) {
	t.Helper()
	RequireRoot(t)
	if _, _, err := wineTools(); err != nil {
		if os.Getenv(RequiredEnv) == "1" {
			t.Fatalf("Wine lab required (%s=1) but unavailable: %v", RequiredEnv, err)
		}
		t.Skipf("Wine lab unavailable: %v (set %s=1 to make this a failure)", err, RequiredEnv)
	}
}

// NewWine makes a Wine prefix for namespace ns of this lab (usually
// l.Client) and boots it there. Its teardown, registered with t.Cleanup,
// runs before the lab's own (cleanups run last-in first-out).
func (l *Lab) NewWine(t testing.TB, ns string) *Wine {
	t.Helper()
	return newWine(t, ns, false)
}

// NewWineUnprivileged is NewWine for a prefix owned by, and programs run
// as, uid and gid 65534 with no capabilities: the Windows program then has
// only what an ordinary Linux user has (Wine's ICMP helper uses ping
// sockets, no raw socket opens). Wine still calls its user an
// administrator, so a test of the no-administrator paths also passes
// --unprivileged to pingerplot.exe.
func (l *Lab) NewWineUnprivileged(t testing.TB, ns string) *Wine {
	t.Helper()
	return newWine(t, ns, true)
}

// NewWineNamespace makes a namespace of its own with only a loopback
// interface and a Wine prefix in it, for Windows programs that need no
// network of the lab (unit-test binaries). Both go at cleanup.
func NewWineNamespace(t testing.TB) *Wine {
	t.Helper()
	RequireWine(t)
	ns := newPrefix() + "-wine"
	if err := run("ip", "netns", "add", ns); err != nil {
		t.Fatalf("wine: create namespace %s: %v", ns, err)
	}
	t.Cleanup(func() {
		if err := removeNamespaces([]string{ns}); err != nil {
			t.Errorf("wine: remove namespace %s: %v", ns, err)
		}
	})
	if err := run("ip", "-n", ns, "link", "set", "lo", "up"); err != nil {
		t.Fatalf("wine: loopback up in %s: %v", ns, err)
	}
	return newWine(t, ns, false)
}

// nobody is the uid and gid of unprivileged Wine prefixes.
const nobody = 65534

func newWine(t testing.TB, ns string, unpriv bool) *Wine {
	t.Helper()
	RequireWine(t)
	loader, server, _ := wineTools()
	dir, err := os.MkdirTemp("", "pp-wine-")
	if err != nil {
		t.Fatal(err)
	}
	w := &Wine{t: t, ns: ns, prefix: filepath.Join(dir, "prefix"), home: filepath.Join(dir, "home"), loader: loader, server: server, unpriv: unpriv}
	t.Cleanup(func() { w.close(); os.RemoveAll(dir) })
	if err := os.Mkdir(w.home, 0o700); err != nil {
		t.Fatal(err)
	}
	if unpriv {
		// Wine refuses a prefix its user does not own.
		for _, p := range []string{dir, w.home} {
			if err := os.Chown(p, nobody, nobody); err != nil {
				t.Fatal(err)
			}
		}
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := w.Command(ctx, "wineboot", "--init").CombinedOutput(); err != nil {
		t.Fatalf("wine: wineboot in %s: %v\n%s", ns, err, out)
	}
	shim := filepath.Join(dir, "processprng.c")
	if err := os.WriteFile(shim, processPrngC, 0o644); err != nil {
		t.Fatal(err)
	}
	dll := filepath.Join(w.prefix, "drive_c", "windows", "system32", "bcryptprimitives.dll")
	if out, err := exec.Command(mingwCC, "-shared", "-O2", "-o", dll, shim, "-lbcrypt").CombinedOutput(); err != nil {
		t.Fatalf("wine: build the ProcessPrng shim: %v\n%s", err, out)
	}
	if unpriv {
		if err := os.Chown(dll, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("wine: prefix booted in namespace %s in %v", ns, time.Since(start).Round(time.Millisecond))
	return w
}

// Namespace is where this Wine's programs run.
func (w *Wine) Namespace() string { return w.ns }

// Env is the environment every Wine command gets: the test's, with the
// private prefix, HOME, and Wine's debug channels off.
func (w *Wine) Env() []string {
	env := make([]string, 0, len(os.Environ())+4)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "WINEPREFIX=") || strings.HasPrefix(kv, "WINEDEBUG=") || strings.HasPrefix(kv, "HOME=") ||
			strings.HasPrefix(kv, "DISPLAY=") || strings.HasPrefix(kv, "WAYLAND_DISPLAY=") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "WINEPREFIX="+w.prefix, "HOME="+w.home, "WINEDEBUG=-all")
}

// Command returns a command that runs a Windows program (a path on this
// machine, or a Wine builtin such as wineboot) with args inside the
// namespace. Extra variables may be appended to its Env.
func (w *Wine) Command(ctx context.Context, exe string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append(w.prelude(w.loader, exe), args...)...)
	cmd.Env = w.Env()
	return cmd
}

// prelude is the ip(8) command line that runs name inside the namespace,
// as the prefix's user.
func (w *Wine) prelude(name ...string) []string {
	pre := []string{"netns", "exec", w.ns}
	if w.unpriv {
		pre = append(pre, "setpriv", fmt.Sprintf("--reuid=%d", nobody), fmt.Sprintf("--regid=%d", nobody), "--clear-groups",
			"--inh-caps=-all", "--bounding-set=-all", "--")
	}
	return append(pre, name...)
}

// Path is where Wine keeps file within the prefix's C: drive (for a log a
// Windows program writes to C:\...).
func (w *Wine) Path(file ...string) string {
	return filepath.Join(append([]string{w.prefix, "drive_c"}, file...)...)
}

// close stops the prefix's wineserver (and with it every program of the
// prefix) inside the namespace, and waits until it is gone.
func (w *Wine) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", w.prelude(w.server, "-k")...)
	cmd.Env = w.Env()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run() // exits non-zero when no server runs: nothing to stop
	wait := exec.CommandContext(ctx, "ip", w.prelude(w.server, "-w")...)
	wait.Env = w.Env()
	_ = wait.Run()
}
