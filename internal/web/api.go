package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/csvlog"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/session"
)

// maxBody bounds request bodies; a session of many targets with full
// history is the largest thing a page sends.
const maxBody = 256 << 20

func (s *Server) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /api/targets", s.listTargets)
	m.HandleFunc("POST /api/targets", s.addTarget)
	m.HandleFunc("GET /api/targets/{id}", s.getTarget)
	m.HandleFunc("DELETE /api/targets/{id}", s.removeTarget)
	m.HandleFunc("POST /api/targets/{id}/pause", s.pause(true))
	m.HandleFunc("POST /api/targets/{id}/resume", s.pause(false))
	m.HandleFunc("PUT /api/targets/{id}/settings", s.updateSettings)
	m.HandleFunc("GET /api/targets/{id}/events", s.targetEvents)
	m.HandleFunc("GET /api/targets/{id}/summary.csv", s.summaryCSV)
	m.HandleFunc("GET /api/events", s.allEvents)
	m.HandleFunc("GET /api/session", s.saveSession)
	m.HandleFunc("POST /api/session", s.loadSession)
	m.HandleFunc("GET /api/settings", s.getSettings)
	m.HandleFunc("PUT /api/settings", s.putSettings)
	m.HandleFunc("GET /api/stream", func(w http.ResponseWriter, r *http.Request) { s.hub.serve(w, r, s.cfg.KeepAlive) })
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API endpoint: see docs/web-api.md")
	})
	s.mux = m
}

func (s *Server) snapshot(w http.ResponseWriter, r *http.Request, history bool) (monitor.Snapshot, bool) {
	id := monitor.ID(r.PathValue("id"))
	sn, ok := s.cfg.Monitor.Snapshot(id, history)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no target %q", id))
	}
	return sn, ok
}

func (s *Server) listTargets(w http.ResponseWriter, r *http.Request) {
	sums := s.summaries()
	sort.Slice(sums, func(i, j int) bool { return sums[i].ID < sums[j].ID })
	writeJSON(w, http.StatusOK, sums)
}

func (s *Server) getTarget(w http.ResponseWriter, r *http.Request) {
	sn, ok := s.snapshot(w, r, r.URL.Query().Get("history") == "1")
	if ok {
		writeJSON(w, http.StatusOK, s.detailOf(sn))
	}
}

// decode reads a JSON body into v, strictly.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return false
	}
	return true
}

type addRequest struct {
	Host     string          `json:"host"`
	Name     string          `json:"name"`
	Settings json.RawMessage `json:"settings"`
}

// splitDNS takes the page's "dns" key (name resolution for this target's
// hops, shown in the dashboard) out of a settings object: it is the web
// server's to apply, not the engine's.
func splitDNS(raw json.RawMessage) (json.RawMessage, *bool, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return nil, nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(t, &m); err != nil {
		return nil, nil, fmt.Errorf("settings: want a JSON object: %v", err)
	}
	v, ok := m["dns"]
	if !ok {
		return raw, nil, nil
	}
	var dns bool
	if err := json.Unmarshal(v, &dns); err != nil {
		return nil, nil, fmt.Errorf("dns: want true or false")
	}
	delete(m, "dns")
	rest, err := json.Marshal(m)
	return rest, &dns, err
}

// settingsFrom merges a request's settings over the user's defaults and
// validates them.
func (s *Server) settingsFrom(raw json.RawMessage, base config.Options) (monitor.Settings, config.Options, error) {
	var over config.Options
	if len(bytes.TrimSpace(raw)) > 0 && string(bytes.TrimSpace(raw)) != "null" {
		if err := json.Unmarshal(raw, &over); err != nil {
			return monitor.Settings{}, over, err
		}
	}
	merged := base.Merge(over)
	st, err := merged.Settings()
	return st, over, err
}

