package geo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
)

// IPWhoisName is the Name of the ipwho.is provider and the Source of its
// answers.
const IPWhoisName = "ipwho.is"

// DefaultIPWhoisURL is where ipwho.is answers: GET <base><address>.
const DefaultIPWhoisURL = "https://ipwho.is/"

// Defaults of the zero IPWhoisConfig fields.
//
// ipwho.is publishes its free endpoint's limit as 1 request a second per
// client address, short bursts allowed, and no more than 60 requests in
// any 60 seconds (ipwhois.io/documentation, "Usage limits"). The bucket
// here refills 0.75 a second and saves 5, so any 60-second window holds at
// most 5 + 45 = 50 requests: under the limit even with a clock skew or
// another PingerPlot on the same network.
const (
	DefaultOnlineRate        = 0.75
	DefaultOnlineBurst       = 5
	DefaultOnlineTimeout     = 5 * time.Second
	DefaultOnlineTTL         = 7 * 24 * time.Hour
	DefaultOnlineNegativeTTL = 24 * time.Hour
	DefaultOnlineEntries     = 4096
	// DefaultPause is how long every lookup stops after an HTTP 429 that
	// does not say (Retry-After) for how long; MaxPause bounds what it says.
	DefaultPause = time.Minute
	MaxPause     = time.Hour
	// maxBody bounds what is read of an answer (a real one is ~1 kB).
	maxBody = 64 << 10
)

// IPWhoisConfig configures an IPWhois. Zero values select the defaults.
type IPWhoisConfig struct {
	// BaseURL is prefixed to the address; "" means DefaultIPWhoisURL.
	// Tests point it at a fake server on 127.0.0.1.
	BaseURL string
	// Client sends the requests; nil means a plain http.Client. Each
	// request is bounded by Timeout either way.
	Client *http.Client
	// Timeout bounds one request; 0 means DefaultOnlineTimeout.
	Timeout time.Duration
	// Rate is the sustained requests per second, Burst how many may go at
	// once after a quiet time; 0 means DefaultOnlineRate, DefaultOnlineBurst.
	Rate  float64
	Burst int
	// CacheFile is the JSON file answers are kept in between runs
	// (DefaultCacheFile for the usual place); "" keeps them in memory only.
	CacheFile string
	// TTL is how long an answer is used; NegativeTTL how long a "nothing
	// known" answer is. 0 means DefaultOnlineTTL, DefaultOnlineNegativeTTL.
	TTL, NegativeTTL time.Duration
	// MaxEntries bounds the cache, in memory and on disk; 0 means
	// DefaultOnlineEntries. The oldest answers go first.
	MaxEntries int
	// TimeNow is the clock; nil means time.Now.
	TimeNow func() time.Time
	// Logger reports cache file problems; nil discards them.
	Logger *slog.Logger
}

// IPWhois asks ipwho.is (https, no key) about public addresses. It never
// sends a special-purpose address (SpecialPurpose), waits its turn in a
// token bucket before every request, stops every request for a while
// after an HTTP 429, and keeps answers in memory and in CacheFile until
// they expire. Failures are not cached: the caller decides when to ask
// again (the Resolver backs off per address). It is safe for concurrent
// use and has no goroutines of its own.
type IPWhois struct {
	base       string
	client     *http.Client
	timeout    time.Duration
	ttl        time.Duration
	negTTL     time.Duration
	maxEntries int
	now        func() time.Time
	log        *slog.Logger
	store      *diskCache // nil without a CacheFile

	mu      sync.Mutex
	bucket  bucket
	paused  time.Time // no request before this (after a 429)
	cache   map[netip.Addr]cacheEntry
	loaded  bool
	dirty   bool
	saving  sync.Mutex // one cache file write at a time
	sent    int
	answers int
}

