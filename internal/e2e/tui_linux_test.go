//go:build linux

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pingerplot/pingerplot/internal/lab"
)

// TestTUIInTerminal runs `pingerplot tui` unprivileged in the lab's client
// namespace on a pseudo-terminal it controls, as a user at a terminal
// would: the table fills with the lab's hops in order and counts rounds, d
// switches to the history strip, q quits with exit status 0 and the
// terminal given back (alternate screen left, cursor shown).
func TestTUIInTerminal(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3})
	master, slave := openPTY(t, 30, 110)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := l.CommandUnprivileged(ctx, l.Client, binary(t), "tui", "-n", "-i", "0.2", l.TargetAddr4.String())
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	// A session of its own with the pty as its controlling terminal, so
	// /dev/tty (where the TUI reads keys) is this pty.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close() // the child holds it now; EOF on the master when it exits
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	var (
		mu  sync.Mutex
		raw bytes.Buffer
	)
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			raw.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	screen := func() string {
		mu.Lock()
		defer mu.Unlock()
		// Lines are drawn by cursor position: each positioning starts a line.
		return ansi.ReplaceAllString(cursorTo.ReplaceAllString(raw.String(), "\n"), "")
	}

	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the terminal showed (escapes removed):\n%s", tail(screen(), 40))
		}
	})
	hops := append(append([]string(nil), addrStrings(l.Hops4)...), l.TargetAddr4.String())
	roundsRE := regexp.MustCompile(`(\d+) rounds`)
	waitFor(t, 20*time.Second, "the lab's hops in the table and 10 rounds", func() bool {
		s := screen()
		for i, h := range hops {
			if !regexp.MustCompile(fmt.Sprintf(`(?m)^ +%d\. %s `, i+1, regexp.QuoteMeta(h))).MatchString(s) {
				return false
			}
		}
		m := roundsRE.FindAllStringSubmatch(s, -1)
		if m == nil {
			return false
		}
		n, _ := strconv.Atoi(m[len(m)-1][1])
		return n >= 10
	})
	if _, err := master.Write([]byte("d")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the history strip", func() bool { return strings.Contains(screen(), "? lost") })
	if _, err := master.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("tui after q: %v\n%s", err, tail(screen(), 20))
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("tui did not exit within 10 s of q\n%s", tail(screen(), 20))
	}
	mu.Lock()
	out := raw.String()
	mu.Unlock()
	if i := strings.LastIndex(out, "\x1b[?1049l"); i < 0 || !strings.Contains(out[max(0, i-20):], "\x1b[?25h") {
		t.Errorf("the terminal was not given back (alternate screen left, cursor shown); output ends %q", out[max(0, len(out)-80):])
	}
}

var (
	cursorTo = regexp.MustCompile(`\x1b\[[0-9;]*H`)
	ansi     = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)
)

func addrStrings[T fmt.Stringer](as []T) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

// openPTY opens a pseudo-terminal of rows×cols whose slave the unprivileged
// uid may use.
func openPTY(t *testing.T, rows, cols uint16) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	slave, err = os.OpenFile(name, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(name, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
		t.Fatal(err)
	}
	return master, slave
}
