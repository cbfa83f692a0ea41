package monitor

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// NoAnswerRounds is how many rounds a destination may stay silent from the
// start before the target is reported as NoAnswer.
const NoAnswerRounds = 3

// PercentileWindow caps how many recent replies per hop the P50 and P95
// cover (Settings.History when smaller). Every snapshot sorts them, once
// a round for every target, so the cap keeps a round's fold cheap; 300
// replies is five minutes at the default interval.
const PercentileWindow = 300

func percentileWindow(history int) int { return min(history, PercentileWindow) }

// state is everything the monitor knows about one target, folded from its
// rounds. It is pure: apply takes the time and the round and returns the
// snapshot and the events; the goroutine that owns the probing and the lock
// live elsewhere. Its memory is bounded by Settings.History (history and
// round times), PercentileWindow, RouteWindow and the alert window, plus
// one small record per address ever seen at a TTL.
type state struct {
	target Target // with the settings in effect
	// names is the monitor's lookup; target.Names decides per round
	// whether this target's messages use it.
	names  func(netip.Addr) string
	paused bool

	path    hopstat.Path
	details DetailsLog
	hist    []hopHistory // index TTL-1
	times   roundTimes
	routes  routes
	dest    probeRing // the destination's last Alert.Window probes
	alerts  alert.State
	res     alert.Result // the latest evaluation of dest

	everAnswered bool // the destination answered this probe type
	unanswered   int  // rounds since the probe type was set, while !everAnswered
	noAnswerSaid bool
	// cannotSend: the latest round sent nothing (the local system refused
	// every probe); such rounds say nothing of the destination.
	cannotSend bool
	// refusing: the destination's latest answer was a refusal (TCP RST);
	// a lost probe since changes nothing.
	refusing bool
	// pathFrom is the last round of an earlier path shape (before the
	// target switched to or from final-hop-only, which renumbers the
	// hops): snapshots show history of later rounds only.
	pathFrom int

	rounds        int
	started, last time.Time

	// Scratch space reused by every round.
	samples []hopstat.Sample
	answers []hopAnswer
	probes  []alert.Probe
}

// newState returns the state of a target with no rounds yet; t has its
// defaults filled.
func newState(t Target, names func(netip.Addr) string) *state {
	s := &state{target: t, names: names, times: newRoundTimes(t.History), dest: newProbeRing(t.Alert.Window)}
	s.path.Window = percentileWindow(t.History)
	return s
}

// apply folds one round, finished at now, and returns the target's
// snapshot (without history) and what happened.
func (s *state) apply(now time.Time, r trace.Round) (Snapshot, []Event) {
	s.rounds++
	round := s.rounds
	if s.started.IsZero() {
		s.started = r.Start
	}
	s.last = r.End
	s.times.set(round, r.Start)

	s.samples, s.answers = s.samples[:0], s.answers[:0]
	for _, h := range r.Hops {
		smp := SampleOf(h)
		s.samples = append(s.samples, smp)
		if !smp.Lost {
			s.answers = append(s.answers, hopAnswer{TTL: h.TTL, From: smp.From})
		}
		s.record(round, smp, &h.Reply)
	}
	s.path.AddRound(s.samples)
	s.details.Observe(r)

	var events []Event
	destTTL := 0
	if r.Reached {
		destTTL = r.EndTTL
	}
	for _, e := range s.routes.observe(round, s.answers, destTTL) {
		events = append(events, s.event(now, e.Kind, e.TTL, e.message(s.target.Names(s.names))))
	}

	if r.Reached && !s.everAnswered {
		// The probes it ignored until now said "does not answer this
		// probe type", not "loses packets": the window starts here.
		s.dest.reset()
		s.everAnswered = true
	}
	// A round the local system refused entirely asked the network
	// nothing: it is neither a loss for the alerts nor a sign that the
	// destination blocks the probe type. It is said once, with its cause.
	nothingSent := r.NothingSent()
	switch {
	case nothingSent && !s.cannotSend:
		_, cause := r.Unsent()
		events = append(events, s.event(now, SendFailed, 0,
			fmt.Sprintf("no probe could be sent, the local system refused them: %v", cause)))
	case !nothingSent && s.cannotSend:
		events = append(events, s.event(now, SendResumed, 0, "probes are sent again"))
	}
	s.cannotSend = nothingSent
	if p, ok := destProbe(r); ok && !nothingSent {
		s.dest.add(p)
		if !p.Lost {
			s.refusing = p.Refused
		}
	}
	if !s.everAnswered && !nothingSent {
		s.unanswered++
	}
	s.probes = s.dest.appendTo(s.probes[:0])
	s.res = alert.Evaluate(s.target.Alert, s.probes)
	for _, c := range s.alerts.Step(now, s.target.Alert, s.res, s.everAnswered) {
		events = append(events, s.alertEvent(now, c, ""))
	}
	if s.noAnswer() && !s.noAnswerSaid {
		s.noAnswerSaid = true
		events = append(events, s.event(now, NoAnswerEvent, 0, s.noAnswerMessage()))
	}
	return s.snapshot(false), events
}

