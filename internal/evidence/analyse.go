package evidence

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pingerplot/pingerplot/internal/diagnose"
	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/report"
)

// The thresholds of the summary's judgements. They are deliberately
// modest: the summary points the reader at what the table and the charts
// show; it never decides for them.
const (
	// lossNotable is the destination loss worth a sentence: at least
	// 1 % and more than one probe.
	lossNotable = 1.0
	// carryShare: a hop's loss "carries on" when every later hop that
	// answers, the destination included, loses at least this share of
	// it; a hop whose later hops lose less than this share of its own
	// loss is dropping its own replies, not the traffic.
	carryShare = 0.5
	// stepMin is the smallest latency rise between neighbouring hops the
	// summary mentions; stepKeep is the share of it every later hop must
	// keep for the rise to count as persisting to the destination.
	stepMin  = 20 * time.Millisecond
	stepKeep = 0.75
	// spikeFactor: a time bucket whose median latency is above this many
	// times the window's median (and stepMin above it) is a spike.
	spikeFactor = 2.0
)

// finding is what the summary says and what the rest of the file marks.
type finding struct {
	Sentences []string
	// LossStart is the TTL where the loss that reaches the destination is
	// first seen, 0 when there is none to place.
	LossStart int
	// StepAt is the TTL where a latency rise that persists to the
	// destination is first seen, 0 when none.
	StepAt int
	// Own marks hops whose loss does not carry on (rate-limited replies)
	// and hops that never answered while later hops did.
	Own map[int]string
}

// Trouble is the TTL whose timeline the file shows between the first hop
// and the destination: where the loss starts, else where the latency
// rises, 0 when neither.
func (f finding) Trouble() int {
	if f.LossStart != 0 {
		return f.LossStart
	}
	return f.StepAt
}

