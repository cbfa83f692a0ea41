package session

import (
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"
	"unicode"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/monitor"
)

// Limits on what a session may hold, beyond which a file is refused as
// damaged rather than handed to the monitor.
const (
	maxRTT       = 24 * time.Hour   // any duration in statistics or history
	maxRounds    = math.MaxUint32   // the monitor numbers rounds in 32 bits
	maxText      = 4096             // an event message
	maxTTL       = hopstat.MaxTTL   // 255
	timeLayout   = time.RFC3339Nano // always UTC when written
	maxKindBytes = 64
)

// Conversions to the file layout.

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// ms writes a duration as milliseconds rounded to the microsecond.
func ms(d time.Duration) float64 { return float64(d.Round(time.Microsecond)) / 1e6 }

func statsOf(s hopstat.Stats) fileStats {
	return fileStats{
		Sent: s.Sent, Recv: s.Recv, Refused: s.Refused, Last: ms(s.Last), Best: ms(s.Best), Worst: ms(s.Worst), Avg: ms(s.Avg),
		StdDev: ms(s.StdDev), Jitter: ms(s.Jitter), JitterMax: ms(s.JitterMax), P50: ms(s.P50), P95: ms(s.P95),
	}
}

func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func targetOf(r Record) fileTarget {
	settings := appendJSON(nil, config.FromSettings(r.Target.Settings))
	t := fileTarget{
		Target:   fileIdent{ID: string(r.Target.ID), Host: r.Target.Host, Addr: addrText(r.Target.Addr)},
		Settings: settings, State: string(r.State), Rounds: r.Rounds,
		Started: fmtTime(r.Started), Last: fmtTime(r.Last),
		Hops: make([]fileHop, len(r.Hops)), Events: make([]fileEvent, len(r.Events)),
	}
	for i, h := range r.Hops {
		fh := fileHop{TTL: h.TTL, Stats: statsOf(h.Stats), Reached: h.Reached, Details: detailsOf(h.Details)}
		for _, rp := range h.Responders {
			fh.Responders = append(fh.Responders, fileResponder{Addr: addrText(rp.Addr), Stats: statsOf(rp.Stats)})
		}
		for _, s := range h.History {
			fh.History = append(fh.History, fileSample{
				Round: s.Round, Time: s.Time.UTC().Format(timeLayout), From: addrText(s.From),
				RTT: ms(s.RTT), Lost: s.Lost, Reached: s.Reached, Refused: s.Refused,
			})
		}
		t.Hops[i] = fh
	}
	for i, e := range r.Events {
		t.Events[i] = fileEvent{
			Time: e.Time.UTC().Format(timeLayout), Kind: string(e.Kind), TTL: e.TTL, Message: e.Message,
			Condition: string(e.Condition), Value: e.Value, Threshold: e.Threshold,
		}
	}
	return t
}

// Checks and conversions from the file layout. Each error names where the
// problem is, outermost first: "targets[0] (8.8.8.8): hops[2] (ttl 3): ...".

func (f fileSession) checkHeader() error {
	if f.SavedAt != "" {
		if _, err := parseTime(f.SavedAt); err != nil {
			return fmt.Errorf("saved_at: %v", err)
		}
	}
	return nil
}

func (f fileSession) session() (Session, error) {
	if err := f.checkHeader(); err != nil {
		return Session{}, err
	}
	s := Session{App: f.App}
	if f.SavedAt != "" {
		s.SavedAt, _ = parseTime(f.SavedAt)
	}
	ids := map[string]int{}
	for i, t := range f.Targets {
		r, err := t.record(i, ids)
		if err != nil {
			return Session{}, err
		}
		s.Records = append(s.Records, r)
	}
	return s, nil
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time", s)
	}
	return t.UTC(), nil
}

func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q is not an IP address", s)
	}
	return a, nil
}

// duration reads milliseconds, rounded to the microsecond as written.
func duration(key string, v float64) (time.Duration, error) {
	if !(v >= 0 && v <= float64(maxRTT/time.Millisecond)) {
		return 0, fmt.Errorf("%s: %g is out of range: want 0 to %d", key, v, maxRTT/time.Millisecond)
	}
	return time.Duration(math.Round(v*1e3)) * time.Microsecond, nil
}

// plainText rejects strings that could break a line-oriented display.
func plainText(s string, limit int) error {
	if len(s) > limit {
		return fmt.Errorf("longer than %d bytes", limit)
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) >= 0 {
		return fmt.Errorf("%q has control characters", s)
	}
	return nil
}

