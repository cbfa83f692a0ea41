package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// fakeList is a render function on a fake clock: each rendering takes
// took and says which it was.
type fakeList struct {
	mu    sync.Mutex
	clock time.Time
	took  time.Duration
	n     int
	done  chan struct{}
}

func (f *fakeList) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clock
}

func (f *fakeList) advance(d time.Duration) {
	f.mu.Lock()
	f.clock = f.clock.Add(d)
	f.mu.Unlock()
}

func (f *fakeList) render() []byte {
	f.mu.Lock()
	f.n++
	n := f.n
	f.clock = f.clock.Add(f.took)
	f.mu.Unlock()
	defer func() {
		select {
		case f.done <- struct{}{}:
		default:
		}
	}()
	return fmt.Appendf(nil, "r%d", n)
}

func newFakeCache(took time.Duration) (*listCache, *fakeList) {
	f := &fakeList{clock: time.Unix(1e9, 0), took: took, done: make(chan struct{}, 1)}
	c := newListCache()
	c.now = f.now
	return c, f
}

func TestListCacheRendersShortListsEveryTime(t *testing.T) {
	c, f := newFakeCache(2 * time.Millisecond) // under the 25 ms of a slow rendering
	for i := 1; i <= 3; i++ {
		if got, want := string(c.get(f.render)), fmt.Sprintf("r%d", i); got != want {
			t.Fatalf("get %d = %q; want %q (a fast list is rendered for every request)", i, got, want)
		}
	}
}

func TestListCacheServesSlowListsFromTheLatestRendering(t *testing.T) {
	c, f := newFakeCache(40 * time.Millisecond)
	if got := string(c.get(f.render)); got != "r1" {
		t.Fatalf("first get = %q; want r1", got)
	}
	// Younger than fresh: the same rendering, nothing rendered.
	f.advance(100 * time.Millisecond)
	if got := string(c.get(f.render)); got != "r1" {
		t.Fatalf("get at 140 ms = %q; want r1 from the cache", got)
	}
	// Older than fresh: still answered at once with r1, r2 renders behind.
	f.advance(200 * time.Millisecond)
	if got := string(c.get(f.render)); got != "r1" {
		t.Fatalf("get at 340 ms = %q; want r1 while r2 renders", got)
	}
	select {
	case <-f.done:
	case <-time.After(5 * time.Second):
		t.Fatal("no background rendering")
	}
	waitFor(t, func() bool { c.mu.Lock(); defer c.mu.Unlock(); return !c.refreshing })
	if got := string(c.get(f.render)); got != "r2" {
		t.Fatalf("get after the refresh = %q; want r2", got)
	}
	// A change (an API write or a monitor event) is never served stale.
	c.changed()
	if got := string(c.get(f.render)); got != "r3" {
		t.Fatalf("get after a change = %q; want r3 rendered for it", got)
	}
	// Past maxAge (no request for a while): rendered for the request.
	f.advance(6 * time.Second)
	if got := string(c.get(f.render)); got != "r4" {
		t.Fatalf("get after 6 s = %q; want r4", got)
	}
}

func TestListCacheDropsARenderingOlderThanAChange(t *testing.T) {
	c, f := newFakeCache(40 * time.Millisecond)
	c.get(f.render) // r1, slow: cached
	// r2 starts before a change lands (as a background refresh would).
	render := func() []byte {
		b := f.render()
		c.changed()
		return b
	}
	if got := string(c.render(render, false)); got != "r2" {
		t.Fatalf("render = %q", got)
	}
	if got := string(c.get(f.render)); got != "r3" {
		t.Fatalf("get = %q; want r3: r2 began before the change and must not be served after it", got)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestTargetListCachedStillShowsChanges: with the list always served from
// the cache, a target added or removed through the API is in the
// very next list (the monitor does not run: no event would tell).
func TestTargetListCachedStillShowsChanges(t *testing.T) {
	e := newEnv(t)
	e.srv.list.slow = -1 // every rendering counts as slow: always cached
	ids := func() []string {
		var sums []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(e.must(http.StatusOK, "GET", "/api/targets", nil).body, &sums); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range sums {
			out = append(out, s.ID)
		}
		return out
	}
	if got := ids(); len(got) != 0 {
		t.Fatalf("empty monitor lists %v", got)
	}
	a := e.add("dest.example", nil)
	if got := ids(); len(got) != 1 || got[0] != a.ID {
		t.Fatalf("after adding: %v; want [%s]", got, a.ID)
	}
	b := e.add("other.example", nil)
	if got := ids(); len(got) != 2 {
		t.Fatalf("after adding a second: %v; want %s and %s", got, a.ID, b.ID)
	}
	e.must(http.StatusNoContent, "DELETE", "/api/targets/"+a.ID, nil)
	if got := ids(); len(got) != 1 || got[0] != b.ID {
		t.Fatalf("after removing %s: %v; want [%s]", a.ID, got, b.ID)
	}
}
