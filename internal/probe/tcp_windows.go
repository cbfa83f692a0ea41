//go:build windows

package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Winsock's SIO_TCP_INITIAL_RTO (mstcpip.h; golang.org/x/sys/windows does
// not have it): per-socket initial RTO parameters for the connection setup.
const (
	sioTCPInitialRTO             = windows.IOC_IN | windows.IOC_VENDOR | 17
	tcpInitialRTOUnspecifiedRTT  = ^uint16(0)
	tcpInitialRTONoSYNRetransmit = ^uint8(1) // TCP_INITIAL_RTO_NO_SYN_RETRANSMISSIONS
)

type tcpInitialRTOParameters struct {
	Rtt                   uint16
	MaxSynRetransmissions uint8
}

// tcpMaxBindTries bounds how many source ports a TCP trace probe tries when
// the system refuses to bind one (in use by another program, or reserved).
const tcpMaxBindTries = 8

// checkTCPSocket opens and closes one TCP socket, so that a system that
// refuses it is reported before a check starts.
func checkTCPSocket(v6 bool) error {
	af := windows.AF_INET
	if v6 {
		af = windows.AF_INET6
	}
	h, err := windows.Socket(af, windows.SOCK_STREAM, windows.IPPROTO_TCP)
	if err != nil {
		return fmt.Errorf("open %s TCP socket: %w", wsFamily(v6), err)
	}
	windows.Closesocket(h)
	return nil
}

// probeTCP sends one SYN with a connect of its own and delivers the answer
// to results. With ep (a trace, administrator), the probe leaves from a
// source port chosen here and waits in ep's table, where the raw socket's
// reader finds it when a router answers and ends the connect; without ep
// (final hop only) the connect alone decides.
//
// The connect's own outcome: accepted = Reached (the service answers; RTT =
// the handshake, SYN out to SYN-ACK in as the runtime sees it), refused =
// Reached and Closed (the host sent RST: port closed, never "up"), our
// timeout = Timeout, anything else mapped by connectOutcome.
//
// Windows retries a SYN answered by RST (and any unanswered SYN) after a
// timeout, by default several times, so a refused connect takes a second
// or more and a late SYN-ACK could answer a retransmission. The SYN count
// is bounded with SIO_TCP_INITIAL_RTO: TCP_INITIAL_RTO_PARAMETERS'
// MaxSynRetransmissions = TCP_INITIAL_RTO_NO_SYN_RETRANSMISSIONS ("the TCP
// SYN shouldn't be retransmitted", Windows 10 1709 / build 16299 and
// later; 1 before that, the least earlier versions take), so exactly one
// SYN goes out and a refusal fails the connect at once. This is what Go's
// own net package does for loopback dials. TCP_MAXRT/TCP_MAXRTMS bound the
// total retransmission time instead, which would still let Windows retry
// within it, so they are only the fallback when the ioctl is refused.
// For a final-hop check TCP_FAIL_CONNECT_ON_ICMP_ERROR (Windows 10 2004
// and later) makes an ICMP error fail the connect at once, so an
// unreachable service is reported as such instead of as lost; a trace does
// not set it, because there the raw socket reads the router's answer with
// its address and the connect must not race it.
func (s *sockProber) probeTCP(ctx context.Context, ep *sockEndpoint, pr Probe, idx int, results chan<- answer) {
	pd := &pending{dst: pr.Dst, port: pr.Port, ttl: pr.TTL, idx: idx, done: results}
	dctx, cancel := context.WithTimeout(ctx, pr.Timeout)
	defer cancel()
	network := "tcp4"
	if pr.Dst.Is6() {
		network = "tcp6"
	}
	raddr := netip.AddrPortFrom(pr.Dst, pr.Port).String()

	var (
		conn  net.Conn
		err   error
		sport uint16
	)
	for try := 0; ; try++ {
		var laddr *net.TCPAddr
		if ep != nil {
			var ok bool
			if sport, ok = ep.addTCP(pd, cancel); !ok {
				pd.deliver(Reply{Kind: Failed, Err: errors.New("too many TCP probes in flight from one address")})
				return
			}
			laddr = net.TCPAddrFromAddrPort(netip.AddrPortFrom(ep.src, sport))
		}
		d := net.Dialer{
			LocalAddr: laddr,
			ControlContext: func(_ context.Context, _, _ string, c syscall.RawConn) error {
				var serr error
				if err := c.Control(func(fd uintptr) {
					serr = s.tcpOptions(windows.Handle(fd), pr, ep == nil)
					// The SYN leaves inside the dial, right after this.
					t := s.now()
					if ep != nil {
						ep.mu.Lock()
						pd.sent = t
						ep.mu.Unlock()
					} else {
						pd.sent = t
					}
				}); err != nil {
					return err
				}
				return serr
			},
		}
		conn, err = d.DialContext(dctx, network, raddr)
		if ep == nil || try+1 >= tcpMaxBindTries || !bindRefused(err) {
			break
		}
		ep.dropTCP(sport)
	}
	now := time.Now()
	if conn != nil {
		// Linger 0: close sends RST, so a probe leaves no TIME_WAIT behind
		// and the service sees the connection end at once.
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		conn.Close()
	}
	if ep != nil && err != nil && dctx.Err() == nil {
		if code, ok := errno(err); ok {
			if k, _, _ := connectOutcome(code); k == Unreachable {
				// An ICMP error ended the connect (some stacks do even
				// without TCP_FAIL_CONNECT_ON_ICMP_ERROR, Wine's Linux
				// underneath among them). The raw socket reads the same
				// message with the router's address: give its reader
				// until the timeout to claim the probe (it ends the wait
				// when it does), and only then report the bare error.
				<-dctx.Done()
			}
		}
	}
	if ep != nil && !ep.dropTCP(sport) {
		return // a router's answer was delivered by the raw reader
	}
	if ctx.Err() != nil {
		return // the batch was abandoned or cancelled
	}
	var sent time.Time
	if ep != nil {
		ep.mu.Lock()
		sent = pd.sent
		ep.mu.Unlock()
	} else {
		sent = pd.sent
	}
	d, _ := rtt(sent, time.Time{}, now)
	switch {
	case err == nil:
		pd.deliver(Reply{Kind: Reached, From: pr.Dst, Sent: sent, RTT: d})
		return
	case errors.Is(dctx.Err(), context.DeadlineExceeded) && !isUnreachable(err):
		pd.deliver(Reply{Kind: Timeout, Sent: sent})
		return
	}
	code, ok := errno(err)
	if !ok {
		pd.deliver(Reply{Kind: Failed, Sent: sent, Err: fmt.Errorf("TCP probe to %v: %w", raddr, err)})
		return
	}
	kind, closed, why := connectOutcome(code)
	r := Reply{Kind: kind, Sent: sent, Closed: closed}
	switch kind {
	case Reached:
		r.From, r.RTT = pr.Dst, d
	case Unreachable:
		r.RTT = d
		r.Err = fmt.Errorf("TCP probe to %v: %s: %w", raddr, why, err)
	case Failed:
		r.Err = fmt.Errorf("TCP probe to %v: %s: %w", raddr, why, err)
	}
	pd.deliver(r)
}

