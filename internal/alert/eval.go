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
}

// Result is the destination's quality over the alert window.
type Result struct {
	Sent, Recv int // probes in the window, and how many were answered
	LossPct    float64
	// Latency is the mean RTT of the window's replies, Jitter the mean
	// absolute difference of consecutive replies' RTTs (losses skipped).
	// Both are zero when nothing was answered.
	Latency, Jitter time.Duration
	// R and MOS score the window (see MOS); zero when nothing was answered,
	// since a score needs a latency.
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
	var sum, jsum time.Duration
	var prev time.Duration
	for _, p := range recent {
		if p.Lost {
			continue
		}
		if res.Recv > 0 {
			d := p.RTT - prev
			if d < 0 {
				d = -d
			}
			jsum += d
		}
		prev = p.RTT
		sum += p.RTT
		res.Recv++
	}
	res.LossPct = 100 * float64(res.Sent-res.Recv) / float64(res.Sent)
	if res.Recv == 0 {
		return res
	}
	res.Latency = time.Duration(math.Round(float64(sum) / float64(res.Recv)))
	if res.Recv > 1 {
		res.Jitter = time.Duration(math.Round(float64(jsum) / float64(res.Recv-1)))
	}
	res.R, res.MOS = MOS(res.Latency, res.Jitter, res.LossPct)
	return res
}
