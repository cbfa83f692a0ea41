//go:build windows

package probe

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/windows"
)

// sockProber is the Windows backend's TCP and UDP half; the windowsProber
// routes ICMP to its own code and TCP/UDP here.
//
// Without administrator rights only a TCP service check (final hop only) is
// possible: a timed connect tells "up", "port closed" and "no answer" apart
// (tcp_windows.go). Everything else needs the routers' ICMP errors, which
// Windows hands only to a raw ICMP socket, and raw sockets need
// administrator rights: with them, probes leave from ordinary sockets with
// the TTL set per probe and a raw socket per source address reads the
// answers, matched on the probe headers they quote (raw_windows.go).
// Without them, such probes are refused with what to do instead, never
// shown as hops that all timed out.
type sockProber struct {
	now   func() time.Time
	admin bool
	magic uint32 // payload token that marks this prober's UDP probes

	mu       sync.Mutex
	closed   bool
	closing  chan struct{}
	eps      map[netip.Addr]*sockEndpoint // raw endpoints by local source address
	srcCache map[netip.Addr]netip.Addr    // source address per destination
	why      []string                     // backend decisions, for notes()
	noted    map[string]bool
	readers  sync.WaitGroup // one reader goroutine per raw or UDP socket
}

// newSockProber returns a prober for TCP and UDP; admin says whether this
// process runs elevated (raw sockets are allowed).
func newSockProber(cfg Config, admin bool) *sockProber {
	var m [4]byte
	_, _ = rand.Read(m[:])
	s := &sockProber{
		now:      cfg.TimeNow,
		admin:    admin,
		magic:    binary.BigEndian.Uint32(m[:]),
		closing:  make(chan struct{}),
		eps:      make(map[netip.Addr]*sockEndpoint),
		srcCache: make(map[netip.Addr]netip.Addr),
		noted:    make(map[string]bool),
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// prepare checks that mode can be probed for the family now and says what
// to do when it cannot.
func (s *sockProber) prepare(mode Mode, v6, finalHopOnly bool) error {
	if mode != TCP && mode != UDP {
		return fmt.Errorf("the Windows socket prober handles TCP and UDP, not %v", mode)
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if err := sockRefusal(mode, v6, finalHopOnly, s.admin); err != nil {
		s.noteOnce(fmt.Sprintf("refused %v/%v", mode, v6), "%s/%s: refused without administrator rights (%s)",
			upperMode(mode), wsFamily(v6), refusalReason(mode, finalHopOnly))
		return err
	}
	if mode == TCP && finalHopOnly {
		if err := checkTCPSocket(v6); err != nil {
			return err
		}
		s.noteOnce(fmt.Sprintf("tcp final %v", v6), "TCP/%s final hop only: a timed connect() per probe from an ordinary socket, "+
			"accepted = up (RTT = handshake time), refused (RST) = port closed, no answer = lost (no administrator rights needed)", wsFamily(v6))
		return nil
	}
	if err := checkRawSocket(v6); err != nil {
		return err
	}
	what := "UDP datagrams from one ordinary socket per source address, fixed ports (Paris), the sequence in a payload token and in the UDP checksum"
	if mode == TCP {
		what = "a connect() per probe from a source port of its own; SYN-ACK or RST through the connect"
	}
	s.noteOnce(fmt.Sprintf("trace %v %v", mode, v6), "%s/%s trace (administrator): %s, TTL set per probe; routers' answers from a raw %s socket "+
		"bound to the source address, matched on the quoted probe headers", upperMode(mode), wsFamily(v6), what, icmpName(v6))
	return nil
}

func refusalReason(mode Mode, finalHopOnly bool) string {
	if mode == UDP && finalHopOnly {
		return "a UDP probe's answer is an ICMP port unreachable, readable only on a raw socket"
	}
	return "a trace needs the routers' ICMP answers, readable only on a raw socket"
}

func icmpName(v6 bool) string {
	if v6 {
		return "ICMPv6"
	}
	return "ICMP"
}

// probeAll sends ps gap apart and reports each answer through onReply, on
// the calling goroutine. UDP probes wait in their endpoint's table and time
// out on one timer for the batch; TCP probes each wait in a connect of
// their own (a goroutine parked on the runtime's I/O completion port, not
// a thread).
func (s *sockProber) probeAll(ctx context.Context, ps []Probe, gap time.Duration, onReply func(int, Reply) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-s.closing:
		return ErrClosed
	default:
	}
	b := newBatch(ps, onReply)
	tctx, cancelTCP := context.WithCancel(ctx)
	defer cancelTCP()
	var tcpWG sync.WaitGroup
	defer func() {
		b.release()
		cancelTCP()
		tcpWG.Wait()
	}()

	for i, pr := range ps {
		if b.stopped {
			return nil
		}
		if i > 0 && gap > 0 {
			if err := gapWait(ctx, s.closing, gap); err != nil {
				return err
			}
		}
		pr, err := checkSockProbe(pr)
		if err == nil {
			err = sockRefusal(pr.Mode, pr.Dst.Is6(), pr.FinalHopOnly, s.admin)
		}
		if err != nil {
			b.resolve(i, Reply{Kind: Failed, Err: err})
			continue
		}
		var ep *sockEndpoint
		if !(pr.Mode == TCP && pr.FinalHopOnly) {
			if ep, err = s.endpoint(pr.Dst); err != nil {
				b.resolve(i, Reply{Kind: Failed, Err: err})
				continue
			}
		}
		if pr.Mode == TCP {
			tcpWG.Add(1)
			go func() {
				defer tcpWG.Done()
				s.probeTCP(tctx, ep, pr, i, b.results)
			}()
			continue
		}
		tbl, seq, sent, err := s.sendUDP(ep, pr, i, b.results)
		if err != nil {
			b.resolve(i, Reply{Kind: Failed, Sent: sent, Err: err})
			continue
		}
		b.await(i, tbl, seq, sent, sent.Add(pr.Timeout))
	}
	return b.run(ctx, s.closing)
}

// sourceFor returns the local address Windows would send from towards dst.
// Connecting a datagram socket sends nothing. (A plain Winsock socket, for
// the reason udpSock gives.)
func (s *sockProber) sourceFor(dst netip.Addr) (netip.Addr, error) {
	s.mu.Lock()
	src, ok := s.srcCache[dst]
	s.mu.Unlock()
	if ok {
		return src, nil
	}
	af := windows.AF_INET
	if dst.Is6() {
		af = windows.AF_INET6
	}
	h, err := windows.Socket(af, windows.SOCK_DGRAM, windows.IPPROTO_UDP)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("find the source address towards %v: %w", dst, err)
	}
	defer windows.Closesocket(h)
	if err := windows.Connect(h, winSockaddr(dst, 9)); err != nil {
		return netip.Addr{}, fmt.Errorf("no route to %v from this computer: %w", dst, err)
	}
	sa, err := windows.Getsockname(h)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("find the source address towards %v: %w", dst, err)
	}
	src, _ = winAddrOf(sa)
	s.mu.Lock()
	s.srcCache[dst] = src
	s.mu.Unlock()
	return src, nil
}

// notes describes the backend's decisions for Backend() and --verbose.
func (s *sockProber) notes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.why...)
}

// noteOnce records a decision the first time key is seen.
func (s *sockProber) noteOnce(key, format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.noted[key] {
		return
	}
	s.noted[key] = true
	s.why = append(s.why, fmt.Sprintf(format, args...))
}

// close releases the prober's sockets and waits for its readers. Batches
// still running end with ErrClosed.
func (s *sockProber) close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	eps := s.eps
	s.eps = nil
	s.mu.Unlock()
	var errs []error
	for _, ep := range eps {
		errs = append(errs, ep.close())
	}
	s.readers.Wait()
	return errors.Join(errs...)
}
