package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestDiagnosisInTextAndJSON(t *testing.T) {
	m := 10.5
	since := time.Date(2026, 7, 1, 12, 0, 5, 0, time.UTC)
	d := &Diagnosis{What: "loss", Where: &DiagnosisWhere{TTL: 4, Addr: "10.0.3.2", FromTTL: 3}, Since: &since,
		Confidence: "high", Text: "25% of probes are lost on the way to the destination.",
		Evidence: DiagnosisEvidence{Rounds: 60, Before: &DiagnosisGroup{Label: "hop 3", Sent: 60},
			After: &DiagnosisGroup{Label: "destination", Sent: 60, Lost: 15, LossPct: 25, Replies: 45, MedianMs: &m},
			Test:  "two-proportion z", Statistic: 4.14},
		Hints: []DiagnosisHint{{TTL: 2, Addr: "10.0.1.2", Hint: "rate-limits replies", Evidence: "lost 40 of 60"}}}
	for _, tc := range []struct {
		name string
		rep  Report
		want []string // lines the text must hold, in order; nil: no diagnosis line
	}{
		{"reached", Report{Mode: "icmp", Reached: true, Diagnosis: d},
			[]string{"Diagnosis (high confidence): 25% of probes are lost on the way to the destination.", "  hop 2 rate-limits replies: lost 40 of 60"}},
		{"not reached", Report{Mode: "icmp", Addr: "10.0.4.2", Diagnosis: &Diagnosis{What: "destination_silent", Confidence: "medium", Text: "It drops them."}},
			[]string{"Destination 10.0.4.2 did not answer ICMP probes.", "Diagnosis (medium confidence): It drops them."}},
		{"none", Report{Mode: "icmp", Reached: true}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteText(&b, tc.rep); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if tc.want == nil && strings.Contains(out, "Diagnosis") {
				t.Errorf("text has a diagnosis line without a diagnosis:\n%s", out)
			}
			at := 0
			for _, w := range tc.want {
				i := strings.Index(out[at:], w+"\n")
				if i < 0 {
					t.Fatalf("text lacks %q after offset %d:\n%s", w, at, out)
				}
				at += i + len(w)
			}
			b.Reset()
			if err := WriteJSON(&b, tc.rep); err != nil {
				t.Fatal(err)
			}
			var back Report
			if err := json.Unmarshal(b.Bytes(), &back); err != nil {
				t.Fatal(err)
			}
			if (back.Diagnosis == nil) != (tc.rep.Diagnosis == nil) {
				t.Fatalf("diagnosis after a JSON round trip: %+v; want %+v", back.Diagnosis, tc.rep.Diagnosis)
			}
			if back.Diagnosis != nil && (back.Diagnosis.What != tc.rep.Diagnosis.What || back.Diagnosis.Text != tc.rep.Diagnosis.Text) {
				t.Errorf("diagnosis after a JSON round trip: %+v; want %+v", back.Diagnosis, tc.rep.Diagnosis)
			}
		})
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, Report{Diagnosis: d}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"diagnosis": {`, `"what": "loss"`, `"ttl": 4`, `"from_ttl": 3`, `"confidence": "high"`, `"statistic": 4.14`, `"hint": "rate-limits replies"`, `"since": "2026-07-01T12:00:05Z"`} {
		if !strings.Contains(b.String(), key) {
			t.Errorf("JSON lacks %s:\n%s", key, b.String())
		}
	}
}
