//go:build linux

package probe

import (
	"errors"
	"fmt"
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// Probes with DontFragment (path MTU discovery) go through sockets of their
// own, one per mode and family, never through the shared ones:
//
//   - IPv4 has no per-packet DF: IP_MTU_DISCOVER is a socket option. Set to
//     IP_PMTUDISC_PROBE it sets DF on every packet and ignores the path MTU
//     the kernel cached from earlier "fragmentation needed" answers, so a
//     probe the size of the interface MTU still leaves (instead of being
//     refused or fragmented locally) and the router that cannot forward it
//     answers again. Ordinary probes keep the default, under which a large
//     -s probe is fragmented rather than refused.
//   - IPv6 gets IPV6_DONTFRAG (no local fragmentation) and
//     IPV6_PMTUDISC_PROBE (the interface MTU, not the cached path MTU, is the
//     local limit) for the same reasons.
//   - They are ping or UDP sockets with the error queue even when raw sockets
//     are open: the kernel hands their "fragmentation needed" and "packet too
//     big" answers over with the next-hop MTU in ee_info and the router as the
//     offender, and demultiplexes them to the socket that sent the probe.
//     Their payload token differs from the shared sockets' (dfToken), so a
//     raw socket, which sees a copy of every ICMP error, never takes their
//     answers for its own probes.
//
// TCP probes ignore DontFragment: Linux sets DF on TCP segments anyway, and a
// SYN is too small to find an MTU.

// dfKind marks a DF socket's key in linuxProber.shared; the socket's own
// kind stays kindPing or kindUDP, which its reader handles as usual.
const dfKind sockKind = 0x80

// dfToken is xored into the prober's magic for the DF sockets' probes.
const dfToken = 0x5046_4d54

// token is the payload token of s's probes.
func (s *sharedSock) token(p *linuxProber) uint32 {
	if s.df {
		return p.magic ^ dfToken
	}
	return p.magic
}

// dfSock returns the DontFragment socket for mode and family, opening it on
// first use.
func (p *linuxProber) dfSock(mode Mode, v6 bool) (*sharedSock, error) {
	kind := kindPing
	if mode == UDP {
		kind = kindUDP
	}
	key := sockKey{kind: kind | dfKind, v6: v6}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if s := p.shared[key]; s != nil {
		return s, nil
	}
	af, typ, proto := unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_UDP
	if v6 {
		af = unix.AF_INET6
	}
	if kind == kindPing {
		proto = unix.IPPROTO_ICMP
		if v6 {
			proto = unix.IPPROTO_ICMPV6
		}
	}
	fd, err := unix.Socket(af, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		if kind == kindPing {
			return nil, fmt.Errorf("path MTU discovery with ICMP: %w", pingSocketError(err, v6))
		}
		return nil, fmt.Errorf("open %s UDP socket for path MTU discovery: %w", family(v6), err)
	}
	if err := setDontFrag(fd, v6); err != nil {
		unix.Close(fd)
		return nil, err
	}
	if kind == kindUDP {
		var sa unix.Sockaddr = &unix.SockaddrInet4{}
		if v6 {
			_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
			sa = &unix.SockaddrInet6{}
		}
		if err := unix.Bind(fd, sa); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("bind %s UDP socket for path MTU discovery: %w", family(v6), err)
		}
	}
	var port uint16
	if sa, err := unix.Getsockname(fd); err == nil {
		_, port = addrOf(sa)
	}
	if err := enableRecvErr(fd, v6); err != nil {
		unix.Close(fd)
		return nil, err
	}
	f, rc, err := wrap(fd, fmt.Sprintf("probe-df-%d-%v", kind, v6))
	if err != nil {
		return nil, err
	}
	s := &sharedSock{f: f, rc: rc, v6: v6, kind: kind, df: true, reserve: -1, port: port, pend: newLTable(1, false)}
	s.rv = newReceiver()
	s.onMsg = func(m *message) { p.handle(s, m, s.wakeAt) }
	p.readers.Add(1)
	go func() {
		defer p.readers.Done()
		readLoop(f, rc, func(fd int, now time.Time) { p.drain(s, fd, now) })
	}()
	p.shared[key] = s
	p.note("%v/%s don't-fragment probes: %s socket with the error queue, DF and the interface MTU as the local limit (path MTU discovery)",
		mode, family(v6), map[sockKind]string{kindPing: "ping", kindUDP: "UDP"}[kind])
	return s, nil
}

// setDontFrag makes every packet of fd carry DF (IPv4) or forbids its
// fragmentation (IPv6), with the interface MTU, not the cached path MTU, as
// the size the local stack refuses above.
func setDontFrag(fd int, v6 bool) error {
	if v6 {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MTU_DISCOVER, unix.IPV6_PMTUDISC_PROBE); err != nil {
			return fmt.Errorf("setsockopt IPV6_MTU_DISCOVER: %w", err)
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_DONTFRAG, 1); err != nil {
			return fmt.Errorf("setsockopt IPV6_DONTFRAG: %w", err)
		}
		return nil
	}
	if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_PROBE); err != nil {
		return fmt.Errorf("setsockopt IP_MTU_DISCOVER: %w", err)
	}
	return nil
}

// errMTU is the MTU an error-queue entry gives: the next-hop MTU of an
// ICMPv4 "fragmentation needed" or an ICMPv6 "packet too big", or the
// local limit of a probe the kernel refused (EMSGSIZE); 0 otherwise.
func errMTU(m *message) uint32 {
	switch {
	case m.ee.Origin == unix.SO_EE_ORIGIN_ICMP && m.ee.Type == 3 && m.ee.Code == 4,
		m.ee.Origin == unix.SO_EE_ORIGIN_ICMP6 && m.ee.Type == 2,
		m.ee.Origin == unix.SO_EE_ORIGIN_LOCAL && unix.Errno(m.ee.Errno) == unix.EMSGSIZE:
		return m.ee.Info
	}
	return 0
}

// refusedMTU is the MTU of the interface a probe to pr.Dst leaves by, for
// a probe the local stack refused as too big: under IP_PMTUDISC_PROBE and
// IPV6_PMTUDISC_PROBE that is the limit it applied. Only refused sends
// pay for the lookup. 0 when it cannot be found.
func (p *linuxProber) refusedMTU(pr Probe) uint32 {
	src, err := p.sourceFor(pr.Dst)
	if err != nil {
		return 0
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return 0
	}
	for _, ifc := range ifs {
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.Equal(src.AsSlice()) {
				return uint32(ifc.MTU)
			}
		}
	}
	return 0
}

// dfRetries is how many EMSGSIZE sends in a row a DF socket retries: the
// socket's pending error from an earlier "fragmentation needed" fails one
// send with EMSGSIZE without sending, while a refusal for size repeats.
const dfRetries = 3

// sendMTU is the MTU of a failed send's Reply: the interface MTU when the
// local stack refused a DontFragment probe as too big, else 0.
func (p *linuxProber) sendMTU(err error, pr Probe) uint32 {
	if !pr.DontFragment || !errors.Is(err, unix.EMSGSIZE) {
		return 0
	}
	return p.refusedMTU(pr)
}
