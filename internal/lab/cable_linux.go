//go:build linux

package lab

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The cable process. It runs in its own namespace between two veth ends and
// copies every frame from one end to the other, late, lost or on time as the
// lab asks.
//
// Why a separate process: the timing must not suffer from the test process's
// garbage collector and scheduler (tests run with -race and busy goroutines),
// and a process is what can sit in the cable namespace as a whole. It is the
// test binary itself, re-executed (the init in cablectl_linux.go), so nothing
// is compiled at test time and no TestMain is needed. Under -race the cable
// is instrumented too; it allocates nothing per frame and its timing measured
// the same as without.
//
// Why one thread and epoll: a frame's release time is fixed by its kernel
// receive timestamp, so the cable only has to be awake at release times. It
// sleeps in epoll_wait on both packet sockets, a timerfd and stdin; the timer
// fires spinMargin before the next release and the loop then spins (polling
// the sockets without blocking) until that instant. Go timers, rounded to
// about a millisecond here, would add ~90 µs per pass; with the spin a delayed
// pass is +5 to +25 µs late (the send itself). A zero-delay pass cannot hide
// the wake-up and costs ~40-60 µs.
//
// Why stdin for control: the lab writes a line and reads the reply, so
// SetLink returns once the cable applies it; and EOF, which comes when the
// test process dies however it dies, ends the cable.

const (
	// spinMargin is how early the timer fires before a release. It must
	// exceed the timer's wake-up latency, measured on these VMs at 44 µs
	// median, 250 µs at the 99th percentile and 380 µs at the 99.9th.
	spinMargin = 300 * time.Microsecond
	// cableRTPriority stays below the kernel's threaded interrupt handlers
	// (50), which a spinning cable must not starve; any real-time priority
	// preempts every ordinary process.
	cableRTPriority = 40
	// vnetHdrLen is struct virtio_net_hdr, which PACKET_VNET_HDR puts in
	// front of every frame read and expects in front of every frame written.
	vnetHdrLen = 10
	// ethHdrLen is an untagged Ethernet header: the lab's veths carry no VLANs.
	ethHdrLen = 14
	// maxFrame holds a 64 KiB GSO frame with its Ethernet, VLAN and virtio
	// headers.
	maxFrame  = vnetHdrLen + 65536 + 64
	smallSize = 2048
	// maxQueued bounds one direction's queue so a bulk transfer through a
	// long delay cannot eat the machine's memory.
	maxQueued = 64 << 20
)

type cablePort struct {
	name string
	fd   int
}

type cableDir struct {
	in, out *cablePort // frames read from in leave through out
	shaper
	q      frameHeap
	queued int // bytes in q
	stats  CableStats
}

type cable struct {
	ports   [2]cablePort
	dirs    [2]cableDir
	ep, tfd int
	armed   int64 // absolute timer deadline, 0 when disarmed
	seq     uint64

	// Receive scratch space: recvmsg fills rx, the frame is copied into a
	// buffer from a free list sized to it. Frames reuse buffers, so a
	// running cable allocates nothing.
	rx        []byte
	oob       [256]byte
	iov       unix.Iovec
	msg       unix.Msghdr
	small     [][]byte
	large     [][]byte
	freeFrame []*frame

	ctl []byte // unfinished control input

	// stamp, when set, attaches ICMP extensions to one router's time
	// exceeded messages on their way to the client (stamp.go); stamped
	// counts the messages it rewrote.
	stamp   *stamper
	stamped uint64
}

