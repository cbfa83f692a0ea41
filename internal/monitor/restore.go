package monitor

import (
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/hopstat"
)

// restoreState rebuilds a target's state from what a snapshot with
// history and the event log saved (t has its defaults filled). Statistics
// continue from the saved ones (hopstat.Path.Restore); the history,
// percentile windows, route-change windows and the alert window are
// refilled from the saved history; raised alerts come back from the last
// raise or clear of each condition in events.
func restoreState(t Target, names func(netip.Addr) string, hops []Hop, events []Event, rounds int, started time.Time) *state {
	s := newState(t, names)
	s.rounds, s.started = max(rounds, 0), started
	first := s.rounds - t.History // samples of rounds after this are kept

	saved := make([]hopstat.Hop, len(hops))
	recent := make(map[int][]time.Duration)
	type probeAt struct {
		round int
		p     alert.Probe
	}
	var destProbes []probeAt
	byRound := make(map[int][]hopAnswer)
	destByRound := make(map[int]int)
	destTTL := 0
	for i, h := range hops {
		saved[i] = h.Hop
		s.details.Restore(h.TTL, h.Details)
		if h.Reached {
			destTTL = h.TTL
		}
	}
	for _, h := range hops {
		for _, smp := range h.History {
			if smp.Round <= first || smp.Round > s.rounds {
				continue // outside the kept history, or a corrupt round number
			}
			s.times.set(smp.Round, smp.Time)
			if smp.Time.After(s.last) {
				s.last = smp.Time
			}
			s.record(smp.Round, hopstat.Sample{TTL: h.TTL, From: smp.From, RTT: smp.RTT, Lost: smp.Lost,
				Reached: smp.Reached, Refused: smp.Refused && smp.Reached}, nil)
			if !smp.Lost {
				recent[h.TTL] = append(recent[h.TTL], smp.RTT)
			}
			if smp.Round > s.rounds-RouteWindow && !smp.Lost && smp.From.IsValid() {
				byRound[smp.Round] = append(byRound[smp.Round], hopAnswer{TTL: h.TTL, From: smp.From})
			}
			switch {
			case smp.Reached && !smp.Lost:
				s.everAnswered = true
				destByRound[smp.Round] = h.TTL
				destProbes = append(destProbes, probeAt{smp.Round, alert.Probe{RTT: smp.RTT, Refused: smp.Refused}})
			case smp.Lost && h.TTL == destTTL:
				destProbes = append(destProbes, probeAt{smp.Round, alert.Probe{Lost: true}})
			}
		}
	}
	for ttl, v := range recent {
		recent[ttl] = v[max(0, len(v)-s.path.Window):]
	}
	s.path.Restore(s.rounds, saved, recent)
	s.everAnswered = s.everAnswered || s.path.DestTTL() != 0

	// Replay the last RouteWindow rounds through the route rule, quietly:
	// what they showed was reported before the save.
	for _, r := range slices.Sorted(maps.Keys(byRound)) {
		s.routes.observe(r, byRound[r], destByRound[r])
	}

	slices.SortStableFunc(destProbes, func(a, b probeAt) int { return a.round - b.round })
	for _, p := range destProbes {
		s.dest.add(p.p)
		if !p.p.Lost {
			s.refusing = p.p.Refused
		}
	}
	s.res = alert.Evaluate(t.Alert, s.dest.appendTo(nil))

	for _, e := range events {
		switch e.Kind {
		case AlertRaised:
			s.alerts.Set(e.Condition, true, e.Time)
		case AlertCleared:
			s.alerts.Set(e.Condition, false, e.Time)
		case NoAnswerEvent:
			s.noAnswerSaid = true
		}
	}
	if !s.everAnswered {
		s.unanswered = s.rounds
	} else {
		s.noAnswerSaid = false
	}
	return s
}
