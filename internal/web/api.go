package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
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
	m.HandleFunc("GET /api/targets/{id}/geo", s.getGeo)
	m.HandleFunc("GET /api/targets/{id}/flows", s.getFlows)
	m.HandleFunc("PUT /api/geo", s.putGeo)
	m.HandleFunc("GET /api/status", s.getStatus)
	m.HandleFunc("GET /api/options", getOptions)
	m.HandleFunc("GET /api/settings", s.getSettings)
	m.HandleFunc("PUT /api/settings", s.putSettings)
	s.historyRoutes(m)
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
		notFound(w, id)
	}
	return sn, ok
}

func notFound(w http.ResponseWriter, id monitor.ID) {
	writeError(w, http.StatusNotFound, fmt.Sprintf("no target %q: it was removed, or the page is out of date (reload it)", id))
}

func (s *Server) listTargets(w http.ResponseWriter, r *http.Request) {
	body := s.list.get(s.renderList)
	if body == nil {
		writeError(w, http.StatusInternalServerError, "the target list could not be encoded (a bug: please report it)")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// renderList is GET /api/targets' answer: every target's summary by ID,
// as writeJSON would write it; nil if it cannot be encoded.
func (s *Server) renderList() []byte {
	sums := s.summaries()
	sort.Slice(sums, func(i, j int) bool { return sums[i].ID < sums[j].ID })
	b, err := json.Marshal(sums)
	if err != nil {
		return nil
	}
	return append(b, '\n')
}

func (s *Server) getTarget(w http.ResponseWriter, r *http.Request) {
	sn, ok := s.snapshot(w, r, r.URL.Query().Get("history") == "1")
	if ok {
		writeJSON(w, http.StatusOK, s.detailOf(sn))
	}
}

// readBody reads a request body of at most maxBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d MiB", maxBody>>20))
			return nil, false
		}
		writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		return nil, false
	}
	return body, true
}

// decode reads a JSON body into v, strictly: unknown keys and anything
// after the value are errors.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, ok := readBody(w, r)
	if !ok {
		return false
	}
	if err := strictJSON(body, v); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return false
	}
	return true
}

func strictJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("malformed JSON: the body is empty; send a JSON object")
		}
		msg := strings.TrimPrefix(err.Error(), "json: ")
		if key, ok := strings.CutPrefix(msg, "unknown field "); ok {
			return fmt.Errorf("unknown key %s", key)
		}
		return fmt.Errorf("malformed JSON: %s", msg)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("malformed JSON: more data after the JSON value")
	}
	return nil
}

type addRequest struct {
	Host     string          `json:"host"`
	Name     string          `json:"name"`
	Settings json.RawMessage `json:"settings"`
}

// checkDNS checks the "dns" key of a settings object before config reads
// it. The API takes only true or false there (docs/web-api.md), where
// config reads null as "unset": a switch sent as null would silently keep
// its old state. A null or absent settings object is fine.
func checkDNS(raw json.RawMessage) error {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return nil
	}
	if t[0] != '{' {
		return errors.New("settings: want a JSON object")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(t, &m); err != nil {
		return fmt.Errorf("settings: want a JSON object: %w", err)
	}
	v, ok := m["dns"]
	if !ok {
		return nil
	}
	var dns bool
	if string(bytes.TrimSpace(v)) == "null" || json.Unmarshal(v, &dns) != nil {
		return fmt.Errorf("dns: %s is not true or false", bytes.TrimSpace(v))
	}
	return nil
}

// settingsFrom merges a request's settings over base (the user's defaults
// for a new target, its settings for an edit) and validates them. over is
// what the request set.
func (s *Server) settingsFrom(raw json.RawMessage, base config.Options) (st monitor.Settings, over config.Options, err error) {
	if t := bytes.TrimSpace(raw); len(t) > 0 && string(t) != "null" {
		if err := json.Unmarshal(t, &over); err != nil {
			return monitor.Settings{}, over, fmt.Errorf("settings: %v", err)
		}
	}
	if over.EventLogPath != nil {
		// The dashboard's event log goes beside the probe log (recorder).
		return monitor.Settings{}, over, errors.New(`settings: event_log_path: the dashboard writes a target's events beside its log_path; remove "event_log_path"`)
	}
	st, err = mergeOptions(base, over).Settings()
	if err != nil {
		return monitor.Settings{}, over, fmt.Errorf("settings: %v", err)
	}
	return st, over, nil
}

// mergeOptions returns base with the keys over sets, a port following
// its mode as config.Options.MergeEdit says.
func mergeOptions(base, over config.Options) config.Options { return base.MergeEdit(over) }

