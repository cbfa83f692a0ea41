package web

import (
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/report"
)

// detailJSON is one responder's details at a hop as the dashboard gets
// them: the fields of report -e's JSON and, ready to show on hover, one
// line per detail column that says something ("MPLS: Lbl 24001 TC 5 S 0
// TTL 1"), so the page words them as the report and the TUI do.
type detailJSON struct {
	report.Details
	Lines []string `json:"lines"`
}

// detailsJSON converts a hop's responder details, ordered as the hop's
// responders are (primary first, then others).
func detailsJSON(hj hopJSON, ds []monitor.ResponderDetails) []detailJSON {
	if len(ds) == 0 {
		return nil
	}
	rh := report.Hop{Addr: hj.Addr}
	for _, o := range hj.Others {
		rh.Others = append(rh.Others, report.Responder{Addr: o.Addr})
	}
	conv := make([]report.Details, 0, len(ds))
	for _, d := range ds {
		conv = append(conv, report.DetailsOf(d.Addr, d.Details))
	}
	report.SetDetails(&rh, conv)
	cols := report.DetailColumns()
	out := make([]detailJSON, 0, len(rh.Details))
	for _, d := range rh.Details {
		dj := detailJSON{Details: d, Lines: []string{}}
		for _, c := range cols {
			if v := c.Cell(d); v != "" {
				dj.Lines = append(dj.Lines, c.Head+": "+v)
			}
		}
		out = append(out, dj)
	}
	return out
}
