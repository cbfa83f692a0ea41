//go:build linux

package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pingerplot/pingerplot/internal/packet"
)

// Minimum payload of every probe: the token that marks it as ours.
//
// ICMP payload layout: [0:2] a word that keeps the ICMP checksum constant
// whatever the sequence number (Paris traceroute: load balancers that hash
// the first transport bytes see one flow), [2:6] the prober's magic.
// UDP payload layout: [0:4] magic, [4:6] sequence, [6:8] zero.
const minPayload = 8

func (p *linuxProber) icmpSock(v6 bool, flow uint16) (*sharedSock, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	if s := p.shared[sockKey{kind: kindRawICMP, v6: v6}]; s != nil && p.cfg.Privilege != Unprivileged {
		return s, nil
	}
	if s := p.shared[sockKey{kind: kindPing, v6: v6, flow: flow}]; s != nil {
		return s, nil
	}
	var rawErr error
	if p.cfg.Privilege != Unprivileged {
		s, err := p.openRawICMP(v6)
		if err == nil {
			p.note("ICMP/%s: raw socket (CAP_NET_RAW): own identifier, quoted headers matched, constant checksum per target (Paris)", family(v6))
			return s, nil
		}
		if p.cfg.Privilege == Raw {
			return nil, err
		}
		rawErr = err
	}
	s, err := p.openPing(v6, flow)
	if err != nil {
		return nil, err
	}
	if flow != 0 {
		return s, nil // the flow-0 socket said how ICMP is sent
	}
	why := "raw sockets not requested"
	if rawErr != nil {
		why = "no raw socket: " + rawErr.Error()
	}
	p.note("ICMP/%s: unprivileged ping socket with the error queue (%s)", family(v6), why)
	return s, nil
}

// openPing opens a datagram ICMP socket ("ping socket"), which Linux lets
// any user whose group is in net.ipv4.ping_group_range open. The kernel
// owns the echo identifier (it is the socket's port) and demultiplexes
// replies by it, so probes are matched by sequence number and payload token.
func (p *linuxProber) openPing(v6 bool, flow uint16) (*sharedSock, error) {
	af, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if v6 {
		af, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	fd, err := unix.Socket(af, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return nil, pingSocketError(err, v6)
	}
	var port uint16
	if sa, err := unix.Getsockname(fd); err == nil {
		_, port = addrOf(sa)
	}
	s, err := p.register(fd, v6, kindPing, flow, 1)
	if err != nil {
		return nil, err
	}
	s.port = port
	return s, nil
}

// register finishes a shared socket: error queue, timestamps, netpoller,
// and (for sockets that receive) a reader goroutine. Callers hold p.mu.
func (p *linuxProber) register(fd int, v6 bool, kind sockKind, flow, seqStart uint16) (*sharedSock, error) {
	if kind != kindRawUDP {
		var err error
		if kind == kindRawICMP {
			err = enableTimestamps(fd)
		} else {
			err = enableRecvErr(fd, v6)
		}
		if err != nil {
			unix.Close(fd)
			return nil, err
		}
	}
	growRcvBuf(fd)
	f, rc, err := wrap(fd, fmt.Sprintf("probe-%d-%v", kind, v6))
	if err != nil {
		return nil, err
	}
	s := &sharedSock{
		f: f, rc: rc, v6: v6, kind: kind, reserve: -1,
		pend: newLTable(seqStart, kind == kindRawUDP),
	}
	if kind != kindRawUDP {
		s.rv = newReceiver()
		s.onMsg = func(m *message) { p.handle(s, m, s.wakeAt) }
		p.readers.Add(1)
		go func() {
			defer p.readers.Done()
			readLoop(f, rc, func(fd int, now time.Time) { p.drain(s, fd, now) })
		}()
	}
	p.shared[sockKey{kind: kind, v6: v6, flow: flow}] = s
	return s, nil
}

// pingSocketError says why a ping socket was refused and what to do.
func pingSocketError(err error, v6 bool) error {
	if errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) {
		rng := "unknown"
		if b, rerr := os.ReadFile("/proc/sys/net/ipv4/ping_group_range"); rerr == nil {
			rng = strings.Join(strings.Fields(string(b)), " ")
		}
		return fmt.Errorf("ICMP probes without root use Linux ping sockets, but net.ipv4.ping_group_range is %q and does not include your group (gid %d). "+
			"Fix one of: sudo sysctl -w net.ipv4.ping_group_range=\"0 2147483647\" (make it permanent in /etc/sysctl.d/); "+
			"or give the binary raw sockets: sudo setcap cap_net_raw+ep $(command -v pingerplot); "+
			"or trace with UDP (-u) or TCP (-T), which need no privilege", rng, os.Getegid())
	}
	if errors.Is(err, unix.EAFNOSUPPORT) && v6 {
		return fmt.Errorf("open ICMPv6 ping socket: IPv6 is not available on this system: %w", err)
	}
	return fmt.Errorf("open %s ping socket: %w", family(v6), err)
}

