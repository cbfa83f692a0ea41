// Package history is the embedded history store: every round of every
// target, kept in one SQLite file (pure Go driver, WAL mode), plus
// per-minute rollups per hop for long windows, bounded by age and size.
//
// It is one more durable subscriber of the monitor (Store.Run): it never
// blocks probing; when the disk is slow or full it says so, counts what it
// could not write and catches up from the monitor's in-memory history.
// Readers (the dashboard, report --from/--to, evidence, the TUI) ask for
// any past window: Summary recomputes the hop table with hopstat's rules,
// Series gives time buckets for graphs and timelines.
//
// The schema, its version and migrations, and the SQL views meant for
// people are documented in docs/history.md.
package history

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// Defaults a home user never has to think about.
const (
	DefaultMaxAge       = 30 * 24 * time.Hour  // raw rounds
	DefaultRollupMaxAge = 400 * 24 * time.Hour // per-minute rollups
	DefaultMaxBytes     = 1 << 30              // the whole file
	DefaultFlush        = time.Second          // a kill -9 loses at most this much (plus one write)
	FileName            = "history.db"
)

// ErrUnknownTarget: the store holds nothing for that key.
var ErrUnknownTarget = errors.New("no history for this target")

// Options configures Open. Zero values mean the defaults above.
type Options struct {
	Path         string // the database file; "" is DefaultPath()
	MaxAge       time.Duration
	RollupMaxAge time.Duration
	MaxBytes     int64
	Flush        time.Duration
	ReadOnly     bool // for readers beside a running monitor (report, evidence, tui)
	Now          func() time.Time
	Logger       *slog.Logger
}

// Source is what the store needs of the monitor (*monitor.Monitor) to
// catch up after a gap and to say what it could not write.
type Source interface {
	Target(id monitor.ID) (monitor.Target, bool)
	Rounds(id monitor.ID, first, last int) ([]trace.Round, error)
	Events(id monitor.ID) []monitor.Event
	Report(id monitor.ID, kind monitor.EventKind, message string) error
}

// Status is the writer's health, for the dashboard's status bar, the
// event log and /metrics.
type Status struct {
	Path        string
	Bytes       int64     // size on disk (database + WAL)
	Rounds      int64     // rounds written since Open
	Probes      int64     // probes written since Open
	Pending     int64     // rounds not yet written (waiting for space or a retry)
	Lost        int64     // rounds given up: no longer in the monitor's history (a gap was recorded)
	Oldest      time.Time // oldest raw round kept
	LastError   string    // "" when the latest write succeeded
	LastErrorAt time.Time
}

// ProbeSettings are the probe settings a target was recorded with.
type ProbeSettings struct {
	Mode     string        `json:"mode"`
	Port     int           `json:"port,omitempty"`
	Size     int           `json:"size,omitempty"`
	Interval time.Duration `json:"interval"`
	Timeout  time.Duration `json:"timeout"`
	MaxHops  int           `json:"max_hops"`
	FinalHop bool          `json:"final_hop_only,omitempty"`
}

// TargetInfo is one target the store holds. Key is the monitor's target
// ID: a target removed and added again under the same ID finds its past.
type TargetInfo struct {
	Key         string
	Host        string
	Addr        netip.Addr
	Probe       ProbeSettings // the latest recorded
	First, Last time.Time     // first and last round kept
	Rounds      int64
}

// Dest is the destination's quality over a window.
type Dest struct {
	TTL            int // 0: never answered in the window
	Sent, Lost     int
	Refused        int
	LossPct        float64
	Latency        time.Duration // mean RTT of replies
	Jitter         time.Duration // mean |ΔRTT| of consecutive replies
	R, MOS         float64
	Best, Worst    time.Duration
	P50, P95       time.Duration
	StdDev         time.Duration
	Last           time.Duration
	LastAt         time.Time
	FirstAt, EndAt time.Time
}

