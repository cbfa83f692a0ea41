//go:build linux

package probe

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pingerplot/pingerplot/internal/packet"
)

// rawError explains a refused raw socket.
func rawError(err error, v6 bool) error {
	if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return fmt.Errorf("raw %s sockets need CAP_NET_RAW: run as root, or grant it once with "+
			"'sudo setcap cap_net_raw+ep $(command -v pingerplot)'; without --raw every mode (ICMP, UDP, TCP) works unprivileged", family(v6))
	}
	return fmt.Errorf("open raw %s socket: %w", family(v6), err)
}

// openRawICMP opens the raw ICMP socket of a family. It sends ICMP probes
// with this prober's own identifier and receives every ICMP message for the
// host, so each answer is matched on the quoted probe (destination,
// identifier and sequence, or UDP ports and checksum), which works even
// with routers that quote only the 8 bytes RFC 792 requires.
// Callers hold p.mu.
func (p *linuxProber) openRawICMP(v6 bool) (*sharedSock, error) {
	if s := p.shared[sockKey{kind: kindRawICMP, v6: v6}]; s != nil {
		return s, nil
	}
	af, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if v6 {
		af, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	fd, err := unix.Socket(af, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, rawError(err, v6)
	}
	// Only answers to probes are wanted: echo replies and errors. Everything
	// else (echo requests to this host, router adverts) is filtered in the kernel.
	if v6 {
		var f unix.ICMPv6Filter
		for i := range f.Data {
			f.Data[i] = 0xFFFFFFFF // Linux: a set bit blocks the type
		}
		for _, t := range []uint8{1, 2, 3, 4, 129} {
			f.Data[t>>5] &^= 1 << (t & 31)
		}
		err = unix.SetsockoptICMPv6Filter(fd, unix.SOL_ICMPV6, unix.ICMPV6_FILTER, &f)
	} else {
		// The kernel reads the mask as 32 bits; through int32, so that
		// the conversion also compiles where int is 32 bits wide.
		mask := ^uint32(1<<0 | 1<<3 | 1<<11 | 1<<12)
		err = unix.SetsockoptInt(fd, unix.SOL_RAW, unix.ICMP_FILTER, int(int32(mask)))
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("set ICMP filter: %w", err)
	}
	return p.register(fd, v6, kindRawICMP, 0, 1)
}

// openRawUDP opens a raw UDP socket for sending crafted UDP probes (their
// answers arrive on the raw ICMP socket, opened too). Every probe of the
// prober leaves from one source port, reserved by binding an ordinary UDP
// socket to it, and goes to the user's port: one flow per target, which
// ECMP routers keep on one path (Paris traceroute). The probe's sequence
// number travels in the UDP checksum, kept valid by a payload word.
// Callers hold p.mu.
func (p *linuxProber) openRawUDP(v6 bool) (*sharedSock, error) {
	rx, err := p.openRawICMP(v6)
	if err != nil {
		return nil, err
	}
	af := unix.AF_INET
	var any unix.Sockaddr = &unix.SockaddrInet4{}
	if v6 {
		af, any = unix.AF_INET6, &unix.SockaddrInet6{}
	}
	fd, err := unix.Socket(af, unix.SOCK_RAW|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return nil, rawError(err, v6)
	}
	// A raw UDP socket receives a copy of every UDP datagram for the host;
	// this one only sends, so a filter that accepts nothing keeps its queue empty.
	drop := []unix.SockFilter{{Code: unix.BPF_RET | unix.BPF_K, K: 0}}
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
		&unix.SockFprog{Len: 1, Filter: &drop[0]}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("attach filter to raw UDP socket: %w", err)
	}
	res, err := unix.Socket(af, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err == nil {
		if v6 {
			_ = unix.SetsockoptInt(res, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
		}
		err = unix.Bind(res, any)
	}
	if err != nil {
		unix.Close(fd)
		if res >= 0 {
			unix.Close(res)
		}
		return nil, fmt.Errorf("reserve a UDP source port: %w", err)
	}
	s, err := p.register(fd, v6, kindRawUDP, 0, 1)
	if err != nil {
		unix.Close(res)
		return nil, err
	}
	sa, _ := unix.Getsockname(res)
	_, s.port = addrOf(sa)
	s.reserve = res
	s.rawRx = rx
	rx.rawUDP.Store(s)
	return s, nil
}

// buildRawUDP crafts the UDP header and payload of one raw probe in b's
// scratch.
func (p *linuxProber) buildRawUDP(s *sharedSock, b *lbatch, pr Probe, seq, sport uint16, size int) error {
	src, err := p.sourceFor(pr.Dst)
	if err != nil {
		return err
	}
	b.raw = grow(b.raw, max(size-2, packet.TokenLen))
	packet.PutToken(b.raw, seq, p.magic)
	b.pkt, err = packet.AppendParisUDP(b.pkt[:0], netip.AddrPortFrom(src, sport), netip.AddrPortFrom(pr.Dst, pr.Port), seq, b.raw)
	return err
}

// sourceFor returns the local address the kernel would use towards dst,
// which the UDP checksum covers. Connecting a datagram socket sends nothing.
func (p *linuxProber) sourceFor(dst netip.Addr) (netip.Addr, error) {
	p.mu.Lock()
	src, ok := p.srcCache[dst]
	p.mu.Unlock()
	if ok {
		return src, nil
	}
	af := unix.AF_INET
	if dst.Is6() {
		af = unix.AF_INET6
	}
	fd, err := unix.Socket(af, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("find source address: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Connect(fd, sockaddr(dst, 9)); err != nil {
		return netip.Addr{}, fmt.Errorf("no route to %v: %w", dst, err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("find source address: %w", err)
	}
	src, _ = addrOf(sa)
	p.mu.Lock()
	p.srcCache[dst] = src
	p.mu.Unlock()
	return src, nil
}

// handleRaw matches one ICMP message read from a raw socket.
func (p *linuxProber) handleRaw(s *sharedSock, m *message, now time.Time) {
	var msg packet.Message
	var err error
	if s.v6 {
		msg, err = packet.ParseICMPv6(m.data)
	} else {
		msg, err = packet.ParseICMPv4(m.data)
	}
	if err != nil {
		return
	}
	from := m.from.Unmap()
	if !s.v6 {
		from = msg.IP.Src
	}
	if (msg.Type == 0 && !s.v6) || (msg.Type == 129 && s.v6) {
		e := msg.Echo
		if len(e.Data) < 6 || packet.ParisWord(e.Seq, 0) != uint16(e.Data[0])<<8|uint16(e.Data[1]) {
			return
		}
		// A late reply whose number was reused since by a probe to
		// another address is not that probe's answer; nor is one with
		// another identifier than its flow's.
		if pd, ok := s.pend.peek(e.Seq); !ok || from != pd.dst || e.ID != pd.flowID {
			return
		}
		pd, ok := s.pend.take(e.Seq)
		if !ok {
			return
		}
		d, kts := rtt(pd.sent, m.kernelTS, now)
		pd.post(Reply{Kind: Reached, From: from, ICMPType: msg.Type, Sent: pd.sent, RTT: d, KernelTS: kts})
		return
	}
	q := msg.Quote
	if q.IP.Version == 0 {
		return
	}
	var tbl *ltable
	var seq, sport uint16
	var fromToken bool
	var mode Mode
	switch q.IP.Protocol {
	case packet.ProtoICMP, packet.ProtoICMPv6:
		tbl, seq, mode = s.pend, q.Echo.Seq, ICMP
	case packet.ProtoUDP:
		u := s.rawUDP.Load()
		if u == nil {
			return
		}
		seq, fromToken = rawUDPSeq(&q, p.magic)
		tbl, mode = u.pend, UDP
	default:
		return // TCP probes are matched on their own sockets' error queues
	}
	pd, ok := tbl.peek(seq)
	if !ok || q.IP.Dst.Unmap() != pd.dst {
		return
	}
	switch mode {
	case ICMP:
		if q.Echo.ID != pd.flowID {
			return
		}
	case UDP:
		// The token proves the probe ours even when a translator changed
		// its source port (its flow's, flowID); the checksum alone does not.
		if !fromToken && q.UDP.Src != pd.flowID {
			return
		}
		sport = pd.flowID
	}
	kind, ignore := classify(s.v6, mode, msg.Type, msg.Code)
	if ignore {
		return
	}
	if pd, ok = tbl.take(seq); !ok {
		return
	}
	d, kts := rtt(pd.sent, m.kernelTS, now)
	var src netip.Addr
	if mode == UDP && !s.v6 {
		src = p.cachedSource(pd.dst)
	}
	det := quotedDetails(&q, mode == UDP, src, sport, seq)
	det.MPLS, det.Interfaces = msg.MPLS, msg.Interfaces
	pd.post(Reply{Kind: kind, From: from, ICMPType: msg.Type, ICMPCode: msg.Code,
		Sent: pd.sent, RTT: d, KernelTS: kts, Details: det})
}

// cachedSource returns the source address raw UDP probes to dst were
// built with (sourceFor), or the zero Addr if none was.
func (p *linuxProber) cachedSource(dst netip.Addr) netip.Addr {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.srcCache[dst]
}

// extFromErrQueue reads the ICMP extensions of an error-queue entry (the
// RFC 4950 label stack, the RFC 5837 interfaces) at the offset the kernel
// reports (Linux 5.9+, IP_RECVERR_RFC4884).
func extFromErrQueue(m *message) Details {
	off := int(uint16(m.ee.Data))          // sock_ee_data_rfc4884.len
	invalid := (m.ee.Data>>16)&0xFF&1 != 0 // SO_EE_RFC4884_FLAG_INVALID
	if off == 0 || invalid || off >= len(m.data) {
		return Details{}
	}
	e, err := packet.ParseExtensions(m.data[off:])
	if err != nil {
		return Details{}
	}
	return Details{MPLS: e.MPLS, Interfaces: e.Interfaces}
}
