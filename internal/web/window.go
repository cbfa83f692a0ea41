package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/diagnose"
	"github.com/pingerplot/pingerplot/internal/evidence"
	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/monitor"
)

// Past windows: the dashboard's range picker and drag-to-zoom read the
// history store through these handlers (docs/web-api.md). The key is the
// monitor's target ID, so a removed target's past, or that of one added
// again under the same ID, is found whether the monitor holds it or not.

const (
	// defaultPoints is how many time steps a window's series gets when
	// the page does not say how wide its graph is.
	defaultPoints = 600
	// maxPoints bounds what a page may ask: a 4K screen at 2x is under it.
	maxPoints = 4000
)

// historyOff is the answer of every history endpoint when the server has
// no store.
const historyOff = "history is off: this server keeps no past rounds (turn history on in the settings file and start PingerPlot again)"

type historyTargetJSON struct {
	Key       string    `json:"key"`
	Host      string    `json:"host"`
	Addr      string    `json:"addr"`
	Probe     probeJSON `json:"probe"`
	First     time.Time `json:"first"`
	Last      time.Time `json:"last"`
	Rounds    int64     `json:"rounds"`
	Monitored bool      `json:"monitored"` // the monitor runs it now
}

// probeJSON is a target's recorded probe settings, in the units of the
// settings object (seconds).
type probeJSON struct {
	Mode     string  `json:"mode"`
	Port     int     `json:"port,omitempty"`
	Size     int     `json:"size,omitempty"`
	Interval float64 `json:"interval"`
	Timeout  float64 `json:"timeout"`
	MaxHops  int     `json:"max_hops"`
	FinalHop bool    `json:"final_hop_only,omitempty"`
}

func probeOf(p history.ProbeSettings) probeJSON {
	return probeJSON{Mode: p.Mode, Port: p.Port, Size: p.Size, Interval: p.Interval.Seconds(), Timeout: p.Timeout.Seconds(),
		MaxHops: p.MaxHops, FinalHop: p.FinalHop}
}

// seriesJSON is one TTL's time steps as parallel arrays (compact for
// thousands of steps): T the step's start in Unix seconds, Sent and Lost
// its probes, the RTTs of its replies in ms (null when none answered).
type seriesJSON struct {
	TTL   int        `json:"ttl"`
	T     []float64  `json:"t"`
	Sent  []int      `json:"sent"`
	Lost  []int      `json:"lost"`
	Min   []*float64 `json:"min_ms"`
	Avg   []*float64 `json:"avg_ms"`
	Max   []*float64 `json:"max_ms"`
	P95   []*float64 `json:"p95_ms"`
	Addrs []string   `json:"addr"`
}

// windowJSON is GET /api/targets/{id}/window: the live detail's shape
// (id, host, addr, dest, settings, hops) computed for the window, plus
// what only a window has: its bounds, series and events.
type windowJSON struct {
	detail targetDetail
	windowExtra
}

type windowExtra struct {
	From      time.Time    `json:"from"`
	To        time.Time    `json:"to"`
	First     *time.Time   `json:"first"`      // first round found in the window
	LastRound *time.Time   `json:"last_round"` // last round found in it
	Exact     bool         `json:"exact"`      // false: part of it came from per-minute rollups
	Monitored bool         `json:"monitored"`  // the monitor runs the target now
	Probe     probeJSON    `json:"probe"`      // the probe settings recorded
	Step      float64      `json:"step"`       // seconds per series step
	Series    []seriesJSON `json:"series"`
	Events    []eventJSON  `json:"events"`
	DestStats *destStats   `json:"dest_stats"`
}

// destStats adds what a window knows of the destination beyond the live
// summary's fields.
type destStats struct {
	Lost    int      `json:"lost"`
	BestMs  *float64 `json:"best_ms"`
	P50Ms   *float64 `json:"p50_ms"`
	P95Ms   *float64 `json:"p95_ms"`
	WorstMs *float64 `json:"worst_ms"`
}

// MarshalJSON writes the detail's keys and the window's in one object.
func (w windowJSON) MarshalJSON() ([]byte, error) {
	b, err := w.detail.MarshalJSON()
	if err != nil {
		return nil, err
	}
	e, err := json.Marshal(w.windowExtra)
	if err != nil {
		return nil, err
	}
	out := append(bytes.TrimSuffix(bytes.TrimSpace(b), []byte("}")), ',')
	return append(out, e[1:]...), nil
}

