//go:build linux

package probe

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// loop is one epoll goroutine serving every socket of a prober: the shared
// ICMP/UDP sockets and the per-probe TCP sockets. One goroutine keeps reply
// handling serial (no locks between handlers) and takes the user-space
// receive time the moment the kernel wakes it, which is as close to the
// packet's arrival as user space gets when no kernel timestamp exists.
//
// Each registration carries a generation number in the epoll data word, so
// an event that raced with a deregistration is never delivered to a new
// socket that reused the same descriptor number.
type loop struct {
	epfd int
	wake int // eventfd: written by close to end run

	mu       sync.Mutex
	handlers map[int32]handler
	gen      uint32

	done chan struct{}
}

type handler struct {
	gen uint32
	fn  func(events uint32, now time.Time)
}

func newLoop() (*loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake), Pad: -1}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wake)
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	l := &loop{epfd: epfd, wake: wake, handlers: make(map[int32]handler), done: make(chan struct{})}
	go l.run()
	return l, nil
}

// add registers fd; fn runs on the loop goroutine for every event.
func (l *loop) add(fd int, events uint32, fn func(events uint32, now time.Time)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gen++
	if l.gen == 0xFFFFFFFF { // -1 marks the wake fd
		l.gen = 1
	}
	l.handlers[int32(fd)] = handler{gen: l.gen, fn: fn}
	ev := unix.EpollEvent{Events: events, Fd: int32(fd), Pad: int32(l.gen)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		delete(l.handlers, int32(fd))
		return fmt.Errorf("epoll_ctl add: %w", err)
	}
	return nil
}

// remove deregisters fd. The caller closes fd only after remove returns.
func (l *loop) remove(fd int) {
	l.mu.Lock()
	delete(l.handlers, int32(fd))
	_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, fd, nil)
	l.mu.Unlock()
}

func (l *loop) run() {
	defer close(l.done)
	events := make([]unix.EpollEvent, 128)
	for {
		n, err := unix.EpollWait(l.epfd, events, -1)
		now := time.Now()
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
		for i := 0; i < n; i++ {
			ev := events[i]
			if ev.Pad == -1 && int(ev.Fd) == l.wake {
				return
			}
			l.mu.Lock()
			h, ok := l.handlers[ev.Fd]
			l.mu.Unlock()
			if !ok || h.gen != uint32(ev.Pad) {
				continue
			}
			h.fn(ev.Events, now)
		}
	}
}

// close stops the goroutine and waits for it.
func (l *loop) close() {
	var one = [8]byte{1}
	_, _ = unix.Write(l.wake, one[:])
	<-l.done
	unix.Close(l.wake)
	unix.Close(l.epfd)
}
