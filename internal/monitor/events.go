package monitor

import (
	"context"
	"sync"
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

// Update is one message to subscribers: a finished round or an event.
// Exactly one field is set.
type Update struct {
	Round *RoundDone
	Event *Event
}

// DefaultSubscriberBuffer is the channel capacity of Subscribe(0).
const DefaultSubscriberBuffer = 1024

type subscriber struct {
	ch   chan Update
	once sync.Once
}

// Subscribe returns a channel of every round and event of every target,
// and a function that ends the subscription and closes the channel. buf is
// the channel's capacity (0 means DefaultSubscriberBuffer).
//
// Delivery never waits: probing must not stall behind a slow reader. When
// the channel is full the update is dropped for this subscriber only and
// counted in Stats().Dropped. A round's RoundDone comes before the events
// it caused. A reader that must see every event (a notifier) can spot a
// gap in Event.Seq and fetch the target's log with Events. Close closes
// every subscription's channel.
func (m *Monitor) Subscribe(buf int) (<-chan Update, func()) {
	if buf <= 0 {
		buf = DefaultSubscriberBuffer
	}
	s := &subscriber{ch: make(chan Update, buf)}
	m.subMu.Lock()
	if m.subsClosed {
		m.subMu.Unlock()
		close(s.ch)
		return s.ch, func() {}
	}
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

// Consume calls handle with each update from updates, in order, until the
// channel closes (the subscription ended or the monitor closed) or ctx is
// done: the read loop of every subscriber.
func Consume(ctx context.Context, updates <-chan Update, handle func(Update)) {
	for {
		select {
		case <-ctx.Done():
			return
		case u, ok := <-updates:
			if !ok {
				return
			}
			handle(u)
		}
	}
}

// publish offers u to every subscriber without waiting. The read lock only
// keeps a channel from being closed during the send.
func (m *Monitor) publish(u Update) {
	m.subMu.RLock()
	defer m.subMu.RUnlock()
	for _, s := range m.subs {
		select {
		case s.ch <- u:
		default:
			m.dropped.Add(1)
		}
	}
}

func (m *Monitor) publishEvents(events []Event) {
	for i := range events {
		m.publish(Update{Event: &events[i]})
	}
}

// closeSubscribers ends every subscription, for Close.
func (m *Monitor) closeSubscribers() {
	m.subMu.Lock()
	defer m.subMu.Unlock()
	m.subsClosed = true
	for _, s := range m.subs {
		s.once.Do(func() { close(s.ch) })
	}
	m.subs = nil
}
