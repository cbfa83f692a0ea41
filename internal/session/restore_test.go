package session

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
)

// TestRestoreIntoMonitor restores the golden session into a real monitor
// and saves it again: the hops, history and events must come back as
// saved, so a session survives save → load → restore → save.
func TestRestoreIntoMonitor(t *testing.T) {
	s, err := Load(bytes.NewReader([]byte(goldenText(t))))
	if err != nil {
		t.Fatal(err)
	}
	m := monitor.New(monitor.Config{}) // never Run: no prober needed
	defer m.Close()
	var snaps []monitor.Snapshot
	events := map[monitor.ID][]monitor.Event{}
	for _, a := range s.Targets() {
		id, err := m.Restore(a.Target, a.Hops, a.Events, a.Rounds, a.Started)
		if err != nil {
			t.Fatalf("Restore(%s): %v", a.Target.ID, err)
		}
		if id != a.Target.ID {
			t.Errorf("Restore gave ID %q; want %q", id, a.Target.ID)
		}
		snap, ok := m.Snapshot(id, true)
		if !ok {
			t.Fatalf("no snapshot of %s", id)
		}
		snaps = append(snaps, snap)
		events[id] = m.Events(id)
	}
	back := FromMonitor(snaps, events)
	for i, r := range back.Records {
		want := s.Records[i]
		if r.Target.ID != want.Target.ID || r.Target.Addr != want.Target.Addr || r.Rounds != want.Rounds || !r.Started.Equal(want.Started) {
			t.Errorf("target %d = %s %v, %d rounds since %v; want %s %v, %d since %v", i,
				r.Target.ID, r.Target.Addr, r.Rounds, r.Started, want.Target.ID, want.Target.Addr, want.Rounds, want.Started)
		}
		if !reflect.DeepEqual(r.Target.Settings, want.Target.Settings) {
			t.Errorf("%s settings = %+v; want %+v", r.Target.ID, r.Target.Settings, want.Target.Settings)
		}
		if !reflect.DeepEqual(normal(r.Hops), normal(want.Hops)) {
			t.Errorf("%s hops after restore:\n got %+v\nwant %+v", r.Target.ID, r.Hops, want.Hops)
		}
		for j := range r.Events {
			r.Events[j].Seq = 0 // numbered by the monitor; not saved
		}
		if !reflect.DeepEqual(r.Events, want.Events) {
			t.Errorf("%s events after restore:\n got %+v\nwant %+v", r.Target.ID, r.Events, want.Events)
		}
	}
	if _, err := Load(bytes.NewReader(save(t, back))); err != nil {
		t.Errorf("a restored monitor's session does not load: %v", err)
	}
}

// normal makes empty slices nil, which the monitor and Load write
// differently and which mean the same, and rounds percentiles to the
// microsecond a session keeps (the monitor recomputes them from history).
func normal(hops []monitor.Hop) []monitor.Hop {
	out := make([]monitor.Hop, len(hops))
	for i, h := range hops {
		h.Stats.P50, h.Stats.P95 = h.Stats.P50.Round(time.Microsecond), h.Stats.P95.Round(time.Microsecond)
		if len(h.Responders) == 0 {
			h.Responders = nil
		}
		if len(h.History) == 0 {
			h.History = nil
		}
		out[i] = h
	}
	return out
}