// build makes the packet and control data of one probe on a shared
// socket in b's scratch, and points b's send at its destination.
func (p *linuxProber) build(s *sharedSock, b *lbatch, pr Probe, seq, flowID uint16) error {
	size := max(pr.Size, minPayload)
	switch s.kind {
	case kindPing, kindRawICMP:
		b.pkt = grow(b.pkt, 8+size)
		pkt := b.pkt
		pkt[0] = 8
		if s.v6 {
			pkt[0] = 128
		}
		id := flowID // the flow's identifier (flowID); ignored (rewritten) by ping sockets
		binary.BigEndian.PutUint16(pkt[4:6], id)
		binary.BigEndian.PutUint16(pkt[6:8], seq)
		// seq plus this word is constant, so the checksum of the whole
		// message is too, whoever computes it (Paris traceroute).
		binary.BigEndian.PutUint16(pkt[8:10], packet.ParisWord(seq, 0))
		binary.BigEndian.PutUint32(pkt[10:14], s.token(p))
		if s.kind == kindRawICMP && !s.v6 {
			binary.BigEndian.PutUint16(pkt[2:4], packet.Checksum(pkt)) // raw ICMPv4: ours to fill; v6: the kernel's
		}
	case kindUDP:
		b.pkt = grow(b.pkt, size)
		packet.PutToken(b.pkt, seq, s.token(p))
	case kindRawUDP:
		if err := p.buildRawUDP(s, b, pr, seq, flowID, size); err != nil {
			return err
		}
	}
	b.setTTL(s.v6, pr.TTL)
	b.setTOS(s.v6, pr.TOS)
	b.setDest(pr.Dst, sendPort(s, pr))
	return nil
}

// grow returns b resized to n bytes, zeroed, reusing its array when it can.
func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	b = b[:n]
	clear(b)
	return b
}

// drain reads everything a shared socket has, a recvmmsg batch at a
// time: the error queue first (where routers' answers wait and whose
// pending error would otherwise fail the next send), then ordinary
// datagrams. A short batch means the queue was empty: anything arriving
// later wakes the reader again.
func (p *linuxProber) drain(s *sharedSock, fd int, now time.Time) {
	s.wakeAt = now
	if s.kind != kindRawICMP {
		for {
			n, err := s.rv.read(fd, unix.MSG_ERRQUEUE, s.onMsg)
			if err != 0 || n < mmsgBatch {
				break
			}
		}
	}
	for {
		n, err := s.rv.read(fd, 0, s.onMsg)
		if err != 0 {
			// A pending ICMP error surfaces here as an errno; its details are
			// in the error queue, read on the next wakeup.
			if isICMPErr(err) {
				continue
			}
			return
		}
		if n < mmsgBatch {
			return
		}
	}
}

func (p *linuxProber) handle(s *sharedSock, m *message, now time.Time) {
	switch s.kind {
	case kindPing:
		p.handlePing(s, m, now)
	case kindUDP:
		p.handleUDP(s, m, now)
	case kindRawICMP:
		p.handleRaw(s, m, now)
	}
}

func (p *linuxProber) handlePing(s *sharedSock, m *message, now time.Time) {
	if m.isErr {
		// Data is the quoted echo request: its header, then whatever of our
		// payload the router quoted.
		d := m.data
		if len(d) < 8 || (d[0] != 8 && d[0] != 128) {
			return
		}
		seq := binary.BigEndian.Uint16(d[6:8])
		p.answerErr(s, s.pend, seq, ICMP, m, now)
		return
	}
	d := m.data
	if len(d) < 8+6 || (d[0] != 0 && d[0] != 129) {
		return
	}
	if binary.BigEndian.Uint32(d[10:14]) != s.token(p) {
		return
	}
	seq := binary.BigEndian.Uint16(d[6:8])
	// A late reply whose number was reused since by a probe to another
	// address is not that probe's answer.
	if pd, ok := s.pend.peek(seq); !ok || (m.from.IsValid() && m.from.Unmap() != pd.dst) {
		return
	}
	pd, ok := s.pend.take(seq)
	if !ok {
		return
	}
	d2, kts := rtt(pd.sent, m.kernelTS, now)
	pd.post(Reply{Kind: Reached, From: m.from, ICMPType: d[0], Sent: pd.sent, RTT: d2, KernelTS: kts})
}

// answerErr resolves the probe seq from an error-queue entry.
func (p *linuxProber) answerErr(s *sharedSock, tbl *ltable, seq uint16, mode Mode, m *message, now time.Time) {
	pd, ok := tbl.peek(seq)
	if !ok {
		return
	}
	// msg_name holds the probe's original destination: a quoted packet for
	// another destination is not this probe's answer.
	if m.from.IsValid() && m.from.Unmap() != pd.dst {
		return
	}
	var r Reply
	switch m.ee.Origin {
	case unix.SO_EE_ORIGIN_ICMP, unix.SO_EE_ORIGIN_ICMP6:
		kind, ignore := classify(s.v6, mode, m.ee.Type, m.ee.Code)
		if ignore || !m.offender.IsValid() {
			return
		}
		r = Reply{Kind: kind, From: m.offender, ICMPType: m.ee.Type, ICMPCode: m.ee.Code, MTU: errMTU(m)}
		r.Details = extFromErrQueue(m)
	case unix.SO_EE_ORIGIN_LOCAL:
		// The local system gave up on the probe after accepting it (the
		// route or the neighbour went away): it never left, as a send
		// refused at once.
		r = Reply{Kind: Failed, Err: sendError(unix.Errno(m.ee.Errno), Probe{Dst: pd.dst, TTL: int(pd.ttl), Mode: mode})}
	default:
		return
	}
	// Taken again: the send time may have been restamped since the peek.
	if pd, ok = tbl.take(seq); !ok {
		return
	}
	r.Sent = pd.sent
	r.RTT, r.KernelTS = rtt(pd.sent, m.kernelTS, now)
	pd.post(r)
}
