package web

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/evidence"
	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/history/historytest"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// storedKey is a target the history holds and the monitor does not run:
// a removed target's past.
const storedKey = "gone.example"

// storedHistory opens a store in a temporary directory holding an hour of
// rounds of storedKey at 1 s from start: hop 2 loses 20 % at 30 ms, the
// destination (hop 3) 5 %; a route change at 10 min and an alert at
// 40 min. It returns the rounds stored.
func storedHistory(t *testing.T, start time.Time) (*history.Store, []trace.Round) {
	t.Helper()
	st, err := history.Open(history.Options{Path: filepath.Join(t.TempDir(), "history.db")})
	if err != nil {
		t.Fatalf("history.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	hops := historytest.Path(3, map[int]float64{2: 0.20, 3: 0.05})
	hops[1].RTT, hops[1].Jitter = 30*time.Millisecond, 2*time.Millisecond
	g := historytest.Gen{Hops: hops, Start: start, Seed: 7}
	rounds := g.Rounds(3600)
	historytest.Fill(t, st, storedKey, storedKey, rounds)
	events := []monitor.Event{
		{Seq: 1, Time: start.Add(10 * time.Minute), Target: storedKey, Kind: monitor.RouteChange, TTL: 2, Message: "hop 2 changed from 10.0.0.9 to 10.0.0.2"},
		{Seq: 2, Time: start.Add(40 * time.Minute), Target: storedKey, Kind: monitor.AlertRaised, Message: "loss 6 % over 60 probes"},
	}
	updates := make(chan monitor.Update, len(events))
	for i := range events {
		updates <- monitor.Update{Event: &events[i]}
	}
	close(updates)
	st.Run(context.Background(), updates, historytest.NewSource(monitor.Target{ID: storedKey, Host: storedKey}))
	if err := st.Flush(); err != nil {
		t.Fatalf("flushing the events: %v", err)
	}
	return st, rounds
}

// windowOut is the window answer as a test reads it.
type windowOut struct {
	ID     string `json:"id"`
	Host   string `json:"host"`
	State  string `json:"state"`
	Rounds int    `json:"rounds"`
	Dest   struct {
		TTL       int      `json:"ttl"`
		Sent      int      `json:"sent"`
		LossPct   float64  `json:"loss_pct"`
		LatencyMs *float64 `json:"latency_ms"`
		MOS       *float64 `json:"mos"`
	} `json:"dest"`
	Hops []struct {
		TTL     int      `json:"ttl"`
		Addr    string   `json:"addr"`
		Host    string   `json:"host"`
		Sent    int      `json:"sent"`
		Recv    int      `json:"recv"`
		LossPct float64  `json:"loss_pct"`
		AvgMs   *float64 `json:"avg_ms"`
		Dest    bool     `json:"destination"`
	} `json:"hops"`
	Exact     bool    `json:"exact"`
	Monitored bool    `json:"monitored"`
	Step      float64 `json:"step"`
	Series    []struct {
		TTL  int        `json:"ttl"`
		T    []float64  `json:"t"`
		Sent []int      `json:"sent"`
		Lost []int      `json:"lost"`
		Avg  []*float64 `json:"avg_ms"`
	} `json:"series"`
	Events []eventOut `json:"events"`
}

func windowPath(key string, from, to time.Time, extra string) string {
	return fmt.Sprintf("/api/targets/%s/window?from=%s&to=%s%s", url.PathEscape(key),
		url.QueryEscape(from.Format(time.RFC3339Nano)), url.QueryEscape(to.Format(time.RFC3339Nano)), extra)
}

// countAt is what the rounds of [from, to) hold at ttl: probes and losses.
func countAt(rounds []trace.Round, ttl int, from, to time.Time) (sent, lost int, sum time.Duration) {
	for _, r := range rounds {
		if r.Start.Before(from) || !r.Start.Before(to) {
			continue
		}
		for _, h := range r.Hops {
			if h.TTL != ttl {
				continue
			}
			sent++
			if h.Reply.From.IsValid() {
				sum += h.Reply.RTT
			} else {
				lost++
			}
		}
	}
	return sent, lost, sum
}

func TestWindowMatchesTheStoredRounds(t *testing.T) {
	start := time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC)
	st, rounds := storedHistory(t, start)
	e := newEnv(t, func(c *Config) { c.History = st })

	tests := []struct {
		name     string
		from, to time.Time
		points   int
		events   []string
	}{
		{"the whole hour", start, start.Add(time.Hour), 600, []string{"route_change", "alert_raised"}},
		{"a zoomed quarter hour", start.Add(5 * time.Minute), start.Add(20 * time.Minute), 300, []string{"route_change"}},
		{"two odd minutes", start.Add(41*time.Minute + 17*time.Second), start.Add(43*time.Minute + 3*time.Second), 800, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := decodeInto[windowOut](t, e.must(http.StatusOK, "GET", "/api/targets/"+storedKey+"/window?from="+
				url.QueryEscape(tc.from.Format(time.RFC3339))+"&to="+url.QueryEscape(tc.to.Format(time.RFC3339))+fmt.Sprintf("&points=%d", tc.points), nil))
			if w.ID != storedKey || w.Monitored || w.State != "history" {
				t.Errorf("id, monitored, state = %q, %v, %q; want %q, false, history", w.ID, w.Monitored, w.State, storedKey)
			}
			want, _, _ := countAt(rounds, 1, tc.from, tc.to)
			if w.Rounds != want {
				t.Errorf("rounds = %d; want %d", w.Rounds, want)
			}
			if len(w.Hops) != 3 {
				t.Fatalf("got %d hops; want 3", len(w.Hops))
			}
			for _, h := range w.Hops {
				sent, lost, sum := countAt(rounds, h.TTL, tc.from, tc.to)
				if h.Sent != sent {
					t.Errorf("hop %d: sent = %d; want %d", h.TTL, h.Sent, sent)
				}
				wantLoss := math.Round(float64(lost)/float64(sent)*1000) / 10
				if h.LossPct != wantLoss {
					t.Errorf("hop %d: loss = %.1f %%; want %.1f %%", h.TTL, h.LossPct, wantLoss)
				}
				wantAvg := float64(sum) / float64(sent-lost) / 1e6
				if h.AvgMs == nil || math.Abs(*h.AvgMs-wantAvg) > 0.002 {
					t.Errorf("hop %d: avg = %v ms; want %.3f ms", h.TTL, h.AvgMs, wantAvg)
				}
				if wantHost := fakeNames(hopAddr(h.TTL)); h.Host != wantHost || h.Addr != hopAddr(h.TTL).String() {
					t.Errorf("hop %d: addr, host = %q, %q; want %q, %q", h.TTL, h.Addr, h.Host, hopAddr(h.TTL), wantHost)
				}
				if h.Dest != (h.TTL == 3) {
					t.Errorf("hop %d: destination = %v; want %v", h.TTL, h.Dest, h.TTL == 3)
				}
			}
			sent, lost, _ := countAt(rounds, 3, tc.from, tc.to)
			if w.Dest.TTL != 3 || w.Dest.Sent != sent || w.Dest.LossPct != math.Round(float64(lost)/float64(sent)*1000)/10 {
				t.Errorf("dest = ttl %d, sent %d, loss %.1f; want ttl 3, sent %d, loss of %d/%d", w.Dest.TTL, w.Dest.Sent, w.Dest.LossPct, sent, lost, sent)
			}
			if w.Dest.MOS == nil || *w.Dest.MOS < 1 || *w.Dest.MOS > 4.5 {
				t.Errorf("dest MOS = %v; want a score from 1 to 4.5", w.Dest.MOS)
			}
			// The series: one per hop, steps from the width asked for,
			// every probe of the window in exactly one step.
			wantStep := stepFor(tc.to.Sub(tc.from), time.Second, tc.points).Seconds()
			if w.Step != wantStep {
				t.Errorf("step = %v s; want %v s", w.Step, wantStep)
			}
			if len(w.Series) != 3 {
				t.Fatalf("got %d series; want 3", len(w.Series))
			}
			for _, s := range w.Series {
				if steps := tc.to.Sub(tc.from).Seconds() / w.Step; math.Abs(float64(len(s.T))-steps) > 1 {
					t.Errorf("hop %d: %d steps; want %.0f (±1)", s.TTL, len(s.T), steps)
				}
				var sSent, sLost int
				for i := range s.T {
					sSent += s.Sent[i]
					sLost += s.Lost[i]
				}
				sent, lost, _ := countAt(rounds, s.TTL, tc.from, tc.to)
				if sSent != sent || sLost != lost {
					t.Errorf("hop %d: the series holds %d sent, %d lost; want %d, %d", s.TTL, sSent, sLost, sent, lost)
				}
			}
			var kinds []string
			for _, ev := range w.Events {
				kinds = append(kinds, ev.Kind)
			}
			if strings.Join(kinds, ",") != strings.Join(tc.events, ",") {
				t.Errorf("events = %v; want %v", kinds, tc.events)
			}
		})
	}
}

