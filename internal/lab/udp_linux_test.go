//go:build linux

package lab

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// UDP probes for the lab's own tests: Lab.Ping is ICMP echo, which ECMP
// hashes without ports and DropProbesAtTarget treats apart, so these tests
// need UDP with a chosen source port and TTL. The sockets are opened on a
// thread inside the namespace (inNetns) and stay there, which needs no
// re-executed helper; their ICMP errors come back through IP_RECVERR's error
// queue, as for an unprivileged traceroute.

// icmpError is one ICMP error from a UDP socket's error queue.
type icmpError struct {
	Dst        netip.Addr // the probe's destination
	From       netip.Addr // who sent the error
	Type, Code uint8
}

func (e icmpError) timeExceeded() bool {
	if e.Dst.Is4() {
		return e.Type == 11
	}
	return e.Type == 3
}

func (e icmpError) portUnreachable() bool {
	if e.Dst.Is4() {
		return e.Type == 3 && e.Code == 3
	}
	return e.Type == 1 && e.Code == 4
}

func (e icmpError) String() string {
	return fmt.Sprintf("type %d code %d from %s for %s", e.Type, e.Code, e.From, e.Dst)
}

// udpSocket opens a non-blocking UDP socket in ns bound to sport (0 for any),
// with ttl (0 leaves the default) and the error queue on.
func udpSocket(ns string, v6 bool, sport, ttl int) (int, error) {
	family, level, recverr, hops := unix.AF_INET, unix.IPPROTO_IP, unix.IP_RECVERR, unix.IP_TTL
	var sa unix.Sockaddr = &unix.SockaddrInet4{Port: sport}
	if v6 {
		family, level, recverr, hops = unix.AF_INET6, unix.IPPROTO_IPV6, unix.IPV6_RECVERR, unix.IPV6_UNICAST_HOPS
		sa = &unix.SockaddrInet6{Port: sport}
	}
	var fd int
	err := inNetns(ns, func() error {
		var err error
		fd, err = unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return -1, fmt.Errorf("udp socket in %s: %w", ns, err)
	}
	opts := [][3]int{{level, recverr, 1}, {unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 4 << 20}}
	if ttl > 0 {
		opts = append(opts, [3]int{level, hops, ttl})
	}
	for _, o := range opts {
		if err := unix.SetsockoptInt(fd, o[0], o[1], o[2]); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("udp socket option %d/%d: %w", o[0], o[1], err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("udp bind port %d in %s: %w", sport, ns, err)
	}
	return fd, nil
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}
	}
	return &unix.SockaddrInet6{Addr: ap.Addr().As16(), Port: int(ap.Port())}
}

// sendUDP sends one datagram. An ICMP error that arrived since the error
// queue was last read is reported once by the next send instead of sending
// (isAsyncErr), so it tries again.
func sendUDP(fd int, dst netip.AddrPort) error {
	var err error
	for range 3 {
		if err = unix.Sendto(fd, []byte("pingerplot-lab"), 0, sockaddr(dst)); !isAsyncErr(err) {
			break
		}
	}
	return err
}

// readErrQueue returns the next ICMP error queued on fd, ok false when none is.
func readErrQueue(fd int) (e icmpError, ok bool, err error) {
	var buf [512]byte
	var oob [512]byte
	_, oobn, _, from, err := unix.Recvmsg(fd, buf[:], oob[:], unix.MSG_ERRQUEUE|unix.MSG_DONTWAIT)
	if err == unix.EAGAIN {
		return e, false, nil
	}
	if err != nil {
		return e, false, err
	}
	// The message's address is the probe's destination, taken from the
	// header the error quotes.
	switch sa := from.(type) {
	case *unix.SockaddrInet4:
		e.Dst = netip.AddrFrom4(sa.Addr)
	case *unix.SockaddrInet6:
		e.Dst = netip.AddrFrom16(sa.Addr)
	}
	cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return e, false, err
	}
	for _, m := range cmsgs {
		if !(m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_RECVERR ||
			m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_RECVERR) {
			continue
		}
		// struct sock_extended_err: errno u32, origin, type, code, pad,
		// info u32, data u32; then the offender's sockaddr.
		d := m.Data
		if len(d) < 16+8 {
			continue
		}
		e.Type, e.Code = d[5], d[6]
		off := d[16:]
		switch binary.NativeEndian.Uint16(off) {
		case unix.AF_INET:
			e.From = netip.AddrFrom4([4]byte(off[4:8]))
		case unix.AF_INET6:
			if len(off) >= 24 {
				e.From = netip.AddrFrom16([16]byte(off[8:24]))
			}
		}
		return e, e.From.IsValid(), nil
	}
	return e, false, nil
}

// waitErr waits up to d for fd's error queue to have something.
func waitErr(fd int, d time.Duration) error {
	ms := max(int(d/time.Millisecond), 1)
	for {
		_, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}, ms)
		if err != unix.EINTR {
			return err
		}
	}
}

// udpProbe sends one datagram from ns, source port sport, with TTL ttl, to
// dst, and returns the ICMP error it drew within timeout; ok is false when
// none came.
func udpProbe(ns string, dst netip.AddrPort, sport, ttl int, timeout time.Duration) (e icmpError, ok bool, err error) {
	fd, err := udpSocket(ns, dst.Addr().Is6(), sport, ttl)
	if err != nil {
		return e, false, err
	}
	defer unix.Close(fd)
	if err := sendUDP(fd, dst); err != nil {
		return e, false, fmt.Errorf("udp probe to %s: %w", dst, err)
	}
	end := time.Now().Add(timeout)
	for left := timeout; left > 0; left = time.Until(end) {
		if err := waitErr(fd, left); err != nil {
			return e, false, err
		}
		if e, ok, err = readErrQueue(fd); ok || err != nil {
			return e, ok, err
		}
	}
	return e, false, nil
}

// udpBurst sends one datagram to port of each of dsts (all of one family)
// from one socket in ns, back to back, and returns the ICMP error each drew
// within timeout of the last send. The error queue is drained while sending
// so that it never fills up.
func udpBurst(ns string, dsts []netip.Addr, port uint16, timeout time.Duration) (map[netip.Addr]icmpError, error) {
	if len(dsts) == 0 {
		return nil, errors.New("udp burst: no destinations")
	}
	fd, err := udpSocket(ns, dsts[0].Is6(), 0, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	got := make(map[netip.Addr]icmpError, len(dsts))
	drain := func() error {
		for {
			e, ok, err := readErrQueue(fd)
			if err != nil || !ok {
				return err
			}
			got[e.Dst] = e
		}
	}
	for _, dst := range dsts {
		if err := sendUDP(fd, netip.AddrPortFrom(dst, port)); err != nil {
			return nil, fmt.Errorf("udp burst to %s: %w", dst, err)
		}
		if err := drain(); err != nil {
			return nil, err
		}
	}
	end := time.Now().Add(timeout)
	for left := timeout; left > 0 && len(got) < len(dsts); left = time.Until(end) {
		if err := waitErr(fd, left); err != nil {
			return nil, err
		}
		if err := drain(); err != nil {
			return nil, err
		}
	}
	return got, nil
}
