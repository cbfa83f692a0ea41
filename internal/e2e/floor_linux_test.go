//go:build linux

package e2e

import (
	encbin "encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The floor prober: the cheapest traceroute that can exist on a lab path,
// the yardstick the engine's CPU per probe is judged against. Each round
// sends every TTL in one sendmmsg from one socket (TCP: a connect per probe,
// the kernel offers nothing cheaper), waits in poll and reads the answers
// with recvmmsg, counting them and nothing else: no matching, no clock
// reading, no allocation, packets built once. What it costs is what the
// kernel charges for the probes, including, on veth, the routers'
// forwarding done in the sender's system calls.
//
// It runs as a process of its own (the test binary re-executed with
// floorEnv set, see init), so that its CPU is counted the way the
// pingerplot binary's and mtr's are: the whole process, from the rusage
// of its exit.

// floorEnv holds "mode dst rounds interval hops port" for a floor process.
const floorEnv = "PINGERPLOT_FLOOR"

func init() {
	if spec := os.Getenv(floorRateEnv); spec != "" {
		n, secs, err := floorRate(spec)
		if err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
		fmt.Printf("floor-rate %d %.3f\n", n, secs)
		os.Exit(0)
	}
	spec := os.Getenv(floorEnv)
	if spec == "" {
		return
	}
	sent, answered, err := floorMain(spec)
	if err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	fmt.Printf("floor %d %d\n", sent, answered)
	os.Exit(0)
}

// floorRateEnv holds "file seconds hops window" for a floor process that
// probes as fast as it can: TTL 1..hops of each address in file (one a
// line), window addresses at a time, for seconds; it prints how many
// answers it read and in how long.
const floorRateEnv = "PINGERPLOT_FLOOR_RATE"

// floorRate is the sustained-rate floor over many targets: ICMP on one
// ping socket (the unprivileged monitor's socket), a window of probes per
// sendmmsg, the answers read with recvmmsg until the window is answered
// or a second passed, then the next window.
func floorRate(spec string) (answered int, secs float64, err error) {
	f := strings.Fields(spec)
	if len(f) != 4 {
		return 0, 0, fmt.Errorf("spec %q: want file seconds hops window", spec)
	}
	b, err := os.ReadFile(f[0])
	if err != nil {
		return 0, 0, err
	}
	dur, _ := strconv.ParseFloat(f[1], 64)
	hops, _ := strconv.Atoi(f[2])
	window, _ := strconv.Atoi(f[3])
	var addrs []netip.Addr
	for _, l := range strings.Fields(string(b)) {
		a, err := netip.ParseAddr(l)
		if err != nil {
			return 0, 0, err
		}
		addrs = append(addrs, a)
	}
	if len(addrs) == 0 || hops < 1 || window < 1 {
		return 0, 0, errors.New("no targets, hops or window")
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK, unix.IPPROTO_ICMP)
	if err == nil {
		err = unix.SetsockoptInt(fd, unix.SOL_IP, unix.IP_RECVERR, 1)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("ping socket: %w", err)
	}
	defer unix.Close(fd)
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 4<<20)
	n := len(addrs) * hops
	names := make([]unix.RawSockaddrInet4, len(addrs))
	pkt := make([]byte, 44)
	pkt[0] = 8
	cms := make([]byte, hops*unix.CmsgSpace(4))
	iov := unix.Iovec{Base: &pkt[0]}
	iov.SetLen(len(pkt))
	out := make([]unix.Mmsghdr, n)
	for t, a := range addrs {
		names[t] = unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.As4()}
		for h := range hops {
			c := cms[h*unix.CmsgSpace(4):]
			if t == 0 {
				ch := (*unix.Cmsghdr)(unsafe.Pointer(&c[0]))
				ch.Level, ch.Type = unix.SOL_IP, unix.IP_TTL
				ch.SetLen(unix.CmsgLen(4))
				encbin.NativeEndian.PutUint32(c[unix.CmsgLen(0):], uint32(h+1))
			}
			m := &out[t*hops+h].Hdr
			m.Name, m.Namelen = (*byte)(unsafe.Pointer(&names[t])), unix.SizeofSockaddrInet4
			m.Iov = &iov
			m.SetIovlen(1)
			m.Control = &c[0]
			m.SetControllen(unix.CmsgSpace(4))
		}
	}
	const rb = 64
	in := make([]unix.Mmsghdr, rb)
	rbuf := make([]byte, rb*576)
	rctl := make([]byte, rb*128)
	riov := make([]unix.Iovec, rb)
	rname := make([]unix.RawSockaddrInet6, rb)
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	start := time.Now()
	end := start.Add(time.Duration(dur * float64(time.Second)))
	w := window * hops
	for next := 0; time.Now().Before(end); next = (next + w) % n {
		batch := out[next:min(next+w, n)]
		for sent := 0; sent < len(batch); {
			k, err := mmsg(unix.SYS_SENDMMSG, fd, batch[sent:], 0)
			if err != nil {
				if floorICMPErr(err) || errors.Is(err, unix.EAGAIN) {
					continue
				}
				return answered, 0, fmt.Errorf("sendmmsg: %w", err)
			}
			sent += k
		}
		got := 0
		deadline := time.Now().Add(time.Second)
		for got < len(batch) && time.Now().Before(deadline) {
			if _, err := unix.Poll(pfd, 100); err != nil && !errors.Is(err, unix.EINTR) {
				return answered, 0, err
			}
			for _, flags := range []int{unix.MSG_ERRQUEUE, 0} {
				for {
					for i := range in {
						riov[i] = unix.Iovec{Base: &rbuf[i*576]}
						riov[i].SetLen(576)
						m := &in[i].Hdr
						m.Name, m.Namelen = (*byte)(unsafe.Pointer(&rname[i])), unix.SizeofSockaddrInet6
						m.Iov = &riov[i]
						m.SetIovlen(1)
						m.Control = &rctl[i*128]
						m.SetControllen(128)
					}
					r, err := mmsg(unix.SYS_RECVMMSG, fd, in, flags|unix.MSG_DONTWAIT)
					if err != nil || r == 0 {
						break
					}
					got += r
				}
			}
		}
		answered += got
	}
	return answered, time.Since(start).Seconds(), nil
}