func (s *Server) addTarget(w http.ResponseWriter, r *http.Request) {
	var req addRequest
	if !decode(w, r, &req) {
		return
	}
	host := strings.TrimSpace(req.Host)
	if host == "" {
		writeError(w, http.StatusBadRequest, "host is empty: give a host name or an IP address")
		return
	}
	s.mu.Lock()
	defaults := s.user.Defaults
	s.mu.Unlock()
	rawSettings, dns, err := splitDNS(req.Settings)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	st, over, err := s.settingsFrom(rawSettings, defaults)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	addr, err := s.cfg.Resolve(ctx, host)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if s.cfg.Prepare != nil {
		if err := s.cfg.Prepare(st.Trace.Mode.String(), addr.Is6()); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	id, err := s.cfg.Monitor.Add(monitor.Target{ID: monitor.ID(req.Name), Host: host, Addr: addr, Settings: st})
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if dns != nil {
		s.setDNS(id, *dns)
	}
	s.rememberTargets(func(list []config.TargetEntry) []config.TargetEntry {
		return append(list, config.TargetEntry{Host: host, Name: string(id), Options: over})
	})
	sn, _ := s.cfg.Monitor.Snapshot(id, false)
	writeJSON(w, http.StatusCreated, s.summaryOf(sn))
}

func (s *Server) removeTarget(w http.ResponseWriter, r *http.Request) {
	id := monitor.ID(r.PathValue("id"))
	if err := s.cfg.Monitor.Remove(id); err != nil {
		s.monitorError(w, err)
		return
	}
	s.rememberTargets(func(list []config.TargetEntry) []config.TargetEntry {
		out := list[:0]
		for _, e := range list {
			if e.Name != string(id) {
				out = append(out, e)
			}
		}
		return out
	})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) monitorError(w http.ResponseWriter, err error) {
	if errors.Is(err, monitor.ErrUnknownTarget) {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	writeError(w, http.StatusBadRequest, err.Error())
}

func (s *Server) pause(paused bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := monitor.ID(r.PathValue("id"))
		var err error
		if paused {
			err = s.cfg.Monitor.Pause(id)
		} else {
			err = s.cfg.Monitor.Resume(id)
		}
		if err != nil {
			s.monitorError(w, err)
			return
		}
		sn, _ := s.cfg.Monitor.Snapshot(id, false)
		writeJSON(w, http.StatusOK, s.summaryOf(sn))
	}
}

func (s *Server) updateSettings(w http.ResponseWriter, r *http.Request) {
	id := monitor.ID(r.PathValue("id"))
	sn, ok := s.cfg.Monitor.Snapshot(id, false)
	if !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no target %q", id))
		return
	}
	var raw json.RawMessage
	if !decode(w, r, &raw) {
		return
	}
	raw, dns, err := splitDNS(raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// The request is the target's whole settings object or a part of it:
	// what it leaves out keeps its current value.
	st, over, err := s.settingsFrom(raw, config.FromSettings(sn.Settings))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if st.Trace.Mode != sn.Settings.Trace.Mode && s.cfg.Prepare != nil {
		if err := s.cfg.Prepare(st.Trace.Mode.String(), sn.Addr.Is6()); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	if err := s.cfg.Monitor.Update(id, st); err != nil {
		s.monitorError(w, err)
		return
	}
	if dns != nil {
		s.setDNS(id, *dns)
	}
	s.rememberTargets(func(list []config.TargetEntry) []config.TargetEntry {
		for i := range list {
			if list[i].Name == string(id) {
				list[i].Options = list[i].Options.Merge(over)
			}
		}
		return list
	})
	sn, _ = s.cfg.Monitor.Snapshot(id, false)
	sum := s.summaryOf(sn)
	sum.Settings = s.settingsJSON(id, st) // the new settings, in effect from the next round
	writeJSON(w, http.StatusOK, sum)
}

func (s *Server) targetEvents(w http.ResponseWriter, r *http.Request) {
	id := monitor.ID(r.PathValue("id"))
	if _, ok := s.cfg.Monitor.Snapshot(id, false); !ok {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no target %q", id))
		return
	}
	writeJSON(w, http.StatusOK, eventsOf(s.cfg.Monitor.Events(id), time.Time{}))
}

func eventsOf(evs []monitor.Event, since time.Time) []eventJSON {
	out := []eventJSON{}
	for _, e := range evs {
		if e.Time.After(since) {
			out = append(out, eventOf(e))
		}
	}
	return out
}

func (s *Server) allEvents(w http.ResponseWriter, r *http.Request) {
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "since: want an RFC 3339 time, such as 2026-11-29T05:00:00Z")
			return
		}
		since = t
	}
	var all []eventJSON
	for _, t := range s.cfg.Monitor.Targets() {
		all = append(all, eventsOf(s.cfg.Monitor.Events(t.ID), since)...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Time.Before(all[j].Time) })
	if all == nil {
		all = []eventJSON{}
	}
	writeJSON(w, http.StatusOK, all)
}

