package evidence

import (
	"net/netip"
	"testing"
	"time"
)

func TestZoneText(t *testing.T) {
	tests := []struct {
		zone *time.Location
		want string
	}{
		{time.FixedZone("CET", 3600), "CET, UTC+01:00"},
		{time.FixedZone("IST", 5*3600+1800), "IST, UTC+05:30"},
		{time.FixedZone("NST", -(3*3600 + 1800)), "NST, UTC-03:30"},
		{time.UTC, "UTC, UTC+00:00"},
	}
	for _, tt := range tests {
		now := time.Date(2026, 12, 4, 10, 0, 0, 0, tt.zone)
		if got := ZoneText(now); got != tt.want {
			t.Errorf("ZoneText(%v) = %q; want %q", tt.zone, got, tt.want)
		}
	}
}

// TestVantage: the source address toward loopback is loopback; an
// invalid destination is unknown. Nothing is sent either way.
func TestVantage(t *testing.T) {
	tests := []struct {
		dst  netip.Addr
		want string
	}{
		{netip.MustParseAddr("127.0.0.1"), "127.0.0.1"},
		{netip.Addr{}, "unknown"},
	}
	for _, tt := range tests {
		if got := Vantage(tt.dst); got != tt.want {
			t.Errorf("Vantage(%v) = %q; want %q", tt.dst, got, tt.want)
		}
	}
}
