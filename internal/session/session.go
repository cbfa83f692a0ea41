// Package session saves monitored targets to a versioned JSON file and
// loads them back: targets, settings, per-hop statistics, history and
// events, for offline review or to resume monitoring. docs/session-format.md
// describes the format.
//
// Loading is all or nothing: a corrupt, truncated, foreign, newer or
// inconsistent file is refused with a message saying why and returns no
// data, so a bad file changes nothing that is running. Everything loaded
// is validated (addresses, TTLs, counts, durations), so a hand-edited file
// cannot hand the monitor something it does not expect. Saving checks the
// same rules, so PingerPlot never writes a session it would refuse.
//
// It reads monitor snapshots and events and uses internal/config's
// encoding of settings, so sessions and config files share one schema. It
// must not import the monitor's machinery beyond its types, nor sockets.
package session

import (
	"math"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
)

// Format is the value of a session file's "format" key.
const Format = "pingerplot-session"

// Version is the session format version this package writes and the
// newest it reads.
const Version = 1

// MaxSize is the largest session file Load reads (1 GiB). A 30-hop target
// with a full default history (3600 rounds) takes about 10 MB
// (BenchmarkSave), so this holds about a hundred of them.
const MaxSize = 1 << 30

// Session is a set of saved targets.
type Session struct {
	// SavedAt is when the session was saved, and App the PingerPlot
	// version that saved it. The caller sets both (FromMonitor cannot
	// know them); they are for people reading the file.
	SavedAt time.Time
	App     string
	Records []Record
}

// Record is one target as saved: what a snapshot taken with history holds,
// and the target's events.
type Record struct {
	Target  monitor.Target // Settings has every default filled in and Trace.Target = Addr
	State   monitor.State
	Rounds  int
	Started time.Time // first round; zero before one
	Last    time.Time // end of the latest round; zero before one
	Hops    []monitor.Hop
	Events  []monitor.Event // oldest first; each has Target = Target.ID
}

// FromMonitor builds a session from snapshots taken with history and each
// target's events, in the order of snaps. Events of IDs not in snaps are
// left out. Non-finite event values (which JSON cannot carry) become 0.
// The session shares the snapshots' slices: snapshots are immutable.
func FromMonitor(snaps []monitor.Snapshot, events map[monitor.ID][]monitor.Event) Session {
	s := Session{Records: make([]Record, 0, len(snaps))}
	for _, sn := range snaps {
		r := Record{
			Target: sn.Target, State: sn.State, Rounds: sn.Rounds,
			Started: sn.Started, Last: sn.Last, Hops: sn.Hops,
		}
		for _, e := range events[sn.ID] {
			e.Target = sn.ID
			e.Value, e.Threshold = finite(e.Value), finite(e.Threshold)
			r.Events = append(r.Events, e)
		}
		s.Records = append(s.Records, r)
	}
	return s
}

func finite(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// RestoreArgs are the arguments of monitor.Monitor.Restore for one target:
//
//	id, err := m.Restore(a.Target, a.Hops, a.Events, a.Rounds, a.Started)
type RestoreArgs struct {
	Target  monitor.Target
	Hops    []monitor.Hop
	Events  []monitor.Event
	Rounds  int
	Started time.Time
	// Paused: the target was paused when saved. Restore does not take it;
	// pause the restored target to keep it so.
	Paused bool
}

// Targets returns what Monitor.Restore takes for each saved target, in
// order. Events is never nil: Restore reads nil events as a new target
// and would log a target_added event.
func (s Session) Targets() []RestoreArgs {
	out := make([]RestoreArgs, len(s.Records))
	for i, r := range s.Records {
		out[i] = RestoreArgs{
			Target: r.Target, Hops: r.Hops, Events: r.Events,
			Rounds: r.Rounds, Started: r.Started, Paused: r.State == monitor.Paused,
		}
		if out[i].Events == nil {
			out[i].Events = []monitor.Event{}
		}
	}
	return out
}
