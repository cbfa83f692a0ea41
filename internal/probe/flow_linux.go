//go:build linux

package probe

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Flows (Probe.Flow) on Linux. A flow is what a load balancer's hash sees:
// probes of one flow keep every hashed field constant, probes of different
// flows differ in one of them.
//
//   - Raw UDP: each flow leaves from a source port of its own, reserved by
//     binding an ordinary UDP socket to it (as flow 0's is), to the user's
//     destination port; the sequence stays in the UDP checksum (Paris), so
//     a flow's probes hash alike and its answers match on the quoted port.
//   - Unprivileged UDP: a socket per flow, bound to its own source port.
//   - Raw ICMP: each flow sends with an echo identifier of its own (the
//     prober's plus the flow), which changes the checksum too. A load
//     balancer that hashes only addresses and protocol cannot tell ICMP
//     flows apart at all; one that hashes the first transport bytes (as
//     Linux does with the echo identifier under its L4 policy) can.
//   - Unprivileged ICMP: a ping socket per flow; the kernel picks each one's
//     identifier, so the same holds as for raw ICMP.
//   - TCP probes leave from a fresh source port each (one socket per probe),
//     so every TCP probe is a flow of its own and Flow has no effect.
//
// The sockets and ports of a flow are opened on its first probe and kept
// until Close: a steady state of N flows allocates nothing per probe.

// flowID returns what marks flow on s: the source port (raw UDP), the echo
// identifier (raw ICMP), or s's own port (sockets opened per flow).
func (p *linuxProber) flowID(s *sharedSock, flow uint16) (uint16, error) {
	switch s.kind {
	case kindRawICMP:
		return p.id + flow, nil
	case kindRawUDP:
		if flow == 0 {
			return s.port, nil
		}
		return p.flowPort(s, flow)
	}
	return s.port, nil
}

// flowPort returns the source port of flow (above 0) on the raw UDP socket
// s, reserving one on its first use.
func (p *linuxProber) flowPort(s *sharedSock, flow uint16) (uint16, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if port, ok := s.flowPorts[flow]; ok {
		return port, nil
	}
	if p.closed {
		return 0, ErrClosed
	}
	af := unix.AF_INET
	var any unix.Sockaddr = &unix.SockaddrInet4{}
	if s.v6 {
		af, any = unix.AF_INET6, &unix.SockaddrInet6{}
	}
	fd, err := unix.Socket(af, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return 0, fmt.Errorf("reserve a UDP source port for flow %d: %w", flow, err)
	}
	if s.v6 {
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
	}
	if err := unix.Bind(fd, any); err != nil {
		unix.Close(fd)
		return 0, fmt.Errorf("reserve a UDP source port for flow %d: %w", flow, err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return 0, fmt.Errorf("reserve a UDP source port for flow %d: %w", flow, err)
	}
	_, port := addrOf(sa)
	if s.flowPorts == nil {
		s.flowPorts = make(map[uint16]uint16)
	}
	s.flowPorts[flow] = port
	s.flowRes = append(s.flowRes, fd)
	return port, nil
}
