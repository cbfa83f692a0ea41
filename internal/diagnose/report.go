package diagnose

import (
	"cmp"
	"math"

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
