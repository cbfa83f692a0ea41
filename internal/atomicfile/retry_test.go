package atomicfile

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestRetryRename(t *testing.T) {
	busy := errors.New("busy")
	other := errors.New("no such directory")
	ms := time.Millisecond
	// allWaits is the schedule of a rename that stays busy: doubling
	// from 5 ms, capped at 250 ms, the last wait cut to end at 2 s.
	allWaits := []time.Duration{5 * ms, 10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 250 * ms, 250 * ms, 250 * ms, 250 * ms, 250 * ms, 250 * ms, 185 * ms}
	for _, tc := range []struct {
		name      string
		errs      []error // what successive renames return; then nil
		wantErr   error
		wantCalls int
		wantWaits []time.Duration
	}{
		{"succeeds at once", nil, nil, 1, nil},
		{"a reader lets go", []error{busy, busy, busy}, nil, 4, []time.Duration{5 * ms, 10 * ms, 20 * ms}},
		{"another error is not retried", []error{other}, other, 1, nil},
		{"busy then another error", []error{busy, other}, other, 2, []time.Duration{5 * ms}},
		{"busy for longer than the budget", slices.Repeat([]error{busy}, 100), busy, len(allWaits) + 1, allWaits},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			var waits []time.Duration
			rename := func() error {
				calls++
				if calls <= len(tc.errs) {
					return tc.errs[calls-1]
				}
				return nil
			}
			err := retryRename(rename, func(err error) bool { return err == busy }, func(d time.Duration) { waits = append(waits, d) })
			if err != tc.wantErr {
				t.Errorf("error = %v; want %v", err, tc.wantErr)
			}
			if calls != tc.wantCalls {
				t.Errorf("renames = %d; want %d", calls, tc.wantCalls)
			}
			if !slices.Equal(waits, tc.wantWaits) {
				t.Errorf("waits = %v; want %v", waits, tc.wantWaits)
			}
			var total time.Duration
			for _, w := range waits {
				total += w
			}
			if total > renameBudget {
				t.Errorf("waited %v in all; want at most %v", total, renameBudget)
			}
		})
	}
}