// analyse reads the window's hop table and the destination's series and
// says what they show, in plain words.
func analyse(d Data) finding {
	f := finding{Own: map[int]string{}}
	say := func(format string, a ...any) { f.Sentences = append(f.Sentences, fmt.Sprintf(format, a...)) }
	s := d.Summary
	if s.Rounds == 0 {
		say("No round of %s was recorded between %s and %s: there is nothing to judge in this window.",
			targetName(d), stamp(d.From, d.From), stamp(d.To, d.From))
		return f
	}
	target := targetName(d)
	if a := d.Target.Addr; a.IsValid() && a.String() != target {
		target += " (" + a.String() + ")"
	}
	say("Between %s and %s, this machine probed %s %s: %d rounds, one every %s.",
		stamp(s.First, d.From), stamp(s.Last, d.From), target, modeWords(d.Target.Probe), s.Rounds, seconds(d.Target.Probe.Interval))

	// The diagnosis, where the window's raw rounds allow one, is the
	// summary's conclusion, and its placements replace the hop-table
	// rules below (one set of rules for the report, the dashboard and
	// this file). A window older than the raw rounds kept has only
	// per-minute rollups, which diagnose cannot read: the hop-table rules
	// speak for it.
	dg := d.Diagnosis
	if dg != nil && dg.What == diagnose.NotEnoughData {
		dg = nil
	}
	if dg != nil {
		say("Diagnosis (%s confidence, from the last %d rounds of the window): %s", dg.Confidence, dg.Evidence.Rounds, dg.Text)
	}

	dest, ok := destHop(d)
	if !ok || dest.Recv == 0 {
		last := 0
		for _, h := range d.Hops {
			if h.Recv > 0 {
				last = h.TTL
			}
		}
		if last == 0 {
			say("Nothing answered: neither the destination nor any router on the way. The probes may not leave this network (a firewall, no connection), or every hop drops this kind of probe.")
			return f
		}
		h := hopAt(d.Hops, last)
		say("The destination did not answer any probe in this window. The last hop that answered is hop %d (%s); beyond it nothing answered, so the path is not seen past it. A destination that does not answer this kind of probe looks the same: try another probe mode before concluding.",
			last, hopName(h))
		return f
	}

	dd := s.Dest
	say("The destination answered at hop %d and lost %s of %d probes (%s). Its latency averaged %s (median %s, 95th percentile %s, best %s, worst %s); jitter %s.",
		dest.TTL, count(dd.Lost), dd.Sent, pct(dd.LossPct), ms(dd.Latency), ms(dd.P50), ms(dd.P95), ms(dd.Best), ms(dd.Worst), ms(dd.Jitter))
	if !s.Exact {
		say("Part of this window is older than the raw rounds kept, so its percentiles come from per-minute summaries (within about 1 %%).")
	}

	if dg != nil {
		fromDiagnosis(&f, dg, say)
		timeSentences(d, dest.TTL, say)
		return f
	}

	answered := slices.DeleteFunc(slices.Clone(d.Hops), func(h report.Hop) bool { return h.Recv == 0 || h.TTL > dest.TTL })
	var clean int
	f.LossStart, clean = lossStart(answered, dest)
	if f.LossStart == 0 {
		say("The destination's loss (%s) is below what this summary calls notable (%s and more than one probe).", pct(dd.LossPct), pct(lossNotable))
	} else {
		h := hopAt(answered, f.LossStart)
		// Hops between the last clean one and the start lose more of
		// their own replies than carries on: they can neither place the
		// start nor rule it out.
		var unclear []string
		for _, u := range answered {
			if u.TTL > clean && u.TTL < f.LossStart {
				unclear = append(unclear, fmt.Sprint(u.TTL))
			}
		}
		switch {
		case clean == 0:
			say("The loss is already there at hop %d (%s), the first hop that answers, and every later hop shows it (at least %s), the destination included: it starts at or before that router, which takes in this computer, its local network and the link to the first router.",
				h.TTL, hopName(h), pct(minLossFrom(answered, f.LossStart)))
		case len(unclear) == 0:
			c := hopAt(answered, clean)
			say("Hop %d (%s) loses %s; from hop %d (%s) on, every hop that answers loses at least %s, and the destination %s. The loss that reaches the destination is first seen at hop %d: it begins between hop %d and hop %d, on the link into hop %d or in that router (or on the way back from it, which these probes cannot tell apart).",
				c.TTL, hopName(c), pct(c.LossPct), h.TTL, hopName(h), pct(minLossFrom(answered, f.LossStart)), pct(dest.LossPct), h.TTL, c.TTL, h.TTL, h.TTL)
		default:
			c := hopAt(answered, clean)
			say("Hop %d (%s) loses %s; from hop %d (%s) on, every hop that answers loses at least %s, and the destination %s. The loss that reaches the destination begins between hop %d and hop %d. Hop %s in between limits its own replies (below), so whether the loss starts before or after it cannot be told from these probes.",
				c.TTL, hopName(c), pct(c.LossPct), h.TTL, hopName(h), pct(minLossFrom(answered, f.LossStart)), pct(dest.LossPct), c.TTL, h.TTL, strings.Join(unclear, ", "))
		}
	}

	// Hops whose loss stops at them, and hops that never answer.
	for _, h := range d.Hops {
		if h.TTL >= dest.TTL {
			continue
		}
		if h.Recv == 0 {
			if laterAnswers(answered, h.TTL) {
				f.Own[h.TTL] = "never answers these probes; later hops answer, so traffic passes through it"
				say("Hop %d never answered, yet later hops did: that router does not answer these probes (many are set up so); traffic passes through it.", h.TTL)
			}
			continue
		}
		if h.LossPct < lossNotable || h.Sent-h.Recv < 2 {
			continue
		}
		later, ok := minLossAfter(answered, h.TTL)
		switch {
		case !ok || later >= h.LossPct*carryShare:
		case f.LossStart != 0 && h.TTL > clean:
			// Part of its loss carries on, part does not: say both.
			f.Own[h.TTL] = "loses more than carries on: the excess is its own replies, rate-limited"
			say("Hop %d (%s) shows %s loss, more than the %s that carries on to later hops: the excess is that router rate-limiting its own replies.",
				h.TTL, hopName(h), pct(h.LossPct), pct(later))
		default:
			f.Own[h.TTL] = "rate-limiting its own replies: the loss does not carry on"
			say("Hop %d (%s) shows %s loss, but later hops show as little as %s: that router is rate-limiting its own replies, as many do, and the traffic passing through it is not lost there.",
				h.TTL, hopName(h), pct(h.LossPct), pct(later))
		}
	}

	// A latency rise that persists to the destination.
	if at, from, by := latencyStep(answered); at != 0 {
		f.StepAt = at
		h := hopAt(answered, at)
		say("Latency rises by %s from hop %d (%s, %s) to hop %d (%s, %s) and every later hop keeps at least %s of that rise up to the destination: the added delay begins there. A long link (a crossing of a sea, a distant city) adds delay the same way as queueing does; the timelines below show whether it varies with time.",
			ms(by), from.TTL, hopName(from), msf(centre(from)), h.TTL, hopName(h), msf(centre(h)), pct(100*stepKeep))
	}

	timeSentences(d, dest.TTL, say)
	return f
}

