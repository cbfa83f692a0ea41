//go:build linux

package lab

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
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
	// display is the X display of an Xvfb the Wine started (":N"), or "".
	display string
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
// network of the lab (unit-test binaries). Like a lab, it is recorded so
// that a killed test binary's namespace is swept by the next lab, and it
// holds the machine lock shared, so no Exclusive timing test runs beside
// the CPU that Wine's programs take. Both go at cleanup.
func NewWineNamespace(t testing.TB) *Wine {
	t.Helper()
	return newWineNamespace(t, false)
}

// NewWineNamespaceWithDisplay is NewWineNamespace with a virtual X display
// (Xvfb) for the prefix, so Windows programs get a desktop: a window
// station where a notification-area icon can be added.
func NewWineNamespaceWithDisplay(t testing.TB) *Wine {
	t.Helper()
	return newWineNamespace(t, true)
}

func newWineNamespace(t testing.TB, display bool) *Wine {
	t.Helper()
	RequireWine(t)
	if display {
		if _, err := exec.LookPath("Xvfb"); err != nil {
			if os.Getenv(RequiredEnv) == "1" {
				t.Fatalf("Wine lab required (%s=1) but Xvfb is missing: apt-get install xvfb (scripts/install-deps.sh)", RequiredEnv)
			}
			t.Skip("Xvfb not found: apt-get install xvfb (scripts/install-deps.sh)")
		}
	}
	sweepStale(t)
	lock, err := sharedLock()
	if err != nil {
		t.Fatalf("wine: %v", err)
	}
	var prefix string
	for attempt := 0; ; attempt++ {
		prefix = newPrefix()
		taken, _ := filepath.Glob(netnsPath(prefix + "-*"))
		if len(taken) == 0 {
			if err = claimState(prefix); err == nil {
				break
			}
		}
		if attempt > 20 {
			lock.Close()
			t.Fatalf("wine: no free namespace name: %v", err)
		}
	}
	ns := prefix + "-wine"
	t.Cleanup(func() {
		if err := errors.Join(removeNamespaces([]string{ns}), removeState(prefix)); err != nil {
			t.Errorf("wine: remove namespace %s: %v", ns, err)
		}
		if lock != nil {
			lock.Close()
		}
	})
	if err := writeState(prefix, []string{ns}); err != nil {
		t.Fatalf("wine: %v", err)
	}
	if err := run("ip", "netns", "add", ns); err != nil {
		t.Fatalf("wine: create namespace %s: %v", ns, err)
	}
	if err := run("ip", "-n", ns, "link", "set", "lo", "up"); err != nil {
		t.Fatalf("wine: loopback up in %s: %v", ns, err)
	}
	d := ""
	if display {
		d = startXvfb(t, ns)
	}
	return newWineWithDisplay(t, ns, false, d)
}