// floorSpec is one floor run.
type floorSpec struct {
	mode     string // icmp-raw, icmp-ping, udp, tcp
	dst      netip.Addr
	rounds   int
	interval time.Duration
	hops     int
	port     uint16
	// wait is how a round waits for its answers: "poll" blocks the thread
	// in poll(2), as a C prober would; "netpoll" parks the goroutine in
	// Go's poller, as the engine does. In a Go process poll(2) is the
	// dearer of the two (entering a blocking system call wakes the
	// runtime's monitor thread), so the benchmark runs both and takes the
	// cheaper as the floor.
	wait string
}

func (s floorSpec) String() string {
	w := s.wait
	if w == "" {
		w = "netpoll"
	}
	return fmt.Sprintf("%s %v %d %v %d %d %s", s.mode, s.dst, s.rounds, s.interval, s.hops, s.port, w)
}

func parseFloorSpec(spec string) (floorSpec, error) {
	f := strings.Fields(spec)
	if len(f) != 7 {
		return floorSpec{}, fmt.Errorf("spec %q: want mode dst rounds interval hops port wait", spec)
	}
	var s floorSpec
	var err error
	s.mode = f[0]
	if s.dst, err = netip.ParseAddr(f[1]); err != nil {
		return s, err
	}
	if s.rounds, err = strconv.Atoi(f[2]); err != nil {
		return s, err
	}
	if s.interval, err = time.ParseDuration(f[3]); err != nil {
		return s, err
	}
	if s.hops, err = strconv.Atoi(f[4]); err != nil {
		return s, err
	}
	p, err := strconv.Atoi(f[5])
	s.port = uint16(p)
	s.wait = f[6]
	if s.wait != "poll" && s.wait != "netpoll" {
		return s, fmt.Errorf("wait %q: want poll or netpoll", s.wait)
	}
	return s, err
}

