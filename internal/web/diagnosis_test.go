package web

import (
	"context"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/diagnose"
	"github.com/pingerplot/pingerplot/internal/evidence"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
)

// diagnosisOut is the diagnosis object as a test reads it.
type diagnosisOut struct {
	What  string `json:"what"`
	Where *struct {
		TTL     int    `json:"ttl"`
		Addr    string `json:"addr"`
		Host    string `json:"host"`
		FromTTL int    `json:"from_ttl"`
	} `json:"where"`
	Since      *time.Time `json:"since"`
	Confidence string     `json:"confidence"`
	Text       string     `json:"text"`
	Evidence   struct {
		Rounds int    `json:"rounds"`
		Test   string `json:"test"`
	} `json:"evidence"`
	Hints []struct {
		TTL      int    `json:"ttl"`
		Addr     string `json:"addr"`
		Hint     string `json:"hint"`
		Evidence string `json:"evidence"`
	} `json:"hints"`
}

// TestTargetDiagnosis: over a scripted path whose loss starts on the link
// into hop 2 and carries to the destination, the list, the detail and
// the stream's summaries carry the watcher's diagnosis: loss at hop 2,
// with hop 2 marked as carrying it; without a lookup it is null.
func TestTargetDiagnosis(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var w *diagnose.Watcher
		e := newEnv(t, func(c *Config) {
			w = diagnose.NewWatcher(diagnose.WatcherConfig{Options: diagnose.Options{Names: fakeNames}})
			c.Diagnosis = w.Latest
		})
		// One probe in four is lost from hop 2 on: both hops drop the
		// same round's probe, as forward loss does.
		lose := func(n int) bool { return n%4 == 0 }
		e.net.SetHops([]probetest.Hop{
			{Addr: e.net.Hops[0].Addr, RTT: msec(1)},
			{Addr: e.net.Hops[1].Addr, RTT: msec(2), Lose: lose},
			{Addr: destAddr, RTT: msec(5), Lose: lose},
		})
		ch, cancel := e.mon.SubscribeWith(monitor.SubscriberConfig{Name: "diagnose", Buffer: 4096})
		var wg sync.WaitGroup
		wg.Go(func() { w.Run(context.Background(), ch) })
		t.Cleanup(func() { cancel(); wg.Wait() })
		e.start()
		e.add("dest.example", map[string]any{"interval": 0.5})
		e.waitRounds("dest.example", 80, 2*time.Minute)
		synctest.Wait()

		type withDiag struct {
			ID        string        `json:"id"`
			Diagnosis *diagnosisOut `json:"diagnosis"`
		}
		list := decodeInto[[]withDiag](t, e.must(http.StatusOK, "GET", "/api/targets", nil))
		det := decodeInto[withDiag](t, e.must(http.StatusOK, "GET", "/api/targets/dest.example", nil))
		for _, got := range []withDiag{list[0], det} {
			d := got.Diagnosis
			if d == nil {
				t.Fatalf("%s: diagnosis null; want loss at hop 2", got.ID)
			}
			hop2 := e.net.Hops[1].Addr.String()
			if d.What != "loss" || d.Where == nil || d.Where.TTL != 2 || d.Where.Addr != hop2 || d.Where.Host != fakeNames(e.net.Hops[1].Addr) || d.Where.FromTTL != 1 {
				t.Errorf("diagnosis = %+v (where %+v); want loss at hop 2 (%s) from hop 1", d, d.Where, hop2)
			}
			if d.Since == nil || d.Text == "" || d.Confidence == "" || d.Evidence.Rounds < 20 || d.Evidence.Test == "" {
				t.Errorf("diagnosis = %+v; want since, text, confidence and the evidence's rounds and test", d)
			}
			carried := map[int]bool{}
			for _, h := range d.Hints {
				if h.Hint == string(diagnose.HintCarried) && h.Evidence != "" {
					carried[h.TTL] = true
				}
			}
			if !carried[2] {
				t.Errorf("hints = %+v; want hop 2 marked %q with evidence", d.Hints, diagnose.HintCarried)
			}
		}
		// The stream's round and targets messages carry it too.
		s := e.srv.summaryOf(mustSnapshot(t, e, "dest.example"))
		if s.Diagnosis == nil || s.Diagnosis.What != "loss" {
			t.Errorf("stream summary diagnosis = %+v; want loss", s.Diagnosis)
		}
	})
	t.Run("no lookup", func(t *testing.T) {
		e := newEnv(t)
		e.add("dest.example", nil)
		type withDiag struct {
			Diagnosis *diagnosisOut `json:"diagnosis"`
		}
		if got := decodeInto[withDiag](t, e.must(http.StatusOK, "GET", "/api/targets/dest.example", nil)); got.Diagnosis != nil {
			t.Errorf("diagnosis = %+v; want null without a lookup", got.Diagnosis)
		}
	})
}

func mustSnapshot(t *testing.T, e *env, id string) monitor.Snapshot {
	t.Helper()
	sn, ok := e.mon.Snapshot(monitor.ID(id), false)
	if !ok {
		t.Fatalf("no target %q", id)
	}
	return sn
}

// TestWindowDiagnosis: a past window's diagnosis is Analyze over the last
// evidence.DiagnosisRounds stored rounds of the window (all of them when
// it holds fewer), so it matches what the rounds say.
func TestWindowDiagnosis(t *testing.T) {
	start := time.Date(2026, 11, 29, 20, 0, 0, 0, time.UTC)
	st, rounds := storedHistory(t, start)
	e := newEnv(t, func(c *Config) { c.History = st })
	tests := []struct {
		name       string
		from, to   time.Time
		wantRounds int
	}{
		{"an hour: the last 300 rounds", start, start.Add(time.Hour), evidence.DiagnosisRounds},
		{"two minutes: all 120", start.Add(20 * time.Minute), start.Add(22 * time.Minute), 120},
		{"ten rounds: not enough", start.Add(30 * time.Minute), start.Add(30*time.Minute + 10*time.Second), 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in []diagnose.Round
			for _, r := range rounds {
				if !r.Start.Before(tt.from) && r.Start.Before(tt.to) {
					in = append(in, diagnose.FromTrace(r))
				}
			}
			in = in[max(0, len(in)-evidence.DiagnosisRounds):]
			want := diagnose.Analyze(in, diagnose.Options{Target: netip.Addr{}, Mode: "icmp", Names: fakeNames})
			out := decodeInto[struct {
				Diagnosis *diagnosisOut `json:"diagnosis"`
			}](t, e.must(http.StatusOK, "GET", windowPath(storedKey, tt.from, tt.to, ""), nil))
			d := out.Diagnosis
			if d == nil {
				t.Fatal("window diagnosis null; want one")
			}
			if d.Evidence.Rounds != tt.wantRounds && want.What != diagnose.NotEnoughData {
				t.Errorf("diagnosis read %d rounds; want %d", d.Evidence.Rounds, tt.wantRounds)
			}
			if d.What != string(want.What) || d.Confidence != string(want.Confidence) || (d.Where != nil) != (want.Where.TTL > 0) ||
				(d.Where != nil && d.Where.TTL != want.Where.TTL) {
				t.Errorf("window diagnosis = %s %s at %+v; want %s %s at hop %d (Analyze over the same rounds)",
					d.What, d.Confidence, d.Where, want.What, want.Confidence, want.Where.TTL)
			}
			if tt.wantRounds < diagnose.DefaultMinRounds && d.What != string(diagnose.NotEnoughData) {
				t.Errorf("window of %d rounds: %s; want not_enough_data", tt.wantRounds, d.What)
			}
		})
	}
}
