//go:build windows

package probe

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// icmpProber is the Windows backend's ICMP half: the ICMP helper API
// (IcmpSendEcho2, Icmp6SendEcho2), which any user may call, so ICMP traces
// need no administrator rights. Windows sends the echo request with the
// TTL given in IP_OPTION_INFORMATION and matches the answer itself: a
// router's time exceeded completes the request with IP_TTL_EXPIRED_TRANSIT
// and the router's address. Requests are overlapped, each with an event of
// its own, and waited for in the pool of winicmppool.go.
type icmpProber struct {
	api     icmpAPI
	layout  echoLayout
	now     func() time.Time
	pool    *echoPool
	closing chan struct{}

	mu     sync.Mutex
	h      [2]windows.Handle // IPv4, IPv6; 0 until opened
	src    map[netip.Addr]srcEntry
	why    []string
	noted  map[string]bool
	closed bool
}

// icmpAPI holds the helper API's entry points, resolved on first use.
type icmpAPI struct {
	create, create6, closeHandle, send, send6, parse, parse6 *windows.LazyProc
}

func newICMPAPI() icmpAPI {
	dll := windows.NewLazySystemDLL("iphlpapi.dll")
	return icmpAPI{
		create:      dll.NewProc("IcmpCreateFile"),
		create6:     dll.NewProc("Icmp6CreateFile"),
		closeHandle: dll.NewProc("IcmpCloseHandle"),
		send:        dll.NewProc("IcmpSendEcho2"),
		send6:       dll.NewProc("Icmp6SendEcho2"),
		parse:       dll.NewProc("IcmpParseReplies"),
		parse6:      dll.NewProc("Icmp6ParseReplies"),
	}
}

