package geo

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"time"
)

// fakeProvider answers from a map, counts questions and can be held.
type fakeProvider struct {
	name    string
	answers map[string]Info
	err     error
	hold    chan struct{} // non-nil: Lookup waits for it (or ctx)
	started chan struct{} // non-nil: Lookup sends on it first

	mu    sync.Mutex
	asked []string
	ctxs  []context.Context
}

func (p *fakeProvider) Name() string { return p.name }

func (p *fakeProvider) Lookup(ctx context.Context, addr netip.Addr) (Info, error) {
	p.mu.Lock()
	p.asked = append(p.asked, addr.String())
	p.ctxs = append(p.ctxs, ctx)
	hold, err := p.hold, p.err
	p.mu.Unlock()
	if p.started != nil {
		p.started <- struct{}{}
	}
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return Info{}, ctx.Err()
		}
	}
	if err != nil {
		return Info{}, err
	}
	return p.answers[queryAddr(addr).String()], nil
}

func (p *fakeProvider) questions() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.asked...)
}

func (p *fakeProvider) setErr(err error) {
	p.mu.Lock()
	p.err = err
	p.mu.Unlock()
}

func wait(t *testing.T, r *Resolver) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.Wait(ctx)
	if ctx.Err() != nil {
		t.Fatal("lookups still pending after 10s")
	}
}

var (
	pubAddr  = netip.MustParseAddr("8.8.8.8")
	privAddr = netip.MustParseAddr("10.0.1.1")
	place    = Info{Located: true, Lat: 1, Lon: 2, City: "Paris", CountryCode: "FR", Source: "off.mmdb"}
	asOnly   = Info{ASN: 15169, ASName: "Google LLC", ASSource: "asn.csv"}
	online   = Info{Located: true, Lat: 37.4, Lon: -122, City: "Mountain View", CountryCode: "US", Source: "on", ASN: 15169, ASName: "Google", ASSource: "on"}
)

