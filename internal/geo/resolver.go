package geo

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/pingerplot/pingerplot/internal/workqueue"
)

// Config configures a Resolver. Zero values select the documented defaults.
type Config struct {
	// Offline is asked first, about any address (private ones included).
	// Nil means no offline provider.
	Offline Provider
	// Online is asked only while online lookups are on (SetOnline), only
	// about addresses that are not special-purpose, and only when Offline
	// did not answer a group of fields in Need. Nil means none.
	Online Provider
	// OnlineEnabled is the initial state of SetOnline: off unless set.
	OnlineEnabled bool
	// Need is the groups of fields callers want; 0 means Location|AS.
	// `report -z` needs only AS, so an address the ASN database knows is
	// never sent online for its location.
	Need Fields
	// TTL is how long an answer is used before the providers are asked
	// again (the online provider has its own, longer, cache); 0 means an
	// hour.
	TTL time.Duration
	// RetryMin and RetryMax bound the backoff after a failed lookup: the
	// first retry waits RetryMin, each further one twice as long, up to
	// RetryMax. 0 means DefaultRetryMin, DefaultRetryMax. A provider that
	// says when to come back (LookupError.RetryAt) is not asked before.
	RetryMin, RetryMax time.Duration
	// MaxConcurrent bounds the offline lookups in flight; 0 means 4.
	// Online lookups go one at a time: the provider's rate limit sets
	// their pace anyway.
	MaxConcurrent int
	// MaxEntries bounds the cache and each queue; 0 means 4096.
	MaxEntries int
	// TimeNow is the clock for expiry and backoff; nil means time.Now.
	TimeNow func() time.Time
}

// Defaults for the zero Config fields.
const (
	DefaultTTL           = time.Hour
	DefaultRetryMin      = time.Minute
	DefaultRetryMax      = time.Hour
	DefaultMaxConcurrent = 4
	DefaultMaxEntries    = 4096
)

// Status is everything known about one address, for a UI that lists the
// hops it cannot place and says why.
type Status struct {
	Info Info
	// Pending: a lookup is queued or running.
	Pending bool
	// Special names the special-purpose range of the address ("Private-Use
	// (RFC 1918)"); such an address is never sent online.
	Special string
	// Err is the last failure, nil after a success. An online failure
	// keeps what the offline databases said in Info.
	Err error
	// RetryAt is when a failed lookup will be tried again (by the next
	// Info or Status call after it); zero when none failed.
	RetryAt time.Time
}

// Resolver is a non-blocking cache in front of an offline and an online
// provider. Info and Status never wait for a lookup: a miss starts one in
// the background and the answer shows up on a later call. It is safe for
// concurrent use. Its goroutines run only while lookups are pending;
// Close stops them.
type Resolver struct {
	offline, online    Provider
	need               Fields
	ttl                time.Duration
	retryMin, retryMax time.Duration
	maxConc, maxEntry  int
	now                func() time.Time

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc

	mu       sync.Mutex
	cache    map[netip.Addr]*entry
	offQueue *workqueue.Queue[netip.Addr] // guarded by mu
	onQueue  *workqueue.Queue[netip.Addr] // guarded by mu
	onOn     bool                         // online lookups enabled
	onCtx    context.Context
	onCancel context.CancelFunc
	waiting  workqueue.Pending // entries with a lookup pending, for Wait
	closed   bool
}

type entry struct {
	used       time.Time // last asked, for eviction
	special    string
	off        Info
	offErr     error
	offDone    bool
	offExpires time.Time
	on         Info
	onDone     bool
	onExpires  time.Time
	onErr      error
	retryAt    time.Time
	failures   int
	offPending bool
	onPending  bool
}

func (e *entry) pending() bool { return e.offPending || e.onPending }

