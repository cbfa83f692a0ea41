package alert

import "time"

// State remembers which conditions of one destination are raised, so that
// a condition is reported once when it starts and once when it ends. The
// zero State has nothing raised. It is not safe for concurrent use.
type State struct {
	loss, latency, closed active
}

type active struct {
	on    bool
	since time.Time
}

// Change is a condition starting (Raised) or ending.
type Change struct {
	Condition Condition
	Raised    bool
	// Value is the loss in percent or the latency in milliseconds that
	// caused the change; Threshold is the rule's, in the same unit (0 when
	// the rule was disabled).
	Value, Threshold float64
	// Since is when the condition was raised (for a clear: how long it lasted).
	Since time.Time
}

// Step applies one evaluation of the window. The rules, per condition:
//
//   - A rule with a 0 threshold is disabled: it never raises, and a
//     condition raised before the rule was disabled clears at once.
//   - Raises and clears are decided on a full window only. A partial window
//     (a new target, or a window just made longer) decides nothing: the
//     first lost probe of a new target would otherwise be 100% loss.
//   - A condition raises when its value is at or above the threshold and
//     clears when it is below it. Staying on one side changes nothing, so
//     each raise and each clear is reported once.
//   - A destination that has never answered (everAnswered false) never
//     raises: it blocks the probe type rather than being degraded, and is
//     reported as such elsewhere.
//   - Latency is unknown when the window holds no reply; an unknown value
//     neither raises nor clears (the loss rule speaks for that window).
//   - Closed follows the same rules with the window's refused share of its
//     answers as its value and the fixed threshold ClosedPct: it raises on
//     a full window of refusals and clears at an accepted answer. A
//     refusal is an answer, so everAnswered is true by then.
func (s *State) Step(now time.Time, r Rules, res Result, everAnswered bool) []Change {
	var out []Change
	lossValue, latencyValue := res.LossPct, msOf(res.Latency)
	known := res.Recv > 0
	out = s.loss.step(out, now, Loss, r.LossPct, lossValue, res.Full, everAnswered, true)
	out = s.latency.step(out, now, Latency, msOf(r.Latency), latencyValue, res.Full, everAnswered, known)
	out = s.closed.step(out, now, Closed, ClosedPct, res.RefusedPct(), res.Full, everAnswered, known)
	return out
}

func (a *active) step(out []Change, now time.Time, c Condition, threshold, value float64, full, everAnswered, known bool) []Change {
	switch {
	case threshold <= 0:
		if a.on {
			out = append(out, Change{Condition: c, Value: value, Since: a.since})
			*a = active{}
		}
	case !full || !known:
	case !a.on && value >= threshold && everAnswered:
		*a = active{on: true, since: now}
		out = append(out, Change{Condition: c, Raised: true, Value: value, Threshold: threshold, Since: now})
	case a.on && value < threshold:
		out = append(out, Change{Condition: c, Value: value, Threshold: threshold, Since: a.since})
		*a = active{}
	}
	return out
}

// Active returns the raised conditions: loss, latency, closed.
func (s *State) Active() []Condition {
	var out []Condition
	if s.loss.on {
		out = append(out, Loss)
	}
	if s.latency.on {
		out = append(out, Latency)
	}
	if s.closed.on {
		out = append(out, Closed)
	}
	return out
}

// Raised reports whether c is raised.
func (s *State) Raised(c Condition) bool {
	switch c {
	case Loss:
		return s.loss.on
	case Latency:
		return s.latency.on
	case Closed:
		return s.closed.on
	}
	return false
}

// Set marks c raised since the given time, or not raised, without a
// Change: for a state restored from a saved event log.
func (s *State) Set(c Condition, raised bool, since time.Time) {
	a := active{on: raised, since: since}
	if !raised {
		a = active{}
	}
	switch c {
	case Loss:
		s.loss = a
	case Latency:
		s.latency = a
	case Closed:
		s.closed = a
	}
}

// Reset clears every raised condition and returns the clears, for when
// what the rules measured stops applying (the probe type changed).
func (s *State) Reset() []Change {
	var out []Change
	for _, x := range []struct {
		c Condition
		a *active
	}{{Loss, &s.loss}, {Latency, &s.latency}, {Closed, &s.closed}} {
		if x.a.on {
			out = append(out, Change{Condition: x.c, Since: x.a.since})
			*x.a = active{}
		}
	}
	return out
}
