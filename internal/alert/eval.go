package alert

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// WithDefaults fills a zero Window and validates the thresholds.
func (r Rules) WithDefaults() (Rules, error) {
	if r.Window == 0 {
		r.Window = DefaultWindow
	}
	switch {
	case r.Window < 0:
		return r, fmt.Errorf("alert window %d must be positive", r.Window)
	case math.IsNaN(r.LossPct) || r.LossPct < 0 || r.LossPct > 100:
		return r, fmt.Errorf("loss threshold %v%% out of range 0-100 (0 disables it)", r.LossPct)
	case r.Latency < 0:
		return r, errors.New("latency threshold must not be negative (0 disables it)")
	}
	return r, nil
}

// size is the window with its default applied.
func (r Rules) size() int {
	if r.Window <= 0 {
		return DefaultWindow
	}
	return r.Window
}

// Probe is one probe to the destination: its reply's RTT, or lost.
type Probe struct {
	RTT  time.Duration
	Lost bool
	// Refused: the destination answered by refusing the connection (TCP
	// RST: nothing listens on the port). An answer, so not lost, but not
	// the service answering either.
	Refused bool
}

// Result is the destination's quality over the alert window.
type Result struct {
	Sent, Recv int // probes in the window, and how many were answered
	// Refused is how many of the Recv answers were refusals (TCP RST).
	Refused int
	LossPct float64
	// Latency is the mean RTT of the window's replies, Jitter the mean
	// absolute difference of consecutive replies' RTTs (losses skipped).
	// Both are zero when nothing was answered.
	Latency, Jitter time.Duration
	// R and MOS score the window as a service would be experienced (see
	// MOS): a refused probe is a call that could not be placed, so it
	// counts as lost there, and latency and jitter come from the accepted
	// answers alone. Both are zero when nothing was accepted, since a
	// score needs a latency: a closed port has no MOS.
	R, MOS float64
	// Full reports that the window holds Rules.Window probes. Alerts
	// change state only on a full window.
	Full bool
}

// Evaluate summarises the destination's most recent probes, oldest first.
// Only the last r.Window of them count.
func Evaluate(r Rules, recent []Probe) Result {
	n := r.size()
	if len(recent) > n {
		recent = recent[len(recent)-n:]
	}
	res := Result{Sent: len(recent), Full: len(recent) >= n}
	if res.Sent == 0 {
		return res
	}
	// all: every answer, refusals included (the path's latency);
	// accepted: the service's answers alone (the MOS's).
	var all, accepted rttMean
	for _, p := range recent {
		if p.Lost {
			continue
		}
		all.add(p.RTT)
		res.Recv++
		if p.Refused {
			res.Refused++
			continue
		}
		accepted.add(p.RTT)
	}
	res.LossPct = 100 * float64(res.Sent-res.Recv) / float64(res.Sent)
	if res.Recv == 0 {
		return res
	}
	res.Latency, res.Jitter = all.mean()
	if accepted.n == 0 {
		return res
	}
	lat, jit := accepted.mean()
	unplaced := 100 * float64(res.Sent-accepted.n) / float64(res.Sent)
	res.R, res.MOS = MOS(lat, jit, unplaced)
	return res
}

// RefusedPct is the share of the window's answers that were refusals, in
// percent: the closed rule's value. Zero with no answers.
func (r Result) RefusedPct() float64 {
	if r.Recv == 0 {
		return 0
	}
	return 100 * float64(r.Refused) / float64(r.Recv)
}

// rttMean accumulates the mean RTT and the mean absolute difference of
// consecutive RTTs of a series of replies.
type rttMean struct {
	n         int
	sum, jsum time.Duration
	prev      time.Duration
}

func (m *rttMean) add(rtt time.Duration) {
	if m.n > 0 {
		d := rtt - m.prev
		if d < 0 {
			d = -d
		}
		m.jsum += d
	}
	m.prev = rtt
	m.sum += rtt
	m.n++
}

func (m *rttMean) mean() (latency, jitter time.Duration) {
	if m.n == 0 {
		return 0, 0
	}
	latency = time.Duration(math.Round(float64(m.sum) / float64(m.n)))
	if m.n > 1 {
		jitter = time.Duration(math.Round(float64(m.jsum) / float64(m.n-1)))
	}
	return latency, jitter
}