func floorMain(spec string) (sent, answered int, err error) {
	s, err := parseFloorSpec(spec)
	if err != nil {
		return 0, 0, err
	}
	if !s.dst.Is4() {
		return 0, 0, errors.New("the floor prober speaks IPv4 only")
	}
	if s.mode == "tcp" {
		return floorTCP(s)
	}
	return floorDatagram(s)
}

// floorDatagram is the ICMP and UDP floor: one socket, one sendmmsg per
// round, poll, recvmmsg until every TTL answered or a second passed.
func floorDatagram(s floorSpec) (sent, answered int, err error) {
	var fd int
	switch s.mode {
	case "icmp-raw":
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_NONBLOCK, unix.IPPROTO_ICMP)
		if err == nil { // echo reply, unreachable, time exceeded only
			err = unix.SetsockoptInt(fd, unix.SOL_RAW, unix.ICMP_FILTER, int(^uint32(1<<0|1<<3|1<<11)))
		}
	case "icmp-ping":
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK, unix.IPPROTO_ICMP)
		if err == nil {
			err = unix.SetsockoptInt(fd, unix.SOL_IP, unix.IP_RECVERR, 1)
		}
	case "udp":
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK, unix.IPPROTO_UDP)
		if err == nil {
			err = unix.SetsockoptInt(fd, unix.SOL_IP, unix.IP_RECVERR, 1)
		}
	default:
		return 0, 0, fmt.Errorf("unknown floor mode %q", s.mode)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("%s socket: %w", s.mode, err)
	}

	n := s.hops
	sa := unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: s.dst.As4()}
	encbin.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], s.port)
	pkts := make([][]byte, n)
	cms := make([][]byte, n)
	iov := make([]unix.Iovec, n)
	out := make([]unix.Mmsghdr, n)
	for i := range n {
		p := make([]byte, 44) // a 64-byte IPv4 packet, as the engine sends by default
		if s.mode != "udp" {
			p[0] = 8
			encbin.BigEndian.PutUint16(p[6:8], uint16(i+1))
			encbin.BigEndian.PutUint16(p[2:4], floorChecksum(p))
		}
		pkts[i] = p
		cms[i] = make([]byte, unix.CmsgSpace(4))
		h := (*unix.Cmsghdr)(unsafe.Pointer(&cms[i][0]))
		h.Level, h.Type = unix.SOL_IP, unix.IP_TTL
		h.SetLen(unix.CmsgLen(4))
		encbin.NativeEndian.PutUint32(cms[i][unix.CmsgLen(0):], uint32(i+1))
		iov[i] = unix.Iovec{Base: &p[0]}
		iov[i].SetLen(len(p))
		m := &out[i].Hdr
		m.Name, m.Namelen = (*byte)(unsafe.Pointer(&sa)), unix.SizeofSockaddrInet4
		m.Iov = &iov[i]
		m.SetIovlen(1)
		m.Control = &cms[i][0]
		m.SetControllen(len(cms[i]))
	}
	in, rbufs, rnames := make([]unix.Mmsghdr, n), make([][]byte, n), make([]unix.RawSockaddrInet6, n)
	riov := make([]unix.Iovec, n)
	rctl := make([][]byte, n)
	for i := range n {
		rbufs[i] = make([]byte, 576)
		rctl[i] = make([]byte, 128)
		riov[i] = unix.Iovec{Base: &rbufs[i][0]}
		riov[i].SetLen(len(rbufs[i]))
	}
	resetIn := func() {
		for i := range in {
			m := &in[i].Hdr
			m.Name, m.Namelen = (*byte)(unsafe.Pointer(&rnames[i])), unix.SizeofSockaddrInet6
			m.Iov = &riov[i]
			m.SetIovlen(1)
			m.Control = &rctl[i][0]
			m.SetControllen(len(rctl[i]))
		}
	}
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	// The netpoller wait: the socket handed to Go's poller, the round's
	// goroutine parked until it is readable (see floorSpec.wait).
	file := os.NewFile(uintptr(fd), "floor")
	defer file.Close()
	rc, err := file.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	next := time.Now()
	for range s.rounds {
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		next = next.Add(s.interval)
		k, err := mmsg(unix.SYS_SENDMMSG, fd, out, 0)
		// The last round's port unreachable leaves a pending socket error
		// that fails the next send once (every prober pays this call).
		for try := 0; err != nil && try < 4 && floorICMPErr(err); try++ {
			k, err = mmsg(unix.SYS_SENDMMSG, fd, out, 0)
		}
		if err != nil {
			return sent, answered, fmt.Errorf("sendmmsg: %w", err)
		}
		sent += k
		got := 0
		drain := func() {
			for _, flags := range []int{unix.MSG_ERRQUEUE, 0} {
				if flags != 0 && s.mode == "icmp-raw" {
					continue
				}
				for {
					resetIn()
					r, err := mmsg(unix.SYS_RECVMMSG, fd, in, flags|unix.MSG_DONTWAIT)
					if err != nil || r == 0 {
						break
					}
					got += r
				}
			}
		}
		deadline := time.Now().Add(time.Second)
		if s.wait == "poll" {
			for got < n {
				ms := int(time.Until(deadline) / time.Millisecond)
				if ms <= 0 {
					break
				}
				if _, err := unix.Poll(pfd, ms); err != nil && !errors.Is(err, unix.EINTR) {
					return sent, answered, fmt.Errorf("poll: %w", err)
				}
				drain()
			}
		} else {
			_ = file.SetReadDeadline(deadline)
			err := rc.Read(func(uintptr) bool { drain(); return got >= n })
			if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				return sent, answered, fmt.Errorf("wait: %w", err)
			}
		}
		answered += min(got, n)
	}
	return sent, answered, nil
}