// startXvfb starts a virtual X server inside ns on a free display number
// and stops it at cleanup (after the prefix's wineserver, whose cleanup
// was registered later and so runs first). It listens on no TCP port; its
// socket is the namespace's own abstract one plus a file in /tmp/.X11-unix.
func startXvfb(t testing.TB, ns string) string {
	t.Helper()
	var n int
	for n = 100 + int(time.Now().UnixNano()%800); n < 1000; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); os.IsNotExist(err) {
			break
		}
	}
	display := fmt.Sprintf(":%d", n)
	cmd := exec.Command("ip", "netns", "exec", ns, "Xvfb", display, "-nolisten", "tcp", "-screen", "0", "1024x768x24")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("wine: start Xvfb: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	sock := fmt.Sprintf("/tmp/.X11-unix/X%d", n)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			return display
		}
		select {
		case <-done:
			t.Fatalf("wine: Xvfb %s exited at start:\n%s", display, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("wine: Xvfb %s not ready within 20 s:\n%s", display, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// nobody is the uid and gid of unprivileged Wine prefixes.
const nobody = 65534

func newWine(t testing.TB, ns string, unpriv bool) *Wine {
	t.Helper()
	return newWineWithDisplay(t, ns, unpriv, "")
}

func newWineWithDisplay(t testing.TB, ns string, unpriv bool, display string) *Wine {
	t.Helper()
	RequireWine(t)
	loader, server, _ := wineTools()
	dir, err := os.MkdirTemp("", "pp-wine-")
	if err != nil {
		t.Fatal(err)
	}
	w := &Wine{t: t, ns: ns, prefix: filepath.Join(dir, "prefix"), home: filepath.Join(dir, "home"), loader: loader, server: server, unpriv: unpriv, display: display}
	t.Cleanup(func() {
		w.close()
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("wine: remove the prefix: %v", err)
		}
	})
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
	built, err := shimDLL()
	if err != nil {
		t.Fatalf("wine: %v", err)
	}
	dll := filepath.Join(w.prefix, "drive_c", "windows", "system32", "bcryptprimitives.dll")
	b, err := os.ReadFile(built)
	if err == nil {
		err = os.WriteFile(dll, b, 0o755)
	}
	if err != nil {
		t.Fatalf("wine: install the ProcessPrng shim: %v", err)
	}
	if unpriv {
		if err := os.Chown(dll, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("wine: prefix booted in namespace %s in %v", ns, time.Since(start).Round(time.Millisecond))
	return w
}

// shimDLL returns the ProcessPrng shim built from processprng.c, compiling
// it once per source text: the build is kept in a folder of the lab's
// state folder (root's, on a tmpfs that a reboot clears; a folder, which
// the sweep of stale labs passes over) under the source's hash, so every
// prefix of every test process copies the same file instead of running
// the cross compiler again.
func shimDLL() (string, error) {
	sum := sha256.Sum256(processPrngC)
	cache := filepath.Join(stateDir, "winshim")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("ProcessPrng shim: %w", err)
	}
	dll := filepath.Join(cache, fmt.Sprintf("bcryptprimitives-%x.dll", sum[:8]))
	if _, err := os.Stat(dll); err == nil {
		return dll, nil
	}
	dir, err := os.MkdirTemp(cache, "build-")
	if err != nil {
		return "", fmt.Errorf("ProcessPrng shim: %w", err)
	}
	defer os.RemoveAll(dir)
	src, out := filepath.Join(dir, "processprng.c"), filepath.Join(dir, "bcryptprimitives.dll")
	if err := os.WriteFile(src, processPrngC, 0o644); err != nil {
		return "", fmt.Errorf("ProcessPrng shim: %w", err)
	}
	if msg, err := exec.Command(mingwCC, "-shared", "-O2", "-o", out, src, "-lbcrypt").CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the ProcessPrng shim with %s: %v\n%s", mingwCC, err, msg)
	}
	// Concurrent test processes may both build; the rename makes either
	// copy appear whole.
	if err := os.Rename(out, dll); err != nil {
		return "", fmt.Errorf("ProcessPrng shim: %w", err)
	}
	return dll, nil
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
	env = append(env, "WINEPREFIX="+w.prefix, "HOME="+w.home, "WINEDEBUG=-all")
	if w.display != "" {
		env = append(env, "DISPLAY="+w.display)
	}
	return env
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
// prefix) inside the namespace, waits until it is gone, and kills by PID
// whatever of the prefix is left.
func (w *Wine) close() {
	w.stopServer()
	// Every process of the prefix should have gone with its server; any
	// left (the environment names the prefix, unique to this Wine, so it
	// is ours) would keep sockets open in the namespace.
	if left := prefixPIDs(w.prefix); len(left) > 0 {
		for _, pid := range left {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
		w.t.Logf("wine: killed %d processes of the prefix that outlived wineserver -k: %v", len(left), left)
	}
}

// stopServer runs `wineserver -k` and then `wineserver -w` inside the
// namespace, as the prefix's user.
func (w *Wine) stopServer() {
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

// prefixPIDs lists the processes whose environment names prefix as their
// WINEPREFIX.
func prefixPIDs(prefix string) []int {
	ents, _ := os.ReadDir("/proc")
	want := []byte("WINEPREFIX=" + prefix + "\x00")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err == nil && (bytes.HasPrefix(b, want) || bytes.Contains(b, append([]byte{0}, want...))) {
			pids = append(pids, pid)
		}
	}
	return pids
}
