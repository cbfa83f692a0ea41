//go:build linux

package probe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// tcpMaxWait is the kernel's initial SYN retransmission timeout. An answer
// after it may answer the retransmitted SYN, and its RTT would be measured
// from the wrong packet, so a TCP probe waits no longer.
const tcpMaxWait = time.Second

// checkTCP opens and closes one TCP socket with the error queue enabled, so
// a system that refuses it is reported before a trace starts.
func (p *linuxProber) checkTCP(v6 bool) error {
	fd, err := tcpSocket(v6, 64)
	if err != nil {
		return err
	}
	unix.Close(fd)
	p.mu.Lock()
	p.note("TCP/%s: non-blocking connect() per probe with the TTL set; routers' answers from the error queue, SYN-ACK or RST marks the destination (no privilege needed)", family(v6))
	p.mu.Unlock()
	return nil
}

func tcpSocket(v6 bool, ttl int) (int, error) {
	af := unix.AF_INET
	if v6 {
		af = unix.AF_INET6
	}
	fd, err := unix.Socket(af, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return -1, fmt.Errorf("open %s TCP socket: %w", family(v6), err)
	}
	if err := setTTL(fd, v6, ttl); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("set TTL on TCP socket: %w", err)
	}
	if err := enableRecvErr(fd, v6); err != nil {
		unix.Close(fd)
		return -1, err
	}
	// Binding to port 0 picks the source port now, so the search for a free
	// port is not inside connect(), between the send time and the SYN.
	var any unix.Sockaddr = &unix.SockaddrInet4{}
	if v6 {
		any = &unix.SockaddrInet6{}
	}
	if err := unix.Bind(fd, any); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("bind TCP socket: %w", err)
	}
	// Linger 0: close sends RST, so a completed handshake leaves no
	// TIME_WAIT behind and the server sees the probe end at once.
	if err := unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("set SO_LINGER: %w", err)
	}
	return fd, nil
}

// probeTCP sends one SYN through a socket of its own: an ICMP error aborts a
// connection attempt, and Linux (since 5.8) queues that error with the
// router's address on the socket's error queue while in SYN_SENT, which is
// what makes an unprivileged TCP traceroute possible.
//
// The socket is closed at the timeout, before the kernel's first SYN
// retransmission (1 s) could draw a late answer that would be misread.
func (p *linuxProber) probeTCP(ctx context.Context, pr Probe) (Reply, error) {
	v6 := pr.Dst.Is6()
	if pr.Timeout > tcpMaxWait {
		pr.Timeout = tcpMaxWait
	}
	p.tcpWG.Add(1)
	defer p.tcpWG.Done()
	select { // Close may have started after Probe's check
	case <-p.closing:
		return Reply{}, ErrClosed
	default:
	}
	fd, err := tcpSocket(v6, pr.TTL)
	if err != nil {
		return Reply{Kind: Failed, Err: err}, nil
	}
	if err := setSocketTOS(fd, v6, pr.TOS); err != nil {
		unix.Close(fd)
		return Reply{Kind: Failed, Err: err}, nil
	}
	f, rc, err := wrap(fd, "tcp-probe")
	if err != nil {
		return Reply{Kind: Failed, Err: err}, nil
	}
	defer f.Close()

	pd := &pending{dst: pr.Dst, port: pr.Port, ttl: pr.TTL}
	var cerr error
	if err := rc.Control(func(fd uintptr) {
		pd.sent = p.now()
		cerr = unix.Connect(int(fd), sockaddr(pr.Dst, pr.Port))
	}); err != nil {
		return Reply{Kind: Failed, Err: err}, nil
	}
	if cerr != nil && !errors.Is(cerr, unix.EINPROGRESS) {
		return Reply{Kind: Failed, Sent: pd.sent, Err: sendError(cerr, pr)}, nil
	}

	// The wait ends at the deadline, or at once when ctx ends or the
	// prober closes: moving the deadline into the past wakes the poller.
	_ = f.SetWriteDeadline(pd.sent.Add(pr.Timeout))
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-ctx.Done():
		case <-p.closing:
		case <-stop:
			return
		}
		_ = f.SetWriteDeadline(time.Unix(1, 0))
	}()
	buf := make([]byte, 512)
	oob := make([]byte, oobSize)
	var r Reply
	err = rc.Write(func(fd uintptr) bool {
		var done bool
		r, done = tcpResult(int(fd), v6, pd, buf, oob, time.Now())
		return done
	})
	switch {
	case err == nil:
		return r, nil
	case ctx.Err() != nil:
		return Reply{}, ctx.Err()
	case errors.Is(err, os.ErrDeadlineExceeded):
		select {
		case <-p.closing:
			return Reply{}, ErrClosed
		default:
		}
		return Reply{Kind: Timeout, Sent: pd.sent}, nil
	}
	return Reply{Kind: Failed, Sent: pd.sent, Err: err}, nil
}