// floorTCP is the TCP floor: a connect per probe (no batch exists for
// it), all of a round's sockets waited for at once (in one poll, or in a
// private epoll set parked in Go's poller), each answer read from the
// error queue or SO_ERROR, then closed with a reset. Every call but the
// wait is non-blocking and made raw.
func floorTCP(s floorSpec) (sent, answered int, err error) {
	var sa unix.RawSockaddrInet4
	sa.Family = unix.AF_INET
	sa.Addr = s.dst.As4()
	encbin.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], s.port)
	fds := make([]int, s.hops)
	pfd := make([]unix.PollFd, s.hops)
	buf, oob := make([]byte, 512), make([]byte, 512)
	linger := unix.Linger{Onoff: 1}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return 0, 0, err
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		return 0, 0, err
	}
	ep := os.NewFile(uintptr(epfd), "floor-epoll")
	defer ep.Close()
	rc, err := ep.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	events := make([]unix.EpollEvent, s.hops)
	left := 0
	// answer reads what ended probe i's attempt and closes its socket.
	answer := func(i int) {
		var iov unix.Iovec
		iov.Base = &buf[0]
		iov.SetLen(len(buf))
		msg := unix.Msghdr{Iov: &iov, Control: &oob[0]}
		msg.SetIovlen(1)
		msg.SetControllen(len(oob))
		if _, _, e := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(fds[i]), uintptr(unsafe.Pointer(&msg)), unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT); e != 0 {
			v, l := int32(0), uint32(4)
			unix.RawSyscall6(unix.SYS_GETSOCKOPT, uintptr(fds[i]), unix.SOL_SOCKET, unix.SO_ERROR, uintptr(unsafe.Pointer(&v)), uintptr(unsafe.Pointer(&l)), 0)
		}
		unix.RawSyscall(unix.SYS_CLOSE, uintptr(fds[i]), 0, 0)
		fds[i] = -1
		pfd[i].Fd = -1
		answered++
		left--
	}
	setInt := func(fd, level, opt, v int) {
		v32 := int32(v)
		unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt), uintptr(unsafe.Pointer(&v32)), 4, 0)
	}
	next := time.Now()
	for range s.rounds {
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		next = next.Add(s.interval)
		for i := range fds {
			r, _, e := unix.RawSyscall(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
			if e != 0 {
				return sent, answered, e
			}
			fd := int(r)
			setInt(fd, unix.SOL_IP, unix.IP_TTL, i+1)
			setInt(fd, unix.SOL_IP, unix.IP_RECVERR, 1)
			unix.RawSyscall6(unix.SYS_SETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_LINGER, uintptr(unsafe.Pointer(&linger)), unsafe.Sizeof(linger), 0)
			if _, _, e := unix.RawSyscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(&sa)), unix.SizeofSockaddrInet4); e != 0 && e != unix.EINPROGRESS {
				return sent, answered, fmt.Errorf("connect: %w", e)
			}
			fds[i] = fd
			pfd[i] = unix.PollFd{Fd: int32(fd), Events: unix.POLLOUT}
			if s.wait == "netpoll" {
				ev := unix.EpollEvent{Events: unix.EPOLLOUT | unix.EPOLLERR | unix.EPOLLONESHOT, Fd: int32(i)}
				unix.RawSyscall6(unix.SYS_EPOLL_CTL, uintptr(epfd), unix.EPOLL_CTL_ADD, uintptr(fd), uintptr(unsafe.Pointer(&ev)), 0, 0)
			}
			sent++
		}
		left = len(fds)
		deadline := time.Now().Add(time.Second)
		if s.wait == "poll" {
			for left > 0 {
				ms := int(time.Until(deadline) / time.Millisecond)
				if ms <= 0 {
					break
				}
				if _, err := unix.Poll(pfd, ms); err != nil && !errors.Is(err, unix.EINTR) {
					return sent, answered, fmt.Errorf("poll: %w", err)
				}
				for i := range pfd {
					if pfd[i].Fd >= 0 && pfd[i].Revents != 0 {
						answer(i)
					}
				}
			}
		} else {
			_ = ep.SetReadDeadline(deadline)
			err := rc.Read(func(uintptr) bool {
				for {
					n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
					if e != 0 || n == 0 {
						return left == 0
					}
					for _, ev := range events[:n] {
						answer(int(ev.Fd))
					}
				}
			})
			if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				return sent, answered, fmt.Errorf("wait: %w", err)
			}
		}
		for i, fd := range fds {
			if fd >= 0 {
				unix.RawSyscall(unix.SYS_CLOSE, uintptr(fd), 0, 0)
				fds[i] = -1
			}
		}
	}
	return sent, answered, nil
}

// mmsg calls sendmmsg or recvmmsg (no timeout) on ms. Both are
// non-blocking here, so they are raw system calls that skip the runtime's
// syscall bookkeeping, as the engine's are (engine_linux.go says why).
func mmsg(trap uintptr, fd int, ms []unix.Mmsghdr, flags int) (int, error) {
	n, _, e := unix.RawSyscall6(trap, uintptr(fd), uintptr(unsafe.Pointer(&ms[0])), uintptr(len(ms)), uintptr(flags), 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func floorChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for sum > 0xFFFF {
		sum = sum>>16 + sum&0xFFFF
	}
	return ^uint16(sum)
}

// floorICMPErr reports an errno that an earlier probe's ICMP error left
// pending on the socket.
func floorICMPErr(err error) bool {
	return errors.Is(err, unix.ECONNREFUSED) || errors.Is(err, unix.EHOSTUNREACH) || errors.Is(err, unix.ENETUNREACH)
}