// New returns a Resolver for cfg. It sends nothing until asked.
func New(cfg Config) *Resolver {
	r := &Resolver{
		offline:  cfg.Offline,
		online:   cfg.Online,
		need:     cfg.Need,
		ttl:      cfg.TTL,
		retryMin: cfg.RetryMin,
		retryMax: cfg.RetryMax,
		maxConc:  cfg.MaxConcurrent,
		maxEntry: cfg.MaxEntries,
		now:      cfg.TimeNow,
		cache:    map[netip.Addr]*entry{},
	}
	if r.need == 0 {
		r.need = Location | AS
	}
	if r.ttl <= 0 {
		r.ttl = DefaultTTL
	}
	if r.retryMin <= 0 {
		r.retryMin = DefaultRetryMin
	}
	if r.retryMax <= 0 {
		r.retryMax = DefaultRetryMax
	}
	r.retryMax = max(r.retryMax, r.retryMin)
	if r.maxConc <= 0 {
		r.maxConc = DefaultMaxConcurrent
	}
	if r.maxEntry <= 0 {
		r.maxEntry = DefaultMaxEntries
	}
	if r.now == nil {
		r.now = time.Now
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	r.offQueue = workqueue.New(&r.mu, r.maxConc, r.maxEntry, r.offLookupLocked)
	r.onQueue = workqueue.New(&r.mu, 1, r.maxEntry, r.onLookupLocked)
	r.SetOnline(cfg.OnlineEnabled)
	return r
}

// SetOnline turns online lookups on or off. Turning them off cancels the
// one in flight and drops the queued ones at once: nothing more is sent.
// Turning them on sends nothing by itself; the next Info or Status call
// for an address that needs it does.
func (r *Resolver) SetOnline(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || on == r.onOn {
		return
	}
	r.onOn = on
	if on {
		r.onCtx, r.onCancel = context.WithCancel(r.ctx)
		return
	}
	r.onCancel()
	for _, a := range r.onQueue.Drop() {
		if e := r.cache[a]; e != nil {
			r.setPendingLocked(e, &e.onPending, false)
		}
	}
}

// Online reports whether online lookups are on.
func (r *Resolver) Online() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.onOn
}

// Info returns what is known about addr and whether anything is. It never
// blocks on a lookup: on a miss, or when the answer has expired, it starts
// one in the background (one per address however often it is asked).
// After Close it only reads the cache.
func (r *Resolver) Info(addr netip.Addr) (Info, bool) {
	st := r.Status(addr)
	return st.Info, !st.Info.IsZero()
}

// Status is Info with the state of the lookups; it starts lookups as Info
// does.
func (r *Resolver) Status(addr netip.Addr) Status {
	if !addr.IsValid() {
		return Status{}
	}
	key := addr.WithZone("").Unmap()
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.cache[key]
	if e == nil {
		e = &entry{}
		e.special, _ = SpecialPurpose(key)
		r.storeLocked(key, e)
	}
	e.used = now
	r.kickLocked(key, e, now)
	st := Status{Info: e.off.merge(e.on), Pending: e.pending(), Special: e.special}
	st.Err = e.onErr
	if st.Err == nil {
		st.Err = e.offErr
	}
	if st.Err != nil {
		st.RetryAt = e.retryAt
	}
	return st
}

// Wait blocks until no lookup is pending or ctx is done. A report calls it
// briefly before printing so that answers have a chance to arrive.
func (r *Resolver) Wait(ctx context.Context) {
	r.waiting.Wait(ctx)
}

// Close cancels the lookups in flight, drops the queued ones and waits for
// the goroutines to end. The cache stays readable through Info. Close
// does not close the providers.
func (r *Resolver) Close() {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		r.cancel()
		for _, a := range append(r.offQueue.Drop(), r.onQueue.Drop()...) {
			if e := r.cache[a]; e != nil {
				r.setPendingLocked(e, &e.offPending, false)
				r.setPendingLocked(e, &e.onPending, false)
			}
		}
	}
	r.mu.Unlock()
	r.offQueue.Wait()
	r.onQueue.Wait()
}

// kickLocked starts the lookups e needs at now.
func (r *Resolver) kickLocked(key netip.Addr, e *entry, now time.Time) {
	if r.closed {
		return
	}
	if !e.offPending && (!e.offDone || !now.Before(e.offExpires)) {
		if r.offline == nil {
			e.offDone, e.offExpires = true, now.Add(r.ttl)
		} else if r.offQueue.Add(key) {
			r.setPendingLocked(e, &e.offPending, true)
		}
	}
	if r.wantOnlineLocked(e, now) && r.onQueue.Add(key) {
		r.setPendingLocked(e, &e.onPending, true)
	}
}

