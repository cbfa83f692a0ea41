package monitor

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// eventLog keeps a target's most recent events.
type eventLog struct {
	buf  []Event
	next int
	max  int
}

func newEventLog(n int) eventLog { return eventLog{max: n} }

func (l *eventLog) add(e Event) {
	if len(l.buf) < l.max {
		l.buf = append(l.buf, e)
		return
	}
	l.buf[l.next] = e
	l.next = (l.next + 1) % l.max
}

// list returns a copy, oldest first.
func (l *eventLog) list() []Event {
	out := make([]Event, 0, len(l.buf))
	out = append(out, l.buf[l.next:]...)
	return append(out, l.buf[:l.next]...)
}

// Update is one message to subscribers: a finished round, an event, or
// (to durable subscribers only) what was dropped before it. Exactly one
// field is set.
type Update struct {
	Round *RoundDone
	Event *Event
	Gap   *Gap
}

// Gap says which updates a durable subscriber's full channel did not
// take. It arrives before any update published after them, so a
// subscriber that catches up from Rounds and Events on receiving it keeps
// each target's records in order.
type Gap struct {
	Targets []TargetGap // by target ID
}

// TargetGap is what one target lost in a Gap. Once one of a target's
// updates is dropped, every later one is too until the Gap is delivered,
// so the missed rounds are the whole range FirstRound..LastRound and the
// missed events every event of the target with a Seq in
// FirstSeq..LastSeq.
type TargetGap struct {
	Target                ID
	FirstRound, LastRound int // 0, 0: no round missed
	Events                int // events missed
	FirstSeq, LastSeq     uint64
}

// Rounds is how many rounds were missed.
func (g TargetGap) Rounds() int {
	if g.FirstRound == 0 {
		return 0
	}
	return g.LastRound - g.FirstRound + 1
}

// DefaultSubscriberBuffer is the channel capacity of Subscribe(0).
const DefaultSubscriberBuffer = 1024

// SubscriberConfig configures SubscribeWith. The zero value of each field
// means the default documented on it.
type SubscriberConfig struct {
	// Name identifies the subscriber in Stats().Subscribers (and so in
	// metrics and the dashboard): "recorder", "web", "metrics"...
	// Subscribers with the same name share one drop counter. "" means
	// "unnamed".
	Name string
	// Buffer is the channel's capacity; 0 means DefaultSubscriberBuffer.
	Buffer int
	// Durable subscribers keep records that must not lose a row (logs,
	// notifiers, a history store). When one's channel is full, the
	// updates it misses are noted, and the next update it receives is a
	// Gap naming them, even when the monitor closes (the channel keeps a
	// slot for that last Gap). Others just miss the update: the UIs
	// refresh from snapshots.
	Durable bool
}

type subscriber struct {
	ch      chan Update
	durable bool
	drops   *atomic.Uint64 // shared by the subscribers of one name
	once    sync.Once

	mu  sync.Mutex        // serialises offers, for durable subscribers
	gap map[ID]*TargetGap // dropped since the last Gap; nil for none
}

// Subscribe is SubscribeWith an unnamed, not durable subscriber with a
// channel of capacity buf.
func (m *Monitor) Subscribe(buf int) (<-chan Update, func()) {
	return m.SubscribeWith(SubscriberConfig{Buffer: buf})
}

// SubscribeWith returns a channel of every round and event of every
// target, and a function that ends the subscription and closes the
// channel.
//
// Delivery never waits: probing must not stall behind a slow reader. When
// the channel is full the update is dropped for this subscriber only and
// counted in Stats() under its name; a durable subscriber is then told
// what it missed (Gap), and catches up with Rounds and Events or reports
// what the monitor no longer holds (Report, RecordGap). A round's
// RoundDone comes before the events it caused. Close closes every
// subscription's channel.
func (m *Monitor) SubscribeWith(c SubscriberConfig) (<-chan Update, func()) {
	buf := c.Buffer
	if buf <= 0 {
		buf = DefaultSubscriberBuffer
	}
	if c.Durable {
		buf++ // the slot kept for the Gap sent at Close
	}
	if c.Name == "" {
		c.Name = "unnamed"
	}
	s := &subscriber{ch: make(chan Update, buf), durable: c.Durable}
	m.subMu.Lock()
	if m.subsClosed {
		m.subMu.Unlock()
		close(s.ch)
		return s.ch, func() {}
	}
	if m.drops == nil {
		m.drops = make(map[string]*atomic.Uint64)
	}
	if m.drops[c.Name] == nil {
		m.drops[c.Name] = new(atomic.Uint64)
	}
	s.drops = m.drops[c.Name]
	m.subs = append(m.subs, s)
	m.subMu.Unlock()
	return s.ch, func() {
		m.subMu.Lock()
		defer m.subMu.Unlock()
		for i, x := range m.subs {
			if x == s {
				m.subs = append(m.subs[:i:i], m.subs[i+1:]...)
				break
			}
		}
		s.once.Do(func() { close(s.ch) })
	}
}

// SubscriberStats is one subscriber name's delivery record.
type SubscriberStats struct {
	Name    string
	Dropped uint64 // updates its full channel did not take
}

