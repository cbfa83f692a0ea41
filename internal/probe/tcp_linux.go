//go:build linux

package probe

import (
	"fmt"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// tcpMaxWait is the kernel's initial SYN retransmission timeout. An answer
// after it may answer the retransmitted SYN, and its RTT would be measured
// from the wrong packet, so a TCP probe waits no longer.
const tcpMaxWait = time.Second

// checkTCP opens and closes one TCP socket with the error queue enabled, so
// a system that refuses it is reported before a trace starts.
func (p *linuxProber) checkTCP(v6 bool) error {
	fd, err := tcpSocket(v6, 64, 0)
	if err != nil {
		return err
	}
	rawClose(fd)
	p.mu.Lock()
	p.note("TCP/%s: non-blocking connect() per probe with the TTL set; routers' answers from the error queue, SYN-ACK or RST marks the destination (no privilege needed)", family(v6))
	p.mu.Unlock()
	return nil
}

// tcpSocket opens a probe's socket: TTL, error queue and timestamps, a
// source port, and a reset at close. Every call is raw (rawsys_linux.go).
func tcpSocket(v6 bool, ttl int, tos uint8) (int, error) {
	af := unix.AF_INET
	if v6 {
		af = unix.AF_INET6
	}
	fd, err := rawSocket(af, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return -1, fmt.Errorf("open %s TCP socket: %w", family(v6), err)
	}
	fail := func(what string, err error) (int, error) {
		rawClose(fd)
		return -1, fmt.Errorf("%s on TCP socket: %w", what, err)
	}
	ipLevel, ttlOpt, recvErr, rfc4884, tosOpt := unix.IPPROTO_IP, unix.IP_TTL, unix.IP_RECVERR, unix.IP_RECVERR_RFC4884, unix.IP_TOS
	if v6 {
		ipLevel, ttlOpt, recvErr, rfc4884, tosOpt = unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, unix.IPV6_RECVERR, unix.IPV6_RECVERR_RFC4884, unix.IPV6_TCLASS
	}
	if err := rawSetsockoptInt(fd, ipLevel, ttlOpt, ttl); err != nil {
		return fail("set TTL", err)
	}
	if err := rawSetsockoptInt(fd, ipLevel, recvErr, 1); err != nil {
		return fail("enable the error queue", err)
	}
	_ = rawSetsockoptInt(fd, ipLevel, rfc4884, 1) // before 5.9: no MPLS labels, nothing else lost
	if err := rawSetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fail("set SO_TIMESTAMPNS", err)
	}
	// Linux keeps the ECN bits of a TCP socket for its own congestion
	// signalling, so only the DSCP of tos takes effect.
	if tos != 0 {
		if err := rawSetsockoptInt(fd, ipLevel, tosOpt, int(tos)); err != nil {
			return fail(fmt.Sprintf("set TOS %#02x", tos), err)
		}
	}
	// Binding to port 0 picks the source port now, so the search for a free
	// port is not inside connect(), between the send time and the SYN.
	var any unix.RawSockaddrInet6
	if err := rawBind(fd, &any, sockaddrRaw(&any, anyAddr(v6), 0)); err != nil {
		return fail("bind", err)
	}
	// Linger 0: close sends RST, so a completed handshake leaves no
	// TIME_WAIT behind and the server sees the probe end at once.
	l := unix.Linger{Onoff: 1}
	if err := rawSetsockopt(fd, unix.SOL_SOCKET, unix.SO_LINGER, unsafe.Pointer(&l), unsafe.Sizeof(l)); err != nil {
		return fail("set SO_LINGER", err)
	}
	return fd, nil
}

func anyAddr(v6 bool) netip.Addr {
	if v6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}

// A TCP probe sends one SYN through a socket of its own: an ICMP error
// aborts a connection attempt, and Linux (since 5.8) queues that error with
// the router's address on the socket's error queue while in SYN_SENT, which
// is what makes an unprivileged TCP traceroute possible.
//
// The probes in flight wait in one private epoll set (tcpSet), and that
// set's descriptor waits in Go's netpoller with one reader goroutine, the
// way a shared datagram socket does: no goroutine, timer or os.File per
// probe. A probe's socket is closed by whoever takes it from the set: the
// reader when its answer came, its batch at the timeout (before the
// kernel's first SYN retransmission, 1 s, could draw a late answer that
// would be misread) or when the batch ends.

// tcpPend is a TCP probe in flight, by its socket's descriptor.
type tcpPend struct {
	b    *lbatch
	gen  uint32
	idx  int32
	tok  uint32 // tells this probe from a later one on a reused descriptor
	dst  netip.Addr
	port uint16
	ttl  uint8
	sent time.Time
}