// pin returns a saved entry's options with two values in effect written
// out: the mode when they set a port, so that a later change of the
// defaults' mode cannot leave the port without its mode; and "dns" when
// names are off, so that the target resumes without names whatever the
// defaults say then (as an explicit switch, not an inherited one).
func pin(o config.Options, st monitor.Settings) config.Options {
	if o.Port != nil && o.Mode == nil {
		o.Mode = new(st.Trace.Mode.String())
	}
	if st.NoNames && o.DNS == nil {
		o.DNS = new(false)
	}
	return o
}

// checkEntry checks a new target's host and name as the settings file
// will (config.Resolve), so that every running target can be saved.
func checkEntry(host, name string) error {
	_, err := config.Resolve(config.Options{}, []config.TargetEntry{{Host: host, Name: name}}, "")
	if err != nil {
		// One entry: its label says nothing to the person who typed it.
		return errors.New(strings.ReplaceAll(err.Error(), "targets[0] ("+host+"): ", ""))
	}
	return nil
}

// entryName is the "name" a saved entry needs for the monitor's ID.
func entryName(id monitor.ID, host string) string {
	if string(id) == host {
		return ""
	}
	return string(id)
}

// entryID is the ID a saved entry's target gets (config.Resolved.ID).
func entryID(e config.TargetEntry) monitor.ID {
	if e.Name != "" {
		return monitor.ID(e.Name)
	}
	return monitor.ID(e.Host)
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
	if err := checkEntry(host, req.Name); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if err := checkDNS(req.Settings); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defaults := s.user.Defaults
	s.mu.Unlock()
	st, over, err := s.settingsFrom(req.Settings, defaults)
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
		if err := s.cfg.Prepare(st.Trace.Mode.String(), addr.Is6(), st.Trace.FinalHopOnly); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	s.edit.Lock()
	defer s.edit.Unlock()
	if req.Name != "" {
		// A name is how a script addresses its target: taking another
		// one's, or getting a " (2)" it did not ask for, would be a surprise.
		if _, taken := s.cfg.Monitor.Snapshot(monitor.ID(req.Name), false); taken {
			writeError(w, http.StatusConflict, fmt.Sprintf("a target named %q exists: choose another name, or remove that target first", req.Name))
			return
		}
	}
	id, err := s.cfg.Monitor.Add(monitor.Target{ID: monitor.ID(req.Name), Host: host, Addr: addr, Settings: st})
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.rememberTargets(func(list []config.TargetEntry) []config.TargetEntry {
		// An entry with this ID is left from an earlier run (the list is
		// what to resume; it may hold targets not started this time).
		list = slices.DeleteFunc(list, func(e config.TargetEntry) bool { return entryID(e) == id })
		return append(list, config.TargetEntry{Host: host, Name: entryName(id, host), Options: pin(over, st)})
	})
	sn, _ := s.cfg.Monitor.Snapshot(id, false)
	writeJSON(w, http.StatusCreated, s.summaryOf(sn))
}