// hopAddr is the address historytest.Path gives hop ttl.
func hopAddr(ttl int) netip.Addr { return historytest.Path(ttl, nil)[ttl-1].Addr }

func TestWindowAgreesWithSummary(t *testing.T) {
	start := time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC)
	st, _ := storedHistory(t, start)
	e := newEnv(t, func(c *Config) { c.History = st })
	from, to := start.Add(12*time.Minute), start.Add(27*time.Minute)
	sum, err := st.Summary(context.Background(), storedKey, from, to)
	if err != nil {
		t.Fatal(err)
	}
	w := decodeInto[windowOut](t, e.must(http.StatusOK, "GET", windowPath(storedKey, from, to, ""), nil))
	for i, h := range sum.Hops {
		got := w.Hops[i]
		if got.TTL != h.TTL || got.Sent != h.Stats.Sent || got.Recv != h.Stats.Recv || got.AvgMs == nil || *got.AvgMs != ms(h.Stats.Avg) {
			t.Errorf("hop %d: got ttl %d sent %d recv %d avg %v; want the store's ttl %d sent %d recv %d avg %v",
				i, got.TTL, got.Sent, got.Recv, got.AvgMs, h.TTL, h.Stats.Sent, h.Stats.Recv, ms(h.Stats.Avg))
		}
	}
}