func (s *Server) historyRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /api/history/targets", s.historyTargets)
	m.HandleFunc("GET /api/targets/{id}/window", s.targetWindow)
	m.HandleFunc("GET /api/targets/{id}/evidence", s.targetEvidence)
}

func (s *Server) historyTargets(w http.ResponseWriter, r *http.Request) {
	if s.cfg.History == nil {
		writeError(w, http.StatusNotFound, historyOff)
		return
	}
	infos, err := s.cfg.History.Targets(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "reading the history: "+err.Error())
		return
	}
	out := make([]historyTargetJSON, 0, len(infos))
	for _, in := range infos {
		_, live := s.cfg.Monitor.Target(monitor.ID(in.Key))
		out = append(out, historyTargetJSON{Key: in.Key, Host: in.Host, Addr: addrString(in.Addr), Probe: probeOf(in.Probe),
			First: in.First.UTC(), Last: in.Last.UTC(), Rounds: in.Rounds, Monitored: live})
	}
	writeJSON(w, http.StatusOK, out)
}

// windowArgs reads from and to (RFC 3339) and checks them; on failure it
// has answered.
func windowArgs(w http.ResponseWriter, r *http.Request) (from, to time.Time, ok bool) {
	q := r.URL.Query()
	parse := func(name string) (time.Time, bool) {
		v := q.Get(name)
		if v == "" {
			writeError(w, http.StatusBadRequest, name+": missing; give the window as ?from=…&to=… in RFC 3339, such as 2026-11-29T21:00:00Z")
			return time.Time{}, false
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("%s: %q is not an RFC 3339 time, such as 2026-11-29T21:00:00Z", name, v))
			return time.Time{}, false
		}
		return t, true
	}
	if from, ok = parse("from"); !ok {
		return
	}
	if to, ok = parse("to"); !ok {
		return
	}
	if !from.Before(to) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("the window's start %s is not before its end %s", from.Format(time.RFC3339), to.Format(time.RFC3339)))
		return from, to, false
	}
	return from, to, true
}

// historyTarget answers 404 when history is off or holds nothing for the
// key; else it returns the stored target.
func (s *Server) historyTarget(w http.ResponseWriter, r *http.Request) (history.TargetInfo, bool) {
	if s.cfg.History == nil {
		writeError(w, http.StatusNotFound, historyOff)
		return history.TargetInfo{}, false
	}
	key := r.PathValue("id")
	info, err := s.cfg.History.Target(r.Context(), key)
	if errors.Is(err, history.ErrUnknownTarget) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("the history holds no rounds of %q: it has not completed a round since history was on (GET /api/history/targets lists what it holds)", key))
		return info, false
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("reading the history of %q: %v", key, err))
		return info, false
	}
	return info, true
}

// stepFor cuts a window into about points steps, never shorter than the
// probe interval (a step with no round in it would read as a gap) nor
// than a second.
func stepFor(window, interval time.Duration, points int) time.Duration {
	step := max(window/time.Duration(points), interval, time.Second)
	return step.Round(time.Second)
}