// isUnreachable reports a connect ended by an ICMP unreachable.
func isUnreachable(err error) bool {
	code, ok := errno(err)
	if !ok {
		return false
	}
	k, _, _ := connectOutcome(code)
	return k == Unreachable
}

// bindRefused reports a dial that failed binding its chosen source port.
func bindRefused(err error) bool {
	var oe *net.OpError
	if !errors.As(err, &oe) {
		return false
	}
	code, ok := errno(err)
	return ok && (code == wsaEADDRINUSE || code == wsaEACCES) && isBindOp(oe)
}

func isBindOp(oe *net.OpError) bool {
	var sce *os.SyscallError
	return errors.As(oe.Err, &sce) && sce.Syscall == "bind"
}

// tcpOptions sets a probe socket's TTL and connection-setup options; see
// probeTCP for why each. Only a refused TTL fails the probe: the other
// options make answers quicker and cleaner, and their absence is noted.
func (s *sockProber) tcpOptions(h windows.Handle, pr Probe, finalHop bool) error {
	v6 := pr.Dst.Is6()
	if err := setHopLimit(h, v6, pr.TTL); err != nil {
		return fmt.Errorf("set TTL %d on TCP socket: %w", pr.TTL, err)
	}
	params := tcpInitialRTOParameters{Rtt: tcpInitialRTOUnspecifiedRTT, MaxSynRetransmissions: tcpInitialRTONoSYNRetransmit}
	if v := windows.RtlGetVersion(); v.MajorVersion < 10 || v.BuildNumber < 16299 {
		params.MaxSynRetransmissions = 1
	}
	var ret uint32
	if err := windows.WSAIoctl(h, sioTCPInitialRTO, (*byte)(unsafe.Pointer(&params)), uint32(unsafe.Sizeof(params)),
		nil, 0, &ret, nil, 0); err != nil {
		merr := windows.SetsockoptInt(h, windows.IPPROTO_TCP, windows.TCP_MAXRTMS, int(pr.Timeout/time.Millisecond))
		s.noteOnce("tcp rto", "TCP: this system refused SIO_TCP_INITIAL_RTO (%v); SYN retransmissions bounded by TCP_MAXRTMS instead (%v), "+
			"so a closed port may show as lost rather than closed", err, errOrOK(merr))
	} else {
		s.noteOnce("tcp rto", "TCP: one SYN per probe (SIO_TCP_INITIAL_RTO, max SYN retransmissions %#x): a refused port fails the connect at once", params.MaxSynRetransmissions)
	}
	if finalHop {
		if err := windows.SetsockoptInt(h, windows.IPPROTO_TCP, windows.TCP_FAIL_CONNECT_ON_ICMP_ERROR, 1); err != nil {
			s.noteOnce("tcp icmp", "TCP final hop: TCP_FAIL_CONNECT_ON_ICMP_ERROR not available (%v; Windows 10 2004 and later): an unreachable service shows as lost", err)
		} else {
			s.noteOnce("tcp icmp", "TCP final hop: TCP_FAIL_CONNECT_ON_ICMP_ERROR set, so an ICMP error ends the connect as unreachable")
		}
	}
	return nil
}

func errOrOK(err error) string {
	if err != nil {
		return err.Error()
	}
	return "ok"
}

// addTCP registers pd under a free source port of ep.
func (ep *sockEndpoint) addTCP(pd *pending, cancel func()) (uint16, bool) {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	port, ok := ep.ports.take()
	if !ok {
		return 0, false
	}
	ep.tcp[port] = &tcpWait{pd: pd, cancel: cancel}
	return port, true
}

// dropTCP removes the probe on port and frees the port; it reports whether
// the probe was still there (not answered by a router meanwhile).
func (ep *sockEndpoint) dropTCP(port uint16) bool {
	ep.mu.Lock()
	defer ep.mu.Unlock()
	_, ok := ep.tcp[port]
	delete(ep.tcp, port)
	ep.ports.release(port)
	return ok
}
