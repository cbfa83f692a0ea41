package monitor

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// unsentRound is a round of n probes the local system refused.
func unsentRound(start time.Time, n int, err error) trace.Round {
	r := trace.Round{Start: start, End: start}
	for ttl := 1; ttl <= n; ttl++ {
		r.Hops = append(r.Hops, trace.Hop{TTL: ttl, Reply: probe.Reply{Kind: probe.Failed, Err: err}})
	}
	return r
}

// TestStateCannotSend: rounds the local system refused are not a silent
// destination nor loss: the target is cannot-send, one event names the
// cause, another says when probes leave again, and no alert is raised.
func TestStateCannotSend(t *testing.T) {
	noRoute := errors.New("send to 192.0.2.9: no route to that network from this host (check the routing table): network is unreachable")
	s := newState(testTarget(t, Settings{Alert: alert.Rules{LossPct: 10, Window: 3}}), nil)
	var got []string
	for range 10 {
		r := unsentRound(t0.Add(time.Duration(s.rounds)*time.Minute), 30, noRoute)
		_, events := s.apply(r.End, r)
		for _, e := range events {
			got = append(got, fmt.Sprintf("round %d: %s: %s", s.rounds, e.Kind, e.Message))
		}
	}
	want := []string{"round 1: send_failed: no probe could be sent, the local system refused them: " + noRoute.Error()}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("10 refused rounds: events %q; want %q", got, want)
	}
	if snap := s.snapshot(false); snap.State != CannotSend || snap.Dest.Active != nil || snap.Dest.Sent != 0 {
		t.Errorf("refused rounds: state %v, dest %+v; want cannot-send, no probes in the window, no alert", snap.State, snap.Dest)
	}
	got = fold(t, s, 3, "1.1:1 2.1:2 D:10")
	if want := []string{"round 11: send_resumed: probes are sent again"}; !reflect.DeepEqual(got, want) {
		t.Errorf("once probes leave: events %q; want %q", got, want)
	}
	if snap := s.snapshot(false); snap.State != Running || snap.Dest.LossPct != 0 {
		t.Errorf("after: state %v, loss %.0f%%; want running, 0%% (refused rounds are not loss)", snap.State, snap.Dest.LossPct)
	}
}