// Summary is the hop table of a window, computed with the live table's
// rules (hopstat), so a window and the live view agree on the same probes.
type Summary struct {
	Target      TargetInfo
	From, To    time.Time // the window asked for
	First, Last time.Time // first and last round found in it (zero: none)
	Rounds      int
	Hops        []hopstat.Hop
	DestTTL     int
	Dest        Dest
	// Exact is false when part of the window came from the per-minute
	// rollups (older than the raw rounds kept, or a long window): then
	// P50/P95 come from the rollups' quantile sketches (within 1 %)
	// and Last is the last minute's.
	Exact bool
}

// Bucket is one time step of a hop's series: Sent probes, Lost of them,
// and the RTTs of the replies (zero when all were lost).
type Bucket struct {
	Start          time.Time
	Sent, Lost     int
	Min, Avg, Max  time.Duration
	P50, P95       time.Duration
	Addr           netip.Addr // the responder seen most in the bucket
	AddrChanged    bool       // more than one responder in the bucket
	DestinationHop bool       `json:",omitempty"`
}

// HopSeries is one TTL's buckets, oldest first, one per step of the
// window (a step with no round has Sent 0).
type HopSeries struct {
	TTL     int
	Buckets []Bucket
}

// DefaultPath is the history file in the user's data directory:
// %LocalAppData%\pingerplot\history.db on Windows, the XDG data home
// (~/.local/share/pingerplot/history.db) on Linux, Application Support on
// macOS.
func DefaultPath() (string, error) { return defaultPath() }

// Store is an open history file. Its readers are safe from any
// goroutine beside the writer (Run, Flush).
type Store struct {
	opts Options
	db   *sql.DB
	dict *dict
	log  *slog.Logger

	// wmu serialises writes (flushes, retention); mu guards what the
	// writer buffers and its status, so Status and the updates never
	// wait for the disk.
	wmu sync.Mutex
	mu  sync.Mutex
	w   writer
	st  Status
}

// Open opens (creating or migrating) the history file.
func Open(opts Options) (*Store, error) { return open(opts) }

// Close flushes what is pending and closes the file.
func (s *Store) Close() error { return s.close() }

// Run consumes the monitor's updates (subscribe with Durable: true) until
// the channel closes or ctx ends, writing a batch every Options.Flush.
func (s *Store) Run(ctx context.Context, updates <-chan monitor.Update, src Source) {
	s.run(ctx, updates, src)
}

// Flush writes what is pending now.
func (s *Store) Flush() error { return s.flush() }

// Status reports the writer's health.
func (s *Store) Status() Status { return s.status() }

// Targets lists the targets the store holds, by key.
func (s *Store) Targets(ctx context.Context) ([]TargetInfo, error) { return s.targets(ctx) }

// Target returns one target's info; ErrUnknownTarget if none.
func (s *Store) Target(ctx context.Context, key string) (TargetInfo, error) {
	return s.target(ctx, key)
}

// Summary is the hop table of key's rounds that started in [from, to).
func (s *Store) Summary(ctx context.Context, key string, from, to time.Time) (Summary, error) {
	return s.summary(ctx, key, from, to)
}

// Series returns one HopSeries per TTL of the window's hop table, the
// window cut into steps of step (0: about 600 steps).
func (s *Store) Series(ctx context.Context, key string, from, to time.Time, step time.Duration) ([]HopSeries, error) {
	return s.series(ctx, key, from, to, step)
}

// Events returns key's events in [from, to), oldest first.
func (s *Store) Events(ctx context.Context, key string, from, to time.Time) ([]monitor.Event, error) {
	return s.events(ctx, key, from, to)
}

// Rounds calls fn for each raw round of key that started in [from, to),
// oldest first.
func (s *Store) Rounds(ctx context.Context, key string, from, to time.Time, fn func(trace.Round) error) error {
	return s.rounds(ctx, key, from, to, fn)
}
