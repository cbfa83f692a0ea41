//go:build linux

package probe

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pingerplot/pingerplot/internal/packet"
)

func (p *linuxProber) udpSock(v6 bool, flow uint16) (*sharedSock, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if s := p.shared[sockKey{kind: kindRawUDP, v6: v6}]; s != nil && p.cfg.Privilege != Unprivileged {
		return s, nil
	}
	if s := p.shared[sockKey{kind: kindUDP, v6: v6, flow: flow}]; s != nil {
		return s, nil
	}
	var rawErr error
	if p.cfg.Privilege != Unprivileged {
		s, err := p.openRawUDP(v6)
		if err == nil {
			p.note("UDP/%s: raw socket (CAP_NET_RAW): fixed ports per target with the sequence in the UDP checksum (Paris), replies matched on the quoted UDP header", family(v6))
			return s, nil
		}
		if p.cfg.Privilege == Raw {
			return nil, err
		}
		rawErr = err
	}
	s, err := p.openUDP(v6, flow)
	if err != nil {
		return nil, err
	}
	if flow != 0 {
		return s, nil // the flow-0 socket said how UDP is sent
	}
	why := "raw sockets not requested"
	if rawErr != nil {
		why = "no raw socket: " + rawErr.Error()
	}
	p.note("UDP/%s: unprivileged UDP socket with the error queue, fixed source port %d, probes matched by payload token (%s)", family(v6), s.port, why)
	return s, nil
}

// openUDP opens the one unprivileged UDP socket all UDP probes of a family
// share. Its source port never changes and the destination port is the
// user's, so every probe to a target is the same flow to a load balancer;
// probes are told apart by the token at the start of the payload, which the
// router quotes back. (A router that quotes only the RFC 792 minimum of 8
// bytes cannot be matched this way; raw mode matches it by the UDP checksum.)
func (p *linuxProber) openUDP(v6 bool, flow uint16) (*sharedSock, error) {
	af := unix.AF_INET
	var sa unix.Sockaddr = &unix.SockaddrInet4{}
	if v6 {
		af = unix.AF_INET6
		sa = &unix.SockaddrInet6{}
	}
	fd, err := unix.Socket(af, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, fmt.Errorf("open %s UDP socket: %w", family(v6), err)
	}
	if v6 {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind %s UDP socket: %w", family(v6), err)
	}
	var port uint16
	if sa, err := unix.Getsockname(fd); err == nil {
		_, port = addrOf(sa)
	}
	s, err := p.register(fd, v6, kindUDP, flow, 1)
	if err != nil {
		return nil, err
	}
	s.port = port
	return s, nil
}

func (p *linuxProber) handleUDP(s *sharedSock, m *message, now time.Time) {
	if m.isErr {
		// Data is the quoted UDP payload (the kernel strips the UDP header).
		seq, ok := packet.Token(m.data, s.token(p))
		if !ok {
			return
		}
		p.answerErr(s, s.pend, seq, UDP, m, now)
		return
	}
	// A datagram back from an open port carries no token of ours: it
	// answers the oldest probe to that address and port.
	pd, ok := s.pend.takeOldest(m.from.Unmap(), m.fromPort)
	if !ok {
		return
	}
	d, kts := rtt(pd.sent, m.kernelTS, now)
	pd.post(Reply{Kind: Reached, From: m.from.Unmap(), Sent: pd.sent, RTT: d, KernelTS: kts})
}
