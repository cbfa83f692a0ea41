package diagnose

import (
	"testing"
	"time"
)

// BenchmarkAnalyzeFullWindow is Analyze called directly on a full window
// of the Watcher's benchmark path (BenchmarkWatcherFullWindow): the
// public entry, which allocates its own buffers on every call.
func BenchmarkAnalyzeFullWindow(b *testing.B) {
	hs := addJitter(path(4), 1, 500*time.Microsecond)
	hs = with(hs, 2, func(h *simHop) { h.replyLoss = 0.01 })
	rounds := simulate(1, DefaultWindow, phase{0, hs})
	opt := Options{Target: hs[3].addr, Mode: "icmp", EverAnswered: true}
	b.ReportAllocs()
	for b.Loop() {
		Analyze(rounds, opt)
	}
}
