// Package probe sends single traceroute probes and matches their replies.
//
// It is the only package that owns sockets. A Prober takes one Probe (target,
// TTL, mode, flow) and returns the Reply that answered it: a router's "time
// exceeded", the destination's own answer, another ICMP error, or a timeout.
// Many probes may be in flight at once from many goroutines; backends share
// sockets where the kernel allows and match replies by what survives the
// kernel's rewriting (see the backend files).
//
// OS-specific backends live in build-tagged files behind the Prober interface.
// This package must not import anything that shows or stores results.
package probe

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/pingerplot/pingerplot/internal/packet"
)

// Mode is the protocol a probe is sent with.
type Mode uint8

const (
	ICMP Mode = iota // ICMP echo request; destination answers with echo reply
	UDP              // UDP datagram to a (normally closed) port; destination answers port unreachable
	TCP              // TCP SYN to a port; destination answers SYN-ACK or RST
)

func (m Mode) String() string {
	switch m {
	case ICMP:
		return "icmp"
	case UDP:
		return "udp"
	case TCP:
		return "tcp"
	}
	return fmt.Sprintf("mode(%d)", m)
}

// ParseMode turns "icmp", "udp" or "tcp" into a Mode.
func ParseMode(s string) (Mode, error) {
	switch s {
	case "icmp", "ICMP":
		return ICMP, nil
	case "udp", "UDP":
		return UDP, nil
	case "tcp", "TCP":
		return TCP, nil
	}
	return 0, fmt.Errorf("unknown probe mode %q (want icmp, udp or tcp)", s)
}

