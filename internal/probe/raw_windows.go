//go:build windows

package probe

// The administrator half of the Windows TCP/UDP backend: a raw ICMP (ICMPv6)
// socket per local source address reads the routers' answers to probes
// sent from ordinary sockets.
//
// What Windows delivers to a raw socket is set out in Microsoft's "TCP/IP
// raw sockets" page (Winsock documentation): a received datagram is copied
// to every SOCK_RAW socket whose protocol matches the datagram's, whose
// bound local address (if any) is the datagram's destination, and whose
// connected foreign address (if any) is its source; an IPv4 raw socket
// reads the IP header in front of the data, an IPv6 one only what follows
// the last IPv6 header; such a socket may see many datagrams that are not
// its own, so an application must pick out its own. Hence one socket per
// source address, bound to it (Winsock also wants a raw socket bound before
// it receives), and every message matched on the probe it quotes:
// destination, ports, and for UDP the checksum that carries the sequence.
//
// SIO_RCVALL is not used. Its page describes it as receiving all IPv4 or
// IPv6 packets passing through an interface (RCVALL_ON also makes the card
// promiscuous; RCVALL_IPLEVEL at the IP level only): a capture facility for
// a socket of protocol IPPROTO_IP bound to one interface, which would hand
// this process every packet of the host, not a condition for ICMP errors
// addressed to this host to reach a protocol-1 raw socket. Windows Defender
// Firewall may still drop inbound ICMP before any socket sees it; then the
// routers stay silent and docs/windows.md says which rule to add.

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// sockEndpoint is everything bound to one local source address: the raw
// socket that reads answers, the UDP socket probes leave from, and the
// probes in flight.
type sockEndpoint struct {
	src netip.Addr
	v6  bool
	raw *net.IPConn

	mu      sync.Mutex
	ports   *portPool
	tcp     map[uint16]*tcpWait // TCP trace probes in flight, by source port
	udp     windows.Handle      // opened by the first UDP probe (udpOpen)
	udpOpen bool
	uport   uint16
	upend   *table // UDP probes in flight, by sequence (= UDP checksum)

	// sendMu makes "set the TTL, send" one step on the shared UDP socket:
	// Windows has no per-datagram TTL that all supported versions honour.
	sendMu sync.Mutex
}

// tcpWait is a TCP trace probe waiting for its connect or a router.
type tcpWait struct {
	pd     *pending
	cancel func() // ends the connect once a router has answered
}

// checkRawSocket opens and closes a raw ICMP socket of the family, so that
// a system that refuses one is reported before a trace starts.
func checkRawSocket(v6 bool) error {
	af, proto := windows.AF_INET, windows.IPPROTO_ICMP
	if v6 {
		af, proto = windows.AF_INET6, windows.IPPROTO_ICMPV6
	}
	h, err := windows.Socket(af, windows.SOCK_RAW, proto)
	if err != nil {
		return rawOpenError(err, v6)
	}
	windows.Closesocket(h)
	return nil
}

func rawOpenError(err error, v6 bool) error {
	if errors.Is(err, windows.WSAEACCES) {
		return fmt.Errorf("Windows refused a raw %s socket, which TCP and UDP traces need: run PingerPlot as administrator "+
			"(security software may block raw sockets even then), or use ICMP (the default), or final-hop-only for a TCP service check: %w", icmpName(v6), err)
	}
	return fmt.Errorf("open raw %s socket: %w", icmpName(v6), err)
}

// endpoint returns the endpoint of the source address towards dst, opening
// its raw socket and starting its reader the first time.
func (s *sockProber) endpoint(dst netip.Addr) (*sockEndpoint, error) {
	src, err := s.sourceFor(dst)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if ep := s.eps[src]; ep != nil {
		return ep, nil
	}
	network := "ip4:icmp"
	if src.Is6() {
		network = "ip6:ipv6-icmp"
	}
	c, err := net.ListenIP(network, &net.IPAddr{IP: src.AsSlice(), Zone: src.Zone()})
	if err != nil {
		return nil, rawOpenError(err, src.Is6())
	}
	ep := &sockEndpoint{
		src:   src,
		v6:    src.Is6(),
		raw:   c,
		ports: newPortPool(tcpTracePortLo, tcpTracePortHi, tcpTracePortLo+uint16(s.magic%(tcpTracePortHi-tcpTracePortLo))),
		tcp:   make(map[uint16]*tcpWait),
	}
	s.eps[src] = ep
	s.readers.Add(1)
	go s.readRaw(ep)
	return ep, nil
}

