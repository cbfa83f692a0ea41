// Package trace runs the rounds of one target: it plans which TTLs to probe,
// sends them all at once through a probe.Prober, collects the answers and
// returns an immutable Round. It knows nothing of statistics or output.
//
// It must not import the packages that fold, show or store rounds.
package trace

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe"
)

// Config describes the probes of one target. The zero value of each field
// means the default documented on it.
type Config struct {
	Target  netip.Addr
	Mode    probe.Mode
	Port    uint16        // UDP/TCP destination port; 0 means 33434 for UDP and 80 for TCP
	Size    int           // payload bytes; 0 means DefaultSize
	Timeout time.Duration // per-probe reply timeout; 0 means 1 s
	// FirstTTL and MaxHops bound the TTLs probed; 0 means 1 and 30.
	FirstTTL, MaxHops int
	// SendGap spaces the sends of one round (a rate throttle); 0 sends all
	// TTLs at once, so a round lasts about one timeout.
	SendGap time.Duration
	// FinalHopOnly probes the destination alone: a pure reachability and
	// latency check (for TCP, "is this service up?"). The probe leaves
	// with TTL MaxHops, so that it reaches a destination at any distance
	// up to it, but the round reports it as hop 1 of a one-hop path: the
	// routers in between were not asked, and a TTL of 30 shown as the
	// path's length would be false.
	FinalHopOnly bool
	// TOS is the TOS byte (IPv4) or traffic class (IPv6) probes are sent
	// with: DSCP and ECN (probe.Probe.TOS); 0 sends them unmarked.
	TOS uint8
	// Flow is the flow identifier every probe of the tracer carries
	// (probe.Probe.Flow); 0 is the target's ordinary flow. ECMP flow
	// enumeration runs one tracer per flow.
	Flow uint16
}

// Defaults.
const (
	DefaultSize    = 36 // with the IPv4 and ICMP headers: a 64-byte packet, as mtr sends
	DefaultMaxHops = 30
	DefaultTimeout = time.Second
	DefaultUDPPort = 33434
	DefaultTCPPort = 80
)