// NewIPWhois returns an IPWhois for cfg. It sends nothing by itself.
func NewIPWhois(cfg IPWhoisConfig) *IPWhois {
	p := &IPWhois{
		base:       cfg.BaseURL,
		client:     cfg.Client,
		timeout:    cfg.Timeout,
		ttl:        cfg.TTL,
		negTTL:     cfg.NegativeTTL,
		maxEntries: cfg.MaxEntries,
		now:        cfg.TimeNow,
		log:        cfg.Logger,
		cache:      map[netip.Addr]cacheEntry{},
		bucket:     bucket{rate: cfg.Rate, burst: float64(cfg.Burst)},
	}
	if p.base == "" {
		p.base = DefaultIPWhoisURL
	}
	if !strings.HasSuffix(p.base, "/") {
		p.base += "/"
	}
	if p.client == nil {
		p.client = &http.Client{}
	}
	if p.timeout <= 0 {
		p.timeout = DefaultOnlineTimeout
	}
	if p.ttl <= 0 {
		p.ttl = DefaultOnlineTTL
	}
	if p.negTTL <= 0 {
		p.negTTL = DefaultOnlineNegativeTTL
	}
	if p.maxEntries <= 0 {
		p.maxEntries = DefaultOnlineEntries
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if !(p.bucket.rate > 0) {
		p.bucket.rate = DefaultOnlineRate
	}
	if p.bucket.burst < 1 {
		p.bucket.burst = DefaultOnlineBurst
	}
	if cfg.CacheFile != "" {
		p.store = &diskCache{path: cfg.CacheFile, provider: IPWhoisName}
	}
	return p
}

// Name returns IPWhoisName.
func (p *IPWhois) Name() string { return IPWhoisName }

// ErrNotSent is the error for an address that is never sent online.
var ErrNotSent = errors.New("special-purpose address, never sent to an online provider")

// LookupError is a failed online lookup. RetryAt, when set, is the
// earliest time the provider wants to be asked anything again.
type LookupError struct {
	Provider string
	Addr     netip.Addr
	Err      error
	RetryAt  time.Time
}

func (e *LookupError) Error() string {
	s := fmt.Sprintf("%s lookup of %s: %v", e.Provider, e.Addr, e.Err)
	if !e.RetryAt.IsZero() {
		s += " (paused until " + e.RetryAt.Format(time.TimeOnly) + ")"
	}
	return s
}

func (e *LookupError) Unwrap() error { return e.Err }

// Lookup returns what ipwho.is says about addr, from the cache when it
// can. A special-purpose address returns an error wrapping ErrNotSent and
// nothing is sent. Lookup may wait for the rate limit, as long as ctx
// allows.
func (p *IPWhois) Lookup(ctx context.Context, addr netip.Addr) (Info, error) {
	q := queryAddr(addr)
	if name, special := SpecialPurpose(q); special {
		return Info{}, fmt.Errorf("%s (%s): %w", addr, name, ErrNotSent)
	}
	now := p.now()
	p.mu.Lock()
	p.loadLocked(now)
	if c, ok := p.cache[q]; ok && now.Before(c.Expires) {
		p.mu.Unlock()
		return c.Info, nil
	}
	if now.Before(p.paused) {
		until := p.paused
		p.mu.Unlock()
		return Info{}, &LookupError{Provider: IPWhoisName, Addr: q, Err: errors.New("rate limited by the server"), RetryAt: until}
	}
	wait := p.bucket.take(now)
	p.mu.Unlock()

	if wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			p.mu.Lock()
			p.bucket.refund()
			p.mu.Unlock()
			return Info{}, ctx.Err()
		}
		p.mu.Lock()
		paused := p.now().Before(p.paused)
		until := p.paused
		p.mu.Unlock()
		if paused {
			return Info{}, &LookupError{Provider: IPWhoisName, Addr: q, Err: errors.New("rate limited by the server"), RetryAt: until}
		}
	}

	in, found, err := p.fetch(ctx, q)
	if err != nil {
		return Info{}, err
	}
	now = p.now()
	ttl := p.ttl
	if !found {
		ttl = p.negTTL
	}
	p.mu.Lock()
	p.cache[q] = cacheEntry{Addr: q, Info: in, Found: found, Fetched: now, Expires: now.Add(ttl)}
	p.pruneLocked(now)
	p.dirty = true
	p.mu.Unlock()
	p.save()
	return in, nil
}

// Sent returns how many requests have been sent and how many were
// answered (HTTP 200 with a well-formed body), for the UI to show.
func (p *IPWhois) Sent() (requests, answers int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent, p.answers
}