// subscriberStats returns every name's drops since New, by name.
func (m *Monitor) subscriberStats() []SubscriberStats {
	m.subMu.RLock()
	defer m.subMu.RUnlock()
	out := make([]SubscriberStats, 0, len(m.drops))
	for name, n := range m.drops {
		out = append(out, SubscriberStats{Name: name, Dropped: n.Load()})
	}
	slices.SortFunc(out, func(a, b SubscriberStats) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Consume calls handle with each update from updates, in order, until the
// channel closes (the subscription ended or the monitor closed) or ctx is
// done: the read loop of every subscriber. A subscriber with a backlog lets
// the processor go every consumeSlice of handling (see there).
func Consume(ctx context.Context, updates <-chan Update, handle func(Update)) {
	consume(ctx, updates, handle, time.Now, runtime.Gosched)
}

// consumeSlice is how long a subscriber handles updates back to back before
// it yields. A subscriber with a backlog never waits on its channel, and Go
// preempts a running goroutine only after 10-20 ms; until then the expired
// timers of its processor, which are the planned starts of rounds, wait
// too. At thousands of targets the diagnosis alone is busy half the time,
// and with the collector marking on the other processor that made rounds
// start over 100 ms late. A yield every millisecond costs a fraction of a
// microsecond; the yielding subscriber goes to the back of the queue and
// the woken rounds run first.
const consumeSlice = time.Millisecond

// consume is Consume with its clock and its yield injected.
func consume(ctx context.Context, updates <-chan Update, handle func(Update), now func() time.Time, yield func()) {
	var start time.Time // when the current run of handling began
	running := false
	for {
		if len(updates) == 0 {
			running = false // about to wait: the scheduler takes over anyway
		}
		select {
		case <-ctx.Done():
			return
		case u, ok := <-updates:
			if !ok {
				return
			}
			if !running {
				start, running = now(), true
			}
			handle(u)
			if t := now(); t.Sub(start) >= consumeSlice {
				yield()
				start = now()
			}
		}
	}
}

// publish offers u to every subscriber without waiting. The read lock only
// keeps a channel from being closed during the send.
func (m *Monitor) publish(u Update) {
	m.subMu.RLock()
	defer m.subMu.RUnlock()
	for _, s := range m.subs {
		if !s.offer(u) {
			s.drops.Add(1)
			m.dropped.Add(1)
		}
	}
}

// offer puts u in s's channel if there is room, and reports whether it
// did. A durable subscriber gets its pending Gap first; while that cannot
// be sent, u joins it. Offers to one durable subscriber are serialised, so
// its room cannot shrink between the check and the send (only its reader
// takes from the channel), and one slot stays free for the Gap of close.
func (s *subscriber) offer(u Update) bool {
	if !s.durable {
		select {
		case s.ch <- u:
			return true
		default:
			return false
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	room := cap(s.ch) - 1 - len(s.ch)
	if s.gap != nil && room > 0 {
		s.ch <- Update{Gap: s.takeGap()}
		room--
	}
	if s.gap == nil && room > 0 {
		s.ch <- u
		return true
	}
	s.note(u)
	return false
}

// note adds a dropped update to the pending Gap.
func (s *subscriber) note(u Update) {
	var id ID
	switch {
	case u.Round != nil:
		id = u.Round.Target
	case u.Event != nil:
		id = u.Event.Target
	default:
		return
	}
	if s.gap == nil {
		s.gap = make(map[ID]*TargetGap)
	}
	g := s.gap[id]
	if g == nil {
		g = &TargetGap{Target: id}
		s.gap[id] = g
	}
	if r := u.Round; r != nil {
		if g.FirstRound == 0 || r.Round.Index < g.FirstRound {
			g.FirstRound = r.Round.Index
		}
		g.LastRound = max(g.LastRound, r.Round.Index)
		return
	}
	// A target's events may be published a little out of Seq order (an
	// Update call and a round finishing at once): keep the range.
	if g.Events == 0 || u.Event.Seq < g.FirstSeq {
		g.FirstSeq = u.Event.Seq
	}
	g.LastSeq = max(g.LastSeq, u.Event.Seq)
	g.Events++
}

// takeGap returns the pending Gap and clears it; s.mu is held.
func (s *subscriber) takeGap() *Gap {
	g := &Gap{Targets: make([]TargetGap, 0, len(s.gap))}
	for _, tg := range s.gap {
		g.Targets = append(g.Targets, *tg)
	}
	slices.SortFunc(g.Targets, func(a, b TargetGap) int { return strings.Compare(string(a.Target), string(b.Target)) })
	s.gap = nil
	return g
}

func (m *Monitor) publishEvents(events []Event) {
	for i := range events {
		m.publish(Update{Event: &events[i]})
	}
}

// closeSubscribers ends every subscription, for Close. A durable
// subscriber's pending Gap goes into the slot kept for it, so what it
// missed last is not lost with the channel.
func (m *Monitor) closeSubscribers() {
	m.subMu.Lock()
	defer m.subMu.Unlock()
	m.subsClosed = true
	for _, s := range m.subs {
		s.mu.Lock()
		if s.gap != nil && len(s.ch) < cap(s.ch) {
			s.ch <- Update{Gap: s.takeGap()}
		}
		s.mu.Unlock()
		s.once.Do(func() { close(s.ch) })
	}
	m.subs = nil
}