// readRaw reads the endpoint's raw socket until it is closed. It owns buf.
func (s *sockProber) readRaw(ep *sockEndpoint) {
	defer s.readers.Done()
	buf := make([]byte, 2048)
	for {
		n, from, err := ep.raw.ReadFromIP(buf)
		now := time.Now()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// A datagram larger than buf (WSAEMSGSIZE) or a transient
			// error: nothing of ours is lost that a timeout will not show.
			continue
		}
		fa, _ := netip.AddrFromSlice(from.IP)
		s.handleRaw(ep, buf[:n], fa, now)
	}
}

// handleRaw matches one message read from a raw socket to the TCP or UDP
// probe it quotes, if it is one of ours, and delivers its answer.
func (s *sockProber) handleRaw(ep *sockEndpoint, b []byte, sender netip.Addr, now time.Time) {
	m, from, err := parseRawICMP(b, ep.v6, sender)
	if err != nil {
		return
	}
	k, ok := quoteOf(m)
	if !ok {
		return
	}
	kind, ignore := classify(ep.v6, k.mode, m.Type, m.Code)
	if ignore {
		return
	}
	var pd *pending
	var seq, port uint16
	switch k.mode {
	case UDP:
		var tbl *table
		ep.mu.Lock()
		tbl, port = ep.upend, ep.uport
		ep.mu.Unlock()
		if tbl == nil {
			return
		}
		// The token proves the probe ours even when a translator changed
		// its source port and checksum; the checksum alone does not.
		var fromToken bool
		seq, fromToken = rawUDPSeq(&m.Quote, s.magic)
		if !fromToken && (seq == 0 || k.sport != port) {
			return
		}
		if p := tbl.peek(seq); p == nil || p.dst != k.dst || p.port != k.dport {
			return
		}
		if pd = tbl.take(seq); pd == nil {
			return
		}
	case TCP:
		ep.mu.Lock()
		w := ep.tcp[k.sport]
		if w == nil || w.pd.dst != k.dst || w.pd.port != k.dport {
			ep.mu.Unlock()
			return
		}
		delete(ep.tcp, k.sport)
		pd = w.pd
		ep.mu.Unlock()
		w.cancel()
	}
	d, _ := rtt(pd.sent, time.Time{}, now)
	// An IPv4 raw socket reads the whole quote; an IPv6 one too, as the
	// quoted IPv6 header is part of the ICMPv6 message.
	det := quotedDetails(&m.Quote, k.mode == UDP, ep.src, port, seq)
	det.MPLS, det.Interfaces = m.MPLS, m.Interfaces
	pd.deliver(Reply{Kind: kind, From: from, ICMPType: m.Type, ICMPCode: m.Code, Sent: pd.sent, RTT: d, Details: det})
}

// udpSock returns the endpoint's UDP socket, opening it and starting its
// reader the first time. It is a plain Winsock socket, not a net.UDPConn:
// Go's net package disables SIO_UDP_CONNRESET and SIO_UDP_NETRESET on every
// UDP socket and fails when the system refuses either (Wine 8 has no
// SIO_UDP_NETRESET), and this socket needs neither: the raw socket reads
// the ICMP answers, and its reader ignores the errors they cause.
func (s *sockProber) udpSock(ep *sockEndpoint) (windows.Handle, uint16, *table, error) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	if ep.udpOpen {
		return ep.udp, ep.uport, ep.upend, nil
	}
	af := windows.AF_INET
	if ep.v6 {
		af = windows.AF_INET6
	}
	h, err := windows.Socket(af, windows.SOCK_DGRAM, windows.IPPROTO_UDP)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("open a UDP socket: %w", err)
	}
	if err := windows.Bind(h, winSockaddr(ep.src, 0)); err != nil {
		windows.Closesocket(h)
		return 0, 0, nil, fmt.Errorf("bind a UDP socket to %v: %w", ep.src, err)
	}
	sa, err := windows.Getsockname(h)
	if err != nil {
		windows.Closesocket(h)
		return 0, 0, nil, fmt.Errorf("read the UDP socket's port: %w", err)
	}
	_, port := winAddrOf(sa)
	// Windows reports a port unreachable to a UDP socket as WSAECONNRESET
	// on its next receive; the raw socket reads that answer, so this one is
	// told not to where the system allows it.
	off := uint32(0)
	var ret uint32
	_ = windows.WSAIoctl(h, windows.SIO_UDP_CONNRESET, (*byte)(unsafe.Pointer(&off)), uint32(unsafe.Sizeof(off)), nil, 0, &ret, nil, 0)
	ep.udp, ep.uport, ep.udpOpen = h, port, true
	ep.upend = newTable(uint16(s.magic>>16), true)
	s.readers.Add(1)
	go s.readUDP(h, ep.upend)
	return ep.udp, ep.uport, ep.upend, nil
}