// MarshalText implements encoding.TextMarshaler so modes read well in JSON.
func (m Mode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *Mode) UnmarshalText(b []byte) error {
	v, err := ParseMode(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Probe describes one packet to send.
type Probe struct {
	Dst  netip.Addr // destination; its family selects IPv4 or IPv6
	TTL  int        // IP TTL / IPv6 hop limit, 1..255
	Mode Mode
	// Port is the destination port for UDP and TCP (ignored for ICMP).
	Port uint16
	// Size is the payload size in bytes beyond the ICMP/UDP header. Backends
	// enforce a minimum large enough to carry their probe identifier.
	Size int
	// Timeout bounds the wait for a reply; zero means one second.
	Timeout time.Duration
	// FinalHopOnly marks a probe of a target monitored at the destination
	// alone: no router's answer is wanted, so a backend may send it where it
	// could not trace (Windows TCP without administrator rights).
	FinalHopOnly bool
}

// Kind says what answered a probe.
type Kind uint8

const (
	Timeout      Kind = iota // nothing answered within the timeout
	TimeExceeded             // a router on the way: ICMP time exceeded (TTL/hop limit reached 0)
	Reached                  // the destination itself: echo reply, port unreachable, SYN-ACK or RST
	Unreachable              // an ICMP destination unreachable other than the one that means "reached"
	Failed                   // the probe could not be sent; Reply.Err says why
)

func (k Kind) String() string {
	switch k {
	case Timeout:
		return "timeout"
	case TimeExceeded:
		return "time-exceeded"
	case Reached:
		return "reached"
	case Unreachable:
		return "unreachable"
	case Failed:
		return "failed"
	}
	return fmt.Sprintf("kind(%d)", k)
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Reply is what came back for one probe.
type Reply struct {
	Kind Kind
	// From is the responder: the router for TimeExceeded and Unreachable, the
	// destination (or whoever answered for it) for Reached. Zero for Timeout.
	From netip.Addr
	// ICMPType and ICMPCode are the raw ICMP type/code when the answer was
	// an ICMP message (zero for TCP connect results).
	ICMPType, ICMPCode uint8
	// Sent is the wall-clock time just before the packet was handed to the kernel.
	Sent time.Time
	// RTT is the round-trip time, from a kernel receive timestamp when the
	// kernel gave one (KernelTS true), else from the user-space clock.
	RTT      time.Duration
	KernelTS bool
	// Closed marks a Reached TCP probe that the destination refused (RST):
	// the host is there but nothing listens on the port, so a service check
	// must call it down, not up. Never set for other modes.
	Closed bool
	// MPLS holds any RFC 4950 label stack the router attached.
	MPLS []MPLSLabel
	// Err is set for Failed probes.
	Err error
}

// MPLSLabel is one RFC 4950 label stack entry.
type MPLSLabel = packet.MPLSLabel

// Prober sends probes. Implementations are safe for concurrent use.
type Prober interface {
	// Probe sends p and blocks until its reply, its timeout, or ctx ends.
	// Failures to send are reported as a Reply of Kind Failed, not an error;
	// the error return is reserved for a closed prober or a cancelled ctx.
	Probe(ctx context.Context, p Probe) (Reply, error)
	// ProbeAll sends ps in order, gap apart, and calls onReply on the
	// calling goroutine once per probe as its answer (or timeout, or send
	// failure) comes, with the probe's index. onReply returning false
	// abandons the probes still waiting. ProbeAll returns when every probe
	// is resolved or abandoned; its error is ctx's, or ErrClosed.
	ProbeAll(ctx context.Context, ps []Probe, gap time.Duration, onReply func(i int, r Reply) bool) error
	// Prepare opens what mode needs for one address family now, so that a
	// missing privilege is reported before a trace starts, with what to do.
	// finalHopOnly says only the destination will be probed (a service
	// check, not a trace): some systems allow that with less privilege than
	// learning the routers' answers needs.
	Prepare(mode Mode, v6, finalHopOnly bool) error
	// Backend names the implementation and why it was chosen, for --verbose.
	Backend() string
	// Close releases the sockets and waits for the prober's goroutines.
	Close() error
}

// ErrClosed is returned by Probe after Close.
var ErrClosed = errors.New("prober closed")

// ErrUnsupportedPlatform is returned by New on operating systems with no backend yet.
var ErrUnsupportedPlatform = errors.New("this operating system is not supported yet: PingerPlot's probe backends run on Linux and Windows (macOS is planned)")

// Privilege selects which backend family New may use.
type Privilege uint8

const (
	// Auto picks the best backend this process may open: raw sockets with
	// CAP_NET_RAW, else unprivileged ping/UDP/TCP sockets.
	Auto Privilege = iota
	// Unprivileged never opens raw sockets.
	Unprivileged
	// Raw requires raw sockets and fails without CAP_NET_RAW.
	Raw
)

// Config configures New.
type Config struct {
	Privilege Privilege
	// TimeNow is the wall clock used to stamp sends; nil means time.Now.
	TimeNow func() time.Time
}

// ProbeEach implements ProbeAll for a prober that only knows how to send one
// probe at a time: a goroutine per probe. Fakes and simple backends use it.
func ProbeEach(ctx context.Context, probe func(context.Context, Probe) (Reply, error), ps []Probe, gap time.Duration, onReply func(i int, r Reply) bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type answer struct {
		i   int
		r   Reply
		err error
	}
	results := make(chan answer, len(ps))
	sent := 0
	for i, pr := range ps {
		if i > 0 && gap > 0 {
			t := time.NewTimer(gap)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		if ctx.Err() != nil {
			break
		}
		sent++
		go func() {
			r, err := probe(ctx, pr)
			results <- answer{i, r, err}
		}()
	}
	stopped := false
	var firstErr error
	for ; sent > 0; sent-- {
		a := <-results
		if stopped {
			continue
		}
		if a.err != nil {
			if firstErr == nil && !errors.Is(a.err, context.Canceled) {
				firstErr = a.err
			}
			continue
		}
		if !onReply(a.i, a.r) {
			stopped = true
			cancel()
		}
	}
	if firstErr != nil {
		return firstErr
	}
	if !stopped {
		return ctx.Err()
	}
	return nil
}
