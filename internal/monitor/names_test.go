package monitor

import (
	"net/netip"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe/probetest"
)

// testNames names every address r-<addr>.example, as a reverse-DNS cache
// that knows them all would; it never touches the network.
func testNames(a netip.Addr) string { return "r-" + a.String() + ".example" }

// TestStateNoNamesMessages: the same route change is worded with names
// for a target that allows them and without for one with NoNames, though
// both states have the monitor's lookup.
func TestStateNoNamesMessages(t *testing.T) {
	named := newState(testTarget(t, Settings{}), testNames)
	plain := newState(testTarget(t, Settings{NoNames: true}), testNames)
	var got [2][]string
	for i, s := range []*state{named, plain} {
		fold(t, s, 3, "1.1:1 2.1:2 D:3")
		got[i] = fold(t, s, 2, "1.1:1 9.1:2 D:3")
	}
	want := [2][]string{
		{"round 5: route_change: hop 2: 10.0.2.1 (r-10.0.2.1.example) → 10.0.9.1 (r-10.0.9.1.example)"},
		{"round 5: route_change: hop 2: 10.0.2.1 → 10.0.9.1"},
	}
	if !slices.Equal(got[0], want[0]) {
		t.Errorf("names on: events %q; want %q", got[0], want[0])
	}
	if !slices.Equal(got[1], want[1]) {
		t.Errorf("NoNames: events %q; want %q", got[1], want[1])
	}
}

func TestSettingsNames(t *testing.T) {
	if f := (Settings{}).Names(testNames); f == nil || f(testDest) != testNames(testDest) {
		t.Errorf("Names with names on did not return the lookup")
	}
	if f := (Settings{NoNames: true}).Names(testNames); f != nil {
		t.Errorf("Names with NoNames = a lookup; want nil (no names)")
	}
}

// TestUpdateNoNamesAtOnce: switching names takes effect at once, in the
// snapshot and Targets, logs no settings-changed event, and the event
// messages that follow drop the names; an engine change with it still
// logs one event that does not mention names.
func TestUpdateNoNamesAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2), ms(3))
		h := startWith(t, Config{Prober: net, Names: testNames})

		id := h.add(pathTarget(net, Settings{Interval: time.Second}))
		time.Sleep(spread(id, time.Second) + 4*time.Second + ms(500)) // rounds 1-5
		first := slices.Clone(net.Hops)
		first[1].Addr = netip.MustParseAddr("10.9.2.1")
		h.setHops(net, id, first)
		time.Sleep(3 * time.Second) // rounds 6-8: a change with names

		if err := h.m.Update(id, Settings{Interval: time.Second, NoNames: true}); err != nil {
			t.Fatal(err)
		}
		if sn, _ := h.m.Snapshot(id, false); !sn.NoNames {
			t.Errorf("snapshot right after the update has NoNames false; want true at once")
		}
		if sn, _ := h.m.Snapshot(id, true); !sn.NoNames {
			t.Errorf("snapshot with history right after the update has NoNames false; want true at once")
		}
		if ts := h.m.Targets(); !ts[0].NoNames {
			t.Errorf("Targets() right after the update has NoNames false; want true")
		}
		second := slices.Clone(first)
		second[1].Addr = netip.MustParseAddr("10.8.2.1")
		h.setHops(net, id, second)
		time.Sleep(3 * time.Second) // rounds 9-11: a change without names

		// An engine change together with names back on: one event, about
		// the engine only.
		if err := h.m.Update(id, Settings{Interval: 2 * time.Second}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second)
		h.finish()

		got := h.events(id, RouteChange)
		want := []string{
			"round 7: hop 2: 10.0.2.1 (r-10.0.2.1.example) → 10.9.2.1 (r-10.9.2.1.example)",
			"round 10: hop 2: 10.9.2.1 → 10.8.2.1",
		}
		if !slices.Equal(got, want) {
			t.Errorf("route events %q; want %q", got, want)
		}
		if got, want := h.events(id, SettingsChanged), []string{"round 11: settings: interval 1s → 2s"}; !slices.Equal(got, want) {
			t.Errorf("settings events %q; want %q (names alone make none)", got, want)
		}
		if sn, _ := h.m.Snapshot(id, false); sn.NoNames || sn.Interval != 2*time.Second {
			t.Errorf("final snapshot NoNames %v, interval %v; want false, 2s", sn.NoNames, sn.Interval)
		}
	})
}
