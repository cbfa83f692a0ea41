// Package resolve looks up reverse DNS (PTR) names for the addresses a trace
// finds, in the background, and caches them.
//
// It owns the cache, its positive and negative lifetimes, and the bounded
// set of goroutines that do the lookups. Name never blocks: a round must not
// wait for DNS (a synchronous lookup per hop is the classic traceroute
// stall), so a miss starts a lookup and the name shows up on a later call.
//
// This package must not import socket or probe code, nor anything that
// shows or stores results; it only needs a lookup function.
package resolve

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/pingerplot/pingerplot/internal/workqueue"
)

// Config configures a Resolver. Zero values select the documented defaults.
type Config struct {
	// Lookup returns the PTR names of addr (an IP address in text form).
	// It must return soon after ctx is done: Close waits for it.
	// Nil means net.DefaultResolver.LookupAddr.
	Lookup func(ctx context.Context, addr string) ([]string, error)
	// Timeout bounds each lookup; 0 means 2s.
	Timeout time.Duration
	// TTL is how long a name is kept before it is looked up again; 0 means
	// an hour. An expired name is still returned while it is refreshed.
	TTL time.Duration
	// NegativeTTL is how long a failed or empty lookup is remembered before
	// it is tried again; 0 means 5 minutes.
	NegativeTTL time.Duration
	// MaxConcurrent bounds the lookups in flight; 0 means 4.
	MaxConcurrent int
	// MaxEntries bounds the cache and the queue of lookups waiting to
	// start; 0 means 4096. A long-running monitor sees new router
	// addresses forever; the cache must not grow with them.
	MaxEntries int
	// TimeNow is the clock for cache expiry; nil means time.Now.
	TimeNow func() time.Time
}

// Defaults for the zero Config fields.
const (
	DefaultTimeout       = 2 * time.Second
	DefaultTTL           = time.Hour
	DefaultNegativeTTL   = 5 * time.Minute
	DefaultMaxConcurrent = 4
	DefaultMaxEntries    = 4096
)

// Resolver is a non-blocking, caching reverse DNS resolver. It is safe for
// concurrent use. Its goroutines run only while lookups are pending; Close
// stops them.
type Resolver struct {
	lookup   func(ctx context.Context, addr string) ([]string, error)
	timeout  time.Duration
	ttl      time.Duration
	negTTL   time.Duration
	maxConc  int
	maxEntry int
	now      func() time.Time

	mu      sync.Mutex
	cache   map[netip.Addr]entry
	pending map[netip.Addr]context.CancelFunc // queued (nil) or in flight
	lookups *workqueue.Queue[netip.Addr]      // guarded by mu
	waiting workqueue.Pending                 // len(pending), for Wait
	closed  bool
}

// entry is a cached answer; name is "" for a negative one.
type entry struct {
	name    string
	expires time.Time
}

// New returns a Resolver for cfg.
func New(cfg Config) *Resolver {
	r := &Resolver{
		lookup:   cfg.Lookup,
		timeout:  cfg.Timeout,
		ttl:      cfg.TTL,
		negTTL:   cfg.NegativeTTL,
		maxConc:  cfg.MaxConcurrent,
		maxEntry: cfg.MaxEntries,
		now:      cfg.TimeNow,
		cache:    make(map[netip.Addr]entry),
		pending:  make(map[netip.Addr]context.CancelFunc),
	}
	if r.lookup == nil {
		r.lookup = net.DefaultResolver.LookupAddr
	}
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	if r.ttl <= 0 {
		r.ttl = DefaultTTL
	}
	if r.negTTL <= 0 {
		r.negTTL = DefaultNegativeTTL
	}
	if r.maxConc <= 0 {
		r.maxConc = DefaultMaxConcurrent
	}
	if r.maxEntry <= 0 {
		r.maxEntry = DefaultMaxEntries
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.lookups = workqueue.New(&r.mu, r.maxConc, r.maxEntry, r.lookupLocked)
	return r
}

// Name returns the cached name of addr and whether there is one. It never
// blocks on DNS: on a miss, or when the cached answer has expired, it starts
// a background lookup (one per address however often it is asked) and
// returns what it has. After Close it only reads the cache.
func (r *Resolver) Name(addr netip.Addr) (name string, ok bool) {
	if !addr.IsValid() {
		return "", false
	}
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	e, cached := r.cache[addr]
	if !cached || !now.Before(e.expires) {
		r.startLocked(addr)
	}
	return e.name, e.name != ""
}

// Wait blocks until no lookup is pending or ctx is done. A report calls it
// briefly before printing so that names have a chance to arrive.
func (r *Resolver) Wait(ctx context.Context) {
	r.waiting.Wait(ctx)
}

// Close cancels the lookups in flight, drops the queued ones and waits for
// the goroutines to end. The cache stays readable through Name.
func (r *Resolver) Close() {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		for _, addr := range r.lookups.Drop() {
			r.doneLocked(addr)
		}
		for _, cancel := range r.pending {
			if cancel != nil {
				cancel()
			}
		}
	}
	r.mu.Unlock()
	r.lookups.Wait()
}

// startLocked makes addr pending, unless it is already or r is closed, and
// hands it to the lookups.
func (r *Resolver) startLocked(addr netip.Addr) {
	if r.closed {
		return
	}
	if _, ok := r.pending[addr]; ok {
		return
	}
	if !r.lookups.Add(addr) {
		return // shed load; a later Name asks again
	}
	r.pending[addr] = nil
	r.waiting.Add()
}

// doneLocked removes addr from the pending set.
func (r *Resolver) doneLocked(addr netip.Addr) {
	delete(r.pending, addr)
	r.waiting.Done()
}

// lookupLocked looks up addr and caches the answer. It is called, and
// returns, with r.mu held, and unlocks it while DNS answers.
func (r *Resolver) lookupLocked(addr netip.Addr) {
	if r.closed {
		r.doneLocked(addr) // handed over just before Close
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	r.pending[addr] = cancel
	r.mu.Unlock()

	names, err := r.lookup(ctx, addr.String())
	cancel()
	name := ""
	if err == nil {
		name = pick(names)
	}
	now := r.now()

	r.mu.Lock()
	if !r.closed {
		ttl := r.ttl
		if name == "" {
			ttl = r.negTTL
		}
		r.storeLocked(addr, entry{name: name, expires: now.Add(ttl)}, now)
	}
	r.doneLocked(addr)
}

// storeLocked caches e for addr, making room if the cache is full: expired
// entries go first, else the one closest to expiry.
func (r *Resolver) storeLocked(addr netip.Addr, e entry, now time.Time) {
	if _, ok := r.cache[addr]; !ok && len(r.cache) >= r.maxEntry {
		var victim netip.Addr
		var soonest time.Time
		for a, old := range r.cache {
			if !now.Before(old.expires) {
				delete(r.cache, a)
				continue
			}
			if !victim.IsValid() || old.expires.Before(soonest) {
				victim, soonest = a, old.expires
			}
		}
		if len(r.cache) >= r.maxEntry {
			delete(r.cache, victim)
		}
	}
	r.cache[addr] = e
}

// pick returns the first usable name without its trailing dot. Names with
// characters a host name cannot have are skipped: a PTR record is written
// by whoever owns the address, and it ends up on a terminal.
func pick(names []string) string {
	for _, n := range names {
		n = strings.TrimSuffix(n, ".")
		if validName(n) {
			return n
		}
	}
	return ""
}

func validName(n string) bool {
	if n == "" || len(n) > 253 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_':
		default:
			return false
		}
	}
	return true
}
