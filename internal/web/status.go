package web

import (
	"net/http"

	"github.com/pingerplot/pingerplot/internal/monitor"
)

// statusJSON is GET /api/status: the engine's counters and what each of
// the monitor's subscribers and the page stream failed to deliver, for the
// status bar (docs/web-api.md).
type statusJSON struct {
	Targets     int              `json:"targets"`
	Rounds      uint64           `json:"rounds"`
	Probes      uint64           `json:"probes"`
	Missed      uint64           `json:"missed"`
	Dropped     uint64           `json:"dropped"`
	Subscribers []subscriberJSON `json:"subscribers"`
	Stream      streamJSON       `json:"stream"`
	// History is the history store's health; null when history is off.
	History *historyStatusJSON `json:"history"`
}

type subscriberJSON struct {
	Name    string `json:"name"`
	Dropped uint64 `json:"dropped"`
}

type streamJSON struct {
	Clients int `json:"clients"`
	Dropped int `json:"dropped"` // messages a page too slow to take them missed
}

func (s *Server) getStatus(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.status(s.cfg.Monitor.Stats()))
}

func (s *Server) status(st monitor.Stats) statusJSON {
	out := statusJSON{Targets: st.Targets, Rounds: st.Rounds, Probes: st.Probes, Missed: st.Missed,
		Dropped: st.Dropped, Subscribers: make([]subscriberJSON, 0, len(st.Subscribers))}
	for _, sub := range st.Subscribers {
		out.Subscribers = append(out.Subscribers, subscriberJSON{Name: sub.Name, Dropped: sub.Dropped})
	}
	out.Stream.Clients, out.Stream.Dropped = s.hub.counts()
	if s.cfg.History != nil {
		out.History = historyStatusOf(s.cfg.History.Status())
	}
	return out
}