// SampleOf turns a probe's outcome into the input of the per-hop
// statistics; `pingerplot report` folds its rounds with it too.
func SampleOf(h trace.Hop) hopstat.Sample {
	s := hopstat.Sample{TTL: h.TTL}
	switch h.Reply.Kind {
	case probe.TimeExceeded, probe.Reached, probe.Unreachable:
		s.From, s.RTT = h.Reply.From, h.Reply.RTT
		s.Reached = h.Reply.Kind == probe.Reached
		s.Refused = s.Reached && h.Reply.Closed
		s.Lost = !h.Reply.From.IsValid()
	default:
		s.Lost = true
	}
	return s
}

// destProbe is the round's probe to the destination: its reply, or a loss
// when the round ended without it (a timeout at the last TTL, an
// unreachable, a failed send). A round whose last probe met a router did
// not probe far enough to ask the destination (the path got longer than
// the tracer expected); it has no destination probe rather than a lost one.
func destProbe(r trace.Round) (alert.Probe, bool) {
	if len(r.Hops) == 0 {
		return alert.Probe{}, false
	}
	if r.Reached {
		for _, h := range r.Hops {
			if h.TTL == r.EndTTL {
				return alert.Probe{RTT: h.Reply.RTT, Refused: h.Reply.Closed}, true
			}
		}
	}
	if last := r.Hops[len(r.Hops)-1]; r.EndTTL == 0 && last.Reply.Kind == probe.TimeExceeded {
		return alert.Probe{}, false
	}
	return alert.Probe{Lost: true}, true
}

// record adds a probe to its hop's history; rep is the reply it came
// from, nil if unknown, kept so that the round can be rebuilt
// (Monitor.Rounds).
func (s *state) record(round int, smp hopstat.Sample, rep *probe.Reply) {
	if smp.TTL < 1 || smp.TTL > hopstat.MaxTTL {
		return
	}
	if smp.TTL > len(s.hist) {
		s.hist = append(s.hist, make([]hopHistory, smp.TTL-len(s.hist))...)
	}
	h := &s.hist[smp.TTL-1]
	sl := slot{rtt: packRTT(smp.RTT), round: uint32(round), addr: h.addrIndex(smp.From)}
	if smp.Lost {
		sl.flags |= slotLost
	}
	if smp.Reached {
		sl.flags |= slotReached
	}
	if smp.Refused {
		sl.flags |= slotClosed
	}
	if rep != nil {
		sl.kind = 1 + uint8(rep.Kind)
		if rep.Closed {
			sl.flags |= slotClosed
		}
	}
	h.add(s.target.History, sl)
}

func (s *state) noAnswer() bool { return !s.everAnswered && s.unanswered >= NoAnswerRounds }

func (s *state) noAnswerMessage() string {
	what := s.target.Trace.Mode.String()
	if s.target.Trace.Mode != probe.ICMP {
		what = fmt.Sprintf("%s port %d", what, s.target.Trace.Port)
	}
	return fmt.Sprintf("destination does not answer this probe type (%s): no reply in %d rounds; "+
		"it blocks these probes or is more than %d hops away, and raises no alerts until it answers",
		what, s.unanswered, s.target.Trace.MaxHops)
}

func (s *state) event(now time.Time, k EventKind, ttl int, msg string) Event {
	return Event{Time: now, Target: s.target.ID, Kind: k, TTL: ttl, Message: msg}
}

// alertEvent words an alert change; why, if set, explains a clear that
// the values did not cause.
func (s *state) alertEvent(now time.Time, c alert.Change, why string) Event {
	e := s.event(now, AlertCleared, s.path.DestTTL(), "")
	if c.Raised {
		e.Kind = AlertRaised
	}
	e.Condition, e.Value, e.Threshold = c.Condition, c.Value, c.Threshold
	unit, what := "%", fmt.Sprintf("of the last %d probes lost", s.res.Sent)
	switch c.Condition {
	case alert.Latency:
		unit, what = " ms", fmt.Sprintf("mean RTT of the replies among the last %d probes", s.res.Sent)
	case alert.Closed:
		what = fmt.Sprintf("of the answers among the last %d probes refused the connection", s.res.Sent)
	}
	port := fmt.Sprintf("%s port %d", s.target.Trace.Mode, s.target.Trace.Port)
	switch {
	case c.Condition == alert.Closed && c.Raised:
		e.Message = fmt.Sprintf("closed alert: %s is closed, the destination refuses every connection (%.4g%% %s)",
			port, c.Value, what)
	case c.Condition == alert.Closed && why == "" && c.Threshold != 0:
		e.Message = fmt.Sprintf("closed alert cleared: %s accepts connections again (%.4g%% %s) after %v",
			port, c.Value, what, now.Sub(c.Since).Round(time.Second))
	case c.Raised:
		e.Message = fmt.Sprintf("%s alert: %.4g%s ≥ %.4g%s (%s)", c.Condition, c.Value, unit, c.Threshold, unit, what)
	case why != "":
		e.Message = fmt.Sprintf("%s alert cleared: %s", c.Condition, why)
	case c.Threshold == 0:
		e.Message = fmt.Sprintf("%s alert cleared: rule turned off", c.Condition)
	default:
		e.Message = fmt.Sprintf("%s alert cleared: %.4g%s < %.4g%s after %v", c.Condition, c.Value, unit,
			c.Threshold, unit, now.Sub(c.Since).Round(time.Second))
	}
	return e
}