// fromDiagnosis takes the places the file marks from the diagnosis: where
// the loss starts, where latency rises, the hops whose own replies are
// rate-limited or that never answer; and says each per-hop hint with its
// evidence.
func fromDiagnosis(f *finding, dg *diagnose.Diagnosis, say func(string, ...any)) {
	switch dg.What {
	case diagnose.Loss:
		f.LossStart = dg.Where.TTL
	case diagnose.Latency, diagnose.Jitter:
		f.StepAt = dg.Where.TTL
	}
	for _, h := range dg.Hints {
		switch h.Kind {
		case diagnose.HintRateLimited:
			f.Own[h.TTL] = "rate-limits its own replies: the loss does not carry on"
			say("Hop %d rate-limits its replies (%s): that router deprioritises the replies it makes itself, which says nothing about the traffic through it.", h.TTL, h.Evidence)
		case diagnose.HintSilent:
			f.Own[h.TTL] = "never answers these probes; later hops answer, so traffic passes through it"
			say("Hop %d does not answer (%s): that router does not answer these probes (many are set up so); traffic passes through it.", h.TTL, h.Evidence)
		case diagnose.HintCarried:
			if f.LossStart == 0 || h.TTL < f.LossStart {
				f.LossStart = h.TTL
			}
		case diagnose.HintLatencyStep:
			if f.StepAt == 0 {
				f.StepAt = h.TTL
			}
			say("Hop %d adds latency that every later hop keeps (%s): a long link or a queue begins there; the timelines below show whether it varies with time.", h.TTL, h.Evidence)
		}
	}
}

// timeSentences says when, in the window, the destination lost probes and
// when its latency spiked, from its series.
func timeSentences(d Data, destTTL int, say func(string, ...any)) {
	var bs []history.Bucket
	for _, s := range d.Series {
		if s.TTL == destTTL {
			bs = s.Buckets
		}
	}
	if len(bs) == 0 {
		return
	}
	probed, lossy := 0, 0
	var first, last, worst history.Bucket
	worstPct := -1.0
	var p50s []time.Duration
	for _, b := range bs {
		if b.Sent == 0 {
			continue
		}
		probed++
		if b.Sent > b.Lost {
			p50s = append(p50s, bucketLatency(b))
		}
		if b.Lost == 0 {
			continue
		}
		lossy++
		if first.Start.IsZero() {
			first = b
		}
		last = b
		if p := 100 * float64(b.Lost) / float64(b.Sent); p > worstPct {
			worst, worstPct = b, p
		}
	}
	if probed < len(bs) {
		say("%d of the %d time steps (%s each) have no round recorded: the monitor was not running, paused, or could not write; the charts leave them blank.",
			len(bs)-probed, len(bs), seconds(d.Step))
	}
	if lossy > 0 {
		say("The destination lost probes in %d of %d time steps with rounds (%s each): the first at %s, the last at %s; the worst, at %s, lost %s.",
			lossy, probed, seconds(d.Step), stamp(first.Start, d.From), stamp(last.Start, d.From), stamp(worst.Start, d.From), pct(worstPct))
	}
	if len(p50s) < 2 {
		return
	}
	med := median(p50s)
	limit := max(time.Duration(float64(med)*spikeFactor), med+stepMin)
	spikes := 0
	var top history.Bucket
	for _, b := range bs {
		if b.Sent == 0 || b.Sent == b.Lost {
			continue
		}
		if l := bucketLatency(b); l > limit {
			spikes++
			if l > bucketLatency(top) {
				top = b
			}
		}
	}
	if spikes > 0 {
		say("The destination's latency was above %s (twice its usual %s, and at least %s more than it) in %d time steps; the highest, at %s, was %s.",
			ms(limit), ms(med), ms(stepMin), spikes, stamp(top.Start, d.From), ms(bucketLatency(top)))
	} else {
		say("The destination's latency stayed below twice its usual %s in every time step.", ms(med))
	}
}