func (s *Server) summaryCSV(w http.ResponseWriter, r *http.Request) {
	sn, ok := s.snapshot(w, r, false)
	if !ok {
		return
	}
	var b bytes.Buffer
	if err := csvlog.WriteSummary(&b, csvlog.FromSnapshot(sn, s.cfg.Names)); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "pingerplot-"+safeName(string(sn.ID))+"-summary.csv"))
	_, _ = w.Write(b.Bytes())
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, s)
}

func (s *Server) saveSession(w http.ResponseWriter, r *http.Request) {
	var snaps []monitor.Snapshot
	events := map[monitor.ID][]monitor.Event{}
	for _, t := range s.cfg.Monitor.Targets() {
		if sn, ok := s.cfg.Monitor.Snapshot(t.ID, true); ok {
			snaps = append(snaps, sn)
			events[t.ID] = s.cfg.Monitor.Events(t.ID)
		}
	}
	ss := session.FromMonitor(snaps, events)
	ss.SavedAt, ss.App = time.Now().UTC(), s.cfg.App
	var b bytes.Buffer
	if err := session.Save(&b, ss); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "pingerplot-session-"+time.Now().Format("20060102-150405")+".json"))
	_, _ = w.Write(b.Bytes())
}

// loadSession replaces the running targets with a session's. The file is
// read and checked whole first: a corrupt, truncated or future-version
// session is refused and changes nothing.
func (s *Server) loadSession(w http.ResponseWriter, r *http.Request) {
	ss, err := session.Load(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if s.cfg.Prepare != nil {
		for _, a := range ss.Targets() {
			if err := s.cfg.Prepare(a.Target.Trace.Mode.String(), a.Target.Addr.Is6()); err != nil {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("session target %s: %v; nothing was loaded", a.Target.ID, err))
				return
			}
		}
	}
	for _, t := range s.cfg.Monitor.Targets() {
		_ = s.cfg.Monitor.Remove(t.ID)
	}
	var entries []config.TargetEntry
	for _, a := range ss.Targets() {
		id, err := s.cfg.Monitor.Restore(a.Target, a.Hops, a.Events, a.Rounds, a.Started)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("restore %s: %v", a.Target.ID, err))
			return
		}
		if a.Paused {
			_ = s.cfg.Monitor.Pause(id)
		}
		entries = append(entries, config.TargetEntry{Host: a.Target.Host, Name: string(id), Options: config.FromSettings(a.Target.Settings)})
	}
	s.rememberTargets(func([]config.TargetEntry) []config.TargetEntry { return entries })
	s.hub.publish("targets", s.summaries())
	writeJSON(w, http.StatusOK, s.summaries())
}

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	u := s.user
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, u)
}

func (s *Server) putSettings(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var u config.UserSettings
	if err := json.Unmarshal(body, &u); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if _, err := u.Defaults.Settings(); err != nil {
		writeError(w, http.StatusBadRequest, "defaults: "+err.Error())
		return
	}
	s.mu.Lock()
	if u.Targets == nil {
		u.Targets = s.user.Targets // the target list is the server's to keep
	}
	if u.Version == 0 {
		u.Version = config.Version
	}
	err = s.saveLocked(u)
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, u)
}

// rememberTargets edits the persisted target list, so "resume targets on
// launch" starts what the user last had.
func (s *Server) rememberTargets(edit func([]config.TargetEntry) []config.TargetEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.user
	u.Targets = edit(append([]config.TargetEntry(nil), u.Targets...))
	if err := s.saveLocked(u); err != nil {
		s.cfg.Logger.Error("settings not saved", "err", err)
	}
}

func (s *Server) saveLocked(u config.UserSettings) error {
	if s.cfg.UserDir != "" {
		if err := config.SaveUser(s.cfg.UserDir, u); err != nil {
			return fmt.Errorf("save settings: %w", err)
		}
	}
	s.user = u
	return nil
}
