package evidence

import (
	"maps"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/diagnose"
	"github.com/pingerplot/pingerplot/internal/history"
)

// pathData is a window of one hop table, without series.
func pathData(hs []hop) Data {
	d := fixture()
	d.Series = nil
	d.Hops = reportHops(hs)
	d.Summary.DestTTL = 0
	for _, h := range hs {
		if h.dest {
			d.Summary.DestTTL = h.ttl
			d.Summary.Dest = history.Dest{TTL: h.ttl, Sent: 1000, Lost: int(h.loss * 10), LossPct: h.loss}
		}
	}
	if d.Summary.DestTTL == 0 {
		d.Summary.Dest = history.Dest{}
	}
	return d
}

func TestAnalyse(t *testing.T) {
	tests := []struct {
		name      string
		hops      []hop
		rounds    int // 0: the fixture's
		lossStart int
		stepAt    int
		own       []int
		says      []string // each must appear in one sentence
	}{
		{
			name:   "clean path",
			hops:   []hop{{1, "10.0.0.1", 0, 1, false}, {2, "10.0.1.1", 0, 5, false}, {3, "192.0.2.1", 0, 6, true}},
			says:   []string{"below what this summary calls notable (1 % and more than one probe)"},
			own:    nil,
			stepAt: 0,
		},
		{
			name:      "loss from the first hop on",
			hops:      []hop{{1, "10.0.0.1", 5, 1, false}, {2, "10.0.1.1", 6, 5, false}, {3, "192.0.2.1", 5, 6, true}},
			lossStart: 1,
			says:      []string{"already there at hop 1 (10.0.0.1), the first hop that answers", "at least 5 %"},
		},
		{
			name: "a router rate-limits its replies, the destination is clean",
			hops: []hop{{1, "10.0.0.1", 0, 1, false}, {2, "10.0.1.1", 0, 5, false}, {3, "10.0.2.1", 40, 6, false},
				{4, "192.0.2.1", 0, 7, true}},
			own:  []int{3},
			says: []string{"Hop 3 (10.0.2.1) shows 40 % loss, but later hops show as little as 0 %: that router is rate-limiting its own replies"},
		},
		{
			name: "hop 3 loses its own replies: the loss begins between hop 2 and hop 4",
			hops: []hop{{1, "10.0.0.1", 0, 1, false}, {2, "10.0.1.1", 0, 5, false}, {3, "10.0.2.1", 30, 6, false},
				{4, "10.0.3.1", 10, 7, false}, {5, "192.0.2.1", 10, 8, true}},
			lossStart: 4,
			own:       []int{3},
			says: []string{"The loss that reaches the destination begins between hop 2 and hop 4. Hop 3 in between limits its own replies",
				"Hop 3 (10.0.2.1) shows 30 % loss, more than the 10 % that carries on to later hops"},
		},
		{
			name:      "no clean hop before the loss: it is there from the first hop",
			hops:      []hop{{1, "10.0.0.1", 30, 1, false}, {2, "10.0.1.1", 10, 5, false}, {3, "192.0.2.1", 10, 8, true}},
			lossStart: 1,
			own:       []int{1},
			says:      []string{"already there at hop 1 (10.0.0.1), the first hop that answers", "Hop 1 (10.0.0.1) shows 30 % loss, more than the 10 %"},
		},
		{
			name: "a hop at the start that loses more than carries on still starts it",
			hops: []hop{{1, "10.0.0.1", 0, 1, false}, {2, "10.0.1.1", 10, 5, false}, {3, "10.0.2.1", 30, 6, false},
				{4, "192.0.2.1", 10, 8, true}},
			lossStart: 2,
			own:       []int{3},
			says:      []string{"first seen at hop 2: it begins between hop 1 and hop 2", "Hop 3 (10.0.2.1) shows 30 % loss, more than the 10 %"},
		},
		{
			name: "loss at hop 2 does not carry, loss from hop 4 does",
			hops: []hop{{1, "10.0.0.1", 0, 1, false}, {2, "10.0.1.1", 25, 5, false}, {3, "10.0.2.1", 0, 6, false},
				{4, "10.0.3.1", 8, 7, false}, {5, "192.0.2.1", 7, 8, true}},
			lossStart: 4,
			own:       []int{2},
			says:      []string{"Hop 3 (10.0.2.1) loses 0 %; from hop 4 (10.0.3.1) on, every hop that answers loses at least 7 %, and the destination 7 %"},
		},
		{
			name: "one lost probe is not notable",
			hops: []hop{{1, "10.0.0.1", 0, 1, false}, {2, "192.0.2.1", 0.1, 6, true}},
			says: []string{"below what this summary calls notable"},
		},
		{
			name: "a silent router with answering hops after it",
			hops: []hop{{1, "10.0.0.1", 0, 1, false}, {2, "", 100, 0, false}, {3, "192.0.2.1", 0, 6, true}},
			own:  []int{2},
			says: []string{"Hop 2 never answered, yet later hops did"},
		},
		{
			name: "a latency step that persists to the destination",
			hops: []hop{{1, "10.0.0.1", 0, 1, false}, {2, "10.0.1.1", 0, 2, false}, {3, "10.0.2.1", 0, 40, false},
				{4, "10.0.3.1", 0, 41, false}, {5, "192.0.2.1", 0, 39, true}},
			stepAt: 3,
			says:   []string{"Latency rises by 38.0 ms from hop 2 (10.0.1.1, 2.0 ms) to hop 3 (10.0.2.1, 40.0 ms)"},
		},
		{
			name: "a slow router whose delay does not carry on",
			hops: []hop{{1, "10.0.0.1", 0, 1, false}, {2, "10.0.1.1", 0, 2, false}, {3, "10.0.2.1", 0, 90, false},
				{4, "10.0.3.1", 0, 3, false}, {5, "192.0.2.1", 0, 4, true}},
		},
		{
			name: "a step smaller than 20 ms is not mentioned",
			hops: []hop{{1, "10.0.0.1", 0, 1, false}, {2, "10.0.1.1", 0, 15, false}, {3, "192.0.2.1", 0, 16, true}},
		},
		{
			name: "the destination never answers",
			hops: []hop{{1, "10.0.0.1", 0, 1, false}, {2, "10.0.1.1", 0, 2, false}, {3, "", 100, 0, false}, {4, "", 100, 0, false}},
			says: []string{"The destination did not answer any probe in this window. The last hop that answered is hop 2 (10.0.1.1)"},
		},
		{
			name: "nothing answers",
			hops: []hop{{1, "", 100, 0, false}, {2, "", 100, 0, false}},
			says: []string{"Nothing answered"},
		},
		{
			name:   "no rounds",
			hops:   nil,
			rounds: -1,
			says:   []string{"No round of example.net was recorded between 2026-12-03 20:00:00 and 2026-12-03 22:00:00"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := pathData(tt.hops)
			if tt.rounds < 0 {
				d.Summary.Rounds = 0
			}
			f := analyse(d)
			if f.LossStart != tt.lossStart {
				t.Errorf("LossStart = %d; want %d", f.LossStart, tt.lossStart)
			}
			if f.StepAt != tt.stepAt {
				t.Errorf("StepAt = %d; want %d", f.StepAt, tt.stepAt)
			}
			if got := slices.Sorted(maps.Keys(f.Own)); !slices.Equal(got, tt.own) && len(got)+len(tt.own) > 0 {
				t.Errorf("Own = %v; want %v", got, tt.own)
			}
			all := strings.Join(f.Sentences, "\n")
			for _, want := range tt.says {
				if !strings.Contains(all, want) {
					t.Errorf("summary lacks %q; got:\n%s", want, all)
				}
			}
			if tt.stepAt == 0 && strings.Contains(all, "Latency rises") {
				t.Errorf("summary claims a latency step; got:\n%s", all)
			}
			if tt.lossStart == 0 && strings.Contains(all, "first seen at hop") {
				t.Errorf("summary places loss; got:\n%s", all)
			}
			// Every path renders whole, series or not.
			out := render(t, d)
			for _, id := range Sections {
				if !strings.Contains(out, `<section id="`+id+`">`) {
					t.Errorf("the file of this path lacks section %q", id)
				}
			}
		})
	}
}