// record checks one target and converts it; ids holds the IDs of the
// targets before it.
func (t fileTarget) record(i int, ids map[string]int) (Record, error) {
	where := fmt.Sprintf("targets[%d]", i)
	if t.Target.Host != "" {
		where += " (" + t.Target.Host + ")"
	}
	fail := func(format string, args ...any) (Record, error) {
		return Record{}, fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...))
	}
	if err := plainText(t.Target.Host, 253); err != nil || t.Target.Host == "" {
		return fail("target: host: missing or not a host: %q", t.Target.Host)
	}
	if err := plainText(t.Target.ID, 253); err != nil || t.Target.ID == "" {
		return fail("target: id: missing or not an ID: %q", t.Target.ID)
	}
	if j, dup := ids[t.Target.ID]; dup {
		return fail("target: id: %q is also the ID of targets[%d]", t.Target.ID, j)
	}
	ids[t.Target.ID] = i
	addr, err := parseAddr(t.Target.Addr)
	if err != nil {
		return fail("target: addr: %v", err)
	}
	if len(t.Settings) == 0 {
		return fail(`settings: missing`)
	}
	var o config.Options
	if err := json.Unmarshal(t.Settings, &o); err != nil {
		return fail("settings: %v", err)
	}
	settings, err := o.Settings()
	if err != nil {
		return fail("settings: %v", err)
	}
	settings.Trace.Target = addr
	r := Record{
		Target: monitor.Target{ID: monitor.ID(t.Target.ID), Host: t.Target.Host, Addr: addr, Settings: settings},
		State:  monitor.State(t.State),
		Rounds: t.Rounds,
	}
	switch r.State {
	case "", monitor.Running, monitor.Paused, monitor.Alerting, monitor.NoAnswer:
	default:
		return fail("state: %q is not a state", t.State)
	}
	if t.Rounds < 0 || int64(t.Rounds) > maxRounds {
		return fail("rounds: %d is out of range: want 0 to %d", t.Rounds, int64(maxRounds))
	}
	if t.Started != "" {
		if r.Started, err = parseTime(t.Started); err != nil {
			return fail("started: %v", err)
		}
	}
	if t.Last != "" {
		if r.Last, err = parseTime(t.Last); err != nil {
			return fail("last: %v", err)
		}
	}
	if !r.Started.IsZero() && !r.Last.IsZero() && r.Last.Before(r.Started) {
		return fail("last: %s is before started (%s)", t.Last, t.Started)
	}
	lastTTL := 0
	reached := -1
	for j, h := range t.Hops {
		hop, err := h.hop(t.Rounds, settings.History)
		if err != nil {
			return fail("hops[%d] (ttl %d): %v", j, h.TTL, err)
		}
		if h.TTL <= lastTTL {
			return fail("hops[%d]: ttl %d is not above the previous hop's (%d): hops must be in TTL order, each TTL once", j, h.TTL, lastTTL)
		}
		lastTTL = h.TTL
		if h.Reached {
			if reached >= 0 {
				return fail("hops[%d] (ttl %d): reached: the destination is already at hops[%d]", j, h.TTL, reached)
			}
			reached = j
		}
		r.Hops = append(r.Hops, hop)
	}
	for j, e := range t.Events {
		ev, err := e.event(r.Target.ID)
		if err != nil {
			return fail("events[%d]: %v", j, err)
		}
		r.Events = append(r.Events, ev)
	}
	return r, nil
}

func (h fileHop) hop(rounds, history int) (monitor.Hop, error) {
	if h.TTL < 1 || h.TTL > maxTTL {
		return monitor.Hop{}, fmt.Errorf("ttl: %d is out of range: want 1 to %d", h.TTL, maxTTL)
	}
	stats, err := h.Stats.stats()
	if err != nil {
		return monitor.Hop{}, fmt.Errorf("stats: %v", err)
	}
	if stats.Sent > rounds {
		return monitor.Hop{}, fmt.Errorf("stats: sent %d is more than the target's rounds (%d): a round sends one probe per TTL", stats.Sent, rounds)
	}
	out := monitor.Hop{Hop: hopstat.Hop{TTL: h.TTL, Stats: stats, Reached: h.Reached}}
	recv := 0
	for k, rp := range h.Responders {
		a, err := parseAddr(rp.Addr)
		if err != nil {
			return monitor.Hop{}, fmt.Errorf("responders[%d]: addr: %v", k, err)
		}
		for _, seen := range out.Responders {
			if seen.Addr == a {
				return monitor.Hop{}, fmt.Errorf("responders[%d]: %s is listed twice", k, a)
			}
		}
		rs, err := rp.Stats.stats()
		if err != nil {
			return monitor.Hop{}, fmt.Errorf("responders[%d] (%s): stats: %v", k, a, err)
		}
		recv += rs.Recv
		out.Responders = append(out.Responders, hopstat.Responder{Addr: a, Stats: rs})
	}
	if recv > stats.Recv {
		return monitor.Hop{}, fmt.Errorf("responders: their replies add up to %d, more than the hop received (%d)", recv, stats.Recv)
	}
	if out.Details, err = details(h.Details); err != nil {
		return monitor.Hop{}, err
	}
	if len(h.History) > history {
		return monitor.Hop{}, fmt.Errorf("history: %d samples, more than the %d the settings keep", len(h.History), history)
	}
	prev := 0
	for k, s := range h.History {
		smp, err := s.sample(rounds)
		if err != nil {
			return monitor.Hop{}, fmt.Errorf("history[%d]: %v", k, err)
		}
		if s.Round < prev {
			return monitor.Hop{}, fmt.Errorf("history[%d]: round %d comes after round %d: want oldest first", k, s.Round, prev)
		}
		prev = s.Round
		out.History = append(out.History, smp)
	}
	return out, nil
}