// readUDP reads datagrams that open ports send back: such an answer carries
// nothing of ours, so it answers the oldest probe to that address and port.
// It blocks in recvfrom on a thread of its own until the socket is closed.
func (s *sockProber) readUDP(h windows.Handle, tbl *table) {
	defer s.readers.Done()
	buf := make([]byte, 2048)
	for {
		_, sa, err := windows.Recvfrom(h, buf, 0)
		now := time.Now()
		if err != nil {
			select {
			case <-s.closing:
				return
			default:
			}
			if errors.Is(err, windows.WSAENOTSOCK) || errors.Is(err, windows.WSAEINTR) {
				return // closed
			}
			continue // a reported ICMP error (WSAECONNRESET) or a truncated datagram
		}
		addr, port := winAddrOf(sa)
		pd := tbl.takeOldest(addr, port)
		if pd == nil {
			continue
		}
		d, _ := rtt(pd.sent, time.Time{}, now)
		pd.deliver(Reply{Kind: Reached, From: addr, Sent: pd.sent, RTT: d})
	}
}

// sendUDP registers and sends one UDP probe. The probe waits in tbl under
// seq until an answer or the caller's timeout takes it.
func (s *sockProber) sendUDP(ep *sockEndpoint, pr Probe, idx int, results chan<- answer) (*table, uint16, time.Time, error) {
	h, port, tbl, err := s.udpSock(ep)
	if err != nil {
		return nil, 0, time.Time{}, err
	}
	pd := &pending{dst: pr.Dst, port: pr.Port, ttl: pr.TTL, idx: idx, done: results}
	seq, ok := tbl.add(pd)
	if !ok {
		return nil, 0, time.Time{}, errors.New("too many UDP probes in flight on one socket")
	}
	to := netip.AddrPortFrom(pr.Dst, pr.Port)
	payload, err := udpProbePayload(netip.AddrPortFrom(ep.src, port), to, seq, pr.Size, s.magic)
	if err != nil {
		tbl.take(seq)
		return nil, 0, time.Time{}, err
	}
	ep.sendMu.Lock()
	serr := setHopLimit(h, ep.v6, pr.TTL)
	var sent time.Time
	if serr == nil {
		sent = s.now()
		tbl.mu.Lock()
		pd.sent = sent
		tbl.mu.Unlock()
		serr = windows.Sendto(h, payload, 0, winSockaddr(pr.Dst, pr.Port))
	}
	ep.sendMu.Unlock()
	if serr != nil {
		tbl.take(seq)
		return nil, 0, sent, fmt.Errorf("send UDP probe to %v (ttl %d): %w", pr.Dst, pr.TTL, serr)
	}
	return tbl, seq, sent, nil
}

func winSockaddr(a netip.Addr, port uint16) windows.Sockaddr {
	if a.Is4() {
		return &windows.SockaddrInet4{Port: int(port), Addr: a.As4()}
	}
	return &windows.SockaddrInet6{Port: int(port), Addr: a.As16()}
}

func winAddrOf(sa windows.Sockaddr) (netip.Addr, uint16) {
	switch sa := sa.(type) {
	case *windows.SockaddrInet4:
		return netip.AddrFrom4(sa.Addr), uint16(sa.Port)
	case *windows.SockaddrInet6:
		return netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port)
	}
	return netip.Addr{}, 0
}

// setHopLimit sets the TTL (IPv4) or unicast hop limit (IPv6) of a socket.
func setHopLimit(h windows.Handle, v6 bool, ttl int) error {
	if v6 {
		return windows.SetsockoptInt(h, windows.IPPROTO_IPV6, windows.IPV6_UNICAST_HOPS, ttl)
	}
	return windows.SetsockoptInt(h, windows.IPPROTO_IP, windows.IP_TTL, ttl)
}

// close closes the endpoint's sockets, which ends its readers.
func (ep *sockEndpoint) close() error {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	err := ep.raw.Close()
	if ep.udpOpen {
		ep.udpOpen = false
		err = errors.Join(err, windows.Closesocket(ep.udp))
	}
	return err
}

// errno extracts the Winsock error number from a net error, 0 if none.
func errno(err error) (uint32, bool) {
	var en syscall.Errno
	if errors.As(err, &en) {
		return uint32(en), true
	}
	return 0, false
}
