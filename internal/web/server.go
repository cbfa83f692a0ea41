// Package web serves the dashboard: the embedded page, the JSON API the page
// and scripts use (docs/web-api.md), and a Server-Sent Events stream of the
// monitor's rounds and events. It is one more subscriber of the monitor; it
// never touches sockets itself.
package web

import (
	"context"

	"embed"
	"encoding/json"
	"fmt"
	"github.com/pingerplot/pingerplot/internal/geo"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/diagnose"
	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/pmtu"
	"github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/report"
)

//go:embed dist
var dist embed.FS

// Config wires a Server. Monitor, Token and Listen are required.
type Config struct {
	Monitor *monitor.Monitor
	// History is the history store for past windows and evidence; nil
	// when history is off.
	History *history.Store
	// Resolve turns a host name into an address (a literal address too).
	// Nil accepts literal addresses only.
	Resolve func(ctx context.Context, host string) (netip.Addr, error)
	// Prepare opens what a probe mode needs, so adding a target the system
	// cannot probe fails at once with the reason. Nil skips the check.
	Prepare func(mode string, v6, finalHopOnly bool) error
	// Names returns a hop's reverse-DNS name without blocking. Targets
	// whose settings switch names off (monitor.Settings.NoNames) get none.
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
	// KeepAlive is the SSE comment interval; 0 (or less) means 15 s.
	KeepAlive time.Duration
	// App names the program version in saved sessions.
	App string
	// Geo locates hops and names their AS for the Map tab and the AS
	// column; nil leaves both empty. Its online provider is switched on only
	// while a page has the Map tab open and the user allowed online lookups.
	Geo *geo.Resolver
	// GeoSent, if set, reports how many requests went to the online provider.
	GeoSent func() int
	// Diagnosis returns a target's current diagnosis (where its problem
	// is, docs/diagnosis.md), false before its first round; nil shows
	// none.
	Diagnosis func(monitor.ID) (diagnose.Diagnosis, bool)
	// PathMTU returns a target's latest path MTU discovery (the pmtu
	// setting, docs/probing.md), false while there is none; nil shows
	// none.
	PathMTU func(monitor.ID) (result.PathMTU, bool)
	// Flows returns a target's ECMP flow enumeration (the flows setting,
	// docs/flows.md), false while it is off; nil shows none.
	Flows func(monitor.ID) (Flows, bool)
}

// Server is the dashboard's HTTP side.
type Server struct {
	cfg   Config
	guard *guard
	hub   *hub
	mux   *http.ServeMux

	// edit serializes the handlers that change the target list or a
	// target's settings (add, remove, update, load a session): each reads
	// the monitor, decides and writes the monitor and the persisted list,
	// and two of them interleaved would lose one's change.
	edit sync.Mutex

	// roundSeq numbers the stream's round messages (see forward).
	roundSeq atomic.Uint64

	// list answers GET /api/targets (listcache.go).
	list *listCache

	mu   sync.Mutex // guards following
	user config.UserSettings

	// settings caches each target's settings as JSON: every summary
	// carries them, the Targets grid lists every target, and encoding one
	// walks the whole options table (about 30 µs; 150 ms for a list of
	// 5,000 targets before the cache).
	settingsMu sync.Mutex
	settings   map[monitor.ID]cachedSettings
}

type cachedSettings struct {
	st  monitor.Settings
	raw json.RawMessage
}

// settingsJSON returns id's settings as JSON, encoding them only when they
// changed since the last call. monitor.Settings must stay comparable for
// this; a field that is not breaks the build here, on purpose.
func (s *Server) settingsJSON(id monitor.ID, st monitor.Settings) json.RawMessage {
	s.settingsMu.Lock()
	defer s.settingsMu.Unlock()
	if c, ok := s.settings[id]; ok && c.st == st {
		return c.raw
	}
	if s.settings == nil {
		s.settings = map[monitor.ID]cachedSettings{}
	}
	raw := settingsJSON(st)
	s.settings[id] = cachedSettings{st, raw}
	return raw
}

// forgetSettings drops the cached settings of targets no longer listed.
func (s *Server) forgetSettings(id monitor.ID) {
	s.settingsMu.Lock()
	delete(s.settings, id)
	s.settingsMu.Unlock()
}

// New returns a Server; Run must run for the stream to carry updates.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = 15 * time.Second
	}
	if cfg.Names == nil {
		cfg.Names = func(netip.Addr) string { return "" }
	}
	if cfg.Resolve == nil {
		cfg.Resolve = func(_ context.Context, host string) (netip.Addr, error) {
			a, err := netip.ParseAddr(host)
			if err != nil {
				return netip.Addr{}, fmt.Errorf("%q is not an IP address (this server resolves no names)", host)
			}
			return a, nil
		}
	}
	s := &Server{cfg: cfg, guard: newGuard(cfg.Token, cfg.Listen, cfg.ExtraHosts), hub: newHub(), user: cfg.User, list: newListCache()}
	s.routes()
	return s
}

// Handler returns the HTTP handler with the Host, Origin and token checks.
func (s *Server) Handler() http.Handler {
	static, _ := fs.Sub(dist, "dist")
	files := http.FileServer(http.FS(static))
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mux.ServeHTTP(w, r)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.list.changed() // the target list may have changed: render it anew
		}
	})
	return s.guard.wrap(api, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer") // the URL carries the token
		files.ServeHTTP(w, r)
	}))
}

// Run forwards the monitor's updates to connected pages until ctx ends or
// the monitor closes. One Run at a time: it numbers the round messages.
func (s *Server) Run(ctx context.Context) {
	updates, cancel := s.cfg.Monitor.SubscribeWith(monitor.SubscriberConfig{Name: "web", Buffer: 4096})
	defer cancel()
	monitor.Consume(ctx, updates, s.forward)
}