// tcpResult reads what ended a connection attempt. ok is false while the
// attempt is still in progress (a stale wakeup).
func tcpResult(fd int, v6 bool, pd *pending, buf, oob []byte, now time.Time) (Reply, bool) {
	// A router's time exceeded is in the error queue, with its address;
	// so is a local error (the SYN never left).
	if m, err := readMsg(fd, buf, oob, unix.MSG_ERRQUEUE); err == nil {
		switch {
		case (m.ee.Origin == unix.SO_EE_ORIGIN_ICMP || m.ee.Origin == unix.SO_EE_ORIGIN_ICMP6) && m.offender.IsValid():
			kind, ignore := classify(v6, TCP, m.ee.Type, m.ee.Code)
			if !ignore {
				d, kts := rtt(pd.sent, m.kernelTS, now)
				return Reply{Kind: kind, From: m.offender, ICMPType: m.ee.Type, ICMPCode: m.ee.Code,
					Sent: pd.sent, RTT: d, KernelTS: kts, Details: extFromErrQueue(&m)}, true
			}
		case m.ee.Origin == unix.SO_EE_ORIGIN_LOCAL:
			return Reply{Kind: Failed, Sent: pd.sent, Err: sendError(unix.Errno(m.ee.Errno), Probe{Dst: pd.dst, TTL: pd.ttl, Mode: TCP})}, true
		}
	}
	soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return Reply{}, false
	}
	d, _ := rtt(pd.sent, time.Time{}, now)
	switch e := unix.Errno(soerr); {
	case soerr == 0:
		// SO_ERROR is also 0 while the handshake is still in flight: only a
		// connected socket has a peer.
		if _, err := unix.Getpeername(fd); err != nil {
			return Reply{}, false
		}
		// The kernel timed the handshake itself, SYN out to SYN-ACK in, in
		// microseconds: its first RTT sample beats our wakeup time. It is 0
		// when the SYN was retransmitted (Karn's rule), and then ours stands.
		kts := false
		if ti, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO); err == nil && ti.Rtt > 0 && ti.Retransmits == 0 {
			d, kts = time.Duration(ti.Rtt)*time.Microsecond, true
		}
		return Reply{Kind: Reached, From: pd.dst, Sent: pd.sent, RTT: d, KernelTS: kts}, true
	case e == unix.ECONNREFUSED: // RST: the destination answered, port closed
		return Reply{Kind: Reached, From: pd.dst, Sent: pd.sent, RTT: d, Closed: true}, true
	case e == unix.EACCES || e == unix.EPERM:
		// Only this host says these (a firewall rule on output): the
		// SYN never left.
		return Reply{Kind: Failed, Sent: pd.sent, Err: sendError(e, Probe{Dst: pd.dst, TTL: pd.ttl, Mode: TCP})}, true
	default:
		// An ICMP error whose details never reached the error queue: the
		// hop is unknown, which is as good as no answer for this probe.
		return Reply{Kind: Unreachable, Sent: pd.sent, RTT: d, Err: e}, true
	}
}