func TestWindowErrors(t *testing.T) {
	start := time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC)
	st, _ := storedHistory(t, start)
	on := newEnv(t, func(c *Config) { c.History = st })
	off := newEnv(t)
	from, to := start, start.Add(time.Hour)
	tests := []struct {
		name string
		e    *env
		path string
		code int
		msg  string
	}{
		{"history off: targets", off, "/api/history/targets", 404, "history is off"},
		{"history off: window", off, windowPath(storedKey, from, to, ""), 404, "history is off"},
		{"history off: evidence", off, strings.Replace(windowPath(storedKey, from, to, ""), "/window", "/evidence", 1), 404, "history is off"},
		{"history off: geo of a window", off, strings.Replace(windowPath(storedKey, from, to, ""), "/window", "/geo", 1), 404, "history is off"},
		{"unknown target", on, windowPath("never.example", from, to, ""), 404, `no rounds of "never.example"`},
		{"no from", on, "/api/targets/" + storedKey + "/window?to=" + url.QueryEscape(to.Format(time.RFC3339)), 400, "from: missing"},
		{"bad to", on, "/api/targets/" + storedKey + "/window?from=" + url.QueryEscape(from.Format(time.RFC3339)) + "&to=yesterday", 400, `to: "yesterday" is not an RFC 3339 time`},
		{"empty window", on, windowPath(storedKey, to, to, ""), 400, "is not before its end"},
		{"reversed window", on, windowPath(storedKey, to, from, ""), 400, "is not before its end"},
		{"too few points", on, windowPath(storedKey, from, to, "&points=5"), 400, "points:"},
		{"too many points", on, windowPath(storedKey, from, to, "&points=100000"), 400, "points:"},
		{"points not a number", on, windowPath(storedKey, from, to, "&points=wide"), 400, "points:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.e.api("GET", tc.path, nil)
			if r.code != tc.code || !strings.Contains(r.errorText(), tc.msg) {
				t.Errorf("GET %s = %v; want %d with %q", tc.path, r, tc.code, tc.msg)
			}
		})
	}
	// Like every API endpoint, none answers without the token.
	for _, p := range []string{"/api/history/targets", windowPath(storedKey, from, to, ""), strings.Replace(windowPath(storedKey, from, to, ""), "/window", "/evidence", 1)} {
		if r := on.serve(newRequest("GET", p, nil)); r.code != http.StatusUnauthorized {
			t.Errorf("GET %s without the token = %d; want 401", p, r.code)
		}
	}
}

