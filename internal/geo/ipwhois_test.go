package geo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

var sydney = Info{Located: true, Lat: -33.8688, Lon: 151.2093, City: "Sydney", Region: "New South Wales", Country: "Australia",
	CountryCode: "AU", ASN: 13335, ASName: "Cloudflare, Inc.", Source: IPWhoisName, ASSource: IPWhoisName}

func TestIPWhoisAnswer(t *testing.T) {
	f, srv := startWhois(t)
	p := NewIPWhois(IPWhoisConfig{BaseURL: srv.URL})
	got := lookup(t, p, "1.1.1.1")
	if got != sydney {
		t.Errorf("Lookup = %+v; want %+v", got, sydney)
	}
	// Asked again: the memory cache answers.
	lookup(t, p, "1.1.1.1")
	// The NAT64 form and the IPv4-mapped form are the same question.
	lookup(t, p, "64:ff9b::101:101")
	lookup(t, p, "::ffff:1.1.1.1")
	if got := f.requests(); len(got) != 1 || got[0] != "1.1.1.1" {
		t.Errorf("requests = %v; want one for 1.1.1.1", got)
	}
	if sent, answered := p.Sent(); sent != 1 || answered != 1 {
		t.Errorf("Sent() = %d, %d; want 1, 1", sent, answered)
	}
}

func TestIPWhoisNeverSendsSpecial(t *testing.T) {
	f, srv := startWhois(t)
	p := NewIPWhois(IPWhoisConfig{BaseURL: srv.URL, Rate: 1000, Burst: 1000})
	var addrs []netip.Addr
	for _, r := range specialRanges {
		addrs = append(addrs, r.prefix.Masked().Addr(), lastAddr(r.prefix))
	}
	for _, s := range []string{"::ffff:10.0.0.1", "64:ff9b::a00:1", "fe80::1%eth0", "4000::1"} {
		addrs = append(addrs, netip.MustParseAddr(s))
	}
	for _, a := range addrs {
		if _, err := p.Lookup(context.Background(), a); !errors.Is(err, ErrNotSent) {
			t.Errorf("Lookup(%s) error = %v; want ErrNotSent", a, err)
		}
	}
	if got := f.requests(); len(got) != 0 {
		t.Errorf("special-purpose addresses reached the server: %v", got)
	}
}

func TestIPWhoisDiskCache(t *testing.T) {
	f, srv := startWhois(t)
	clk := newClock()
	file := filepath.Join(t.TempDir(), "cache", "ipwhois-cache.json")
	cfg := IPWhoisConfig{BaseURL: srv.URL, CacheFile: file, TimeNow: clk.Now}

	p1 := NewIPWhois(cfg)
	lookup(t, p1, "1.1.1.1")
	f.set(func(f *fakeWhois) {
		f.body = func(ip string) string { return `{"ip":"` + ip + `","success":false,"message":"Reserved range"}` }
	})
	if got := lookup(t, p1, "9.9.9.9"); !got.IsZero() {
		t.Errorf("a reserved-range answer = %+v; want nothing known", got)
	}
	if n := len(f.requests()); n != 2 {
		t.Fatalf("%d requests; want 2", n)
	}
	if runtime.GOOS != "windows" {
		st, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("cache file mode %v; want 0600 (it lists traced addresses)", st.Mode().Perm())
		}
	}

	// A new process reads the answers from the file, the negative one too.
	p2 := NewIPWhois(cfg)
	if got := lookup(t, p2, "1.1.1.1"); got != sydney {
		t.Errorf("from disk: %+v; want %+v", got, sydney)
	}
	lookup(t, p2, "9.9.9.9")
	if n := len(f.requests()); n != 2 {
		t.Errorf("%d requests after a restart; want still 2 (both cached on disk)", n)
	}

	// The negative answer expires after a day, the positive one after a week.
	clk.Add(25 * time.Hour)
	p3 := NewIPWhois(cfg)
	lookup(t, p3, "1.1.1.1")
	lookup(t, p3, "9.9.9.9")
	if got := f.requests(); len(got) != 3 || got[2] != "9.9.9.9" {
		t.Errorf("requests after a day = %v; want 9.9.9.9 asked again", got)
	}
	clk.Add(7 * 24 * time.Hour)
	lookup(t, p3, "1.1.1.1")
	if got := f.requests(); len(got) != 4 || got[3] != "1.1.1.1" {
		t.Errorf("requests after a week = %v; want 1.1.1.1 asked again", got)
	}
}

