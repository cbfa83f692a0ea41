package resolve

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

var (
	addrA = netip.MustParseAddr("192.0.2.1")
	addrB = netip.MustParseAddr("2001:db8::1")
)

// fakeDNS is a scripted Lookup that counts calls and the lookups in flight.
type fakeDNS struct {
	mu      sync.Mutex
	names   map[string][]string
	err     error
	block   chan struct{} // if non-nil, lookups wait for it (or ctx)
	calls   int
	active  int
	maxSeen int
}

func (f *fakeDNS) lookup(ctx context.Context, addr string) ([]string, error) {
	f.mu.Lock()
	f.calls++
	f.active++
	f.maxSeen = max(f.maxSeen, f.active)
	block := f.block
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.active--
		f.mu.Unlock()
	}()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return nil, f.err
	}
	return f.names[addr], nil
}

func (f *fakeDNS) set(addr netip.Addr, names ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.names == nil {
		f.names = make(map[string][]string)
	}
	f.names[addr.String()] = names
}

func (f *fakeDNS) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeDNS) stats() (calls, maxSeen int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls, f.maxSeen
}

// fakeClock is a settable TimeNow.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// resolveNow asks for addr, waits for the lookup, and asks again.
func resolveNow(t *testing.T, r *Resolver, addr netip.Addr) (string, bool) {
	t.Helper()
	r.Name(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.Wait(ctx)
	if ctx.Err() != nil {
		t.Fatalf("Wait did not return for %v", addr)
	}
	return r.Name(addr)
}

func TestNameFromLookup(t *testing.T) {
	tests := []struct {
		name     string
		names    []string
		err      error
		want     string
		wantOK   bool
		wantMiss bool
	}{
		{name: "trailing dot trimmed", names: []string{"router1.example.net."}, want: "router1.example.net", wantOK: true},
		{name: "no trailing dot", names: []string{"router1.example.net"}, want: "router1.example.net", wantOK: true},
		{name: "first name wins", names: []string{"a.example.", "b.example."}, want: "a.example", wantOK: true},
		{name: "invalid names skipped", names: []string{"evil\x1b[31m.example.", "", ".", "ok-host_1.example."}, want: "ok-host_1.example", wantOK: true},
		{name: "no names", names: nil},
		{name: "only invalid names", names: []string{"has space.example."}},
		{name: "error", err: errors.New("nxdomain")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dns := &fakeDNS{err: tt.err}
			dns.set(addrA, tt.names...)
			r := New(Config{Lookup: dns.lookup})
			defer r.Close()
			if name, ok := r.Name(addrA); name != "" || ok {
				t.Errorf("first Name = %q, %v; want a miss", name, ok)
			}
			if name, ok := resolveNow(t, r, addrA); name != tt.want || ok != tt.wantOK {
				t.Errorf("Name after lookup = %q, %v; want %q, %v", name, ok, tt.want, tt.wantOK)
			}
			if calls, _ := dns.stats(); calls != 1 {
				t.Errorf("lookups = %d; want 1", calls)
			}
		})
	}
}

func TestCacheHit(t *testing.T) {
	dns := &fakeDNS{}
	dns.set(addrA, "a.example.")
	dns.set(addrB, "b.example.")
	r := New(Config{Lookup: dns.lookup})
	defer r.Close()
	resolveNow(t, r, addrA)
	resolveNow(t, r, addrB)
	for range 100 {
		if name, ok := r.Name(addrA); name != "a.example" || !ok {
			t.Fatalf("Name(%v) = %q, %v; want a.example, true", addrA, name, ok)
		}
		if name, ok := r.Name(addrB); name != "b.example" || !ok {
			t.Fatalf("Name(%v) = %q, %v; want b.example, true", addrB, name, ok)
		}
	}
	if calls, _ := dns.stats(); calls != 2 {
		t.Errorf("lookups = %d; want 2 (then cache hits)", calls)
	}
}

func TestInvalidAddr(t *testing.T) {
	dns := &fakeDNS{}
	r := New(Config{Lookup: dns.lookup})
	defer r.Close()
	if name, ok := r.Name(netip.Addr{}); name != "" || ok {
		t.Errorf("Name(zero) = %q, %v; want \"\", false", name, ok)
	}
	r.Wait(context.Background())
	if calls, _ := dns.stats(); calls != 0 {
		t.Errorf("lookups = %d; want 0", calls)
	}
}

