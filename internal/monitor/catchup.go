package monitor

import (
	"fmt"

	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// What a durable subscriber (a log, a notifier, a history store) needs to
// catch up after its channel overflowed: the rounds and events it missed,
// as far as the monitor still holds them, and a way to write down what it
// could not get back.

// Rounds returns id's rounds first..last (inclusive) that its history
// still holds whole, oldest first: the most recent Settings.History
// rounds. They are rebuilt from the history, so each probe has its TTL,
// reply kind, responder and RTT (and Closed), but no send time (Sent is
// zero: the round's Start stands for it), no error and no MPLS labels, and
// the round's End is unknown (zero). A round older than the history is
// not returned: the caller records the gap. It fails only for an unknown
// target.
func (m *Monitor) Rounds(id ID, first, last int) ([]trace.Round, error) {
	tg, err := m.target(id)
	if err != nil {
		return nil, err
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.state.rebuild(first, last), nil
}

// rebuild returns the rounds first..last that every hop's history holds.
// A hop's ring keeps its last History samples and a round adds at most
// one per hop, so the last History rounds are whole in every ring.
func (s *state) rebuild(first, last int) []trace.Round {
	first = max(first, s.rounds-s.target.History+1, 1)
	last = min(last, s.rounds)
	if first > last {
		return nil
	}
	out := make([]trace.Round, last-first+1)
	for i := range out {
		out[i].Index = first + i
		out[i].Start = s.times.at(first + i)
	}
	for i := range s.hist {
		h := &s.hist[i]
		h.ordered(func(sl slot) {
			r := int(sl.round)
			if r < first || r > last {
				return
			}
			rep := probe.Reply{Kind: sl.replyKind(), RTT: sl.duration(), Closed: sl.flags&slotClosed != 0}
			if sl.addr != 0 {
				rep.From = h.addrs[sl.addr-1]
			}
			// TTLs ascend with i, so each round's hops are in TTL order.
			out[r-first].Hops = append(out[r-first].Hops, trace.Hop{TTL: i + 1, Reply: rep})
		})
	}
	for i := range out {
		for _, h := range out[i].Hops {
			if h.Reply.Kind == probe.Reached || h.Reply.Kind == probe.Unreachable {
				out[i].EndTTL, out[i].Reached = h.TTL, h.Reply.Kind == probe.Reached
				break
			}
		}
	}
	return out
}

// replyKind is the probe.Kind the slot was recorded with, or for samples
// restored from a session (which keep no kind) the closest the flags say.
func (sl slot) replyKind() probe.Kind {
	switch {
	case sl.kind != 0:
		return probe.Kind(sl.kind - 1)
	case sl.flags&slotLost != 0:
		return probe.Timeout
	case sl.flags&slotReached != 0:
		return probe.Reached
	}
	return probe.TimeExceeded
}

// Report adds an event of kind RecordError or RecordGap to id's event log
// and publishes it like the monitor's own: the way a subscriber that keeps
// records (a log, a webhook) says it could not (and the diagnosis watcher
// says the diagnosis changed), so the user sees it in the
// event log, on the console and in the dashboard. It fails for an unknown
// target, for other kinds, which only the monitor decides, and with
// ErrClosed once Close has ended the subscriptions (no subscriber would
// get the event: the caller records it itself).
func (m *Monitor) Report(id ID, kind EventKind, message string) error {
	if kind != RecordError && kind != RecordGap && kind != DiagnosisChanged && kind != PathMTUChanged {
		return fmt.Errorf("monitor: Report takes %s, %s, %s or %s events, not %s", RecordError, RecordGap, DiagnosisChanged, PathMTUChanged, kind)
	}
	m.subMu.RLock()
	closed := m.subsClosed
	m.subMu.RUnlock()
	if closed {
		return ErrClosed
	}
	tg, err := m.target(id)
	if err != nil {
		return err
	}
	e := []Event{{Time: m.now(), Target: id, Kind: kind, Message: message}}
	tg.mu.Lock()
	m.recordLocked(tg, e)
	tg.mu.Unlock()
	m.publishEvents(e)
	return nil
}
