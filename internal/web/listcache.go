package web

import (
	"sync"
	"time"
)

// listCache answers GET /api/targets from its latest rendering once
// renderings are slow, the way /metrics does (docs/metrics.md).
//
// A list of 5,000 targets takes 15 ms to build and encode on an idle
// machine and 40–160 ms while the monitor probes 20,000 times a second;
// the dashboard polls it, and so may scripts, and every poll paid that in
// full. Once a rendering took longer than slow, a request is answered at
// once with the latest rendering while it is younger than maxAge, and a
// rendering older than fresh is replaced in the background (one at a time),
// so the answer is at most fresh plus one rendering old: rounds come once
// an interval, so the list a user sees is as current as a page that polls
// a little later. Short lists (every list under some thousands of
// targets) are rendered for every request, as before.
//
// A change the user made (any API request other than a read, handled in
// Handler) or a change of the list's members or their settings the
// monitor published (forward) moves the generation on, and a rendering of
// an older generation is never served: a client that adds a target and
// then lists them sees it. Alerts and path changes are figures like the
// others and wait for the next rendering: at thousands of targets some
// target raises or clears something every second, and rendering the list
// anew for each would undo the cache.
type listCache struct {
	slow, fresh, maxAge time.Duration
	now                 func() time.Time

	mu         sync.Mutex
	gen        uint64 // bumped by every change
	body       []byte
	bodyGen    uint64
	at         time.Time // when body's rendering started
	isSlow     bool      // the latest rendering took longer than slow
	refreshing bool
}

func newListCache() *listCache {
	return &listCache{slow: 25 * time.Millisecond, fresh: 250 * time.Millisecond, maxAge: 5 * time.Second, now: time.Now}
}

// changed moves the generation on: no rendering from before is served.
func (c *listCache) changed() {
	c.mu.Lock()
	c.gen++
	c.mu.Unlock()
}

// get returns the list's JSON: the latest rendering when that is allowed,
// otherwise a new one from render (nil when render failed: never kept).
func (c *listCache) get(render func() []byte) []byte {
	c.mu.Lock()
	now := c.now()
	if c.body != nil && c.isSlow && c.bodyGen == c.gen && now.Sub(c.at) < c.maxAge {
		body := c.body
		if now.Sub(c.at) >= c.fresh && !c.refreshing {
			c.refreshing = true
			go c.render(render, true)
		}
		c.mu.Unlock()
		return body
	}
	c.mu.Unlock()
	return c.render(render, false)
}

// render renders the list and keeps the result unless a newer one is
// already kept.
func (c *listCache) render(render func() []byte, background bool) []byte {
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	start := c.now()
	body := render()
	took := c.now().Sub(start)
	c.mu.Lock()
	defer c.mu.Unlock()
	if background {
		c.refreshing = false
	}
	if body != nil && gen >= c.bodyGen && (c.body == nil || !start.Before(c.at)) {
		c.body, c.bodyGen, c.at, c.isSlow = body, gen, start, took > c.slow
	}
	return body
}