func TestHistoryTargetsAndStatus(t *testing.T) {
	start := time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC)
	st, _ := storedHistory(t, start)
	e := newEnv(t, func(c *Config) { c.History = st })
	e.add("dest.example", nil)

	type target struct {
		Key       string    `json:"key"`
		Host      string    `json:"host"`
		First     time.Time `json:"first"`
		Last      time.Time `json:"last"`
		Rounds    int64     `json:"rounds"`
		Monitored bool      `json:"monitored"`
		Probe     struct {
			Interval float64 `json:"interval"`
		} `json:"probe"`
	}
	list := decodeInto[[]target](t, e.must(http.StatusOK, "GET", "/api/history/targets", nil))
	if len(list) != 1 {
		t.Fatalf("got %d stored targets; want 1: %+v", len(list), list)
	}
	got := list[0]
	if got.Key != storedKey || got.Rounds != 3600 || got.Monitored || !got.First.Equal(start) || !got.Last.Equal(start.Add(3599*time.Second)) {
		t.Errorf("stored target = %+v; want %s, 3600 rounds from %s to %s, not monitored", got, storedKey, start, start.Add(3599*time.Second))
	}

	type status struct {
		History *struct {
			Path      string `json:"path"`
			Bytes     int64  `json:"bytes"`
			Pending   int64  `json:"pending"`
			Lost      int64  `json:"lost"`
			LastError string `json:"last_error"`
		} `json:"history"`
	}
	s := decodeInto[status](t, e.must(http.StatusOK, "GET", "/api/status", nil))
	if s.History == nil || s.History.Bytes <= 0 || s.History.Pending != 0 || s.History.Lost != 0 || s.History.LastError != "" || !strings.HasSuffix(s.History.Path, "history.db") {
		t.Errorf("status history = %+v; want the file's size, nothing pending or lost, no error", s.History)
	}
	off := decodeInto[status](t, newEnv(t).must(http.StatusOK, "GET", "/api/status", nil))
	if off.History != nil {
		t.Errorf("status history with history off = %+v; want null", off.History)
	}
}

func TestEvidenceDownload(t *testing.T) {
	start := time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC)
	st, _ := storedHistory(t, start)
	e := newEnv(t, func(c *Config) { c.History = st })
	p := strings.Replace(windowPath(storedKey, start.Add(5*time.Minute), start.Add(50*time.Minute), ""), "/window", "/evidence", 1)
	r := e.must(http.StatusOK, "GET", p, nil)
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q; want text/html; charset=utf-8", ct)
	}
	wantName := "pingerplot-evidence-gone.example-" + start.Add(5*time.Minute).In(time.Local).Format("20060102-1504") + ".html"
	if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="`+wantName+`"` {
		t.Errorf("Content-Disposition = %q; want an attachment named %s", cd, wantName)
	}
	body := string(r.body)
	for _, id := range evidence.Sections {
		if !strings.Contains(body, `id="`+id+`"`) {
			t.Errorf("the evidence file has no section %q", id)
		}
	}
	// The window's route change and alert are in it; the hop names are
	// the server's reverse-DNS names.
	for _, want := range []string{"hop 2 changed from 10.0.0.9 to 10.0.0.2", "loss 6 % over 60 probes", fakeNames(hopAddr(2))} {
		if !strings.Contains(body, want) {
			t.Errorf("the evidence file does not say %q", want)
		}
	}
}
