package monitor

import (
	"net/netip"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// ID names a target inside a monitor; it is unique and stable for the
// target's life (the host as the user typed it, made unique).
type ID string

// Settings are one target's engine and alert options. The zero value of
// each field means its documented default.
type Settings struct {
	// Trace holds the probe settings: mode, port, size, timeout, max hops,
	// send gap, final-hop-only. Its Target is filled from the target's address.
	Trace trace.Config
	// Interval is the time between the starts of rounds; 0 means 1 s.
	// A round that lasts longer delays the next: rounds never overlap.
	Interval time.Duration
	// History is how many rounds each hop keeps for graphs and percentiles;
	// 0 means DefaultHistory. Memory per target is bounded by it.
	History int
	// Alert are the destination alert rules.
	Alert alert.Rules
	// Webhook, if set, is an http(s) URL that gets a JSON POST on every
	// alert raise and clear of this target.
	Webhook string
	// Email, if its To is set, mails every alert raise and clear of
	// this target.
	Email Email
	// LogPath, if set, is where this target's CSV probe log goes; LogMaxBytes
	// and LogMaxFiles cap it (0 = defaults of internal/csvlog).
	LogPath     string
	LogMaxBytes int64
	LogMaxFiles int
	// NoNames switches off host names for this target's hops wherever they
	// would appear: event messages, the CSV probe log, summaries and the
	// dashboard. It is a negative so that the zero value (names on) is what
	// every session and config written before it existed meant. It changes
	// nothing that is probed, so Monitor.Update applies it at once and logs
	// no event for it.
	NoNames bool
	// PingHops sends, beside each round, one echo request to every hop
	// that answered recently (package hopping), so the diagnosis can
	// tell a router that rate-limits its replies from loss on the way to
	// it. The monitor's rounds do not change; the engine acts on it.
	PingHops bool
	// PathMTU runs path MTU discovery for this target beside its rounds
	// (package pmtu: at start, every few minutes, after a route change).
	// The monitor's rounds do not change; the engine acts on it.
	PathMTU bool
	// Flows is how many flows ECMP flow enumeration probes each round
	// (package flowwatch: flow 0 is the target's own rounds, flows 1 to
	// Flows-1 run beside them); 0 is off. The monitor's rounds do not
	// change; the engine acts on it.
	Flows int
}

// Names returns names for this target's hops: names itself, or nil (no
// names) when NoNames is set. Every consumer that shows or writes host
// names goes through it, so one switch covers them all.
func (s Settings) Names(names func(netip.Addr) string) func(netip.Addr) string {
	if s.NoNames {
		return nil
	}
	return names
}

// DefaultHistory is the per-hop history of Settings with History 0: an hour
// of rounds at the default interval.
const DefaultHistory = 3600

// Target is a monitored destination.
type Target struct {
	ID   ID
	Host string     // as the user gave it: a name or an address
	Addr netip.Addr // what Host resolved to when the target was added
	Settings
}

// State is what a target is doing, as the summary grid shows it.
type State string

const (
	Running  State = "running"
	Paused   State = "paused"
	Alerting State = "alert"
	// NoAnswer: the destination has never answered this probe type (it
	// blocks it); such a target never raises an alert.
	NoAnswer State = "no-answer"
	// CannotSend: the local system refused every probe of the latest
	// round (no route, no permission): nothing was asked of the network,
	// so nothing is known of the destination.
	CannotSend State = "cannot-send"
	// Closed: the destination's latest answer refused the connection (a
	// TCP RST): the host is there but the service is down. A closed port
	// is never "running"; the closed alert follows over the alert window.
	Closed State = "closed"
)

// Sample is one probe in a hop's history.
type Sample struct {
	Round int
	// Time is the start of the round: a round's probes leave together
	// (SendGap apart at most), and one time per round keeps history small.
	Time time.Time
	From netip.Addr // zero when lost
	RTT  time.Duration
	Lost bool
	// Reached: the destination answered this probe (so its TTL is the path
	// length in that round).
	Reached bool `json:",omitempty"`
	// Refused: the destination's answer was a refusal (TCP RST).
	Refused bool `json:",omitempty"`
}

// Hop is one TTL of a snapshot.
type Hop struct {
	hopstat.Hop
	// History is the hop's most recent samples, oldest first, at most
	// Settings.History of them; only in snapshots taken WithHistory.
	History []Sample
	// Details are, per responder, the latest non-empty details its
	// replies carried (MPLS labels, interfaces, the quoted TOS, NAT), in
	// the order the responders were first seen; nil when none did.
	Details []ResponderDetails `json:",omitempty"`
}

// Destination is the destination's recent quality: over the alert window.
type Destination struct {
	TTL     int           // 0 when the destination never answered
	Sent    int           // probes in the window
	Refused int           // answers in the window that refused the connection (TCP RST)
	LossPct float64       // share of the window lost
	Latency time.Duration // mean RTT of the window's replies
	Jitter  time.Duration // mean |ΔRTT| of the window's replies
	R, MOS  float64       // E-model R factor and MOS (0 when no accepted replies: a closed port has none)
	Active  []alert.Condition
}

// Snapshot is an immutable copy of a target's state after a round.
type Snapshot struct {
	Target
	State   State
	Rounds  int       // rounds completed
	Started time.Time // first round
	Last    time.Time // end of the latest round
	Hops    []Hop
	Dest    Destination
}

// EventKind classifies events.
type EventKind string

const (
	RouteChange   EventKind = "route_change" // a hop's address changed
	Multipath     EventKind = "multipath"    // a hop alternates between addresses (ECMP); TTL 0: the path length alternates
	PathLength    EventKind = "path_length"  // the destination moved to another TTL
	AlertRaised   EventKind = "alert_raised"
	AlertCleared  EventKind = "alert_cleared"
	NoAnswerEvent EventKind = "no_answer" // the destination does not answer this probe type
	// SendFailed: the local system refused every probe of a round (the
	// message names the cause); SendResumed: probes leave again.
	SendFailed      EventKind = "send_failed"
	SendResumed     EventKind = "send_resumed"
	SettingsChanged EventKind = "settings_changed"
	PausedEvent     EventKind = "paused"
	ResumedEvent    EventKind = "resumed"
	Added           EventKind = "target_added"
	Removed         EventKind = "target_removed"
	RecordError     EventKind = "record_error" // a log or export could not be written, a webhook post was given up
	// RecordGap: rounds or events a durable subscriber should have
	// recorded were lost for good (dropped from its full channel, and no
	// longer in the monitor's history). The message says how many and
	// the time span.
	RecordGap EventKind = "record_gap"
	// DiagnosisChanged: the target's diagnosis (what is wrong and where,
	// package diagnose) changed; the message is the new one. Reported by
	// the diagnosis watcher, never by the monitor itself.
	DiagnosisChanged EventKind = "diagnosis_changed"
	// PathMTUChanged: the target's path MTU, or the hop where larger
	// packets stop, changed (or was found for the first time); the
	// message says the new one. Reported by the path MTU watcher
	// (package pmtu), never by the monitor itself.
	PathMTUChanged EventKind = "path_mtu"
	// ResolveError, Resolved and TargetError concern a headless target
	// before the monitor holds it: its name does not resolve (retried
	// with backoff), resolved at last, or could not be added. The
	// recorder logs them (Recorder.Note); the monitor never emits them.
	ResolveError EventKind = "resolve_error"
	Resolved     EventKind = "resolved"
	TargetError  EventKind = "target_error"
)

// Event is something that happened to a target, for the event log, the
// events tab and notifiers.
type Event struct {
	// Seq numbers a monitor's events in the order they happened, across
	// targets, from 1. A subscriber that sees a gap lost events to a full
	// channel and can fetch them again with Monitor.Events.
	Seq     uint64 `json:",omitempty"`
	Time    time.Time
	Target  ID
	Kind    EventKind
	TTL     int    // the hop concerned, 0 for none
	Message string // one line a person reads
	// Alert details for AlertRaised/AlertCleared.
	Condition alert.Condition `json:",omitempty"`
	Value     float64         `json:",omitempty"` // loss % or latency ms at the change
	Threshold float64         `json:",omitempty"`
}

// RoundDone is published after every round of every target.
type RoundDone struct {
	Target   ID
	Round    trace.Round
	Snapshot Snapshot // without history
}