// bucketLatency is a bucket's typical latency: its median, else its mean.
func bucketLatency(b history.Bucket) time.Duration {
	if b.P50 > 0 {
		return b.P50
	}
	return b.Avg
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// lossStart is the lowest TTL from which every answering hop up to the
// destination loses at least carryShare of the destination's loss, and
// the last hop before it that does not (clean; 0 when none does, and the
// start is then the first hop that answers). A hop that loses far more
// than carries on after it (its own replies rate-limited) neither ends
// nor places the run: its loss says nothing about the traffic. 0, 0 when
// the destination's loss is not notable.
func lossStart(answered []report.Hop, dest report.Hop) (start, clean int) {
	if dest.LossPct < lossNotable || dest.Sent-dest.Recv < 2 {
		return 0, 0
	}
	start = dest.TTL
	for i := len(answered) - 1; i >= 0; i-- {
		h := answered[i]
		if h.LossPct < dest.LossPct*carryShare {
			return start, h.TTL
		}
		if later, ok := minLossAfter(answered, h.TTL); ok && later < h.LossPct*carryShare {
			continue
		}
		start = h.TTL
	}
	return answered[0].TTL, 0
}

// latencyStep finds the largest rise of typical latency between
// neighbouring answering hops that every later hop keeps (stepKeep of
// it) up to the destination: the hop where it is first seen, the hop
// before it and the size. 0 when none reaches stepMin.
func latencyStep(answered []report.Hop) (at int, from report.Hop, by time.Duration) {
	for i := 1; i < len(answered); i++ {
		p, h := answered[i-1], answered[i]
		rise := centre(h) - centre(p)
		if rise < stepMin || rise <= by {
			continue
		}
		keeps := true
		for _, l := range answered[i+1:] {
			if centre(l)-centre(p) < time.Duration(float64(rise)*stepKeep) {
				keeps = false
				break
			}
		}
		if keeps {
			at, from, by = h.TTL, p, rise
		}
	}
	return at, from, by
}

// centre is a hop's typical latency: its median, else its mean.
func centre(h report.Hop) time.Duration {
	v := h.MedianMs
	if v == nil {
		v = h.AvgMs
	}
	if v == nil {
		return 0
	}
	return time.Duration(math.Round(*v * float64(time.Millisecond)))
}

func destHop(d Data) (report.Hop, bool) {
	for _, h := range d.Hops {
		if h.Dest || (d.Summary.DestTTL != 0 && h.TTL == d.Summary.DestTTL) {
			return h, true
		}
	}
	return report.Hop{}, false
}

func hopAt(hs []report.Hop, ttl int) report.Hop {
	for _, h := range hs {
		if h.TTL == ttl {
			return h
		}
	}
	return report.Hop{TTL: ttl}
}

func before(hs []report.Hop, ttl int) (report.Hop, bool) {
	var p report.Hop
	ok := false
	for _, h := range hs {
		if h.TTL >= ttl {
			break
		}
		p, ok = h, true
	}
	return p, ok
}

func minLossFrom(hs []report.Hop, ttl int) float64 {
	m := math.Inf(1)
	for _, h := range hs {
		if h.TTL >= ttl {
			m = min(m, h.LossPct)
		}
	}
	return m
}

func minLossAfter(hs []report.Hop, ttl int) (float64, bool) {
	m := minLossFrom(hs, ttl+1)
	return m, !math.IsInf(m, 1)
}

func laterAnswers(hs []report.Hop, ttl int) bool {
	for _, h := range hs {
		if h.TTL > ttl {
			return true
		}
	}
	return false
}

func hopName(h report.Hop) string {
	switch {
	case h.Addr == "":
		return "no answer"
	case h.Host != "" && h.Host != h.Addr:
		return h.Host + " " + h.Addr
	}
	return h.Addr
}

func targetName(d Data) string {
	if d.Target.Host != "" {
		return d.Target.Host
	}
	return d.Key
}

func modeWords(p history.ProbeSettings) string {
	switch p.Mode {
	case "icmp":
		return "with ICMP echo (ping) probes"
	case "udp":
		return fmt.Sprintf("with UDP probes to port %d", p.Port)
	case "tcp":
		return fmt.Sprintf("with TCP SYN probes to port %d", p.Port)
	}
	if p.Mode == "" {
		return "with probes"
	}
	return "with " + p.Mode + " probes"
}

func count(n int) string { return fmt.Sprintf("%d", n) }
