package monitor

import (
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

var testDest = netip.MustParseAddr("192.0.2.1")

// parseRound reads a round written as "1.1 * 3.2 D": one token per TTL from
// 1, "x.y" for the router 10.0.x.y, "*" for a lost probe and "D" for the
// destination (whose TTL is the path length).
func parseRound(t *testing.T, s string) (answers []hopAnswer, destTTL int) {
	t.Helper()
	for i, tok := range strings.Fields(s) {
		ttl := i + 1
		switch tok {
		case "*":
			continue
		case "D":
			answers = append(answers, hopAnswer{TTL: ttl, From: testDest})
			destTTL = ttl
			continue
		}
		var x, y byte
		if _, err := fmt.Sscanf(tok, "%d.%d", &x, &y); err != nil {
			t.Fatalf("bad token %q in round %q", tok, s)
		}
		answers = append(answers, hopAnswer{TTL: ttl, From: netip.AddrFrom4([4]byte{10, 0, x, y})})
	}
	return answers, destTTL
}

// routeStep is a run of identical rounds and the events expected from the
// last of them (none from the others).
type routeStep struct {
	round string
	times int // 0 means 1
	want  []string
}

func repeat(round string, n int) routeStep { return routeStep{round: round, times: n} }

func TestRoutes(t *testing.T) {
	const steady = "1.1 2.1 3.1 D"
	tests := []struct {
		name  string
		steps []routeStep
	}{
		{name: "steady_path", steps: []routeStep{repeat(steady, 50)}},
		{name: "reroute_in_round_two", steps: []routeStep{
			repeat(steady, 10),
			{round: "1.1 9.2 9.3 D"}, // round one of the new path: not yet
			{round: "1.1 9.2 9.3 D", want: []string{"hop 2: 10.0.2.1 → 10.0.9.2", "hop 3: 10.0.3.1 → 10.0.9.3"}},
			repeat("1.1 9.2 9.3 D", 40),
		}},
		{name: "single_round_glitch_ignored", steps: []routeStep{
			repeat(steady, 10),
			{round: "1.1 9.2 3.1 D"},
			repeat(steady, 50),
		}},
		{name: "glitch_seen_twice_is_multipath", steps: []routeStep{
			repeat(steady, 10),
			{round: "1.1 9.2 3.1 D"},
			repeat(steady, 5),
			{round: "1.1 9.2 3.1 D", want: []string{"hop 2: multipath, 2 addresses: 10.0.2.1, 10.0.9.2"}},
			repeat(steady, 50),
		}},
		{name: "lost_probes_are_not_changes", steps: []routeStep{
			repeat(steady, 5),
			repeat("1.1 * 3.1 D", 30), // hop 2 stops answering
			repeat("* * * *", 5),      // nothing answers, not even the destination
			repeat(steady, 5),         // hop 2 back, same address
			repeat("1.1 * 3.1 *", 5),
		}},
		{name: "reroute_across_a_lost_probe", steps: []routeStep{
			repeat(steady, 5),
			{round: "1.1 9.2 3.1 D"},
			{round: "1.1 * 3.1 D"},
			{round: "1.1 9.2 3.1 D", want: []string{"hop 2: 10.0.2.1 → 10.0.9.2"}},
		}},
		{name: "new_address_after_long_silence_is_a_change", steps: []routeStep{
			repeat(steady, 5),
			repeat("1.1 * 3.1 D", 30),
			{round: "1.1 9.2 3.1 D"},
			{round: "1.1 9.2 3.1 D", want: []string{"hop 2: 10.0.2.1 → 10.0.9.2"}},
		}},
		{name: "path_longer", steps: []routeStep{
			repeat("1.1 2.1 D", 5),
			{round: "1.1 2.1 3.1 D"},
			{round: "1.1 2.1 3.1 D", want: []string{"hop 3: 192.0.2.1 → 10.0.3.1", "path length 3 → 4 hops"}},
			repeat("1.1 2.1 3.1 D", 30),
		}},
		{name: "path_shorter", steps: []routeStep{
			repeat(steady, 5),
			{round: "1.1 D"},
			{round: "1.1 D", want: []string{"hop 2: 10.0.2.1 → 192.0.2.1", "path length 4 → 2 hops"}},
			repeat("1.1 D", 30),
		}},
		{name: "path_length_alternates", steps: []routeStep{
			repeat(steady, 5),
			{round: "1.1 2.1 3.1 4.1 D"},
			{round: steady},
			{round: "1.1 2.1 3.1 4.1 D", want: []string{"hop 4: multipath, 2 addresses: 192.0.2.1, 10.0.4.1",
				"path length: multipath, 2 lengths: 4, 5 hops"}},
			{round: steady},
			{round: "1.1 2.1 3.1 4.1 D"},
			{round: steady},
		}},
		{name: "slow_flapping_is_a_change_each_time", steps: []routeStep{
			// Slower than RouteWindow: each side is a route of its own.
			repeat(steady, 25),
			{round: "1.1 9.2 3.1 D"},
			{round: "1.1 9.2 3.1 D", want: []string{"hop 2: 10.0.2.1 → 10.0.9.2"}},
			repeat("1.1 9.2 3.1 D", 24),
			{round: steady},
			{round: steady, want: []string{"hop 2: 10.0.9.2 → 10.0.2.1"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r routes
			round := 0
			for i, st := range tt.steps {
				for n := range max(st.times, 1) {
					round++
					answers, dest := parseRound(t, st.round)
					var got []string
					for _, e := range r.observe(round, answers, dest) {
						got = append(got, e.message(nil))
					}
					var want []string
					if n == max(st.times, 1)-1 {
						want = st.want
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("step %d (round %d, %q): events %q; want %q", i, round, st.round, got, want)
					}
				}
			}
		})
	}
}

func ecmpRound(members []string, i int) string {
	return "1.1 " + members[i%len(members)] + " 3.1 D"
}

// TestRoutesECMP drives alternating ECMP members for many rounds and counts
// the events: one multipath message, and one more when a member joins.
func TestRoutesECMP(t *testing.T) {
	var r routes
	var got []string
	round := 0
	run := func(members []string, n int) {
		for i := range n {
			round++
			answers, dest := parseRound(t, ecmpRound(members, i))
			for _, e := range r.observe(round, answers, dest) {
				got = append(got, fmt.Sprintf("round %d: %s", round, e.message(nil)))
			}
		}
	}
	run([]string{"2.1", "2.2"}, 100)
	want := []string{"round 4: hop 2: multipath, 2 addresses: 10.0.2.1, 10.0.2.2"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("100 rounds of 2-way ECMP: events %q; want %q", got, want)
	}
	run([]string{"2.1", "2.2", "2.3"}, 100)
	want = append(want, "round 106: hop 2: multipath, 3 addresses: 10.0.2.1, 10.0.2.2, 10.0.2.3")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("then 100 rounds of 3-way ECMP: events %q; want %q", got, want)
	}
	// Back to one member: the others age out silently; when the set comes
	// back it is news again.
	run([]string{"2.1"}, 50)
	run([]string{"2.1", "2.2"}, 10)
	if len(got) != 3 || !strings.HasSuffix(got[2], "multipath, 2 addresses: 10.0.2.1, 10.0.2.2") {
		t.Errorf("after the set shrank and came back: events %q; want a third, 2-address multipath event", got)
	}
}

// TestRoutesRandomECMPIsQuiet: members chosen at random (per-flow hashing)
// still say multipath once; at most one early route change can precede it,
// when the second member happens to answer twice in a row before the first
// returns.
func TestRoutesRandomECMPIsQuiet(t *testing.T) {
	var r routes
	seq := uint32(12345)
	var events []string
	for round := 1; round <= 1000; round++ {
		seq = seq*1664525 + 1013904223
		members := []string{"2.1", "2.2"}
		answers, dest := parseRound(t, "1.1 "+members[seq>>31]+" 3.1 D")
		for _, e := range r.observe(round, answers, dest) {
			events = append(events, e.message(nil))
		}
	}
	multi := 0
	for _, e := range events {
		if strings.Contains(e, "multipath") {
			multi++
		}
	}
	if multi != 1 || len(events) > 2 {
		t.Errorf("1000 rounds of random 2-way ECMP: events %q; want one multipath event and at most one change", events)
	}
}

func TestRouteMessageNames(t *testing.T) {
	names := func(a netip.Addr) string {
		if a == testDest {
			return "dest.example"
		}
		return ""
	}
	e := routeEvent{Kind: RouteChange, TTL: 3, From: netip.MustParseAddr("10.0.2.1"), To: testDest}
	if got, want := e.message(names), "hop 3: 10.0.2.1 → 192.0.2.1 (dest.example)"; got != want {
		t.Errorf("message = %q; want %q", got, want)
	}
}