func TestStepFor(t *testing.T) {
	tests := []struct {
		window, interval, want time.Duration
	}{
		{24 * time.Hour, time.Second, 288 * time.Second},
		{5 * time.Minute, time.Second, time.Second},
		{5 * time.Minute, 5 * time.Second, 5 * time.Second},
		{time.Minute, 100 * time.Millisecond, time.Second},
		{2 * time.Hour, time.Second, 24 * time.Second},
	}
	for _, tt := range tests {
		if got := StepFor(tt.window, tt.interval); got != tt.want {
			t.Errorf("StepFor(%v, %v) = %v; want %v", tt.window, tt.interval, got, tt.want)
		}
	}
}

func TestTimeTicks(t *testing.T) {
	// A zone 5:30 from UTC: ticks are round in its wall time.
	zone := time.FixedZone("IST", 5*3600+1800)
	from := time.Date(2026, 12, 3, 20, 7, 0, 0, zone)
	ticks := timeTicks(from, from.Add(2*time.Hour))
	var got []string
	for _, tk := range ticks {
		got = append(got, tk.Format("15:04"))
	}
	want := []string{"20:15", "20:30", "20:45", "21:00", "21:15", "21:30", "21:45", "22:00"}
	if !slices.Equal(got, want) {
		t.Errorf("timeTicks = %v; want %v", got, want)
	}
}

