package web

import (
	"github.com/pingerplot/pingerplot/internal/monitor"
	"testing"
	"testing/synctest"
	"time"
)

// TestStatusCountsDropsPerSubscriber: a subscriber that never reads has
// its drops counted under its own name in GET /api/status, apart from the
// page stream's subscriber, which keeps up.
func TestStatusCountsDropsPerSubscriber(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		// Never read: everything past its 2 slots is dropped.
		e.mon.SubscribeWith(monitor.SubscriberConfig{Name: "stuck", Buffer: 2})
		e.start()
		sum := e.add("dest.example", nil)
		e.waitRounds(sum.ID, 6, time.Minute)
		synctest.Wait()
		st := decodeInto[statusJSON](t, e.must(200, "GET", "/api/status", nil))
		got := map[string]uint64{}
		for _, s := range st.Subscribers {
			got[s.Name] = s.Dropped
		}
		if got["stuck"] == 0 {
			t.Errorf("stuck subscriber dropped %d; want > 0 (status %+v)", got["stuck"], st)
		}
		if d, ok := got["web"]; !ok || d != 0 {
			t.Errorf("web subscriber: dropped %d, listed %v; want listed with 0", d, ok)
		}
		if st.Dropped < got["stuck"] || st.Rounds < 6 || st.Targets != 1 {
			t.Errorf("status %+v; want 1 target, at least 6 rounds, total drops ≥ the stuck one's", st)
		}
	})
}