// TestExpiry steps a fake clock through the positive and negative
// lifetimes.
func TestExpiry(t *testing.T) {
	const fail = "!"
	type step struct {
		after    time.Duration // clock advance before the step
		dns      string        // what DNS answers from this step on: a name, fail, or "" for no change
		want     string        // Name's answer, before any lookup it starts
		wantOK   bool
		wantCall int // total lookups once the step's lookup has finished
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{name: "positive answer expires after TTL and is served stale", steps: []step{
			{dns: "a.example.", want: "", wantCall: 1},
			{want: "a.example", wantOK: true, wantCall: 1},
			{after: time.Hour - time.Second, dns: "b.example.", want: "a.example", wantOK: true, wantCall: 1},
			{after: time.Second, want: "a.example", wantOK: true, wantCall: 2}, // expired: stale answer, refresh
			{want: "b.example", wantOK: true, wantCall: 2},
		}},
		{name: "negative answer kept for NegativeTTL", steps: []step{
			{dns: fail, want: "", wantCall: 1},
			{after: time.Minute, want: "", wantCall: 1},
			{after: 4*time.Minute - time.Second, dns: "late.example.", want: "", wantCall: 1},
			{after: time.Second, want: "", wantCall: 2},
			{want: "late.example", wantOK: true, wantCall: 2},
		}},
		{name: "refresh that fails forgets the name", steps: []step{
			{dns: "a.example.", want: "", wantCall: 1},
			{after: time.Hour, dns: fail, want: "a.example", wantOK: true, wantCall: 2},
			{want: "", wantCall: 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			dns := &fakeDNS{}
			r := New(Config{Lookup: dns.lookup, TimeNow: clk.Now, TTL: time.Hour, NegativeTTL: 5 * time.Minute})
			defer r.Close()
			for i, s := range tt.steps {
				clk.Advance(s.after)
				switch s.dns {
				case "":
				case fail:
					dns.fail(errors.New("servfail"))
				default:
					dns.fail(nil)
					dns.set(addrA, s.dns)
				}
				name, ok := r.Name(addrA)
				r.Wait(context.Background())
				if name != s.want || ok != s.wantOK {
					t.Errorf("step %d: Name = %q, %v; want %q, %v", i, name, ok, s.want, s.wantOK)
				}
				if calls, _ := dns.stats(); calls != s.wantCall {
					t.Errorf("step %d: lookups = %d; want %d", i, calls, s.wantCall)
				}
			}
		})
	}
}

func TestDedupConcurrentMisses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dns := &fakeDNS{block: make(chan struct{})}
		dns.set(addrA, "a.example.")
		r := New(Config{Lookup: dns.lookup})
		defer r.Close()
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				if name, ok := r.Name(addrA); ok {
					t.Errorf("Name during the lookup = %q, true; want a miss", name)
				}
			})
		}
		wg.Wait()
		synctest.Wait()
		if calls, _ := dns.stats(); calls != 1 {
			t.Errorf("lookups for 50 concurrent misses = %d; want 1", calls)
		}
		close(dns.block)
		r.Wait(t.Context())
		if name, ok := r.Name(addrA); name != "a.example" || !ok {
			t.Errorf("Name = %q, %v; want a.example, true", name, ok)
		}
	})
}

func TestConcurrencyBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dns := &fakeDNS{block: make(chan struct{})}
		var addrs []netip.Addr
		for i := range 10 {
			a := netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)})
			addrs = append(addrs, a)
			dns.set(a, fmt.Sprintf("h%d.example.", i+1))
		}
		r := New(Config{Lookup: dns.lookup, MaxConcurrent: 3})
		defer r.Close()
		for _, a := range addrs {
			r.Name(a)
		}
		synctest.Wait()
		if calls, maxSeen := dns.stats(); calls != 3 || maxSeen != 3 {
			t.Errorf("with 10 misses, %d lookups started, %d at once; want 3 and 3", calls, maxSeen)
		}
		close(dns.block)
		r.Wait(t.Context())
		for i, a := range addrs {
			if name, ok := r.Name(a); name != fmt.Sprintf("h%d.example", i+1) || !ok {
				t.Errorf("Name(%v) = %q, %v; want h%d.example", a, name, ok, i+1)
			}
		}
		if calls, maxSeen := dns.stats(); calls != 10 || maxSeen != 3 {
			t.Errorf("lookups = %d, at most %d at once; want 10 and 3", calls, maxSeen)
		}
	})
}

func TestSlowLookupTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dns := &fakeDNS{block: make(chan struct{})} // never released: only the timeout ends it
		dns.set(addrA, "slow.example.")
		r := New(Config{Lookup: dns.lookup, Timeout: 2 * time.Second})
		defer r.Close()
		start := time.Now()
		if _, ok := r.Name(addrA); ok {
			t.Fatal("first Name hit the cache")
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("Name blocked for %v; want 0", d)
		}
		r.Wait(t.Context())
		if d := time.Since(start); d != 2*time.Second {
			t.Errorf("lookup ended after %v; want the 2s timeout", d)
		}
		if name, ok := r.Name(addrA); ok {
			t.Errorf("Name after timeout = %q, true; want a negative answer", name)
		}
		if calls, _ := dns.stats(); calls != 1 {
			t.Errorf("lookups = %d; want 1 (the timeout is cached)", calls)
		}
	})
}

func TestWaitHonoursContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dns := &fakeDNS{block: make(chan struct{})}
		r := New(Config{Lookup: dns.lookup, Timeout: time.Minute})
		defer r.Close()
		r.Name(addrA)
		start := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		r.Wait(ctx)
		if d := time.Since(start); d != 100*time.Millisecond {
			t.Errorf("Wait returned after %v; want 100ms, its context's deadline", d)
		}
	})
}

func TestCloseWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var ended atomic.Int32
		lookup := func(ctx context.Context, addr string) ([]string, error) {
			defer ended.Add(1)
			<-ctx.Done()
			return nil, ctx.Err()
		}
		r := New(Config{Lookup: lookup, Timeout: time.Hour, MaxConcurrent: 1})
		r.Name(addrA)
		r.Name(addrB) // queued behind addrA
		synctest.Wait()
		start := time.Now()
		r.Close()
		if d := time.Since(start); d != 0 {
			t.Errorf("Close took %v; want it to cancel lookups, not wait out their timeout", d)
		}
		if n := ended.Load(); n != 1 {
			t.Errorf("%d lookups ended by the time Close returned; want 1 (the queued one never starts)", n)
		}
		// After Close, Name reads the cache and starts nothing.
		if _, ok := r.Name(addrA); ok {
			t.Error("a cancelled lookup was cached")
		}
		synctest.Wait()
		if n := ended.Load(); n != 1 {
			t.Errorf("lookups after Close: %d ended; want still 1", n)
		}
		r.Wait(t.Context()) // nothing pending: returns at once
		r.Close()           // idempotent
	})
}

func TestCacheBounded(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	dns := &fakeDNS{}
	r := New(Config{Lookup: dns.lookup, MaxEntries: 3, TimeNow: clk.Now})
	defer r.Close()
	for i := range 10 {
		a := netip.AddrFrom4([4]byte{10, 0, 0, byte(i)})
		dns.set(a, "x.example.")
		resolveNow(t, r, a)
		clk.Advance(time.Second) // later entries expire later
	}
	r.mu.Lock()
	n := len(r.cache)
	_, newest := r.cache[netip.AddrFrom4([4]byte{10, 0, 0, 9})]
	r.mu.Unlock()
	if n != 3 || !newest {
		t.Errorf("cache holds %d entries (newest kept: %v); want 3 and true", n, newest)
	}
}

func TestDefaults(t *testing.T) {
	r := New(Config{})
	defer r.Close()
	if r.timeout != DefaultTimeout || r.ttl != DefaultTTL || r.negTTL != DefaultNegativeTTL ||
		r.maxConc != DefaultMaxConcurrent || r.maxEntry != DefaultMaxEntries || r.lookup == nil || r.now == nil {
		t.Errorf("New(Config{}) = %+v; want every default filled in", r)
	}
}

func TestQueueSheds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dns := &fakeDNS{block: make(chan struct{})}
		var addrs []netip.Addr
		for i := range 5 {
			a := netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)})
			addrs = append(addrs, a)
			dns.set(a, "h.example.")
		}
		// One in flight, two queued; the other two are dropped, not
		// queued without bound.
		r := New(Config{Lookup: dns.lookup, MaxConcurrent: 1, MaxEntries: 2})
		defer r.Close()
		for _, a := range addrs {
			r.Name(a)
		}
		close(dns.block)
		r.Wait(t.Context())
		if calls, _ := dns.stats(); calls != 3 {
			t.Errorf("lookups = %d; want 3 (1 running + 2 queued)", calls)
		}
		// A dropped address is looked up when asked again.
		if _, ok := r.Name(addrs[4]); ok {
			t.Errorf("Name(%v) hit the cache; want a miss", addrs[4])
		}
		r.Wait(t.Context())
		if name, ok := r.Name(addrs[4]); !ok || name != "h.example" {
			t.Errorf("Name(%v) = %q, %v; want h.example, true", addrs[4], name, ok)
		}
	})
}
