package recorder

import (
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
)

// TestSummaryPathFor: each stop leaves its own summary, named by target
// and time, so a later run keeps the earlier ones and targets sharing a
// probe log keep theirs apart.
func TestSummaryPathFor(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		log  string
		id   monitor.ID
		at   time.Time
		want string
	}{
		{"logs/dns.csv", "dns", at, "logs/dns.summary.dns.20260304T040607Z.csv"},
		{"logs/dns.csv", "dns", at.Add(time.Hour), "logs/dns.summary.dns.20260304T050607Z.csv"},
		{"logs/all.csv", "web / api:443", at, "logs/all.summary.web___api_443.20260304T040607Z.csv"},
		{"logs/raw", "8.8.8.8", at, "logs/raw.summary.8.8.8.8.20260304T040607Z.csv"},
	}
	for _, tt := range tests {
		if got := SummaryPathFor(tt.log, tt.id, tt.at); got != tt.want {
			t.Errorf("SummaryPathFor(%q, %q, %v) = %q; want %q", tt.log, tt.id, tt.at, got, tt.want)
		}
	}
}