// wantOnlineLocked is the one place that decides whether an address may be
// sent online now.
func (r *Resolver) wantOnlineLocked(e *entry, now time.Time) bool {
	switch {
	case !r.onOn, r.online == nil, e.special != "":
		return false
	case !e.offDone, e.offPending, e.onPending:
		return false // offline first: it may make the question needless
	case r.need&^e.off.Fields() == 0:
		return false
	case e.onDone && now.Before(e.onExpires):
		return false
	case now.Before(e.retryAt):
		return false
	}
	return true
}

// setPendingLocked sets one of e's pending flags and keeps the idle
// channel right.
func (r *Resolver) setPendingLocked(e *entry, flag *bool, v bool) {
	was := e.pending()
	*flag = v
	switch now := e.pending(); {
	case !was && now:
		r.waiting.Add()
	case was && !now:
		r.waiting.Done()
	}
}

// offLookupLocked asks the offline provider about addr. It is called, and
// returns, with r.mu held, and unlocks it while the provider answers. It
// asks even after Close, which has canceled r.ctx: the answer is then
// thrown away.
func (r *Resolver) offLookupLocked(addr netip.Addr) {
	r.mu.Unlock()
	in, err := r.offline.Lookup(r.ctx, addr)
	now := r.now()
	r.mu.Lock()
	if e := r.cache[addr]; e != nil && e.offPending && r.closed {
		r.setPendingLocked(e, &e.offPending, false) // canceled by Close
	} else if e != nil && e.offPending {
		e.off, e.offErr, e.offDone = in, err, true
		e.offExpires = now.Add(r.ttl)
		if err != nil {
			e.offExpires = now.Add(r.retryMin)
			e.retryAt = e.offExpires
		}
		r.setPendingLocked(e, &e.offPending, false)
		r.kickLocked(addr, e, now) // perhaps online next
	}
}

// onLookupLocked asks the online provider about addr. It is called, and
// returns, with r.mu held, and unlocks it while the provider answers.
func (r *Resolver) onLookupLocked(addr netip.Addr) {
	e := r.cache[addr]
	if r.closed || !r.onOn {
		// Handed over just before Close or SetOnline(false), which drop
		// what has not been sent: neither is sent.
		if e != nil {
			r.setPendingLocked(e, &e.onPending, false)
		}
		return
	}
	ctx := r.onCtx
	r.mu.Unlock()

	in, err := r.online.Lookup(ctx, addr)
	now := r.now()

	r.mu.Lock()
	e = r.cache[addr]
	if e == nil || !e.onPending {
		return // dropped by SetOnline(false) or Close
	}
	switch {
	case ctx.Err() != nil:
		// Turned off or closed: not the provider's failure.
	case errors.Is(err, ErrNotSent):
		e.onDone, e.onExpires = true, now.Add(r.ttl)
	case err != nil:
		e.onErr = err
		e.failures++
		e.retryAt = now.Add(r.backoff(e.failures))
		var le *LookupError
		if errors.As(err, &le) && le.RetryAt.After(e.retryAt) {
			e.retryAt = le.RetryAt
		}
	default:
		e.on, e.onErr, e.onDone = in, nil, true
		e.onExpires = now.Add(r.ttl)
		e.failures, e.retryAt = 0, time.Time{}
	}
	r.setPendingLocked(e, &e.onPending, false)
}

// backoff is the wait before retry n (n ≥ 1) of a failed lookup.
func (r *Resolver) backoff(n int) time.Duration {
	d := r.retryMin
	for i := 1; i < n && d < r.retryMax; i++ {
		d *= 2
	}
	return min(d, r.retryMax)
}

// storeLocked adds e, making room if the cache is full: the entry asked
// for least recently goes, unless a lookup for it is pending.
func (r *Resolver) storeLocked(key netip.Addr, e *entry) {
	if len(r.cache) >= r.maxEntry {
		var victim netip.Addr
		var oldest time.Time
		for a, old := range r.cache {
			if old.pending() {
				continue
			}
			if !victim.IsValid() || old.used.Before(oldest) {
				victim, oldest = a, old.used
			}
		}
		if victim.IsValid() {
			delete(r.cache, victim)
		}
	}
	r.cache[key] = e
}
