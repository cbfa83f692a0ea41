// Package pmtu discovers the path MTU towards one target: the largest packet
// that reaches it with DF set (IPv4) or unfragmented (IPv6), and the hop
// where larger packets stop.
//
// The search starts at Config.Max (1500, the MTU of an Ethernet interface)
// and steps down to the next-hop MTU a router reports in "fragmentation
// needed" (ICMPv4 3/4) or "packet too big" (ICMPv6 2), or that the local
// stack refused a probe with; when a router reports none (an MTU of 0) or
// larger packets meet silence (an ICMP black hole) it bisects between the
// largest size that reached the destination and the smallest that did not.
// Every answer is confirmed: the result is a size a probe of exactly that
// size reached the destination with. The hop is then located by sending
// one probe just above the path MTU at each TTL: routers before the narrow
// link answer "time exceeded", the one in front of it "fragmentation
// needed", so the smallest TTL that draws the latter is one past it.
//
// The package decides and sends nothing itself: the Prober and the clock
// are passed in, so its logic is tested with a scripted network. It must
// not import anything that shows or stores results.
package pmtu

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/probe/result"
)

// Prober sends probes; probe.Prober is one.
type Prober interface {
	ProbeAll(ctx context.Context, ps []probe.Probe, gap time.Duration, onReply func(i int, r probe.Reply) bool) error
}

// Config configures one discovery. Zero values mean the defaults named.
type Config struct {
	Dst netip.Addr
	// Mode is ICMP or UDP; TCP cannot carry a chosen size (a SYN is
	// small), so callers pick UDP or ICMP for a TCP target.
	Mode probe.Mode
	// Port is the UDP destination port.
	Port uint16
	// Max is the largest packet tried, in bytes of IP packet; 0 means
	// 1500. A path that carries Max reports MTU == Max.
	Max int
	// MaxTTL is the TTL of the search's probes and the farthest hop the
	// narrow link is looked for at; 0 means 30.
	MaxTTL int
	// Timeout bounds the wait for each probe's answer; 0 means one second.
	Timeout time.Duration
	// Tries is how many probes of one size must meet silence before that
	// size counts as too big; 0 means 2, so one lost probe does not lower
	// the result.
	Tries int
	// Gap spaces the hop-locating probes, so routers' ICMP rate limits do
	// not drop the answer that matters; 0 means 10 ms.
	Gap time.Duration
	// TOS is the probes' TOS byte or traffic class.
	TOS uint8
	// TimeNow stamps the result; nil means time.Now.
	TimeNow func() time.Time
}

// Minimum MTUs: every IPv4 link carries 68 bytes (RFC 791), every IPv6
// link 1280 (RFC 8200).
const (
	min4 = 68
	min6 = 1280
)

// ErrNoAnswer is returned when the destination answered no probe, of any
// size: there is nothing to measure the path MTU against.
var ErrNoAnswer = errors.New("the destination answered no don't-fragment probe, not even of the minimum size")

// outcome is what one size's probes said.
type outcome uint8

const (
	fits    outcome = iota // the destination answered
	tooBig                 // a router or the local stack said the packet is too big
	silence                // no answer to any try
)

// search is one discovery in progress.
type search struct {
	cfg    Config
	p      Prober
	v6     bool
	hdr    int // IP header + ICMP/UDP header bytes
	min    int
	probes int
}

// Discover finds the path MTU towards cfg.Dst. The error is ctx's, a
// configuration error, ErrNoAnswer, or what stopped the search (the
// destination unreachable, or farther than MaxTTL); the result then holds
// what was learnt so far.
func Discover(ctx context.Context, p Prober, cfg Config) (result.PathMTU, error) {
	if cfg.Max == 0 {
		cfg.Max = 1500
	}
	if cfg.MaxTTL == 0 {
		cfg.MaxTTL = 30
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Second
	}
	if cfg.Tries <= 0 {
		cfg.Tries = 2
	}
	if cfg.Gap == 0 {
		cfg.Gap = 10 * time.Millisecond
	}
	now := cfg.TimeNow
	if now == nil {
		now = time.Now
	}
	s := &search{cfg: cfg, p: p, hdr: 20 + 8, min: min4}
	if cfg.Dst.Unmap().Is6() {
		s.v6, s.hdr, s.min = true, 40+8, min6
	}
	res := result.PathMTU{Max: cfg.Max}
	var err error
	switch {
	case !cfg.Dst.IsValid():
		err = errors.New("path MTU discovery: no destination address")
	case cfg.Mode != probe.ICMP && cfg.Mode != probe.UDP:
		err = fmt.Errorf("path MTU discovery needs ICMP or UDP probes, not %v", cfg.Mode)
	case cfg.Max < s.min:
		err = fmt.Errorf("path MTU discovery: the largest size %d is below the minimum MTU %d", cfg.Max, s.min)
	case cfg.MaxTTL < 1 || cfg.MaxTTL > 255:
		err = fmt.Errorf("path MTU discovery: TTL %d out of range 1-255", cfg.MaxTTL)
	default:
		err = s.run(ctx, &res)
	}
	res.Probes, res.At = s.probes, now()
	if err != nil {
		res.MTU = 0
		res.Err = err.Error()
	}
	return res, err
}

