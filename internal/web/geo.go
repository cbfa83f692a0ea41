package web

import (
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"time"

	"github.com/pingerplot/pingerplot/internal/geo"
	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/monitor"
)

// geoHop is one responder on the Map tab: placed on the map when located,
// listed beside it with the reason when not.
type geoHop struct {
	TTL         int      `json:"ttl"`
	Addr        string   `json:"addr"`
	Host        string   `json:"host"`
	Destination bool     `json:"destination"`
	Primary     bool     `json:"primary"` // the hop's main responder (others are ECMP or reroutes)
	LatencyMs   *float64 `json:"latency_ms"`
	LossPct     float64  `json:"loss_pct"`
	Located     bool     `json:"located"`
	Lat         *float64 `json:"lat"`
	Lon         *float64 `json:"lon"`
	City        string   `json:"city,omitempty"`
	Region      string   `json:"region,omitempty"`
	Country     string   `json:"country,omitempty"`
	CountryCode string   `json:"country_code,omitempty"`
	ASN         uint32   `json:"asn,omitempty"`
	ASName      string   `json:"as_name,omitempty"`
	Source      string   `json:"source,omitempty"`
	// Status is located, special (never sent online), pending, error,
	// offline-only (online lookups are off) or unknown; Reason says it in words.
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

type credit struct {
	Text string `json:"text"`
	Link string `json:"link"`
}

type geoAnswer struct {
	Available     bool     `json:"available"`      // a geo resolver exists
	OnlineAllowed bool     `json:"online_allowed"` // the user's online_lookups setting
	Online        bool     `json:"online"`         // online lookups are on right now
	Sent          int      `json:"sent"`           // requests sent to the online provider so far
	Hops          []geoHop `json:"hops"`
	Credits       []credit `json:"credits"`
}

// getGeo answers the Map tab: where each responder of a target is. With
// ?from=…&to=… it places the responders of that past window (from the
// history store), as the hop table of the window shows them.
func (s *Server) getGeo(w http.ResponseWriter, r *http.Request) {
	var hops []hopstat.Hop
	var names func(netip.Addr) string
	if r.URL.Query().Has("from") || r.URL.Query().Has("to") {
		info, ok := s.historyTarget(w, r)
		if !ok {
			return
		}
		from, to, ok := windowArgs(w, r)
		if !ok {
			return
		}
		sum, err := s.cfg.History.Summary(r.Context(), info.Key, from, to)
		if err != nil {
			writeError(w, http.StatusInternalServerError, fmt.Sprintf("the hop table of %q: %v", info.Key, err))
			return
		}
		hops, names = sum.Hops, s.cfg.Names
		if live, ok := s.cfg.Monitor.Target(monitor.ID(info.Key)); ok && live.Settings.NoNames {
			names = func(netip.Addr) string { return "" }
		}
	} else {
		sn, ok := s.snapshot(w, r, false)
		if !ok {
			return
		}
		for _, h := range sn.Hops {
			hops = append(hops, h.Hop)
		}
		names = s.namesOf(sn)
	}
	s.mu.Lock()
	allowed := s.user.OnlineLookups
	s.mu.Unlock()
	ans := geoAnswer{Available: s.cfg.Geo != nil, OnlineAllowed: allowed, Hops: []geoHop{}, Credits: []credit{}}
	if s.cfg.Geo == nil {
		writeJSON(w, http.StatusOK, ans)
		return
	}
	ans.Online = s.cfg.Geo.Online()
	if s.cfg.GeoSent != nil {
		ans.Sent = s.cfg.GeoSent()
	}
	credits := map[string]credit{}
	for _, h := range hops {
		for i, resp := range h.Responders {
			st := s.cfg.Geo.Status(resp.Addr)
			g := geoHop{TTL: h.TTL, Addr: resp.Addr.String(), Host: names(resp.Addr), Destination: h.Reached && i == 0,
				Primary: i == 0, LossPct: h.Stats.LossPct()}
			if resp.Stats.Recv > 0 {
				g.LatencyMs = msp(resp.Stats.Avg)
			}
			fillGeo(&g, st, ans.Online)
			for _, src := range []string{st.Info.Source, st.Info.ASSource} {
				if text, link := geo.Attribution(src); text != "" {
					credits[text] = credit{text, link}
				}
			}
			ans.Hops = append(ans.Hops, g)
		}
		if len(h.Responders) == 0 {
			ans.Hops = append(ans.Hops, geoHop{TTL: h.TTL, Primary: true, LossPct: h.Stats.LossPct(), Status: "unknown",
				Reason: "no reply at this hop"})
		}
	}
	for _, c := range credits {
		ans.Credits = append(ans.Credits, c)
	}
	sort.Slice(ans.Credits, func(i, j int) bool { return ans.Credits[i].Text < ans.Credits[j].Text })
	writeJSON(w, http.StatusOK, ans)
}

func fillGeo(g *geoHop, st geo.Status, online bool) {
	in := st.Info
	g.ASN, g.ASName, g.Source = in.ASN, in.ASName, in.Source
	g.City, g.Region, g.Country, g.CountryCode = in.City, in.Region, in.Country, in.CountryCode
	switch {
	case in.Located:
		lat, lon := in.Lat, in.Lon
		g.Located, g.Lat, g.Lon, g.Status = true, &lat, &lon, "located"
	case st.Pending:
		g.Status, g.Reason = "pending", "looking up"
	case st.Err != nil:
		g.Status, g.Reason = "error", st.Err.Error()
		if !st.RetryAt.IsZero() {
			g.Reason += fmt.Sprintf("; retried after %s", st.RetryAt.Local().Format(time.TimeOnly))
		}
	case st.Special != "":
		g.Status, g.Reason = "special", st.Special+": no public location, never sent online"
	case !online:
		g.Status, g.Reason = "offline-only", "not in the offline databases; online lookups are off"
	default:
		g.Status, g.Reason = "unknown", "no location known"
	}
}

type geoSwitch struct {
	MapOpen bool `json:"map_open"`
}

// putGeo is how the page says the Map tab opened or closed: online
// lookups run only while it is open and the user allowed them, so nothing
// is sent until then.
func (s *Server) putGeo(w http.ResponseWriter, r *http.Request) {
	var sw geoSwitch
	if !decode(w, r, &sw) {
		return
	}
	s.mu.Lock()
	allowed := s.user.OnlineLookups
	s.mu.Unlock()
	if s.cfg.Geo != nil {
		s.cfg.Geo.SetOnline(sw.MapOpen && allowed)
	}
	writeJSON(w, http.StatusOK, map[string]bool{"online": s.cfg.Geo != nil && s.cfg.Geo.Online(), "online_allowed": allowed})
}
