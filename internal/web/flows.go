package web

import (
	"net/http"

	"github.com/pingerplot/pingerplot/internal/flows"
	"github.com/pingerplot/pingerplot/internal/report"
)

// Flows is a target's ECMP flow enumeration as the engine keeps it
// (docs/flows.md); Config.Flows gives it.
type Flows struct {
	Count  int    // flows asked for
	Varies string // what differs between the flows
	Rounds int    // rounds since the flows (re)started
	Paths  []flows.Path
	// Note, when set, says why no flow is probed.
	Note string
}

// flowsJSON is GET /api/targets/{id}/flows: the report's flows object
// (report --flows --json) and what the dashboard needs around it.
type flowsJSON struct {
	Target string `json:"target"`
	// Enabled: the target enumerates flows; the rest is empty when not.
	Enabled bool `json:"enabled"`
	Rounds  int  `json:"rounds"`
	// Note says why the flows are not probed (TCP probes, a system whose
	// probes cannot vary their flow).
	Note string `json:"note,omitempty"`
	report.Flows
}

func (s *Server) getFlows(w http.ResponseWriter, r *http.Request) {
	sn, ok := s.snapshot(w, r, false)
	if !ok {
		return
	}
	out := flowsJSON{Target: string(sn.ID), Flows: report.Flows{Paths: []report.FlowPath{}}}
	if s.cfg.Flows != nil {
		if f, on := s.cfg.Flows(sn.ID); on {
			out.Enabled, out.Rounds, out.Note = true, f.Rounds, f.Note
			out.Flows = *report.FlowsOf(f.Count, f.Varies, f.Paths, s.namesOf(sn))
		}
	}
	writeJSON(w, http.StatusOK, out)
}