func (s *Server) removeTarget(w http.ResponseWriter, r *http.Request) {
	id := monitor.ID(r.PathValue("id"))
	s.edit.Lock()
	defer s.edit.Unlock()
	if err := s.cfg.Monitor.Remove(id); err != nil {
		s.monitorError(w, err)
		return
	}
	s.rememberTargets(func(list []config.TargetEntry) []config.TargetEntry {
		return slices.DeleteFunc(list, func(e config.TargetEntry) bool { return entryID(e) == id })
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
		sn, ok := s.cfg.Monitor.Snapshot(id, false)
		if !ok { // removed meanwhile
			notFound(w, id)
			return
		}
		writeJSON(w, http.StatusOK, s.summaryOf(sn))
	}
}

func (s *Server) updateSettings(w http.ResponseWriter, r *http.Request) {
	id := monitor.ID(r.PathValue("id"))
	if _, ok := s.cfg.Monitor.Target(id); !ok {
		notFound(w, id)
		return
	}
	var raw json.RawMessage
	if !decode(w, r, &raw) {
		return
	}
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		writeError(w, http.StatusBadRequest, "settings: want a JSON object of the keys to change")
		return
	}
	if err := checkDNS(raw); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.edit.Lock()
	defer s.edit.Unlock()
	// The request is the target's whole settings object or a part of it:
	// what it leaves out keeps its current value, the one last asked for
	// (an earlier edit may still wait for the next round).
	t, ok := s.cfg.Monitor.Target(id)
	if !ok {
		notFound(w, id)
		return
	}
	st, over, err := s.settingsFrom(raw, config.FromSettings(t.Settings))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if (st.Trace.Mode != t.Trace.Mode || st.Trace.FinalHopOnly != t.Trace.FinalHopOnly) && s.cfg.Prepare != nil {
		if err := s.cfg.Prepare(st.Trace.Mode.String(), t.Addr.Is6(), st.Trace.FinalHopOnly); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	if err := s.cfg.Monitor.Update(id, st); err != nil {
		s.monitorError(w, err)
		return
	}
	s.rememberTargets(func(list []config.TargetEntry) []config.TargetEntry {
		for i := range list {
			if entryID(list[i]) == id {
				list[i].Options = pin(mergeOptions(list[i].Options, over), st)
				return list
			}
		}
		return append(list, config.TargetEntry{Host: t.Host, Name: entryName(id, t.Host), Options: config.FromSettings(st)})
	})
	sn, ok := s.cfg.Monitor.Snapshot(id, false)
	if !ok {
		notFound(w, id)
		return
	}
	writeJSON(w, http.StatusOK, s.summaryOf(sn)) // with the new settings, in effect from the next round
}

func (s *Server) targetEvents(w http.ResponseWriter, r *http.Request) {
	id := monitor.ID(r.PathValue("id"))
	if _, ok := s.cfg.Monitor.Snapshot(id, false); !ok {
		notFound(w, id)
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
	if err := csvlog.WriteSummary(&b, csvlog.FromSnapshot(sn, s.namesOf(sn))); err != nil {
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
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	ss, err := session.Load(bytes.NewReader(body))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if s.cfg.Prepare != nil {
		for _, a := range ss.Targets() {
			if err := s.cfg.Prepare(a.Target.Trace.Mode.String(), a.Target.Addr.Is6(), a.Target.Trace.FinalHopOnly); err != nil {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("session target %s: %v; nothing was loaded", a.Target.ID, err))
				return
			}
		}
	}
	s.edit.Lock()
	defer s.edit.Unlock()
	for _, t := range s.cfg.Monitor.Targets() {
		_ = s.cfg.Monitor.Remove(t.ID)
	}
	var entries []config.TargetEntry
	for _, a := range ss.Targets() {
		// The session passed its checks, which include the settings'
		// (config), so this fails only if the monitor is closing.
		id, err := s.cfg.Monitor.Restore(a.Target, a.Hops, a.Events, a.Rounds, a.Started)
		if err != nil {
			writeError(w, http.StatusInternalServerError, fmt.Sprintf("restore %s: %v", a.Target.ID, err))
			return
		}
		if a.Paused {
			_ = s.cfg.Monitor.Pause(id)
		}
		entries = append(entries, config.TargetEntry{Host: a.Target.Host, Name: entryName(id, a.Target.Host), Options: config.FromSettings(a.Target.Settings)})
	}
	s.rememberTargets(func([]config.TargetEntry) []config.TargetEntry { return entries })
	s.hub.publish("targets", s.summaries())
	writeJSON(w, http.StatusOK, s.summaries())
}

// getOptions serves the option table (config.Table): every settings key
// with its type, unit, range, default and modes, so the page checks input
// against the server's own limits instead of a copy of them.
func getOptions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, config.Table())
}

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	u := s.user
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, u)
}

// putSettings replaces the user settings. Without "targets" the saved
// target list stays the server's (it follows the targets added and
// removed); with it, it replaces the list of targets to resume.
func (s *Server) putSettings(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil || top == nil {
		msg := "malformed JSON: want a settings object"
		if err != nil {
			msg += ": " + strings.TrimPrefix(err.Error(), "json: ")
		}
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	_, hasTargets := top["targets"]
	if err := checkDNS(top["defaults"]); err != nil {
		writeError(w, http.StatusBadRequest, "defaults: "+err.Error())
		return
	}
	var u config.UserSettings
	if err := json.Unmarshal(body, &u); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	_, hasHistory := top["history"]
	saved, status, err := s.replaceUser(u, hasTargets, hasHistory)
	if err != nil {
		writeError(w, status, err.Error())
		return
	}
	if s.cfg.Geo != nil && !u.OnlineLookups {
		s.cfg.Geo.SetOnline(false) // withdrawn consent takes effect at once
	}
	writeJSON(w, http.StatusOK, saved)
}

// replaceUser checks and saves new user settings; without targets it keeps
// the saved list. It returns what it saved, or the HTTP status of a
// failure.
func (s *Server) replaceUser(u config.UserSettings, withTargets, withHistory bool) (config.UserSettings, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !withTargets {
		u.Targets = s.user.Targets
	}
	// The page does not edit where history is kept (it takes effect at
	// the next start): a page that does not send it keeps the file's.
	if !withHistory {
		u.History = s.user.History
	}
	u.Version = config.Version
	// The whole file is checked before it is written: new defaults can
	// make a saved target's overrides invalid.
	if _, err := config.Resolve(u.Defaults, u.Targets, ""); err != nil {
		return u, http.StatusBadRequest, err
	}
	if err := s.saveLocked(u); err != nil {
		return u, http.StatusInternalServerError, err
	}
	return s.user, http.StatusOK, nil
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
