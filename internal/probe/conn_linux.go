//go:build linux

package probe

import (
	"errors"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Sockets are handed to Go's own netpoller (os.NewFile on a non-blocking
// descriptor) instead of a private epoll loop: a goroutine parked in the
// netpoller costs nothing, while a thread blocked in epoll_wait makes the
// runtime hand its P to another thread at every wakeup, which measured as
// more CPU per probe than everything else the engine does.

// wrap hands fd to the netpoller. The returned file owns fd.
func wrap(fd int, name string) (*os.File, syscall.RawConn, error) {
	f := os.NewFile(uintptr(fd), name)
	if f == nil {
		unix.Close(fd)
		return nil, nil, errors.New("wrap socket: bad descriptor")
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, rc, nil
}

// readLoop calls drain every time the socket becomes readable (a datagram or
// an error-queue entry), until the file is closed. drain must read until
// EAGAIN: the netpoller is edge-triggered.
func readLoop(f *os.File, rc syscall.RawConn, drain func(fd int, now time.Time)) {
	for {
		err := rc.Read(func(fd uintptr) bool {
			drain(int(fd), time.Now())
			return false // never done: wait for the next wakeup
		})
		if err == nil || errors.Is(err, os.ErrClosed) {
			return
		}
		// An event that was only EPOLLERR makes the poller report "not
		// pollable" until the next event (golang/go#59545): drain now and
		// look again shortly rather than spin.
		if cerr := rc.Control(func(fd uintptr) { drain(int(fd), time.Now()) }); cerr != nil {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
