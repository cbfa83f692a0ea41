// Package web serves the dashboard: the embedded page, the JSON API the page
// and scripts use (docs/web-api.md), and a Server-Sent Events stream of the
// monitor's rounds and events. It is one more subscriber of the monitor; it
// never touches sockets itself.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/monitor"
)

//go:embed dist
var dist embed.FS

// Config wires a Server. Monitor, Token and Listen are required.
type Config struct {
	Monitor *monitor.Monitor
	// Resolve turns a host name into an address (a literal address too).
	Resolve func(ctx context.Context, host string) (netip.Addr, error)
	// Prepare opens what a probe mode needs, so adding a target the system
	// cannot probe fails at once with the reason. Nil skips the check.
	Prepare func(mode string, v6 bool) error
	// Names returns a hop's reverse-DNS name without blocking.
	Names func(netip.Addr) string
	// UserDir is where settings.json lives; "" keeps settings in memory only.
	UserDir string
	// User are the settings loaded at start.
	User config.UserSettings
	// Token is the per-launch API token; Listen the address served, whose
	// port the Host check uses; ExtraHosts more acceptable Host names.
	Token      string
	Listen     net.Addr
	ExtraHosts []string
	Logger     *slog.Logger
	// KeepAlive is the SSE comment interval; 0 means 15 s.
	KeepAlive time.Duration
	// App names the program version in saved sessions.
	App string
}

// Server is the dashboard's HTTP side.
type Server struct {
	cfg   Config
	guard *guard
	hub   *hub
	mux   *http.ServeMux

	mu   sync.Mutex // guards user and noDNS
	user config.UserSettings
	// noDNS holds the targets whose hops are shown without names.
	noDNS map[monitor.ID]bool
}

// New returns a Server; Run must run for the stream to carry updates.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = 15 * time.Second
	}
	if cfg.Names == nil {
		cfg.Names = func(netip.Addr) string { return "" }
	}
	s := &Server{cfg: cfg, guard: newGuard(cfg.Token, cfg.Listen, cfg.ExtraHosts), hub: newHub(), user: cfg.User,
		noDNS: map[monitor.ID]bool{}}
	s.routes()
	return s
}

// Handler returns the HTTP handler with the Host, Origin and token checks.
func (s *Server) Handler() http.Handler {
	static, _ := fs.Sub(dist, "dist")
	files := http.FileServer(http.FS(static))
	return s.guard.wrap(s.mux, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer") // the URL carries the token
		files.ServeHTTP(w, r)
	}))
}

// Run forwards the monitor's updates to connected pages until ctx ends or
// the monitor closes.
func (s *Server) Run(ctx context.Context) {
	updates, cancel := s.cfg.Monitor.Subscribe(4096)
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case u, ok := <-updates:
			if !ok {
				return
			}
			s.forward(u)
		}
	}
}

func (s *Server) forward(u monitor.Update) {
	switch {
	case u.Round != nil:
		d := u.Round
		samples := make([]sampleJSON, 0, len(d.Round.Hops))
		for _, h := range d.Round.Hops {
			smp := sampleJSON{TTL: h.TTL, T: unixSeconds(h.Reply.Sent), Addr: addrString(h.Reply.From)}
			if h.Reply.From.IsValid() {
				v := ms(h.Reply.RTT)
				smp.RTT = &v
			}
			samples = append(samples, smp)
		}
		s.hub.publish("round", roundJSON{Target: string(d.Target), Round: d.Round.Index, Summary: s.summaryOf(d.Snapshot), Samples: samples})
	case u.Event != nil:
		s.hub.publish("event", eventOf(*u.Event))
		switch u.Event.Kind {
		case monitor.Added, monitor.Removed, monitor.PausedEvent, monitor.ResumedEvent, monitor.SettingsChanged,
			monitor.AlertRaised, monitor.AlertCleared, monitor.NoAnswerEvent:
			s.hub.publish("targets", s.summaries())
		}
	}
}

func (s *Server) summaries() []targetSummary {
	snaps := s.cfg.Monitor.Snapshots()
	out := make([]targetSummary, 0, len(snaps))
	for _, sn := range snaps {
		out = append(out, s.summaryOf(sn))
	}
	return out
}

func (s *Server) setDNS(id monitor.ID, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		delete(s.noDNS, id)
	} else {
		s.noDNS[id] = true
	}
}

func (s *Server) dnsOn(id monitor.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.noDNS[id]
}

func (s *Server) summaryOf(sn monitor.Snapshot) targetSummary {
	ts := summaryOf(sn)
	ts.Settings = s.settingsJSON(sn.ID, sn.Settings)
	return ts
}

func (s *Server) detailOf(sn monitor.Snapshot) targetDetail {
	names := s.cfg.Names
	if !s.dnsOn(sn.ID) {
		names = func(netip.Addr) string { return "" }
	}
	d := detailOf(sn, names)
	d.Settings = s.settingsJSON(sn.ID, sn.Settings)
	return d
}

// settingsJSON is a target's settings object with the page's "dns" key.
func (s *Server) settingsJSON(id monitor.ID, st monitor.Settings) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(settingsJSON(st), &m) != nil {
		m = map[string]json.RawMessage{}
	}
	m["dns"] = json.RawMessage(strconv.FormatBool(s.dnsOn(id)))
	b, _ := json.Marshal(m)
	return b
}