func TestResolverNeverBlocks(t *testing.T) {
	off := &fakeProvider{name: "off", hold: make(chan struct{}), answers: map[string]Info{"8.8.8.8": place}}
	r := New(Config{Offline: off})
	defer r.Close()
	done := make(chan Status)
	go func() { done <- r.Status(pubAddr) }()
	select {
	case st := <-done:
		if !st.Pending || !st.Info.IsZero() {
			t.Errorf("first Status = %+v; want pending, nothing known", st)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Status blocked on a held lookup")
	}
	for i := 0; i < 10; i++ {
		r.Info(pubAddr) // one lookup however often asked
	}
	close(off.hold)
	wait(t, r)
	if got, ok := r.Info(pubAddr); !ok || got != place {
		t.Errorf("Info = %+v, %v; want %+v", got, ok, place)
	}
	if n := len(off.questions()); n != 1 {
		t.Errorf("offline asked %d times; want 1", n)
	}
}

func TestResolverOnlineOnlyWhenEnabledAndNeeded(t *testing.T) {
	clk := newClock()
	off := &fakeProvider{name: "off", answers: map[string]Info{"8.8.8.8": asOnly, "1.1.1.1": {ASN: 13335, ASSource: "asn.csv", Located: true, Lat: 3, Lon: 4, Source: "x"}}}
	on := &fakeProvider{name: "on", answers: map[string]Info{"8.8.8.8": online, "9.9.9.9": online}}
	r := New(Config{Offline: off, Online: on, TimeNow: clk.Now})
	defer r.Close()

	// Off by default: nothing is sent.
	r.Info(pubAddr)
	r.Info(privAddr)
	wait(t, r)
	r.Info(pubAddr)
	wait(t, r)
	if q := on.questions(); len(q) != 0 {
		t.Fatalf("online asked %v while off", q)
	}
	if got, _ := r.Info(pubAddr); got != asOnly {
		t.Errorf("offline only: %+v; want %+v", got, asOnly)
	}

	// On: the public address that lacks a location is sent; the private
	// one and the fully answered one are not.
	r.SetOnline(true)
	for _, a := range []string{"8.8.8.8", "10.0.1.1", "1.1.1.1", "192.168.1.1", "fd00::1", "::ffff:10.0.0.1", "64:ff9b::a00:1"} {
		r.Info(netip.MustParseAddr(a))
	}
	wait(t, r)
	for _, a := range []string{"8.8.8.8", "10.0.1.1", "1.1.1.1", "192.168.1.1", "fd00::1", "::ffff:10.0.0.1", "64:ff9b::a00:1"} {
		r.Info(netip.MustParseAddr(a))
	}
	wait(t, r)
	if q := on.questions(); len(q) != 1 || q[0] != "8.8.8.8" {
		t.Errorf("online asked %v; want only 8.8.8.8", q)
	}
	// Offline's AS is kept; online adds the place.
	want := Info{Located: true, Lat: 37.4, Lon: -122, City: "Mountain View", CountryCode: "US", Source: "on", ASN: 15169, ASName: "Google LLC", ASSource: "asn.csv"}
	if got, _ := r.Info(pubAddr); got != want {
		t.Errorf("merged = %+v; want %+v", got, want)
	}
	st := r.Status(privAddr)
	if st.Special != "Private-Use (RFC 1918)" {
		t.Errorf("Status(10.0.1.1).Special = %q; want Private-Use", st.Special)
	}

	// Turned off again: a new address is not sent.
	r.SetOnline(false)
	r.Info(netip.MustParseAddr("9.9.9.9"))
	wait(t, r)
	r.Info(netip.MustParseAddr("9.9.9.9"))
	wait(t, r)
	if q := on.questions(); len(q) != 1 {
		t.Errorf("online asked %v after SetOnline(false)", q)
	}
}

func TestResolverNeedAS(t *testing.T) {
	off := &fakeProvider{name: "off", answers: map[string]Info{"8.8.8.8": asOnly}}
	on := &fakeProvider{name: "on", answers: map[string]Info{"8.8.8.8": online, "9.9.9.9": online}}
	r := New(Config{Offline: off, Online: on, Need: AS, OnlineEnabled: true})
	defer r.Close()
	r.Info(pubAddr)
	r.Info(netip.MustParseAddr("9.9.9.9"))
	wait(t, r)
	r.Info(pubAddr)
	r.Info(netip.MustParseAddr("9.9.9.9"))
	wait(t, r)
	if q := on.questions(); len(q) != 1 || q[0] != "9.9.9.9" {
		t.Errorf("online asked %v; want only 9.9.9.9 (8.8.8.8's AS is known offline)", q)
	}
	if got, _ := r.Info(netip.MustParseAddr("9.9.9.9")); got.AS() != "AS15169" || got.ASSource != "on" {
		t.Errorf("9.9.9.9 = %+v; want AS15169 from online", got)
	}
}

func TestResolverBackoff(t *testing.T) {
	clk := newClock()
	on := &fakeProvider{name: "on", err: errors.New("HTTP 500"), answers: map[string]Info{"8.8.8.8": online}}
	r := New(Config{Online: on, OnlineEnabled: true, TimeNow: clk.Now})
	defer r.Close()
	ask := func() Status {
		r.Info(pubAddr)
		wait(t, r)
		return r.Status(pubAddr)
	}
	st := ask()
	if st.Err == nil || !st.RetryAt.Equal(clk.Now().Add(time.Minute)) {
		t.Fatalf("after a failure: %+v; want the error and a retry in 1m", st)
	}
	for i := 0; i < 20; i++ {
		ask() // no tight loop: nothing is sent before RetryAt
	}
	clk.Add(59 * time.Second)
	ask()
	if n := len(on.questions()); n != 1 {
		t.Fatalf("asked %d times before the retry time; want 1", n)
	}
	clk.Add(time.Second)
	st = ask()
	if n := len(on.questions()); n != 2 || !st.RetryAt.Equal(clk.Now().Add(2*time.Minute)) {
		t.Fatalf("second failure: asked %d times, retry at %v; want 2, in 2m", n, st.RetryAt.Sub(clk.Now()))
	}
	// A provider's own pause is honoured when longer.
	clk.Add(2 * time.Minute)
	on.setErr(&LookupError{Provider: "on", Addr: pubAddr, Err: errors.New("HTTP 429"), RetryAt: clk.Now().Add(3 * time.Hour)})
	st = ask()
	if !st.RetryAt.Equal(clk.Now().Add(3 * time.Hour)) {
		t.Errorf("after a 429: retry in %v; want 3h", st.RetryAt.Sub(clk.Now()))
	}
	// Success clears the error.
	on.setErr(nil)
	clk.Add(3 * time.Hour)
	st = ask()
	if st.Err != nil || !st.RetryAt.IsZero() || st.Info != online {
		t.Errorf("after a success: %+v; want the answer, no error", st)
	}
}

func TestResolverSetOnlineOffCancels(t *testing.T) {
	on := &fakeProvider{name: "on", hold: make(chan struct{}), started: make(chan struct{}, 10)}
	r := New(Config{Online: on, OnlineEnabled: true})
	defer r.Close()
	r.Info(pubAddr)
	r.Info(netip.MustParseAddr("9.9.9.9")) // queued behind it
	<-on.started
	r.SetOnline(false)
	wait(t, r)
	on.mu.Lock()
	ctx := on.ctxs[0]
	on.mu.Unlock()
	if ctx.Err() == nil {
		t.Error("the lookup in flight was not canceled")
	}
	if q := on.questions(); len(q) != 1 {
		t.Errorf("asked %v; want the queued one dropped", q)
	}
	if st := r.Status(pubAddr); st.Err != nil || st.Pending {
		t.Errorf("Status after turning off = %+v; want no error (not the provider's fault), not pending", st)
	}
	// On again: asked anew.
	close(on.hold)
	r.SetOnline(true)
	r.Info(pubAddr)
	wait(t, r)
	if q := on.questions(); len(q) != 2 {
		t.Errorf("asked %v after turning on again; want a second question", q)
	}
}

func TestResolverTTL(t *testing.T) {
	clk := newClock()
	off := &fakeProvider{name: "off", answers: map[string]Info{"8.8.8.8": place}}
	r := New(Config{Offline: off, TimeNow: clk.Now, TTL: time.Minute})
	defer r.Close()
	r.Info(pubAddr)
	wait(t, r)
	clk.Add(59 * time.Second)
	r.Info(pubAddr)
	wait(t, r)
	clk.Add(time.Second)
	if got, _ := r.Info(pubAddr); got != place {
		t.Errorf("expired answer not kept while refreshing: %+v", got)
	}
	wait(t, r)
	if n := len(off.questions()); n != 2 {
		t.Errorf("asked %d times; want 2 (once more after the TTL)", n)
	}
}

func TestResolverBounded(t *testing.T) {
	off := &fakeProvider{name: "off", answers: map[string]Info{}}
	r := New(Config{Offline: off, MaxEntries: 4, MaxConcurrent: 2})
	defer r.Close()
	for i := 0; i < 50; i++ {
		r.Info(netip.AddrFrom4([4]byte{8, 8, byte(i), 1}))
		wait(t, r)
	}
	r.mu.Lock()
	n := len(r.cache)
	r.mu.Unlock()
	if n > 4 {
		t.Errorf("cache holds %d entries; want at most 4", n)
	}
}

func TestResolverClose(t *testing.T) {
	off := &fakeProvider{name: "off", hold: make(chan struct{})}
	r := New(Config{Offline: off, MaxConcurrent: 1})
	for i := 0; i < 5; i++ {
		r.Info(netip.AddrFrom4([4]byte{8, 8, 8, byte(i)}))
	}
	r.Close() // cancels the held lookup, drops the queue, waits
	wait(t, r)
	if n := len(off.questions()); n != 1 {
		t.Errorf("asked %d times; want 1 (the rest dropped)", n)
	}
	r.Info(pubAddr) // after Close: reads only
	if n := len(off.questions()); n != 1 {
		t.Errorf("a lookup started after Close")
	}
}

// TestResolverWithIPWhois wires the real providers: test databases and a
// fake ipwho.is that fails the test if a special address reaches it.
func TestResolverWithIPWhois(t *testing.T) {
	dir := t.TempDir()
	testDBs(t, dir)
	o, _, err := OpenOffline(OfflineConfig{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	f, srv := startWhois(t)
	r := New(Config{Offline: o, Online: NewIPWhois(IPWhoisConfig{BaseURL: srv.URL, Rate: 100, Burst: 100}), OnlineEnabled: true})
	defer r.Close()
	addrs := []string{"10.0.1.1", "10.0.2.1", "192.168.5.5", "172.16.0.1", "100.64.0.1", "169.254.0.1", "127.0.0.1",
		"192.0.2.1", "198.51.100.1", "203.0.113.1", "2001:db8::1", "fe80::1", "fd12::1", "ff02::1", "1.1.1.1", "8.8.8.8"}
	for range 2 {
		for _, a := range addrs {
			r.Info(netip.MustParseAddr(a))
		}
		wait(t, r)
	}
	if q := f.requests(); len(q) != 1 || q[0] != "8.8.8.8" {
		t.Errorf("ipwho.is asked %v; want only 8.8.8.8 (1.1.1.1 is fully known offline)", q)
	}
	if got, _ := r.Info(netip.MustParseAddr("10.0.2.1")); got.City != "Tokyo" || got.AS() != "AS64512" {
		t.Errorf("private lab router = %+v; want Tokyo, AS64512 from the test databases", got)
	}
	if got, _ := r.Info(pubAddr); got.Source != IPWhoisName || got.City != "Sydney" {
		t.Errorf("8.8.8.8 = %+v; want the fake ipwho.is answer", got)
	}
}