func newICMPProber(cfg Config) *icmpProber {
	p := &icmpProber{
		api:     newICMPAPI(),
		layout:  layoutFor(int(unsafe.Sizeof(uintptr(0)))),
		now:     cfg.TimeNow,
		closing: make(chan struct{}),
		src:     make(map[netip.Addr]srcEntry),
		noted:   make(map[string]bool),
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.pool = newEchoPool(sysEvents{}, p.complete, time.Now, maxEchoWaiters)
	return p
}

// prepare opens the ICMP handle of a family, with an error that says what
// to do when Windows refuses.
func (p *icmpProber) prepare(v6 bool) error {
	if _, err := p.handle(v6); err != nil {
		return err
	}
	if v6 {
		p.noteOnce("icmp6", "ICMP/IPv6: Icmp6SendEcho2 (ICMP helper API, no administrator rights needed) from the source address "+
			"Windows routes each destination from; hop limit set per request, every hop of a round in flight at once; "+
			"RTT: monotonic clock clamped into the API's whole millisecond")
		return nil
	}
	p.noteOnce("icmp4", "ICMP/IPv4: IcmpSendEcho2 (ICMP helper API, no administrator rights needed): TTL set per request, "+
		"every TTL of a round in flight at once, waited for %d at a time per waiter thread; RTT: monotonic clock clamped into the API's whole millisecond",
		slotsPerWaiter)
	return nil
}

// handle returns the open ICMP handle of a family, opening it once.
func (p *icmpProber) handle(v6 bool) (windows.Handle, error) {
	i := 0
	if v6 {
		i = 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, ErrClosed
	}
	if p.h[i] != 0 {
		return p.h[i], nil
	}
	proc := p.api.create
	if v6 {
		proc = p.api.create6
	}
	if err := proc.Find(); err != nil {
		return 0, fmt.Errorf("the ICMP helper API (%s in iphlpapi.dll) is missing on this Windows: %w", proc.Name, err)
	}
	r, _, err := proc.Call()
	h := windows.Handle(r)
	if h == windows.InvalidHandle || h == 0 {
		if v6 {
			return 0, fmt.Errorf("open the ICMPv6 helper (Icmp6CreateFile): %w; is IPv6 enabled on this computer? Trace over IPv4 (-4) instead", err)
		}
		return 0, fmt.Errorf("open the ICMP helper (IcmpCreateFile): %w", err)
	}
	p.h[i] = h
	return h, nil
}

func (p *icmpProber) probeAll(ctx context.Context, ps []Probe, gap time.Duration, onReply func(int, Reply) bool) error {
	return p.pool.probeAll(ctx, p.closing, ps, gap, onReply, p.send)
}

// Offsets in a slot's scratch buffer: the IP_OPTION_INFORMATION, the two
// sockaddr_in6 of an IPv6 request, then the payload, each 8-byte aligned.
const (
	scratchOpt     = 0
	scratchSrc     = 16
	scratchDst     = scratchSrc + 32
	scratchPayload = scratchDst + 32
)

// send queues the slot's probe with IcmpSendEcho2 or Icmp6SendEcho2.
func (p *icmpProber) send(s *echoSlot) (bool, Reply) {
	pr := s.req.pr
	v6 := pr.Dst.Is6()
	h, err := p.handle(v6)
	if err != nil {
		s.req.sent = p.now()
		return false, Reply{Kind: Failed, Sent: s.req.sent, Err: err}
	}
	if need := p.layout.replyBufferSize(pr.Size, v6); len(s.buf) < need {
		s.buf = make([]byte, max(need, 512))
	}
	if need := scratchPayload + pr.Size; len(s.scratch) < need {
		s.scratch = make([]byte, max(need, 256))
	}
	opt := s.scratch[scratchOpt:]
	p.layout.putOptionInfo(opt, pr.TTL, pr.DontFragment)
	payload := s.scratch[scratchPayload : scratchPayload+pr.Size]
	clear(payload)
	buf := uintptr(unsafe.Pointer(&s.buf[0]))
	var r1 uintptr
	var callErr error
	if v6 {
		src, srcScope, err := p.source(pr.Dst)
		if err != nil {
			s.req.sent = p.now()
			return false, Reply{Kind: Failed, Sent: s.req.sent, Err: err}
		}
		putSockaddrIn6(s.scratch[scratchSrc:], src, srcScope)
		putSockaddrIn6(s.scratch[scratchDst:], pr.Dst.WithZone(""), zoneIndex(pr.Dst.Zone()))
		s.req.sent = p.now()
		r1, _, callErr = p.api.send6.Call(uintptr(h), s.ev, 0, 0,
			uintptr(unsafe.Pointer(&s.scratch[scratchSrc])), uintptr(unsafe.Pointer(&s.scratch[scratchDst])),
			uintptr(unsafe.Pointer(&payload[0])), uintptr(pr.Size), uintptr(unsafe.Pointer(&opt[0])),
			buf, uintptr(len(s.buf)), uintptr(timeoutMS(pr.Timeout)))
	} else {
		s.req.sent = p.now()
		r1, _, callErr = p.api.send.Call(uintptr(h), s.ev, 0, 0, uintptr(ipAddrArg(pr.Dst)),
			uintptr(unsafe.Pointer(&payload[0])), uintptr(pr.Size), uintptr(unsafe.Pointer(&opt[0])),
			buf, uintptr(len(s.buf)), uintptr(timeoutMS(pr.Timeout)))
	}
	if r1 == 0 {
		code, _ := errno(callErr)
		if code == errorIOPending {
			return true, Reply{}
		}
		r := icmpStatusReply(code, v6, netip.Addr{}, pr)
		r.Sent = s.req.sent
		return false, r
	}
	// The request completed within the call (the documentation allows
	// it): the replies are already in the buffer.
	return false, p.complete(s, time.Now())
}

// complete reads a finished request's reply buffer.
func (p *icmpProber) complete(s *echoSlot, now time.Time) Reply {
	pr := s.req.pr
	v6 := pr.Dst.Is6()
	parse := p.api.parse
	if v6 {
		parse = p.api.parse6
	}
	n, _, callErr := parse.Call(uintptr(unsafe.Pointer(&s.buf[0])), uintptr(len(s.buf)))
	var er echoReply
	var err error
	if v6 {
		er, err = decodeEchoReply6(s.buf)
	} else {
		er, err = p.layout.decodeEchoReply4(s.buf)
	}
	if n == 0 {
		// No reply: the status is the call's last error (IP_REQ_TIMED_OUT
		// for a timeout), else whatever the buffer says.
		code, ok := errno(callErr)
		if !ok || code == 0 {
			code = er.status
		}
		if code == ipSuccess {
			// No reply, yet no error or status either: the ICMP service
			// gave up on the request without saying why. Seen under Wine
			// when its user may not open ICMP sockets; on Windows, security
			// software that blocks ICMP for this program does the same.
			return Reply{Kind: Failed, Sent: s.req.sent, Err: &IPStatusError{Code: code, Dst: pr.Dst,
				why: "the ICMP service ended the request with neither a reply nor a status: security software or a policy may block ICMP for this program (allow it, or try TCP with a final-hop-only target)"}}
		}
		r := icmpStatusReply(code, v6, netip.Addr{}, pr)
		r.Sent = s.req.sent
		return r
	}
	if err != nil {
		return Reply{Kind: Failed, Sent: s.req.sent, Err: fmt.Errorf("read the ICMP reply: %w", err)}
	}
	r := icmpStatusReply(er.status, v6, er.from, pr)
	r.Sent = s.req.sent
	switch r.Kind {
	case Reached, TimeExceeded, Unreachable:
		r.RTT = refineRTT(er.rttMS, now.Sub(s.req.sent))
	}
	return r
}

// close ends running batches, asks Windows to cancel the requests still in
// flight (their events are then signalled at once, not at their timeout),
// waits for the waiters and closes the handles.
func (p *icmpProber) close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.closing)
	hs := p.h
	p.mu.Unlock()
	for _, h := range hs {
		if h != 0 {
			// Best effort: where the handle does not support it, the
			// waiters simply wait for the requests' own timeouts.
			_ = windows.CancelIoEx(h, nil)
		}
	}
	err := p.pool.close()
	for _, h := range hs {
		if h != 0 {
			p.api.closeHandle.Call(uintptr(h))
		}
	}
	return err
}

func (p *icmpProber) notes() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.why...)
}

func (p *icmpProber) noteOnce(key, format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.noted[key] {
		return
	}
	p.noted[key] = true
	p.why = append(p.why, fmt.Sprintf(format, args...))
}

// sysEvents is winEvents on Windows: manual-reset events and
// WaitForMultipleObjects.
type sysEvents struct{}

func (sysEvents) newEvent() (uintptr, error) {
	h, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		return 0, fmt.Errorf("create an event for an ICMP request: %w", err)
	}
	return uintptr(h), nil
}

func (sysEvents) set(ev uintptr) error        { return windows.SetEvent(windows.Handle(ev)) }
func (sysEvents) reset(ev uintptr) error      { return windows.ResetEvent(windows.Handle(ev)) }
func (sysEvents) closeEvent(ev uintptr) error { return windows.CloseHandle(windows.Handle(ev)) }

func (sysEvents) waitAny(evs []uintptr) (int, error) {
	hs := unsafe.Slice((*windows.Handle)(unsafe.Pointer(&evs[0])), len(evs))
	r, err := windows.WaitForMultipleObjects(hs, false, windows.INFINITE)
	if err != nil {
		return 0, err
	}
	i := int(r) - windows.WAIT_OBJECT_0
	if i < 0 || i >= len(evs) {
		return 0, fmt.Errorf("WaitForMultipleObjects returned %#x", r)
	}
	return i, nil
}