func (s *Server) forward(u monitor.Update) {
	switch {
	case u.Round != nil:
		if !s.hub.listening() {
			// No page is open: a summary per round (thousands a second
			// for a large list) would be built for nobody. A page that
			// opens later fetches what it needs first.
			return
		}
		d := u.Round
		// A sample's time is its round's start, as in the hop's history
		// (monitor.Sample.Time), so a page that appends samples holds what
		// a re-fetch of the history would give it.
		t := unixSeconds(d.Round.Start)
		samples := make([]sampleJSON, 0, len(d.Round.Hops))
		for _, h := range d.Round.Hops {
			smp := sampleJSON{TTL: h.TTL, T: t, Addr: addrString(h.Reply.From)}
			if h.Reply.From.IsValid() {
				v := ms(h.Reply.RTT)
				smp.RTT = &v
			}
			samples = append(samples, smp)
		}
		// seq counts round messages from 1 with no gaps: a page that sees
		// one lost messages (the hub drops them for a page that cannot keep
		// up) and re-fetches.
		s.hub.publish("round", roundJSON{Seq: s.roundSeq.Add(1), Target: string(d.Target), Round: d.Round.Index,
			Summary: s.summaryOf(d.Snapshot), Samples: samples})
	case u.Event != nil:
		switch u.Event.Kind {
		case monitor.Added, monitor.Removed, monitor.PausedEvent, monitor.ResumedEvent, monitor.SettingsChanged:
			// The list's members or their settings changed (also when
			// not through this server): never answer with the old list.
			// Other events (alerts, path changes) change a summary's
			// figures, which the list cache's freshness bounds already.
			s.list.changed()
		}
		if u.Event.Kind == monitor.Removed {
			s.forgetSettings(u.Event.Target)
		}
		if !s.hub.listening() {
			return
		}
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
	want := s.wantSettings()
	out := make([]targetSummary, 0, len(snaps))
	for _, sn := range snaps {
		st, ok := want[sn.ID]
		if !ok {
			st = sn.Settings
		}
		ts := summaryOf(sn, s.settingsJSON(sn.ID, st))
		ts.Diagnosis = s.diagnosisOf(sn.ID, nil)
		ts.PathMTU = s.pathMTUOf(sn.ID)
		out = append(out, ts)
	}
	return out
}

// diagnosisOf is the target's current diagnosis as the report's JSON
// object, nil when there is none; hops lend the host name of the hop it
// names.
func (s *Server) diagnosisOf(id monitor.ID, hops []report.Hop) *report.Diagnosis {
	if s.cfg.Diagnosis == nil {
		return nil
	}
	d, ok := s.cfg.Diagnosis(id)
	if !ok {
		return nil
	}
	return diagnose.ForReport(d, hops)
}

// pathMTUOf is the target's latest path MTU discovery, nil when there is
// none.
func (s *Server) pathMTUOf(id monitor.ID) *pathMTUJSON {
	if s.cfg.PathMTU == nil {
		return nil
	}
	p, ok := s.cfg.PathMTU(id)
	if !ok {
		return nil
	}
	return &pathMTUJSON{PathMTU: p, Summary: pmtu.Summary(p)}
}

// wantSettings returns every target's settings as last asked for. A
// snapshot holds the settings of its round; new ones wait for the next
// round (monitor.Update), and the API shows those, so a page that edits
// a target twice before its next round starts from its first edit.
func (s *Server) wantSettings() map[monitor.ID]monitor.Settings {
	ts := s.cfg.Monitor.Targets()
	m := make(map[monitor.ID]monitor.Settings, len(ts))
	for _, t := range ts {
		m[t.ID] = t.Settings
	}
	return m
}

func (s *Server) summaryOf(sn monitor.Snapshot) targetSummary {
	st := sn.Settings
	if t, ok := s.cfg.Monitor.Target(sn.ID); ok {
		st = t.Settings
	}
	ts := summaryOf(sn, s.settingsJSON(sn.ID, st))
	ts.Diagnosis = s.diagnosisOf(sn.ID, nil)
	ts.PathMTU = s.pathMTUOf(sn.ID)
	return ts
}

func (s *Server) detailOf(sn monitor.Snapshot) targetDetail {
	st := sn.Settings
	if t, ok := s.cfg.Monitor.Target(sn.ID); ok {
		st = t.Settings
	}
	d := detailOf(sn, s.settingsJSON(sn.ID, st), s.namesOf(sn))
	if s.cfg.Geo != nil {
		// The AS column: from what the geo cache knows now; a miss starts a
		// lookup whose answer shows in a later fetch.
		as := func(a string) (uint32, string) {
			addr, err := netip.ParseAddr(a)
			if err != nil {
				return 0, ""
			}
			info, _ := s.cfg.Geo.Info(addr)
			return info.ASN, info.ASName
		}
		for i := range d.HopList {
			h := &d.HopList[i]
			if h.Addr != "" {
				h.ASN, h.ASName = as(h.Addr)
			}
			for j := range h.Others {
				h.Others[j].ASN, h.Others[j].ASName = as(h.Others[j].Addr)
			}
		}
	}
	d.Diagnosis = s.diagnosisOf(sn.ID, nil)
	d.PathMTU = s.pathMTUOf(sn.ID)
	return d
}

// namesOf returns the reverse-DNS lookup for sn's hops: none when the
// target's settings switch names off. The monitor applies that switch to
// snapshots at once, so the snapshot's settings are the ones asked for.
func (s *Server) namesOf(sn monitor.Snapshot) func(netip.Addr) string {
	if names := sn.Names(s.cfg.Names); names != nil {
		return names
	}
	return func(netip.Addr) string { return "" }
}
