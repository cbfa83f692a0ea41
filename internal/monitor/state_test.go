package monitor

import (
	"fmt"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/trace"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// mkRound builds a round from tokens, one per TTL from 1: "x.y:ms" for
// router 10.0.x.y answering in ms milliseconds, "D:ms" for the destination,
// "*" for a timeout. The round ends at the destination.
func mkRound(t testing.TB, start time.Time, spec string) trace.Round {
	t.Helper()
	r := trace.Round{Start: start, End: start}
	for i, tok := range strings.Fields(spec) {
		h := trace.Hop{TTL: i + 1}
		if tok == "*" {
			h.Reply = probe.Reply{Kind: probe.Timeout, Sent: start}
			r.End = start.Add(time.Second)
			r.Hops = append(r.Hops, h)
			continue
		}
		who, rtt, ok := strings.Cut(tok, ":")
		v, err := strconv.ParseFloat(rtt, 64)
		if !ok || err != nil {
			t.Fatalf("bad token %q in %q", tok, spec)
		}
		h.Reply = probe.Reply{Kind: probe.TimeExceeded, Sent: start, RTT: time.Duration(v * float64(time.Millisecond))}
		if who == "D" {
			h.Reply.Kind, h.Reply.From = probe.Reached, testDest
			r.EndTTL, r.Reached = h.TTL, true
		} else {
			var x, y byte
			if _, err := fmt.Sscanf(who, "%d.%d", &x, &y); err != nil {
				t.Fatalf("bad address %q in %q", who, spec)
			}
			h.Reply.From = netip.AddrFrom4([4]byte{10, 0, x, y})
		}
		if end := start.Add(h.Reply.RTT); end.After(r.End) {
			r.End = end
		}
		r.Hops = append(r.Hops, h)
		if r.Reached {
			break
		}
	}
	return r
}

func testTarget(t testing.TB, s Settings) Target {
	t.Helper()
	tg, err := Target{ID: "dest", Host: "dest.example", Addr: testDest, Settings: s}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// fold runs spec through s for n rounds a minute apart from round
// s.rounds+1, and returns the events as "round N: kind: message".
func fold(t testing.TB, s *state, n int, spec string) []string {
	t.Helper()
	var out []string
	for range n {
		start := t0.Add(time.Duration(s.rounds) * time.Minute)
		r := mkRound(t, start, spec)
		r.Index = s.rounds + 1
		_, events := s.apply(r.End, r)
		for _, e := range events {
			out = append(out, fmt.Sprintf("round %d: %s: %s", s.rounds, e.Kind, e.Message))
		}
	}
	return out
}

func TestStateLatencyAlert(t *testing.T) {
	s := newState(testTarget(t, Settings{Alert: alert.Rules{Latency: 100 * time.Millisecond, Window: 10}}), nil)
	var got []string
	got = append(got, fold(t, s, 30, "1.1:1 2.1:2 D:10")...)
	// Window 10 at 10 ms, then 200 ms replies come in: the mean reaches
	// 100 ms with five of them, (5·200 + 5·10)/10 = 105.
	got = append(got, fold(t, s, 30, "1.1:1 2.1:2 D:200")...)
	if st := s.snapshot(false); st.State != Alerting || !reflect.DeepEqual(st.Dest.Active, []alert.Condition{alert.Latency}) {
		t.Errorf("during the step: state %v, active %v; want alert [latency]", st.State, st.Dest.Active)
	}
	// Back to 10 ms: below 100 ms once at most four 200 ms replies remain
	// (4·200 + 6·10)/10 = 86, six rounds later.
	got = append(got, fold(t, s, 20, "1.1:1 2.1:2 D:10")...)
	want := []string{
		"round 35: alert_raised: latency alert: 105 ms ≥ 100 ms (mean RTT of the replies among the last 10 probes)",
		"round 66: alert_cleared: latency alert: 86 ms < 100 ms after 31m0s",
	}
	want[1] = strings.Replace(want[1], "latency alert: 86", "latency alert cleared: 86", 1)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if st := s.snapshot(false); st.State != Running || st.Dest.Latency != 10*time.Millisecond || st.Dest.MOS < 4.3 {
		t.Errorf("after the step: %+v; want running, 10 ms, a good MOS", st.Dest)
	}
}

func TestStateSilentDestination(t *testing.T) {
	s := newState(testTarget(t, Settings{Alert: alert.Rules{LossPct: 10, Latency: time.Millisecond, Window: 5}}), nil)
	got := fold(t, s, 2, "1.1:1 2.1:2 *")
	if st := s.snapshot(false).State; st != Running || len(got) != 0 {
		t.Errorf("after 2 silent rounds: state %v, events %q; want running, none", st, got)
	}
	got = fold(t, s, 50, "1.1:1 2.1:2 *")
	want := []string{"round 3: no_answer: destination does not answer this probe type (icmp): no reply in 3 rounds; " +
		"it blocks these probes or is more than 30 hops away, and raises no alerts until it answers"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("50 more silent rounds: events %q; want %q", got, want)
	}
	snap := s.snapshot(false)
	if snap.State != NoAnswer || snap.Dest.LossPct != 100 || snap.Dest.Active != nil || snap.Dest.TTL != 0 {
		t.Errorf("silent destination: state %v, dest %+v; want no-answer, 100%% loss, no alert", snap.State, snap.Dest)
	}
	// It answers at last, slowly: now it is a destination like any other,
	// and its window starts with its first answer (the silent rounds are
	// not loss), so a full window of slow replies raises latency only.
	got = fold(t, s, 5, "1.1:1 2.1:2 D:50")
	want = []string{"round 57: alert_raised: latency alert: 50 ms ≥ 1 ms (mean RTT of the replies among the last 5 probes)"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("once it answers: events %q; want %q", got, want)
	}
}

func TestStateFinalHopOnly(t *testing.T) {
	s := newState(testTarget(t, Settings{}), nil)
	fold(t, s, 3, "1.1:1 2.1:2 D:3")
	if n := len(s.snapshot(false).Hops); n != 3 {
		t.Fatalf("full trace: %d hops; want 3", n)
	}
	tg := s.target
	tg.Trace.FinalHopOnly = true
	s.reconfigure(t0, tg)
	// The tracer reports a final-hop-only probe (sent with TTL MaxHops)
	// as hop 1: the destination is hop 1 of a one-hop path, and the first
	// router's statistics and history at TTL 1 must not mix with it.
	var events []Event
	for range 3 {
		start := t0.Add(time.Duration(s.rounds) * time.Minute)
		r := trace.Round{Start: start, End: start.Add(3 * time.Millisecond), EndTTL: 1, Reached: true,
			Hops: []trace.Hop{{TTL: 1, Reply: probe.Reply{Kind: probe.Reached, From: testDest, RTT: 3 * time.Millisecond}}}}
		_, ev := s.apply(r.End, r)
		events = append(events, ev...)
	}
	snap := s.snapshot(true)
	if len(snap.Hops) != 1 || snap.Hops[0].TTL != 1 || !snap.Hops[0].Reached || len(snap.Hops[0].History) != 3 ||
		snap.Hops[0].Stats.Sent != 3 || snap.Dest.TTL != 1 {
		t.Errorf("final hop only: hops %+v, dest TTL %d; want only the destination as hop 1 with 3 probes and 3 samples, dest TTL 1", snap.Hops, snap.Dest.TTL)
	}
	if len(events) != 0 {
		t.Errorf("switching to final hop only: events %+v; want none (not a route change, not a path length change)", events)
	}
}

func TestStateHistoryBounded(t *testing.T) {
	s := newState(testTarget(t, Settings{History: 5}), nil)
	fold(t, s, 20, "1.1:1 * D:3")
	snap := s.snapshot(true)
	for _, h := range snap.Hops {
		var rounds []int
		for _, smp := range h.History {
			rounds = append(rounds, smp.Round)
			if want := t0.Add(time.Duration(smp.Round-1) * time.Minute); !smp.Time.Equal(want) {
				t.Errorf("hop %d round %d: Time %v; want %v", h.TTL, smp.Round, smp.Time, want)
			}
		}
		if !reflect.DeepEqual(rounds, []int{16, 17, 18, 19, 20}) {
			t.Errorf("hop %d history rounds %v; want 16-20", h.TTL, rounds)
		}
	}
	want := Sample{Round: 20, Time: t0.Add(19 * time.Minute), From: testDest, RTT: 3 * time.Millisecond, Reached: true}
	if got := snap.Hops[2].History[4]; got != want {
		t.Errorf("last destination sample = %+v; want %+v", got, want)
	}
	if got := snap.Hops[1].History[0]; !got.Lost || got.From.IsValid() {
		t.Errorf("silent hop sample = %+v; want lost, no address", got)
	}
	// Shrinking the history keeps the newest; the next rounds respect the
	// new bound.
	tg := s.target
	tg.History = 2
	s.reconfigure(t0, tg)
	fold(t, s, 1, "1.1:1 * D:3")
	for _, h := range s.snapshot(true).Hops {
		if len(h.History) != 2 || h.History[0].Round != 20 || h.History[1].Round != 21 || h.History[0].Time.IsZero() {
			t.Errorf("after History 2: hop %d history %+v; want rounds 20, 21 with times", h.TTL, h.History)
		}
	}
}

func TestStateProbeTypeChangeStartsOver(t *testing.T) {
	s := newState(testTarget(t, Settings{Alert: alert.Rules{LossPct: 50, Window: 4}}), nil)
	fold(t, s, 2, "1.1:1 D:2")
	got := fold(t, s, 4, "1.1:1 *")
	if len(got) != 1 || !strings.Contains(got[0], "alert_raised: loss") {
		t.Fatalf("events %q; want a loss alert", got)
	}
	tg := s.target
	tg.Trace.Mode, tg.Trace.Port = probe.TCP, 443
	events := s.reconfigure(t0, tg)
	if len(events) != 1 || events[0].Kind != AlertCleared || events[0].Message != "loss alert cleared: probe type changed" {
		t.Errorf("reconfigure events %+v; want the loss alert cleared", events)
	}
	got = fold(t, s, 3, "1.1:1 *")
	if len(got) != 1 || !strings.Contains(got[0], "no_answer: destination does not answer this probe type (tcp port 443)") {
		t.Errorf("TCP to a silent port: events %q; want no_answer", got)
	}
}

func TestDestProbe(t *testing.T) {
	tests := []struct {
		name string
		r    trace.Round
		want alert.Probe
		ok   bool
	}{
		{name: "reached", r: mkRound(t, t0, "1.1:1 D:7"), want: alert.Probe{RTT: 7 * time.Millisecond}, ok: true},
		{name: "timeout at the end", r: mkRound(t, t0, "1.1:1 *"), want: alert.Probe{Lost: true}, ok: true},
		// The tracer probed up to the old end and met a router: the path
		// got longer and the destination was not asked.
		{name: "path longer than probed", r: mkRound(t, t0, "1.1:1 2.1:2")},
		{name: "unreachable", r: trace.Round{EndTTL: 2, Hops: []trace.Hop{
			{TTL: 1, Reply: probe.Reply{Kind: probe.TimeExceeded}},
			{TTL: 2, Reply: probe.Reply{Kind: probe.Unreachable}}}}, want: alert.Probe{Lost: true}, ok: true},
		{name: "send failed", r: trace.Round{Hops: []trace.Hop{{TTL: 1, Reply: probe.Reply{Kind: probe.Failed}}}},
			want: alert.Probe{Lost: true}, ok: true},
		{name: "empty"},
	}
	for _, tt := range tests {
		if got, ok := destProbe(tt.r); got != tt.want || ok != tt.ok {
			t.Errorf("%s: destProbe = %+v, %v; want %+v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestStatePrecedence(t *testing.T) {
	tests := []struct {
		paused, alerting, noAnswer bool
		want                       State
	}{
		{want: Running},
		{noAnswer: true, want: NoAnswer},
		{alerting: true, noAnswer: true, want: Alerting},
		{paused: true, alerting: true, noAnswer: true, want: Paused},
		{paused: true, want: Paused},
	}
	for _, tt := range tests {
		s := newState(testTarget(t, Settings{}), nil)
		s.paused = tt.paused
		if tt.alerting {
			s.alerts.Set(alert.Loss, true, t0)
		}
		if tt.noAnswer {
			s.unanswered = NoAnswerRounds
		} else {
			s.everAnswered = true
		}
		if got := s.stateName(); got != tt.want {
			t.Errorf("paused %v alerting %v no-answer %v: state %v; want %v", tt.paused, tt.alerting, tt.noAnswer, got, tt.want)
		}
	}
}

// TestStateRestoreRoundTrip saves a state as a session would (a snapshot
// with history, the events, the round count), restores it, and folds the
// same rounds into both: the restored one must continue exactly.
func TestStateRestoreRoundTrip(t *testing.T) {
	settings := Settings{History: 50, Alert: alert.Rules{LossPct: 30, Latency: 80 * time.Millisecond, Window: 10}}
	specs := []string{"1.1:1 2.1:5 3.1:9 D:12", "1.1:1 2.2:6 3.1:8 D:14", "1.1:2 * 3.1:9 D:90", "1.1:1 2.1:5 3.1:9 *"}
	script := func(i int) string { return specs[(i*7+i/3)%len(specs)] }
	orig := newState(testTarget(t, settings), nil)
	var origEvents []Event
	run := func(s *state, from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			start := t0.Add(time.Duration(i) * time.Minute)
			r := mkRound(t, start, script(i))
			r.Index = i + 1
			_, evs := s.apply(r.End, r)
			if s == orig {
				origEvents = append(origEvents, evs...)
			}
			for _, e := range evs {
				out = append(out, fmt.Sprintf("%d %s %s", s.rounds, e.Kind, e.Message))
			}
		}
		return out
	}
	run(orig, 0, 120)
	saved := orig.snapshot(true)
	restored := restoreState(saved.Target, nil, saved.Hops, origEvents, saved.Rounds, saved.Started)
	// Restore is not given the end of the last round; it uses its start.
	if got, want := restored.last, t0.Add(119*time.Minute); !got.Equal(want) {
		t.Errorf("restored Last = %v; want the start of round 120, %v", got, want)
	}
	saved.Last = restored.last
	if got, want := restored.snapshot(true), saved; !sameSnapshot(got, want) {
		t.Fatalf("restored snapshot differs: %s", snapshotDiff(got, want))
	}
	gotEv, wantEv := run(restored, 120, 200), run(orig, 120, 200)
	if !reflect.DeepEqual(gotEv, wantEv) {
		t.Errorf("events after restore:\n%q\nwant\n%q", gotEv, wantEv)
	}
	if got, want := restored.snapshot(true), orig.snapshot(true); !sameSnapshot(got, want) {
		t.Errorf("after 80 more rounds: %s", snapshotDiff(got, want))
	}
}

// sameSnapshot compares snapshots allowing the nanosecond a restore may
// cost the running means (hopstat.RestoreAcc).
func sameSnapshot(a, b Snapshot) bool {
	if len(a.Hops) != len(b.Hops) {
		return false
	}
	near := func(x, y hopstat.Stats) bool {
		d := func(p, q time.Duration) bool { return p-q <= 1 && q-p <= 1 }
		ok := d(x.Avg, y.Avg) && d(x.StdDev, y.StdDev) && d(x.Jitter, y.Jitter)
		x.Avg, x.StdDev, x.Jitter = y.Avg, y.StdDev, y.Jitter
		return ok && x == y
	}
	for i := range a.Hops {
		x, y := a.Hops[i], b.Hops[i]
		if x.TTL != y.TTL || x.Reached != y.Reached || !near(x.Stats, y.Stats) ||
			!reflect.DeepEqual(x.History, y.History) || len(x.Responders) != len(y.Responders) {
			return false
		}
		for j := range x.Responders {
			if x.Responders[j].Addr != y.Responders[j].Addr || !near(x.Responders[j].Stats, y.Responders[j].Stats) {
				return false
			}
		}
	}
	a.Hops, b.Hops = nil, nil
	return reflect.DeepEqual(a, b)
}

// snapshotDiff names the first part where two snapshots differ.
func snapshotDiff(a, b Snapshot) string {
	if len(a.Hops) != len(b.Hops) {
		return fmt.Sprintf("%d hops; want %d", len(a.Hops), len(b.Hops))
	}
	for i := range a.Hops {
		x, y := a.Hops[i], b.Hops[i]
		if !sameSnapshot(Snapshot{Hops: []Hop{x}}, Snapshot{Hops: []Hop{y}}) {
			x.History, y.History = nil, nil
			return fmt.Sprintf("hop %d = %+v (history %d samples); want %+v (%d samples)", y.TTL, x, len(a.Hops[i].History), y, len(b.Hops[i].History))
		}
	}
	a.Hops, b.Hops = nil, nil
	return fmt.Sprintf("%+v; want %+v", a, b)
}
