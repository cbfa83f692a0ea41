package monitor

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe/probetest"
)

// TestTarget: Target finds a target by ID with the settings last asked
// for, and reports a removed or never added ID as absent.
func TestTarget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2))
		h := start(t, net)
		kept := h.add(pathTarget(net, Settings{Interval: time.Second}))
		gone := h.add(pathTarget(net, Settings{Interval: time.Second}))
		if err := h.m.Update(kept, Settings{Interval: 5 * time.Second}); err != nil {
			t.Fatal(err)
		}
		if err := h.m.Remove(gone); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			id           ID
			wantOK       bool
			wantInterval time.Duration
		}{
			{kept, true, 5 * time.Second},
			{gone, false, 0},
			{"never-added", false, 0},
		} {
			got, ok := h.m.Target(tc.id)
			if ok != tc.wantOK || got.Interval != tc.wantInterval || (ok && got.ID != tc.id) {
				t.Errorf("Target(%q) = ID %q interval %v, %v; want ID %q interval %v, %v",
					tc.id, got.ID, got.Interval, ok, tc.id, tc.wantInterval, tc.wantOK)
			}
		}
		h.finish()
	})
}
