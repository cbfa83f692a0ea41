package pmtu

import (
	"testing"

	"github.com/pingerplot/pingerplot/internal/probe/result"
)

func TestSummary(t *testing.T) {
	tests := []struct {
		p    result.PathMTU
		want string
	}{
		{result.PathMTU{MTU: 1400, Max: 1500, HopTTL: 2, HopAddr: a("10.0.1.2"), Reported: true}, "1400 bytes (drops at hop 2, 10.0.1.2)"},
		{result.PathMTU{MTU: 1400, Max: 1500, HopTTL: 3}, "1400 bytes (drops at hop 3, larger packets meet silence)"},
		{result.PathMTU{MTU: 1400, Max: 1500, Reported: true}, "1400 bytes (drops at an unknown hop)"},
		{result.PathMTU{MTU: 1500, Max: 1500}, "1500 bytes (nothing smaller on the path)"},
		{result.PathMTU{MTU: 1492, Max: 1500, Local: true, Reported: true}, "1492 bytes (this host's interface)"},
		{result.PathMTU{Max: 1500, Err: "no answer"}, "not found: no answer"},
	}
	for _, tt := range tests {
		if got := Summary(tt.p); got != tt.want {
			t.Errorf("Summary(%+v) = %q; want %q", tt.p, got, tt.want)
		}
	}
}