// runCable is the cable process's main. Its configuration comes from the
// environment (cableEnv): "<upstream interface> <downstream interface> <seed>
// <real-time 0|1>".
func runCable() int {
	runtime.LockOSThread()
	var a, b string
	var seed uint64
	var rt int
	if _, err := fmt.Sscan(os.Getenv(cableEnv), &a, &b, &seed, &rt); err != nil {
		fmt.Fprintf(os.Stderr, "cable: bad %s=%q: %v\n", cableEnv, os.Getenv(cableEnv), err)
		return 2
	}
	if rt == 1 {
		// Only the locked thread runs the loop, so only it needs the
		// real-time class. The kernel's RT throttling (95 % by default)
		// still leaves the other tasks on this core a share.
		attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: cableRTPriority}
		if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
			fmt.Fprintf(os.Stderr, "cable %s~%s: real-time scheduling: %v\n", a, b, err)
			return 1
		}
	}
	c, err := openCable(a, b, seed)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cable %s~%s: %v\n", a, b, err)
		return 1
	}
	if err := c.reply("ready"); err != nil {
		return 1
	}
	if err := c.loop(); err != nil {
		fmt.Fprintf(os.Stderr, "cable %s~%s: %v\n", a, b, err)
		return 1
	}
	return 0
}

func openCable(a, b string, seed uint64) (*cable, error) {
	c := &cable{rx: make([]byte, maxFrame)}
	c.ports[0].name, c.ports[1].name = a, b
	for i := range c.ports {
		fd, err := openPort(c.ports[i].name)
		if err != nil {
			return nil, err
		}
		c.ports[i].fd = fd
	}
	for d := range c.dirs {
		c.dirs[d].in, c.dirs[d].out = &c.ports[d], &c.ports[1-d]
		c.dirs[d].shaper = newShaper(seed, uint64(d))
	}
	c.msg.Iov = &c.iov
	c.msg.Iovlen = 1
	c.msg.Control = &c.oob[0]

	var err error
	if c.tfd, err = unix.TimerfdCreate(unix.CLOCK_REALTIME, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC); err != nil {
		return nil, fmt.Errorf("timerfd: %w", err)
	}
	if c.ep, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, fmt.Errorf("epoll: %w", err)
	}
	if err := unix.SetNonblock(0, true); err != nil {
		return nil, fmt.Errorf("stdin: %w", err)
	}
	for _, fd := range []int{c.ports[0].fd, c.ports[1].fd, c.tfd, 0} {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
		if err := unix.EpollCtl(c.ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			return nil, fmt.Errorf("epoll add: %w", err)
		}
	}
	return c, nil
}

// openPort opens a promiscuous packet socket on one interface that reads
// frames with their kernel receive time and virtio header, and ignores the
// frames the cable itself sends there.
func openPort(name string) (int, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return -1, fmt.Errorf("interface %s: %w", name, err)
	}
	// Protocol 0 receives nothing until bind picks the interface, so no
	// frame of another interface slips in first.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("packet socket: %w", err)
	}
	opts := []struct {
		level, opt, val int
		name            string
	}{
		// Checksum-offloaded and GSO frames (TCP) keep their metadata
		// across the cable; without it they arrive broken.
		{unix.SOL_PACKET, unix.PACKET_VNET_HDR, 1, "PACKET_VNET_HDR"},
		{unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1, "PACKET_IGNORE_OUTGOING"},
		{unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1, "SO_TIMESTAMPNS"},
		{unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8 << 20, "SO_RCVBUFFORCE"},
		{unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, 8 << 20, "SO_SNDBUFFORCE"},
	}
	for _, o := range opts {
		if err := unix.SetsockoptInt(fd, o.level, o.opt, o.val); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("%s on %s: %w", o.name, name, err)
		}
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("bind %s: %w", name, err)
	}
	mreq := unix.PacketMreq{Ifindex: int32(ifi.Index), Type: unix.PACKET_MR_PROMISC}
	if err := unix.SetsockoptPacketMreq(fd, unix.SOL_PACKET, unix.PACKET_ADD_MEMBERSHIP, &mreq); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("promiscuous %s: %w", name, err)
	}
	return fd, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

func nowNS() int64 { return time.Now().UnixNano() }