func (f fileStats) stats() (hopstat.Stats, error) {
	s := hopstat.Stats{Sent: f.Sent, Recv: f.Recv, Refused: f.Refused}
	if f.Sent < 0 || f.Recv < 0 || f.Recv > f.Sent {
		return s, fmt.Errorf("sent %d, recv %d: want 0 <= recv <= sent", f.Sent, f.Recv)
	}
	if f.Refused < 0 || f.Refused > f.Recv {
		return s, fmt.Errorf("refused %d, recv %d: want 0 <= refused <= recv (a refusal is an answer)", f.Refused, f.Recv)
	}
	for _, d := range []struct {
		key string
		v   float64
		dst *time.Duration
	}{
		{"last_ms", f.Last, &s.Last}, {"best_ms", f.Best, &s.Best}, {"worst_ms", f.Worst, &s.Worst},
		{"avg_ms", f.Avg, &s.Avg}, {"stdev_ms", f.StdDev, &s.StdDev}, {"jitter_ms", f.Jitter, &s.Jitter},
		{"jitter_max_ms", f.JitterMax, &s.JitterMax}, {"p50_ms", f.P50, &s.P50}, {"p95_ms", f.P95, &s.P95},
	} {
		v, err := duration(d.key, d.v)
		if err != nil {
			return s, err
		}
		*d.dst = v
	}
	if s.Best > s.Worst {
		return s, fmt.Errorf("best_ms %g is above worst_ms %g", f.Best, f.Worst)
	}
	return s, nil
}

func (f fileSample) sample(rounds int) (monitor.Sample, error) {
	if f.Round < 0 || f.Round > rounds {
		return monitor.Sample{}, fmt.Errorf("round: %d is out of range: want 0 to the target's rounds (%d)", f.Round, rounds)
	}
	t, err := parseTime(f.Time)
	if err != nil {
		return monitor.Sample{}, fmt.Errorf("time: %v", err)
	}
	rtt, err := duration("rtt_ms", f.RTT)
	if err != nil {
		return monitor.Sample{}, err
	}
	s := monitor.Sample{Round: f.Round, Time: t, RTT: rtt, Lost: f.Lost, Reached: f.Reached, Refused: f.Refused}
	if f.From != "" {
		if s.From, err = parseAddr(f.From); err != nil {
			return monitor.Sample{}, fmt.Errorf("from: %v", err)
		}
	}
	if f.Lost && (f.From != "" || f.RTT != 0 || f.Reached) {
		return monitor.Sample{}, fmt.Errorf("lost: a lost probe has no from, rtt_ms or reached")
	}
	if f.Refused && !f.Reached {
		return monitor.Sample{}, fmt.Errorf("refused: only the destination refuses a connection; a refused sample is reached")
	}
	return s, nil
}

func (f fileEvent) event(id monitor.ID) (monitor.Event, error) {
	t, err := parseTime(f.Time)
	if err != nil {
		return monitor.Event{}, fmt.Errorf("time: %v", err)
	}
	if f.Kind == "" || len(f.Kind) > maxKindBytes || strings.IndexFunc(f.Kind, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r == '_' || r == '-' || r >= '0' && r <= '9')
	}) >= 0 {
		return monitor.Event{}, fmt.Errorf("kind: %q is not an event kind", f.Kind)
	}
	if f.TTL < 0 || f.TTL > maxTTL {
		return monitor.Event{}, fmt.Errorf("ttl: %d is out of range: want 0 (none) to %d", f.TTL, maxTTL)
	}
	if err := plainText(f.Message, maxText); err != nil {
		return monitor.Event{}, fmt.Errorf("message: %v", err)
	}
	alertKind := f.Kind == string(monitor.AlertRaised) || f.Kind == string(monitor.AlertCleared)
	switch alert.Condition(f.Condition) {
	case alert.Loss, alert.Latency:
	case "":
		if alertKind {
			return monitor.Event{}, fmt.Errorf("condition: an %s event needs %q or %q", f.Kind, alert.Loss, alert.Latency)
		}
	default:
		return monitor.Event{}, fmt.Errorf("condition: %q is not %q or %q", f.Condition, alert.Loss, alert.Latency)
	}
	return monitor.Event{
		Time: t, Target: id, Kind: monitor.EventKind(f.Kind), TTL: f.TTL, Message: f.Message,
		Condition: alert.Condition(f.Condition), Value: f.Value, Threshold: f.Threshold,
	}, nil
}