func (s *Server) targetWindow(w http.ResponseWriter, r *http.Request) {
	info, ok := s.historyTarget(w, r)
	if !ok {
		return
	}
	from, to, ok := windowArgs(w, r)
	if !ok {
		return
	}
	points := defaultPoints
	if v := r.URL.Query().Get("points"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 10 || n > maxPoints {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("points: %q is not a whole number from 10 to %d (the graph's width in pixels)", v, maxPoints))
			return
		}
		points = n
	}
	ctx := r.Context()
	st := s.cfg.History
	sum, err := st.Summary(ctx, info.Key, from, to)
	if err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("the hop table of %q: %v", info.Key, err))
		return
	}
	step := stepFor(to.Sub(from), info.Probe.Interval, points)
	series, err := st.Series(ctx, info.Key, from, to, step)
	if err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("the series of %q: %v", info.Key, err))
		return
	}
	events, err := st.Events(ctx, info.Key, from, to)
	if err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("the events of %q: %v", info.Key, err))
		return
	}
	live, monitored := s.cfg.Monitor.Target(monitor.ID(info.Key))
	names := func(netip.Addr) string { return "" }
	if !monitored || !live.Settings.NoNames {
		names = s.cfg.Names
	}
	// The window's diagnosis reads its last evidence.DiagnosisRounds
	// rounds, as the live one reads the last rounds of now.
	diag, err := evidence.Diagnose(ctx, st, info, from, to, names)
	if err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("the diagnosis of %q: %v", info.Key, err))
		return
	}
	out := windowJSON{detail: s.windowDetail(sum, info, live, monitored), windowExtra: windowExtra{From: from.UTC(), To: to.UTC(),
		Exact: sum.Exact, Monitored: monitored, Probe: probeOf(info.Probe), Step: step.Seconds(),
		Series: seriesOf(series), Events: make([]eventJSON, 0, len(events))}}
	if !sum.First.IsZero() {
		f, l := sum.First.UTC(), sum.Last.UTC()
		out.First, out.LastRound = &f, &l
	}
	out.detail.Diagnosis = diagnose.ForReport(diag, nil)
	for _, e := range events {
		out.Events = append(out.Events, eventOf(e))
	}
	if d := sum.Dest; d.TTL > 0 {
		ds := &destStats{Lost: d.Lost}
		if d.Sent > d.Lost {
			ds.BestMs, ds.WorstMs = msp(d.Best), msp(d.Worst)
			if d.P50 > 0 {
				ds.P50Ms, ds.P95Ms = msp(d.P50), msp(d.P95)
			}
		}
		out.DestStats = ds
	}
	writeJSON(w, http.StatusOK, out)
}

// windowDetail is the hop table and destination of a window in the live
// detail's shape, so the page shows it with the same code.
func (s *Server) windowDetail(sum history.Summary, info history.TargetInfo, live monitor.Target, monitored bool) targetDetail {
	names := func(netip.Addr) string { return "" }
	if !monitored || !live.Settings.NoNames {
		names = s.cfg.Names
	}
	d := sum.Dest
	dj := destJSON{TTL: d.TTL, Sent: d.Sent, Refused: d.Refused, LossPct: math.Round(d.LossPct*10) / 10, Active: []alert.Condition{}}
	if d.Sent > 0 && d.Latency > 0 {
		dj.LatencyMs, dj.JitterMs = msp(d.Latency), msp(d.Jitter)
	}
	if d.Sent > 0 && d.MOS > 0 {
		mos, rf := math.Round(d.MOS*100)/100, math.Round(d.R*10)/10
		dj.MOS, dj.R = &mos, &rf
	}
	ts := targetSummary{ID: info.Key, Host: info.Host, Addr: addrString(info.Addr), State: monitor.State("history"),
		Hops: len(sum.Hops), Rounds: sum.Rounds, Dest: dj}
	if monitored {
		ts.Settings = settingsJSON(live.Settings)
	} else {
		ts.Settings = probeSettingsJSON(info.Probe)
	}
	if !sum.Last.IsZero() {
		l := sum.Last.UTC()
		ts.Last = &l
	}
	out := targetDetail{targetSummary: ts, HopList: make([]hopJSON, 0, len(sum.Hops))}
	for _, h := range sum.Hops {
		out.HopList = append(out.HopList, hopOf(h, names))
	}
	return out
}

// probeSettingsJSON is the settings object of a target the monitor no
// longer runs: what the history recorded of it.
func probeSettingsJSON(p history.ProbeSettings) []byte {
	b, err := json.Marshal(probeOf(p))
	if err != nil {
		return []byte("{}")
	}
	return b
}