func (c *cable) loop() error {
	events := make([]unix.EpollEvent, 8)
	for {
		now := c.sendDue()
		timeout := -1
		if next, ok := c.nextRelease(); ok {
			if next-now <= int64(spinMargin) {
				timeout = 0 // spin: poll, then look at the clock again
			} else if err := c.arm(next - int64(spinMargin)); err != nil {
				return err
			}
		}
		n, err := unix.EpollWait(c.ep, events, timeout)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return fmt.Errorf("epoll_wait: %w", err)
		}
		for _, ev := range events[:n] {
			switch int(ev.Fd) {
			case c.ports[0].fd:
				c.receive(&c.dirs[0])
			case c.ports[1].fd:
				c.receive(&c.dirs[1])
			case c.tfd:
				var b [8]byte
				_, _ = unix.Read(c.tfd, b[:])
				c.armed = 0
			case 0:
				if done, err := c.control(); done || err != nil {
					return err
				}
			}
		}
	}
}

// sendDue sends every frame whose release time has come, earliest first
// across both directions, and returns the time it last read the clock.
func (c *cable) sendDue() int64 {
	for {
		now := nowNS()
		d := -1
		for i := range c.dirs {
			q := c.dirs[i].q
			if len(q) > 0 && q[0].release <= now && (d < 0 || q[0].release < c.dirs[d].q[0].release) {
				d = i
			}
		}
		if d < 0 {
			return now
		}
		dir := &c.dirs[d]
		f := dir.q.pop()
		dir.queued -= f.n
		if err := writeFull(dir.out.fd, f.buf[:f.n]); err != nil {
			dir.stats.Errors++
		} else {
			dir.stats.Sent++
		}
		c.recycle(f)
	}
}

func writeFull(fd int, b []byte) error {
	for {
		_, err := unix.Write(fd, b)
		if err != unix.EINTR {
			return err
		}
	}
}

func (c *cable) nextRelease() (int64, bool) {
	var next int64
	ok := false
	for i := range c.dirs {
		if q := c.dirs[i].q; len(q) > 0 && (!ok || q[0].release < next) {
			next, ok = q[0].release, true
		}
	}
	return next, ok
}

// arm sets the timer to an absolute CLOCK_REALTIME deadline, the clock of the
// kernel's receive timestamps.
func (c *cable) arm(at int64) error {
	if at == c.armed {
		return nil
	}
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(at)}
	if err := unix.TimerfdSettime(c.tfd, unix.TFD_TIMER_ABSTIME, &spec, nil); err != nil {
		return fmt.Errorf("timerfd_settime: %w", err)
	}
	c.armed = at
	return nil
}

// receive reads the frames waiting on dir's input, a bounded batch so that
// due sends are not starved, and queues those the shaper keeps.
func (c *cable) receive(dir *cableDir) {
	for range 64 {
		c.iov.Base = &c.rx[0]
		c.iov.SetLen(len(c.rx))
		c.msg.SetControllen(len(c.oob))
		c.msg.Flags = 0
		r, _, errno := unix.Syscall(unix.SYS_RECVMSG, uintptr(dir.in.fd), uintptr(unsafe.Pointer(&c.msg)),
			unix.MSG_DONTWAIT|unix.MSG_TRUNC)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return // EAGAIN: drained
		}
		n := int(r)
		dir.stats.Frames++
		if n > len(c.rx) || n < vnetHdrLen {
			dir.stats.Errors++
			continue
		}
		rx := c.rxTime()
		release, lost := dir.admit(rx)
		if lost {
			dir.stats.Lost++
			continue
		}
		if dir.queued+n > maxQueued {
			dir.stats.Errors++
			continue
		}
		// virtio_net_hdr: flags (byte 0) and gso_type (byte 1).
		if c.rx[0] != 0 || c.rx[1] != 0 {
			dir.stats.Offloaded++
		} else if c.stamp != nil && dir == &c.dirs[1] {
			// Towards the client, a whole frame (no checksum left
			// to the far end) may be an error to extend.
			var ok bool
			if n, ok = c.stamp.frame(c.rx, n, vnetHdrLen+ethHdrLen); ok {
				c.stamped++
			}
		}
		f := c.newFrame(n)
		copy(f.buf, c.rx[:n])
		f.release = release
		c.seq++
		f.seq = c.seq
		dir.q.push(f)
		dir.queued += n
	}
}