// tcpSet is a prober's TCP probes in flight.
type tcpSet struct {
	f    *os.File // the epoll descriptor, owned; closing it ends the reader
	rc   syscall.RawConn
	epfd int

	mu     sync.Mutex
	m      map[int32]tcpPend
	tok    uint32
	closed bool

	// The reader's scratch.
	evs  [mmsgBatch]unix.EpollEvent
	buf  []byte
	oob  []byte
	name unix.RawSockaddrInet6
	iov  unix.Iovec
	msg  unix.Msghdr
	m1   message
}

// tcpSetFor returns the prober's TCP set, made with its reader the first
// time.
func (p *linuxProber) tcpSetFor() (*tcpSet, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if p.tcp != nil {
		return p.tcp, nil
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll for TCP probes: %w", err)
	}
	// Non-blocking, so that os.NewFile hands it to the netpoller.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("epoll for TCP probes: %w", err)
	}
	f, rc, err := wrap(epfd, "tcp-probes")
	if err != nil {
		return nil, err
	}
	ts := &tcpSet{f: f, rc: rc, epfd: epfd, m: make(map[int32]tcpPend), buf: make([]byte, mmsgBufLen), oob: make([]byte, oobSize)}
	p.readers.Add(1)
	go func() {
		defer p.readers.Done()
		readLoop(f, rc, ts.drain)
	}()
	p.tcp = ts
	return ts, nil
}