// hopOf is one row of a hop table, live or stored.
func hopOf(h hopstat.Hop, names func(netip.Addr) string) hopJSON {
	st := h.Stats
	hj := hopJSON{TTL: h.TTL, Sent: st.Sent, Recv: st.Recv, Refused: st.Refused, LossPct: math.Round(st.LossPct()*10) / 10, Dest: h.Reached, Others: []otherJSON{}}
	if st.Recv > 0 {
		hj.LastMs, hj.AvgMs, hj.MinMs, hj.MaxMs = msp(st.Last), msp(st.Avg), msp(st.Best), msp(st.Worst)
		hj.StdevMs, hj.JitterMs = msp(st.StdDev), msp(st.Jitter)
		if st.P50 > 0 {
			hj.P50Ms, hj.P95Ms = msp(st.P50), msp(st.P95)
		}
	}
	for i, r := range h.Responders {
		if i == 0 {
			hj.Addr, hj.Host = r.Addr.String(), names(r.Addr)
			continue
		}
		var avg *float64
		if r.Stats.Avg > 0 {
			avg = msp(r.Stats.Avg)
		}
		hj.Others = append(hj.Others, otherJSON{Addr: r.Addr.String(), Host: names(r.Addr), Recv: r.Stats.Recv, AvgMs: avg})
	}
	return hj
}

func seriesOf(hs []history.HopSeries) []seriesJSON {
	out := make([]seriesJSON, 0, len(hs))
	opt := func(d time.Duration, any bool) *float64 {
		if !any {
			return nil
		}
		return msp(d)
	}
	for _, h := range hs {
		n := len(h.Buckets)
		sj := seriesJSON{TTL: h.TTL, T: make([]float64, n), Sent: make([]int, n), Lost: make([]int, n),
			Min: make([]*float64, n), Avg: make([]*float64, n), Max: make([]*float64, n), P95: make([]*float64, n), Addrs: make([]string, n)}
		for i, b := range h.Buckets {
			replied := b.Sent > b.Lost
			sj.T[i], sj.Sent[i], sj.Lost[i] = unixSeconds(b.Start), b.Sent, b.Lost
			sj.Min[i], sj.Avg[i], sj.Max[i] = opt(b.Min, replied), opt(b.Avg, replied), opt(b.Max, replied)
			sj.P95[i] = opt(b.P95, replied && b.P95 > 0)
			sj.Addrs[i] = addrString(b.Addr)
		}
		out = append(out, sj)
	}
	return out
}

// targetEvidence serves the evidence file of a window (internal/evidence)
// as a download, the same file `pingerplot evidence` writes.
func (s *Server) targetEvidence(w http.ResponseWriter, r *http.Request) {
	info, ok := s.historyTarget(w, r)
	if !ok {
		return
	}
	from, to, ok := windowArgs(w, r)
	if !ok {
		return
	}
	now := time.Now()
	meta := evidence.LocalMeta(info.Addr, now)
	if live, monitored := s.cfg.Monitor.Target(monitor.ID(info.Key)); !monitored || !live.Settings.NoNames {
		meta.Names = s.cfg.Names
	}
	// The file's times are written in the server's local time, as the
	// command writes them.
	d, err := evidence.Build(r.Context(), s.cfg.History, info.Key, from.In(time.Local), to.In(time.Local), meta)
	if err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("the evidence of %q: %v", info.Key, err))
		return
	}
	var b bytes.Buffer
	if err := evidence.Render(&b, d); err != nil {
		writeError(w, http.StatusInternalServerError, fmt.Sprintf("the evidence of %q: %v", info.Key, err))
		return
	}
	name := fmt.Sprintf("pingerplot-evidence-%s-%s.html", safeName(info.Key), from.In(time.Local).Format("20060102-1504"))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	_, _ = w.Write(b.Bytes())
}

// historyStatusJSON is the history store's health in GET /api/status.
type historyStatusJSON struct {
	Path        string     `json:"path"`
	Bytes       int64      `json:"bytes"`
	Rounds      int64      `json:"rounds"`
	Probes      int64      `json:"probes"`
	Pending     int64      `json:"pending"`
	Lost        int64      `json:"lost"`
	Oldest      *time.Time `json:"oldest"`
	LastError   string     `json:"last_error"`
	LastErrorAt *time.Time `json:"last_error_at"`
}

func historyStatusOf(st history.Status) *historyStatusJSON {
	out := &historyStatusJSON{Path: st.Path, Bytes: st.Bytes, Rounds: st.Rounds, Probes: st.Probes, Pending: st.Pending,
		Lost: st.Lost, LastError: st.LastError}
	if !st.Oldest.IsZero() {
		t := st.Oldest.UTC()
		out.Oldest = &t
	}
	if !st.LastErrorAt.IsZero() {
		t := st.LastErrorAt.UTC()
		out.LastErrorAt = &t
	}
	return out
}
