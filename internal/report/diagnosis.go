package report

import (
	"fmt"
	"io"
	"time"
)

// Diagnosis is the report's reading of the run: what is wrong and where,
// in one sentence, with the numbers behind it (docs/diagnosis.md). It is
// made by package diagnose; the report only carries and prints it.
type Diagnosis struct {
	// What is one of healthy, loss, latency, jitter, route_change,
	// path_broken, destination_silent, not_enough_data.
	What string `json:"what"`
	// Where is the hop the problem starts at (the link into it); absent
	// when the diagnosis names no hop.
	Where *DiagnosisWhere `json:"where,omitempty"`
	// Since is when the problem started; SinceWindowStart says it was
	// there from the run's first round on.
	Since            *time.Time `json:"since,omitempty"`
	SinceWindowStart bool       `json:"since_window_start,omitempty"`
	// Confidence is low, medium or high.
	Confidence string            `json:"confidence"`
	Text       string            `json:"text"`
	Evidence   DiagnosisEvidence `json:"evidence"`
	Hints      []DiagnosisHint   `json:"hints,omitempty"`
}

// DiagnosisWhere places a diagnosis on the path.
type DiagnosisWhere struct {
	TTL    int    `json:"ttl"`
	Addr   string `json:"addr,omitempty"`
	Host   string `json:"host,omitempty"`
	ASN    uint32 `json:"asn,omitempty"`
	ASName string `json:"as_name,omitempty"`
	// FromTTL is the last clean hop before it, the other end of the link
	// (0: this host); only for loss, latency and jitter.
	FromTTL int `json:"from_ttl"`
}

// DiagnosisEvidence is what the diagnosis compared: the probes before the
// point it names (an earlier hop, or the same place earlier) and after it.
type DiagnosisEvidence struct {
	Rounds    int             `json:"rounds"`
	Before    *DiagnosisGroup `json:"before,omitempty"`
	After     *DiagnosisGroup `json:"after,omitempty"`
	Test      string          `json:"test,omitempty"`
	Statistic float64         `json:"statistic"`
}

// DiagnosisGroup is one side of the comparison.
type DiagnosisGroup struct {
	Label    string   `json:"label"`
	Sent     int      `json:"sent"`
	Lost     int      `json:"lost"`
	LossPct  float64  `json:"loss_pct"`
	Replies  int      `json:"replies"`
	MedianMs *float64 `json:"median_ms"`
	SpreadMs *float64 `json:"spread_ms"`
}

// DiagnosisHint is a remark on one hop: "rate-limits replies", "does not
// answer", "loss carried to the destination" or "latency step".
type DiagnosisHint struct {
	TTL      int    `json:"ttl"`
	Addr     string `json:"addr,omitempty"`
	Hint     string `json:"hint"`
	Evidence string `json:"evidence"`
}

// writeDiagnosis prints the summary line under the table, then one line
// per hint.
func writeDiagnosis(w io.Writer, d *Diagnosis) error {
	if d == nil {
		return nil
	}
	if _, err := fmt.Fprintf(w, "Diagnosis (%s confidence): %s\n", d.Confidence, d.Text); err != nil {
		return err
	}
	for _, h := range d.Hints {
		if _, err := fmt.Fprintf(w, "  hop %d %s: %s\n", h.TTL, h.Hint, h.Evidence); err != nil {
			return err
		}
	}
	return nil
}
