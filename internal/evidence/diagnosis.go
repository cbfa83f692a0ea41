package evidence

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/pingerplot/pingerplot/internal/diagnose"
	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// DiagnosisRounds is how many of a window's last rounds its diagnosis
// reads: the live diagnosis's window (diagnose.DefaultWindow), so a past
// window is judged as the dashboard judged it then, and a week's window
// costs no more than a few minutes' to read.
const DiagnosisRounds = diagnose.DefaultWindow

// Diagnose is the diagnosis of the last DiagnosisRounds raw rounds of
// info's target that started in [from, to), by diagnose.Analyze. It reads
// back from to in growing spans, so a long window is not read whole to
// find its last rounds. A window whose rounds are older than the raw
// rounds the store keeps (only per-minute rollups remain) has none, and
// its diagnosis is not_enough_data. names, if set, names the hop it
// places the problem at.
func Diagnose(ctx context.Context, st *history.Store, info history.TargetInfo, from, to time.Time, names func(netip.Addr) string) (diagnose.Diagnosis, error) {
	ring := make([]diagnose.Round, 0, DiagnosisRounds)
	// Twice the rounds' span covers a few pauses; each next try reads
	// four times further back.
	span := 2 * DiagnosisRounds * max(info.Probe.Interval, time.Second)
	for {
		start := to.Add(-span)
		if !start.After(from) {
			start = from
		}
		ring = ring[:0]
		next := 0
		err := st.Rounds(ctx, info.Key, start, to, func(r trace.Round) error {
			dr := diagnose.FromTrace(r)
			if len(ring) < DiagnosisRounds {
				ring = append(ring, dr)
				return nil
			}
			ring[next] = dr
			next = (next + 1) % DiagnosisRounds
			return nil
		})
		if err != nil {
			return diagnose.Diagnosis{}, fmt.Errorf("the rounds of %q: %w", info.Key, err)
		}
		if len(ring) == DiagnosisRounds || start.Equal(from) {
			window := append(ring[next:len(ring):len(ring)], ring[:next]...)
			return diagnose.Analyze(window, diagnose.Options{Target: info.Addr, Mode: info.Probe.Mode, Names: names}), nil
		}
		span *= 4
	}
}