// run does the size search, then locates the hop.
func (s *search) run(ctx context.Context, res *result.PathMTU) error {
	lo := 0         // largest size that reached the destination
	hi := s.cfg.Max // no size above hi can pass
	size := s.cfg.Max
	var reporter netip.Addr // the router whose report set hi
	local := false
	for {
		o, r, err := s.try(ctx, size, s.cfg.MaxTTL)
		if err != nil {
			return err
		}
		exact := false // hi is a next-hop MTU someone reported
		switch o {
		case fits:
			lo = size
		case tooBig:
			hi = size - 1
			if m := int(r.MTU); m >= s.min && m < size {
				hi, exact = m, true
			}
			reporter, local = r.From, r.Kind == probe.Failed
			res.Reported = true
		case silence:
			hi = size - 1
			if lo == 0 && size > s.min {
				// Is anything answering at all? The smallest size tells,
				// before a bisection spends its probes on a mute target.
				if o, _, err := s.try(ctx, s.min, s.cfg.MaxTTL); err != nil {
					return err
				} else if o != fits {
					return ErrNoAnswer
				}
				lo = s.min
			}
		}
		if hi < s.min {
			return ErrNoAnswer
		}
		if lo >= hi {
			break
		}
		switch {
		case exact:
			size = hi // the reported next-hop MTU: try exactly it
		case lo == 0:
			size = (s.min + hi + 1) / 2
		default:
			size = (lo + hi + 1) / 2
		}
	}
	res.MTU = lo
	if lo == s.cfg.Max {
		res.Reported = false
		return nil
	}
	if local {
		res.Local, res.HopAddr = true, netip.Addr{}
		return nil
	}
	// A report names the router; which hop it is comes from the TTL scan,
	// which also finds the hop of a black hole.
	res.HopAddr = reporter
	ttl, addr, reported, err := s.locate(ctx, lo+1)
	if err != nil {
		return err
	}
	res.HopTTL = ttl
	if addr.IsValid() {
		res.HopAddr = addr
	}
	res.Reported = res.Reported && reported
	return nil
}

// try sends probes of size at ttl until one is answered or Tries met
// silence. An answer that says nothing of the size (the destination
// unreachable, a TTL too small) ends the search with an error.
func (s *search) try(ctx context.Context, size, ttl int) (outcome, probe.Reply, error) {
	for range s.cfg.Tries {
		r, err := s.one(ctx, size, ttl)
		if err != nil {
			return silence, r, err
		}
		switch {
		case r.Kind == probe.Reached:
			return fits, r, nil
		case s.isTooBig(r):
			return tooBig, r, nil
		case r.Kind == probe.Timeout:
			continue
		case r.Kind == probe.TimeExceeded:
			return silence, r, fmt.Errorf("path MTU discovery: the destination is farther than %d hops (%v answered time exceeded)", ttl, r.From)
		case r.Kind == probe.Failed:
			return silence, r, fmt.Errorf("path MTU discovery: %w", r.Err)
		default:
			return silence, r, fmt.Errorf("path MTU discovery: %v answered %v (ICMP type %d code %d) to a %d-byte probe", r.From, r.Kind, r.ICMPType, r.ICMPCode, size)
		}
	}
	return silence, probe.Reply{Kind: probe.Timeout}, nil
}

// isTooBig reports whether r says the probe was too big: a router's
// "fragmentation needed" or "packet too big", or the local stack's refusal.
func (s *search) isTooBig(r probe.Reply) bool {
	switch r.Kind {
	case probe.Unreachable:
		return (!s.v6 && r.ICMPType == 3 && r.ICMPCode == 4) || (s.v6 && r.ICMPType == 2) || r.MTU > 0
	case probe.Failed:
		return r.MTU > 0 || errors.Is(r.Err, syscall.EMSGSIZE)
	}
	return false
}

func (s *search) probe(size, ttl int) probe.Probe {
	return probe.Probe{Dst: s.cfg.Dst, TTL: ttl, Mode: s.cfg.Mode, Port: s.cfg.Port, Size: size - s.hdr,
		Timeout: s.cfg.Timeout, DontFragment: true, TOS: s.cfg.TOS}
}

func (s *search) one(ctx context.Context, size, ttl int) (probe.Reply, error) {
	var r probe.Reply
	s.probes++
	err := s.p.ProbeAll(ctx, []probe.Probe{s.probe(size, ttl)}, 0, func(_ int, rep probe.Reply) bool { r = rep; return true })
	return r, err
}

// locate finds the hop where packets of size stop: it sends one at every
// TTL and takes the smallest TTL that drew "too big" (the router one hop
// before it is the one that said so), or, when none did, the last router
// that still answered "time exceeded" before the silence.
func (s *search) locate(ctx context.Context, size int) (ttl int, addr netip.Addr, reported bool, err error) {
	ps := make([]probe.Probe, s.cfg.MaxTTL)
	for i := range ps {
		ps[i] = s.probe(size, i+1)
	}
	replies := make([]probe.Reply, len(ps))
	s.probes += len(ps)
	err = s.p.ProbeAll(ctx, ps, s.cfg.Gap, func(i int, r probe.Reply) bool { replies[i] = r; return true })
	if err != nil {
		return 0, netip.Addr{}, false, err
	}
	last := 0
	for i, r := range replies {
		switch {
		case s.isTooBig(r):
			return max(i, 1), r.From, true, nil
		case r.Kind == probe.TimeExceeded:
			last = i + 1
			addr = r.From
		}
	}
	return last, addr, false, nil
}