// TestAnalyseReadsTheDiagnosis: with a diagnosis of the window, the
// summary's conclusion is its sentence and the places the file marks are
// its own (loss start, rate-limited and silent hops, a latency step);
// the hop-table rules say nothing of their own then. A diagnosis without
// enough data (a window of per-minute rollups) leaves the hop-table rules
// to speak.
func TestAnalyseReadsTheDiagnosis(t *testing.T) {
	ip := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	dg := diagnose.Diagnosis{What: diagnose.Loss, Confidence: diagnose.High,
		Where:    diagnose.Where{TTL: 5, Addr: ip("198.51.100.77"), From: 3},
		Text:     "10% of probes are lost on the way to the destination; the loss starts on the link into hop 5.",
		Evidence: diagnose.Evidence{Rounds: 300},
		Hints: []diagnose.Hint{
			{TTL: 2, Addr: ip("100.64.0.1"), Kind: diagnose.HintRateLimited, Evidence: "lost 90 of 300 (30%)"},
			{TTL: 5, Addr: ip("198.51.100.77"), Kind: diagnose.HintCarried, Evidence: "lost 30 of 300"},
			{TTL: 3, Addr: ip("203.0.113.9"), Kind: diagnose.HintLatencyStep, Evidence: "+8 ms here"},
		}}
	tests := []struct {
		name      string
		dg        *diagnose.Diagnosis
		lossStart int
		stepAt    int
		own       []int
		says      []string
		never     []string
	}{
		{"the diagnosis speaks", &dg, 5, 3, []int{2},
			[]string{"Diagnosis (high confidence, from the last 300 rounds of the window): " + dg.Text, "Hop 2 rate-limits its replies (lost 90 of 300 (30%))", "Hop 3 adds latency"},
			[]string{"is first seen at hop", "is rate-limiting its own replies, as many do"}},
		{"not enough data: the hop table speaks", &diagnose.Diagnosis{What: diagnose.NotEnoughData, Text: "Not enough data yet."}, 4, 0, []int{2},
			[]string{"first seen at hop 4"}, []string{"Diagnosis ("}},
		{"no diagnosis: the hop table speaks", nil, 4, 0, []int{2}, []string{"first seen at hop 4"}, []string{"Diagnosis ("}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := fixture()
			d.Diagnosis = tt.dg
			f := analyse(d)
			all := strings.Join(f.Sentences, "\n")
			if f.LossStart != tt.lossStart || f.StepAt != tt.stepAt {
				t.Errorf("loss start %d, step at %d; want %d, %d\n%s", f.LossStart, f.StepAt, tt.lossStart, tt.stepAt, all)
			}
			if got := slices.Sorted(maps.Keys(f.Own)); !slices.Equal(got, tt.own) {
				t.Errorf("own-reply hops %v; want %v", got, tt.own)
			}
			for _, w := range tt.says {
				if !strings.Contains(all, w) {
					t.Errorf("the summary does not say %q:\n%s", w, all)
				}
			}
			for _, w := range tt.never {
				if strings.Contains(all, w) {
					t.Errorf("the summary says %q; want the other source's words only:\n%s", w, all)
				}
			}
		})
	}
}