// stateName applies the precedence Paused > CannotSend > Closed >
// Alerting > NoAnswer > Running. Closed follows the latest answer, not the
// alert window: a service check must not say "running" for a port that
// refuses, even before the closed alert's window is full.
func (s *state) stateName() State {
	switch {
	case s.paused:
		return Paused
	case s.cannotSend:
		return CannotSend
	case s.refusing || s.alerts.Raised(alert.Closed):
		return Closed
	case len(s.alerts.Active()) > 0:
		return Alerting
	case s.noAnswer():
		return NoAnswer
	}
	return Running
}

// snapshot copies the state out; it shares nothing with s.
func (s *state) snapshot(withHistory bool) Snapshot {
	snap := Snapshot{Target: s.target, State: s.stateName(), Rounds: s.rounds, Started: s.started, Last: s.last}
	hops := s.path.Hops()
	snap.Hops = make([]Hop, len(hops))
	for i, h := range hops {
		snap.Hops[i].Hop = h
		snap.Hops[i].Details = s.details.At(h.TTL)
		if withHistory && h.TTL <= len(s.hist) {
			since := max(s.rounds-s.target.History, s.pathFrom)
			snap.Hops[i].History = s.hist[h.TTL-1].appendSamples(nil, since, &s.times)
		}
	}
	snap.Dest = Destination{TTL: s.path.DestTTL(), Sent: s.res.Sent, Refused: s.res.Refused, LossPct: s.res.LossPct,
		Latency: s.res.Latency, Jitter: s.res.Jitter, R: s.res.R, MOS: s.res.MOS, Active: s.alerts.Active()}
	return snap
}

// reconfigure switches to new settings (t has its defaults filled) from
// the next round. History and windows keep their most recent entries. A
// new probe type (mode, port) asks the destination a new question: whether
// it answers, its window and its raised alerts start over, and the clears
// are returned.
func (s *state) reconfigure(now time.Time, t Target) []Event {
	old := s.target
	s.target = t
	if old.History != t.History {
		for i := range s.hist {
			s.hist[i].resize(t.History)
		}
		s.times = s.times.resized(t.History)
		s.path.SetWindow(percentileWindow(t.History))
	}
	if old.Alert.Window != t.Alert.Window {
		s.dest.resize(t.Alert.Window)
	}
	var events []Event
	if old.Trace.FinalHopOnly != t.Trace.FinalHopOnly {
		// Hop numbers change meaning: in a final-hop-only round hop 1 is
		// the destination, in a trace the first router. The per-hop
		// statistics and route windows start over so the two never mix;
		// the history keeps the earlier rounds (for subscribers catching
		// up) but snapshots show only the rounds from now on.
		s.path = hopstat.Path{Window: s.path.Window}
		s.routes = routes{}
		s.details.Reset()
		s.pathFrom = s.rounds
	}
	if !sameProbeType(old.Trace, t.Trace) {
		s.dest.reset()
		s.res = alert.Result{}
		s.refusing = false
		s.everAnswered, s.unanswered, s.noAnswerSaid = false, 0, false
		for _, c := range s.alerts.Reset() {
			events = append(events, s.alertEvent(now, c, "probe type changed"))
		}
	}
	return events
}

// probeRing keeps the destination's most recent probes.
type probeRing struct {
	buf  []alert.Probe
	next int
	full bool
}

func newProbeRing(n int) probeRing { return probeRing{buf: make([]alert.Probe, n)} }

func (r *probeRing) add(p alert.Probe) {
	if len(r.buf) == 0 {
		return
	}
	r.buf[r.next] = p
	r.next++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
}

// appendTo appends the probes, oldest first.
func (r *probeRing) appendTo(dst []alert.Probe) []alert.Probe {
	if r.full {
		dst = append(dst, r.buf[r.next:]...)
	}
	return append(dst, r.buf[:r.next]...)
}

func (r *probeRing) reset() { *r = newProbeRing(len(r.buf)) }

// resize keeps the most recent n probes.
func (r *probeRing) resize(n int) {
	kept := r.appendTo(nil)
	*r = newProbeRing(n)
	for _, p := range kept[max(0, len(kept)-n):] {
		r.add(p)
	}
}