// start sends probe i of batch b (use gen): a socket, the connect that
// sends the SYN, and its place in the set. The returned token names it
// for take.
func (ts *tcpSet) start(b *lbatch, gen uint32, i int, pr Probe, now func() time.Time) (fd int, tok uint32, sent time.Time, err error) {
	v6 := pr.Dst.Is6()
	fd, err = tcpSocket(v6, pr.TTL, pr.TOS)
	if err != nil {
		return -1, 0, time.Time{}, err
	}
	n := sockaddrRaw(&b.name, pr.Dst, pr.Port)
	sent = now()
	if err := rawConnect(fd, &b.name, n); err != nil && err != unix.EINPROGRESS {
		rawClose(fd)
		return -1, 0, sent, sendError(err, pr)
	}
	ts.mu.Lock()
	if ts.closed {
		ts.mu.Unlock()
		rawClose(fd)
		return -1, 0, sent, ErrClosed
	}
	ts.tok++
	tok = ts.tok
	ts.m[int32(fd)] = tcpPend{b: b, gen: gen, idx: int32(i), tok: tok, dst: pr.Dst, port: pr.Port, ttl: uint8(pr.TTL), sent: sent}
	// Added after connect: an unconnected socket polls as hung up. An
	// answer that came in between is found by the add itself.
	ev := unix.EpollEvent{Events: unix.EPOLLOUT | unix.EPOLLERR | unix.EPOLLONESHOT, Fd: int32(fd), Pad: int32(tok)}
	err = rawEpollCtl(ts.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
	if err != nil {
		delete(ts.m, int32(fd))
	}
	ts.mu.Unlock()
	if err != nil {
		rawClose(fd)
		return -1, 0, sent, fmt.Errorf("wait for TCP probe: %w", err)
	}
	return fd, tok, sent, nil
}

// take removes probe fd/tok, if still in flight, and closes its socket.
func (ts *tcpSet) take(fd int32, tok uint32) {
	ts.mu.Lock()
	if p, ok := ts.m[fd]; ok && p.tok == tok {
		delete(ts.m, fd)
		rawClose(int(fd))
	}
	ts.mu.Unlock()
}

// drain handles every probe the set reports ready. The descriptor is
// under the set's lock while it is read, so no timeout closes it (and no
// new probe reuses its number) meanwhile.
func (ts *tcpSet) drain(epfd int, now time.Time) {
	for {
		n := rawEpollPoll(epfd, ts.evs[:])
		if n == 0 {
			return
		}
		for _, ev := range ts.evs[:n] {
			ts.mu.Lock()
			p, ok := ts.m[ev.Fd]
			if !ok || p.tok != uint32(ev.Pad) {
				ts.mu.Unlock()
				continue
			}
			r, done := ts.result(int(ev.Fd), &p, now)
			if !done {
				// A stale wakeup: wait for the next one.
				re := unix.EpollEvent{Events: unix.EPOLLOUT | unix.EPOLLERR | unix.EPOLLONESHOT, Fd: ev.Fd, Pad: ev.Pad}
				_ = rawEpollCtl(epfd, unix.EPOLL_CTL_MOD, int(ev.Fd), &re)
				ts.mu.Unlock()
				continue
			}
			delete(ts.m, ev.Fd)
			rawClose(int(ev.Fd))
			ts.mu.Unlock()
			p.b.post(p.gen, int(p.idx), r)
		}
		if n < len(ts.evs) {
			return
		}
	}
}

// close closes every socket still in the set and the set itself.
func (ts *tcpSet) close() {
	ts.mu.Lock()
	ts.closed = true
	for fd := range ts.m {
		rawClose(int(fd))
	}
	clear(ts.m)
	ts.mu.Unlock()
	ts.f.Close()
}

// result reads what ended a connection attempt. ok is false while the
// attempt is still in progress (a stale wakeup).
func (ts *tcpSet) result(fd int, p *tcpPend, now time.Time) (Reply, bool) {
	v6 := p.dst.Is6()
	pr := Probe{Dst: p.dst, TTL: int(p.ttl), Mode: TCP}
	// A router's time exceeded is in the error queue, with its address;
	// so is a local error (the SYN never left).
	ts.iov.Base = &ts.buf[0]
	ts.iov.SetLen(len(ts.buf))
	ts.msg = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&ts.name)), Namelen: unix.SizeofSockaddrInet6, Iov: &ts.iov, Control: &ts.oob[0]}
	ts.msg.SetIovlen(1)
	ts.msg.SetControllen(len(ts.oob))
	rn, _, e := unix.RawSyscall(unix.SYS_RECVMSG, uintptr(fd), uintptr(unsafe.Pointer(&ts.msg)), unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
	if e == 0 {
		m := &ts.m1
		parseMessage(m, ts.buf[:min(int(rn), len(ts.buf))], &ts.name, ts.msg.Namelen, ts.oob[:min(int(ts.msg.Controllen), len(ts.oob))], true)
		switch {
		case (m.ee.Origin == unix.SO_EE_ORIGIN_ICMP || m.ee.Origin == unix.SO_EE_ORIGIN_ICMP6) && m.offender.IsValid():
			kind, ignore := classify(v6, TCP, m.ee.Type, m.ee.Code)
			if !ignore {
				d, kts := rtt(p.sent, m.kernelTS, now)
				return Reply{Kind: kind, From: m.offender, ICMPType: m.ee.Type, ICMPCode: m.ee.Code,
					Sent: p.sent, RTT: d, KernelTS: kts, Details: extFromErrQueue(m)}, true
			}
		case m.ee.Origin == unix.SO_EE_ORIGIN_LOCAL:
			return Reply{Kind: Failed, Sent: p.sent, Err: sendError(unix.Errno(m.ee.Errno), pr)}, true
		}
	}
	var soerr int32
	sl := uint32(4)
	if rawGetsockopt(fd, unix.SOL_SOCKET, unix.SO_ERROR, unsafe.Pointer(&soerr), &sl) != nil {
		return Reply{}, false
	}
	d, _ := rtt(p.sent, time.Time{}, now)
	switch e := unix.Errno(soerr); {
	case soerr == 0:
		// SO_ERROR is also 0 while the handshake is still in flight: only a
		// connected socket has a peer.
		if rawGetpeername(fd) != nil {
			return Reply{}, false
		}
		// The kernel timed the handshake itself, SYN out to SYN-ACK in, in
		// microseconds: its first RTT sample beats our wakeup time. It is 0
		// when the SYN was retransmitted (Karn's rule), and then ours stands.
		kts := false
		var ti unix.TCPInfo
		tl := uint32(unsafe.Sizeof(ti))
		if rawGetsockopt(fd, unix.IPPROTO_TCP, unix.TCP_INFO, unsafe.Pointer(&ti), &tl) == nil && ti.Rtt > 0 && ti.Retransmits == 0 {
			d, kts = time.Duration(ti.Rtt)*time.Microsecond, true
		}
		return Reply{Kind: Reached, From: p.dst, Sent: p.sent, RTT: d, KernelTS: kts}, true
	case e == unix.ECONNREFUSED: // RST: the destination answered, port closed
		return Reply{Kind: Reached, From: p.dst, Sent: p.sent, RTT: d, Closed: true}, true
	case e == unix.EACCES || e == unix.EPERM:
		// Only this host says these (a firewall rule on output): the
		// SYN never left.
		return Reply{Kind: Failed, Sent: p.sent, Err: sendError(e, pr)}, true
	default:
		// An ICMP error whose details never reached the error queue: the
		// hop is unknown, which is as good as no answer for this probe.
		return Reply{Kind: Unreachable, Sent: p.sent, RTT: d, Err: e}, true
	}
}