// ipwhoisAnswer is the part of ipwho.is's JSON used here.
type ipwhoisAnswer struct {
	Success     *bool    `json:"success"`
	Message     string   `json:"message"`
	City        string   `json:"city"`
	Region      string   `json:"region"`
	Country     string   `json:"country"`
	CountryCode string   `json:"country_code"`
	Latitude    *float64 `json:"latitude"`
	Longitude   *float64 `json:"longitude"`
	Connection  struct {
		ASN any    `json:"asn"` // a number; a string ("AS15169") is read too
		Org string `json:"org"`
		ISP string `json:"isp"`
	} `json:"connection"`
}

// fetch sends one request. found is false for a well-formed "nothing
// known" answer (success false for a reserved or invalid address).
func (p *IPWhois) fetch(ctx context.Context, q netip.Addr) (in Info, found bool, err error) {
	fail := func(err error, retryAt time.Time) (Info, bool, error) {
		return Info{}, false, &LookupError{Provider: IPWhoisName, Addr: q, Err: err, RetryAt: retryAt}
	}
	rctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, p.base+q.String(), nil)
	if err != nil {
		return fail(err, time.Time{})
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "PingerPlot (network path monitor)")
	p.mu.Lock()
	p.sent++
	p.mu.Unlock()
	resp, err := p.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Info{}, false, ctx.Err()
		}
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %v", p.timeout)
		}
		return fail(err, time.Time{})
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		if ctx.Err() != nil {
			return Info{}, false, ctx.Err()
		}
		return fail(fmt.Errorf("reading the answer: %v", err), time.Time{})
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		now := p.now()
		until := now.Add(retryAfter(resp.Header.Get("Retry-After"), now))
		p.mu.Lock()
		if until.After(p.paused) {
			p.paused = until
		}
		p.mu.Unlock()
		return fail(errors.New("HTTP 429 Too Many Requests"), until)
	case resp.StatusCode != http.StatusOK:
		return fail(fmt.Errorf("HTTP %s", resp.Status), time.Time{})
	}
	var a ipwhoisAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return fail(fmt.Errorf("malformed answer: %v", err), time.Time{})
	}
	if a.Success == nil {
		return fail(errors.New("malformed answer: no \"success\" field"), time.Time{})
	}
	p.mu.Lock()
	p.answers++
	p.mu.Unlock()
	if !*a.Success {
		msg := strings.TrimSpace(a.Message)
		lower := strings.ToLower(msg)
		if strings.Contains(lower, "reserved") || strings.Contains(lower, "invalid") {
			return Info{}, false, nil // nothing to know, and it will not change
		}
		if msg == "" {
			msg = "no reason given"
		}
		// Quota and other refusals: not cached, and asked again only
		// after the caller's backoff.
		return fail(fmt.Errorf("refused: %s", clip(msg, 200)), time.Time{})
	}
	if a.Latitude != nil && a.Longitude != nil && *a.Latitude >= -90 && *a.Latitude <= 90 && *a.Longitude >= -180 && *a.Longitude <= 180 {
		in.Located, in.Lat, in.Lon = true, *a.Latitude, *a.Longitude
	}
	in.City, in.Region, in.Country = clip(a.City, 200), clip(a.Region, 200), clip(a.Country, 200)
	if cc := strings.ToUpper(strings.TrimSpace(a.CountryCode)); len(cc) == 2 {
		in.CountryCode = cc
	}
	if in.Located || in.City != "" || in.Country != "" || in.CountryCode != "" {
		in.Source = IPWhoisName
	}
	if n, ok := asNumber(a.Connection.ASN); ok {
		in.ASN = n
		in.ASName = clip(firstString(strings.TrimSpace(a.Connection.Org), strings.TrimSpace(a.Connection.ISP)), 200)
		in.ASSource = IPWhoisName
	}
	return in, true, nil
}

// retryAfter reads a Retry-After header (seconds or an HTTP date) into a
// pause between 1 s and MaxPause; DefaultPause when absent or unreadable.
func retryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	d := DefaultPause
	if s, err := strconv.Atoi(h); err == nil {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, time.Second), MaxPause)
}

// clip bounds a string from the network before it reaches a terminal or a
// page.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}