// WithDefaults fills zero fields and validates the rest.
func (c Config) WithDefaults() (Config, error) {
	if !c.Target.IsValid() {
		return c, errors.New("no target address")
	}
	c.Target = c.Target.Unmap()
	if c.Size == 0 {
		c.Size = DefaultSize
	}
	if c.Size < 0 || c.Size > 65000 {
		return c, fmt.Errorf("payload size %d out of range 0-65000", c.Size)
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Timeout < 0 {
		return c, fmt.Errorf("timeout %v must be positive", c.Timeout)
	}
	if c.FirstTTL == 0 {
		c.FirstTTL = 1
	}
	if c.MaxHops == 0 {
		c.MaxHops = DefaultMaxHops
	}
	if c.MaxHops < 1 || c.MaxHops > 255 {
		return c, fmt.Errorf("max hops %d out of range 1-255", c.MaxHops)
	}
	if c.FirstTTL < 1 || c.FirstTTL > c.MaxHops {
		return c, fmt.Errorf("first TTL %d out of range 1-%d", c.FirstTTL, c.MaxHops)
	}
	if c.Port == 0 {
		switch c.Mode {
		case probe.UDP:
			c.Port = DefaultUDPPort
		case probe.TCP:
			c.Port = DefaultTCPPort
		}
	}
	return c, nil
}

// Hop is one probe of a round and what answered it.
type Hop struct {
	// TTL is the hop's place in the path, 1 = the first router: the TTL
	// the probe was sent with, except for a FinalHopOnly target, whose
	// one probe (sent with TTL MaxHops) is hop 1.
	TTL   int
	Reply probe.Reply
}

// Round is the immutable result of probing the path once.
type Round struct {
	Index      int
	Start, End time.Time
	// Hops holds one entry per TTL probed, in TTL order, up to and including
	// EndTTL when the path ended.
	Hops []Hop
	// EndTTL is the lowest TTL where the path ended: the destination
	// answered (Reached) or a router said it cannot go on (Unreachable).
	// Zero when neither happened.
	EndTTL int
	// Reached reports that the destination itself answered at EndTTL.
	Reached bool
}

// Unsent counts the round's probes that never left this host (Kind
// Failed: the local system refused to send them, for want of a route or
// of permission) and returns the first one's error, which names the
// cause. Such a probe is not a lost probe: nothing was asked of the
// network. A round with Unsent equal to len(Hops) learned nothing.
func (r Round) Unsent() (n int, first error) {
	for _, h := range r.Hops {
		if h.Reply.Kind == probe.Failed {
			if n == 0 {
				first = h.Reply.Err
			}
			n++
		}
	}
	return n, first
}

// NothingSent reports whether no probe of the round left this host.
func (r Round) NothingSent() bool {
	n, _ := r.Unsent()
	return len(r.Hops) > 0 && n == len(r.Hops)
}

// Tracer probes one target round after round. It is not safe for
// concurrent Rounds: rounds of one target never overlap.
type Tracer struct {
	cfg    Config
	prober probe.Prober
	now    func() time.Time
	// knownEnd is the TTL at which the destination last answered, so later
	// rounds need not probe 30 TTLs for a 6-hop path; grow is set when a
	// router answered there instead (the path got longer): the next round
	// probes up to MaxHops to find the new end.
	knownEnd int
	grow     bool

	// The round in progress, reused round after round so that a round
	// allocates its result only: the probes, the answers by TTL and the
	// callback ProbeAll is given (bound once to onReply).
	ps      []probe.Probe
	byTTL   []Hop  // index TTL; valid where have is set
	have    []bool // index TTL
	shift   int
	first   int
	end     int
	next    int
	onHop   func(Hop)
	replyFn func(int, probe.Reply) bool
}

// New returns a Tracer. now is the clock for round times; nil means time.Now.
func New(p probe.Prober, cfg Config, now func() time.Time) (*Tracer, error) {
	cfg, err := cfg.WithDefaults()
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	t := &Tracer{cfg: cfg, prober: p, now: now}
	t.replyFn = t.onReply
	return t, nil
}

// Config returns the tracer's settings with defaults filled in.
func (t *Tracer) Config() Config { return t.cfg }

// planTTLs returns the TTLs to probe in a round. Once the destination has
// answered, rounds probe up to where it did. No TTLs past it are needed to
// notice a longer path: the probe there then meets a router instead of the
// destination, and the next round probes up to MaxHops.
func planTTLs(cfg Config, knownEnd int, grow bool) (first, last int) {
	if cfg.FinalHopOnly {
		return cfg.MaxHops, cfg.MaxHops
	}
	last = cfg.MaxHops
	if knownEnd > 0 && !grow && knownEnd < last {
		last = knownEnd
	}
	return cfg.FirstTTL, last
}

// Round probes the path once. onHop, if not nil, is called on the calling
// goroutine for each TTL in order, as soon as it and every TTL before it
// have an answer or have timed out, so a caller can print a traceroute as
// it happens. A round ends when every TTL up to
// the end of the path has an answer or has timed out; probes past the end
// are abandoned.
func (t *Tracer) Round(ctx context.Context, index int, onHop func(Hop)) (Round, error) {
	first, last := planTTLs(t.cfg, t.knownEnd, t.grow)
	r := Round{Index: index, Start: t.now()}

	t.ps = t.ps[:0]
	for ttl := first; ttl <= last; ttl++ {
		t.ps = append(t.ps, probe.Probe{
			Dst: t.cfg.Target, TTL: ttl, Mode: t.cfg.Mode, Port: t.cfg.Port,
			Size: t.cfg.Size, Timeout: t.cfg.Timeout, FinalHopOnly: t.cfg.FinalHopOnly,
			TOS: t.cfg.TOS, Flow: t.cfg.Flow,
		})
	}
	// From here on TTLs are places in the path (Hop.TTL): a final-hop-only
	// probe, sent with TTL MaxHops, is hop 1.
	t.shift = 0
	if t.cfg.FinalHopOnly {
		t.shift = first - 1
		first, last = 1, 1
	}
	if len(t.have) < last+1 {
		t.have, t.byTTL = make([]bool, last+1), make([]Hop, last+1)
	}
	clear(t.have)
	t.first, t.end, t.next, t.onHop = first, 0, first, onHop
	err := t.prober.ProbeAll(ctx, t.ps, t.cfg.SendGap, t.replyFn)
	t.onHop = nil
	if err != nil {
		return Round{}, err
	}
	if err := ctx.Err(); err != nil {
		return Round{}, err
	}
	r.End = t.now()
	end := t.end
	// A destination that answered before but whose probe was lost this
	// round (while one sent further, in a round probing past it, reached
	// it) has not moved: the path ends where it did, with the destination
	// lost. Only a router answering there says the path grew.
	if k := t.knownEnd; k > 0 && (end == 0 || end > k) {
		if k < len(t.have) && t.have[k] && t.byTTL[k].Reply.Kind != probe.TimeExceeded {
			end = k
		}
	}
	r.EndTTL = end
	n := 0
	for ttl := first; ttl <= last; ttl++ {
		if t.have[ttl] && (end == 0 || ttl <= end) {
			n++
		}
	}
	r.Hops = make([]Hop, 0, n)
	for ttl := first; ttl <= last; ttl++ {
		if t.have[ttl] && (end == 0 || ttl <= end) {
			r.Hops = append(r.Hops, t.byTTL[ttl])
		}
	}
	if end != 0 {
		r.Reached = t.byTTL[end].Reply.Kind == probe.Reached
	}
	switch {
	case r.Reached:
		t.knownEnd, t.grow = end, false
	case t.knownEnd > 0:
		k := t.knownEnd
		t.grow = k < len(t.have) && t.have[k] && t.byTTL[k].Reply.Kind == probe.TimeExceeded
	}
	return r, nil
}

// onReply takes probe i's answer during Round.
func (t *Tracer) onReply(i int, rep probe.Reply) bool {
	h := Hop{TTL: t.ps[i].TTL - t.shift, Reply: rep}
	t.byTTL[h.TTL], t.have[h.TTL] = h, true
	if (rep.Kind == probe.Reached || rep.Kind == probe.Unreachable) && (t.end == 0 || h.TTL < t.end) {
		t.end = h.TTL
	}
	// Emit in TTL order, each hop as soon as every hop before it is known.
	// (A round whose every probe is answered and none ends the path runs
	// next past the last TTL: have holds no more.)
	for t.onHop != nil && (t.end == 0 || t.next <= t.end) && t.next < len(t.have) {
		if !t.have[t.next] {
			break
		}
		t.onHop(t.byTTL[t.next])
		t.next++
	}
	// Probes past the end of the path are abandoned once every TTL up
	// to the end has its answer.
	return t.end == 0 || !t.complete()
}

// complete reports whether every TTL from the first to the end has a
// result.
func (t *Tracer) complete() bool {
	for ttl := t.first; ttl <= t.end; ttl++ {
		if !t.have[ttl] {
			return false
		}
	}
	return true
}
