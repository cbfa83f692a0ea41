package diagnose

import (
	"cmp"
	"math"
	"net/netip"
	"time"

	"github.com/pingerplot/pingerplot/internal/report"
)

// ForReport turns a diagnosis into the report's diagnosis object. The
// report's hops lend the host name and AS of the hop it names, so the
// report looks each address up once.
func ForReport(d Diagnosis, hops []report.Hop) *report.Diagnosis {
	out := &report.Diagnosis{What: string(d.What), Confidence: string(d.Confidence), Text: d.Text,
		SinceWindowStart: d.SinceWindowStart,
		Evidence: report.DiagnosisEvidence{Rounds: d.Evidence.Rounds, Before: group(d.Evidence.Before),
			After: group(d.Evidence.After), Test: d.Evidence.Test, Statistic: d.Evidence.Statistic}}
	if !d.Since.IsZero() {
		s := d.Since
		out.Since = &s
	}
	if d.Where.TTL > 0 {
		w := &report.DiagnosisWhere{TTL: d.Where.TTL, Host: d.Where.Name, ASN: d.Where.ASN, ASName: d.Where.ASName, FromTTL: d.Where.From}
		if d.Where.Addr.IsValid() {
			w.Addr = d.Where.Addr.String()
		}
		for _, h := range hops {
			if h.TTL == w.TTL && h.Addr == w.Addr && w.Addr != "" {
				w.Host = cmp.Or(w.Host, h.Host)
				if w.ASN == 0 {
					w.ASN, w.ASName = h.ASN, h.ASName
				}
			}
		}
		out.Where = w
	}
	for _, h := range d.Hints {
		rh := report.DiagnosisHint{TTL: h.TTL, Hint: string(h.Kind), Evidence: h.Evidence}
		if h.Addr.IsValid() {
			rh.Addr = h.Addr.String()
		}
		out.Hints = append(out.Hints, rh)
	}
	return out
}

func group(g Group) *report.DiagnosisGroup {
	if g.Label == "" && g.Sent == 0 {
		return nil
	}
	out := &report.DiagnosisGroup{Label: g.Label, Sent: g.Sent, Lost: g.Lost, LossPct: math.Round(g.LossPct()*1000) / 1000, Replies: g.Replies}
	if g.Replies > 0 {
		m, s := report.Ms(g.Median), report.Ms(g.Spread)
		out.MedianMs, out.SpreadMs = &m, &s
	}
	return out
}

// DirectForReport fills each hop of hops with the direct pings of rounds
// sent to it (by TTL): how many, how many lost, the median reply. Hops
// with none are left without.
func DirectForReport(rounds []Round, hops []report.Hop) {
	type acc struct {
		sent, lost int
		rtts       []time.Duration
		addrs      map[netip.Addr]int
	}
	by := map[int]*acc{}
	for _, r := range rounds {
		for _, p := range r.Direct {
			a := by[p.TTL]
			if a == nil {
				a = &acc{addrs: map[netip.Addr]int{}}
				by[p.TTL] = a
			}
			a.sent++
			a.addrs[p.Addr]++
			if p.Lost {
				a.lost++
			} else {
				a.rtts = append(a.rtts, p.RTT)
			}
		}
	}
	for i := range hops {
		a := by[hops[i].TTL]
		if a == nil || hops[i].Dest {
			continue
		}
		var top netip.Addr
		for addr, n := range a.addrs {
			if n > a.addrs[top] || (n == a.addrs[top] && addr.Less(top)) {
				top = addr
			}
		}
		d := &report.Direct{Addr: top.String(), Sent: a.sent, Lost: a.lost,
			LossPct: math.Round(1000*float64(a.lost)/float64(a.sent)) / 10}
		if len(a.rtts) > 0 {
			m := report.Ms(median(a.rtts))
			d.MedianMs = &m
		}
		hops[i].Direct = d
	}
}