func TestIPWhoisCacheBounded(t *testing.T) {
	_, srv := startWhois(t)
	clk := newClock()
	file := filepath.Join(t.TempDir(), "c.json")
	p := NewIPWhois(IPWhoisConfig{BaseURL: srv.URL, CacheFile: file, TimeNow: clk.Now, MaxEntries: 3, Rate: 100, Burst: 100})
	for i := 1; i <= 5; i++ {
		lookup(t, p, fmt.Sprintf("8.8.8.%d", i))
		clk.Add(time.Second)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc cacheDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range doc.Entries {
		got = append(got, e.Addr.String())
	}
	if strings.Join(got, " ") != "8.8.8.3 8.8.8.4 8.8.8.5" {
		t.Errorf("cache file holds %v; want the 3 newest", got)
	}
	p.mu.Lock()
	n := len(p.cache)
	p.mu.Unlock()
	if n != 3 {
		t.Errorf("memory cache holds %d; want 3", n)
	}
}

func TestIPWhoisCorruptCacheFile(t *testing.T) {
	f, srv := startWhois(t)
	file := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(file, []byte("{not json"), 0o600)
	p := NewIPWhois(IPWhoisConfig{BaseURL: srv.URL, CacheFile: file})
	if got := lookup(t, p, "1.1.1.1"); got != sydney {
		t.Errorf("Lookup with a corrupt cache file = %+v", got)
	}
	if len(f.requests()) != 1 {
		t.Errorf("requests = %v; want one", f.requests())
	}
	data, _ := os.ReadFile(file)
	if !json.Valid(data) || !strings.Contains(string(data), "1.1.1.1") {
		t.Errorf("cache file not replaced: %s", data)
	}
	// Special-purpose entries written into the file by hand are ignored.
	os.WriteFile(file, []byte(`{"format_version":1,"provider":"ipwho.is","entries":[{"addr":"10.0.0.1","found":true,`+
		`"fetched":"2999-01-01T00:00:00Z","expires":"2999-01-02T00:00:00Z","info":{"city":"X"}}]}`), 0o600)
	p2 := NewIPWhois(IPWhoisConfig{BaseURL: srv.URL, CacheFile: file})
	if _, err := p2.Lookup(context.Background(), netip.MustParseAddr("10.0.0.1")); !errors.Is(err, ErrNotSent) {
		t.Errorf("Lookup(10.0.0.1) = %v; want ErrNotSent", err)
	}
}

func TestIPWhoisErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"malformed JSON", 200, `{"success":tru`, "malformed answer"},
		{"not JSON", 200, `<html>oops</html>`, "malformed answer"},
		{"no success field", 200, `{"ip":"1.1.1.1","city":"X"}`, `no "success" field`},
		{"refusal", 200, `{"success":false,"message":"You've hit the monthly limit"}`, "refused: You've hit the monthly limit"},
		{"server error", 500, "", "HTTP 500"},
		{"not found", 404, "", "HTTP 404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := startWhois(t)
			f.set(func(f *fakeWhois) {
				f.status = tc.status
				f.body = func(string) string { return tc.body }
			})
			p := NewIPWhois(IPWhoisConfig{BaseURL: srv.URL})
			_, err := p.Lookup(context.Background(), netip.MustParseAddr("1.1.1.1"))
			var le *LookupError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Lookup error = %v; want a LookupError containing %q", err, tc.want)
			}
			// Failures are not cached: the caller's backoff decides.
			p.Lookup(context.Background(), netip.MustParseAddr("1.1.1.1"))
			if n := len(f.requests()); n != 2 {
				t.Errorf("%d requests; want 2 (a failure is not cached)", n)
			}
		})
	}
}

func TestIPWhoisTooManyRequests(t *testing.T) {
	f, srv := startWhois(t)
	clk := newClock()
	f.set(func(f *fakeWhois) { f.status, f.header = 429, map[string]string{"Retry-After": "30"} })
	p := NewIPWhois(IPWhoisConfig{BaseURL: srv.URL, TimeNow: clk.Now})
	_, err := p.Lookup(context.Background(), netip.MustParseAddr("1.1.1.1"))
	var le *LookupError
	if !errors.As(err, &le) || !le.RetryAt.Equal(clk.Now().Add(30*time.Second)) {
		t.Fatalf("Lookup error = %v; want a LookupError with RetryAt in 30s", err)
	}
	// Every lookup waits out the pause without sending.
	f.set(func(f *fakeWhois) { f.status, f.header = 0, nil })
	clk.Add(29 * time.Second)
	if _, err := p.Lookup(context.Background(), netip.MustParseAddr("8.8.8.8")); !errors.As(err, &le) {
		t.Errorf("during the pause: %v; want a LookupError", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests during the pause; want 1", n)
	}
	clk.Add(time.Second)
	if got := lookup(t, p, "8.8.8.8"); got.ASN != 13335 {
		t.Errorf("after the pause: %+v", got)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		h    string
		want time.Duration
	}{
		{"", DefaultPause},
		{"junk", DefaultPause},
		{"120", 2 * time.Minute},
		{"0", time.Second},
		{"999999", MaxPause},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
	} {
		if got := retryAfter(tc.h, now); got != tc.want {
			t.Errorf("retryAfter(%q) = %v; want %v", tc.h, got, tc.want)
		}
	}
}

// TestIPWhoisTimeout uses a real server on loopback that never answers.
func TestIPWhoisTimeout(t *testing.T) {
	f, srv := startWhois(t)
	f.set(func(f *fakeWhois) { f.block = true })
	p := NewIPWhois(IPWhoisConfig{BaseURL: srv.URL, Timeout: 50 * time.Millisecond})
	_, err := p.Lookup(context.Background(), netip.MustParseAddr("1.1.1.1"))
	var le *LookupError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "no answer within 50ms") {
		t.Errorf("Lookup error = %v; want a timeout LookupError", err)
	}
}

func TestIPWhoisTimeoutFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeWhois{t: t, block: true}
		p := NewIPWhois(IPWhoisConfig{BaseURL: "http://ipwho.test/", Client: &http.Client{Transport: handlerTransport{f}}})
		start := time.Now()
		_, err := p.Lookup(context.Background(), netip.MustParseAddr("1.1.1.1"))
		if !strings.Contains(fmt.Sprint(err), "no answer within 5s") || time.Since(start) != DefaultOnlineTimeout {
			t.Errorf("Lookup = %v after %v; want a timeout after %v", err, time.Since(start), DefaultOnlineTimeout)
		}
	})
}

// TestIPWhoisRateLimit checks request times on the fake clock: a burst,
// then one request per 1/rate, and never more than ipwho.is's published
// 60 in 60 s with the defaults.
func TestIPWhoisRateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var times []time.Duration
		start := time.Now()
		f := &fakeWhois{t: t}
		rec := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			times = append(times, time.Since(start))
			mu.Unlock()
			f.ServeHTTP(w, r)
		})
		p := NewIPWhois(IPWhoisConfig{BaseURL: "http://ipwho.test/", Client: &http.Client{Transport: handlerTransport{rec}}, Rate: 1, Burst: 3})
		for i := 1; i <= 6; i++ {
			lookup(t, p, fmt.Sprintf("8.8.8.%d", i))
		}
		want := []time.Duration{0, 0, 0, time.Second, 2 * time.Second, 3 * time.Second}
		if fmt.Sprint(times) != fmt.Sprint(want) {
			t.Errorf("request times %v; want %v", times, want)
		}
		// Cache hits take no token.
		times = nil
		lookup(t, p, "8.8.8.1")
		if len(times) != 0 {
			t.Errorf("a cached answer sent a request")
		}

		// Defaults, many concurrent callers: at most 50 in any 60 s.
		times, start = nil, time.Now()
		time.Sleep(time.Hour) // let the bucket fill
		times, start = nil, time.Now()
		d := NewIPWhois(IPWhoisConfig{BaseURL: "http://ipwho.test/", Client: &http.Client{Transport: handlerTransport{rec}}})
		var wg sync.WaitGroup
		for i := 0; i < 150; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lookup(t, d, fmt.Sprintf("9.9.%d.%d", i/200, i%200+1))
			}()
		}
		wg.Wait()
		if len(times) != 150 {
			t.Fatalf("%d requests; want 150", len(times))
		}
		worst := 0
		for i := range times {
			n := 0
			for j := i; j < len(times) && times[j]-times[i] < time.Minute; j++ {
				n++
			}
			worst = max(worst, n)
		}
		if worst > 50 {
			t.Errorf("%d requests in one 60 s window; want at most 50", worst)
		}
		if last := times[len(times)-1]; last > 200*time.Second {
			t.Errorf("150 requests took %v; want about (150-5)/0.75 = 193 s", last)
		}
	})
}

func TestIPWhoisCancelWhileWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeWhois{t: t}
		p := NewIPWhois(IPWhoisConfig{BaseURL: "http://ipwho.test/", Client: &http.Client{Transport: handlerTransport{f}}, Rate: 0.1, Burst: 1})
		lookup(t, p, "8.8.8.1") // takes the only token
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := p.Lookup(ctx, netip.MustParseAddr("8.8.8.2")); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Lookup while waiting for a token = %v; want the context's error", err)
		}
		if n := len(f.requests()); n != 1 {
			t.Errorf("%d requests; want 1", n)
		}
	})
}
