//go:build unix

package tui

import (
	"os"
	"os/signal"
	"syscall"
)

// openKeys opens the controlling terminal: a file Go opens itself is
// polled, so closing it ends a read in progress, which closing stdin does
// not. Without one (no controlling terminal), stdin.
func openKeys(stdin *os.File) (*os.File, bool) {
	f, err := os.Open("/dev/tty")
	if err != nil {
		return stdin, false
	}
	return f, true
}

// enableVT has nothing to do: a Unix terminal reads control sequences.
func enableVT(*os.File) (func() error, error) { return func() error { return nil }, nil }

func notifyResize(*os.File) (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	return ch, func() { signal.Stop(ch) }
}