// rxTime returns the kernel receive time of the frame just read, or now if
// the kernel gave none.
func (c *cable) rxTime() int64 {
	oob := c.oob[:c.msg.Controllen]
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		if h.Len < unix.SizeofCmsghdr || int(h.Len) > len(oob) {
			break
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SO_TIMESTAMPNS &&
			int(h.Len) >= unix.CmsgLen(int(unsafe.Sizeof(unix.Timespec{}))) {
			ts := (*unix.Timespec)(unsafe.Pointer(&oob[unix.CmsgLen(0)]))
			if ns := ts.Nano(); ns > 0 {
				return ns
			}
		}
		oob = oob[min(unix.CmsgSpace(int(h.Len)-unix.CmsgLen(0)), len(oob)):]
	}
	return nowNS()
}

func (c *cable) newFrame(n int) *frame {
	var f *frame
	if k := len(c.freeFrame); k > 0 {
		f, c.freeFrame = c.freeFrame[k-1], c.freeFrame[:k-1]
	} else {
		f = new(frame)
	}
	pool := &c.large
	size := maxFrame
	if n <= smallSize {
		pool, size = &c.small, smallSize
	}
	if k := len(*pool); k > 0 {
		f.buf, *pool = (*pool)[k-1], (*pool)[:k-1]
	} else {
		f.buf = make([]byte, size)
	}
	f.buf, f.n = f.buf[:n], n
	return f
}

func (c *cable) recycle(f *frame) {
	b := f.buf[:cap(f.buf)]
	if cap(b) == smallSize {
		c.small = append(c.small, b)
	} else {
		c.large = append(c.large, b)
	}
	f.buf = nil
	c.freeFrame = append(c.freeFrame, f)
}

// control reads stdin and executes complete command lines. done reports EOF:
// the lab closed the pipe or its process died.
func (c *cable) control() (done bool, err error) {
	var b [4096]byte
	n, err := unix.Read(0, b[:])
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return false, nil
	case err != nil:
		return true, fmt.Errorf("read control: %w", err)
	case n == 0:
		return true, nil
	}
	c.ctl = append(c.ctl, b[:n]...)
	for {
		i := bytes.IndexByte(c.ctl, '\n')
		if i < 0 {
			return false, nil
		}
		line := string(c.ctl[:i])
		c.ctl = c.ctl[i+1:]
		if err := c.reply(c.command(line)); err != nil {
			return true, err
		}
	}
}

func (c *cable) command(line string) string {
	f := strings.Fields(line)
	if len(f) == 0 {
		return "err empty command"
	}
	switch f[0] {
	case "set":
		fwd, rev, err := parseSet(f[1:])
		if err != nil {
			return "err " + err.Error()
		}
		c.dirs[0].p, c.dirs[1].p = fwd, rev
		return "ok"
	case "stats":
		return formatStats(c.dirs[0].stats, c.dirs[1].stats)
	case "stamp":
		st, err := parseStamp(f[1:])
		if err != nil {
			return "err " + err.Error()
		}
		c.stamp = st
		return "ok"
	case "stamped":
		return fmt.Sprintf("stamped %d", c.stamped)
	}
	return fmt.Sprintf("err unknown command %q", f[0])
}

func (c *cable) reply(s string) error {
	b := []byte(s + "\n")
	for len(b) > 0 {
		n, err := unix.Write(1, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("write control reply: %w", err)
		}
		b = b[n:]
	}
	return nil
}
