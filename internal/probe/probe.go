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
	"net/netip"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe/result"
)

// The result types live in the leaf package result, so that packages which
// show or store results need not import this one; these aliases keep
// probe.Mode, probe.Reply and the rest working for the engine.
type (
	// Mode is the protocol a probe is sent with (result.Mode).
	Mode = result.Mode
	// Kind says what answered a probe (result.Kind).
	Kind = result.Kind
	// Reply is what came back for one probe (result.Reply).
	Reply = result.Reply
	// MPLSLabel is one RFC 4950 label stack entry (result.MPLSLabel).
	MPLSLabel = result.MPLSLabel
	// Details is what an ICMP error said beyond who answered (result.Details).
	Details = result.Details
)

// Probe modes.
const (
	ICMP = result.ICMP
	UDP  = result.UDP
	TCP  = result.TCP
)

// Reply kinds.
const (
	Timeout      = result.Timeout
	TimeExceeded = result.TimeExceeded
	Reached      = result.Reached
	Unreachable  = result.Unreachable
	Failed       = result.Failed
)

// ParseMode turns "icmp", "udp" or "tcp" into a Mode (result.ParseMode).
func ParseMode(s string) (Mode, error) { return result.ParseMode(s) }

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
	// Flow selects one of several flow identifiers for the target (ECMP
	// flow enumeration, Paris/Dublin traceroute): probes with the same Flow
	// keep every header field a load balancer hashes constant, probes with
	// different Flows differ in them. 0 is the target's ordinary flow.
	Flow uint16
	// DontFragment sets DF (IPv4) or forbids local fragmentation (IPv6), so
	// that a probe larger than a link's MTU draws "fragmentation needed" or
	// "packet too big" (Reply.MTU) instead of being fragmented: path MTU
	// discovery.
	DontFragment bool
	// TOS is the IPv4 TOS byte or IPv6 traffic class the probe is sent
	// with: DSCP in the high six bits, ECN in the low two (mtr's --tos).
	// Routers' quotes show what of it arrived (Details.TOS), so a hop that
	// re-marks or bleaches traffic is visible. TCP probes carry the DSCP
	// only: Linux keeps a TCP socket's ECN bits for itself.
	TOS uint8
}

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
