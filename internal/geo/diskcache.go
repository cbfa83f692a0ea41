package geo

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/pingerplot/pingerplot/internal/atomicfile"
)

// cacheEntry is one online answer, in memory and in the cache file.
type cacheEntry struct {
	Addr    netip.Addr `json:"addr"`
	Found   bool       `json:"found"` // false: the provider knows nothing
	Fetched time.Time  `json:"fetched"`
	Expires time.Time  `json:"expires"`
	Info    Info       `json:"info,omitzero"`
}

// cacheFormatVersion is the version of the cache file's layout; a file of
// another version is ignored (and replaced on the next write).
const cacheFormatVersion = 1

type cacheDoc struct {
	FormatVersion int          `json:"format_version"`
	Provider      string       `json:"provider"`
	Entries       []cacheEntry `json:"entries"`
}

// maxCacheFile bounds what is read of a cache file (4096 entries take
// about 1 MB).
const maxCacheFile = 16 << 20

// diskCache is the JSON file of one provider's answers. Writes replace the
// file atomically, readable by its owner only: it lists addresses the user
// traced through.
type diskCache struct {
	path     string
	provider string
}

// DefaultCacheFile returns where online answers are kept:
// os.UserCacheDir()/pingerplot/ipwhois-cache.json (~/.cache/pingerplot on
// Linux, ~/Library/Caches/pingerplot on macOS, %LocalAppData%\pingerplot
// on Windows).
func DefaultCacheFile() (string, error) {
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "pingerplot", "ipwhois-cache.json"), nil
}

// read returns the file's entries; a missing file has none.
func (d *diskCache) read() ([]cacheEntry, error) {
	f, err := os.Open(d.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCacheFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxCacheFile {
		return nil, fmt.Errorf("cache file %s is larger than %d bytes; ignored", d.path, maxCacheFile)
	}
	var doc cacheDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("cache file %s is unreadable (%v); it will be replaced", d.path, err)
	}
	if doc.FormatVersion != cacheFormatVersion || doc.Provider != d.provider {
		return nil, nil
	}
	return doc.Entries, nil
}

// write replaces the file with entries.
func (d *diskCache) write(entries []cacheEntry) error {
	if err := os.MkdirAll(filepath.Dir(d.path), 0o700); err != nil {
		return err
	}
	doc := cacheDoc{FormatVersion: cacheFormatVersion, Provider: d.provider, Entries: entries}
	return atomicfile.Write(d.path, 0o600, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(doc)
	})
}

// mergeEntries joins two sets of answers: the newer answer for an address
// wins, expired ones are dropped and, past max, the oldest. The result is
// sorted by address so the file diffs well.
func mergeEntries(a, b []cacheEntry, now time.Time, limit int) []cacheEntry {
	byAddr := make(map[netip.Addr]cacheEntry, len(a)+len(b))
	for _, set := range [][]cacheEntry{a, b} {
		for _, e := range set {
			if !e.Addr.IsValid() || !now.Before(e.Expires) {
				continue
			}
			if old, ok := byAddr[e.Addr]; !ok || e.Fetched.After(old.Fetched) {
				byAddr[e.Addr] = e
			}
		}
	}
	out := make([]cacheEntry, 0, len(byAddr))
	for _, e := range byAddr {
		out = append(out, e)
	}
	if len(out) > limit {
		slices.SortFunc(out, func(x, y cacheEntry) int { return y.Fetched.Compare(x.Fetched) })
		out = out[:limit]
	}
	slices.SortFunc(out, func(x, y cacheEntry) int { return cmp.Compare(x.Addr.String(), y.Addr.String()) })
	return out
}

// loadLocked reads the cache file once, on first use, so that creating an
// IPWhois touches nothing.
func (p *IPWhois) loadLocked(now time.Time) {
	if p.loaded || p.store == nil {
		return
	}
	p.loaded = true
	entries, err := p.store.read()
	if err != nil {
		p.log.Warn("geo: online cache not loaded", "err", err)
	}
	for _, e := range mergeEntries(entries, nil, now, p.maxEntries) {
		// An answer is not trusted for longer than this process would
		// keep it, whatever the file says.
		if limit := e.Fetched.Add(max(p.ttl, p.negTTL)); e.Expires.After(limit) {
			e.Expires = limit
		}
		e.Addr = queryAddr(e.Addr)
		if _, special := SpecialPurpose(e.Addr); special {
			continue
		}
		p.cache[e.Addr] = e
	}
}

// pruneLocked drops expired answers and, past maxEntries, the oldest.
func (p *IPWhois) pruneLocked(now time.Time) {
	for a, e := range p.cache {
		if !now.Before(e.Expires) {
			delete(p.cache, a)
		}
	}
	for len(p.cache) > p.maxEntries {
		var oldest netip.Addr
		var at time.Time
		for a, e := range p.cache {
			if !oldest.IsValid() || e.Fetched.Before(at) {
				oldest, at = a, e.Fetched
			}
		}
		delete(p.cache, oldest)
	}
}

// save writes the cache file if answers were added, merged with what
// another PingerPlot process may have written meanwhile. Writing after
// each answer is cheap at the rate answers come (the rate limit) and
// loses nothing on a crash.
func (p *IPWhois) save() {
	if p.store == nil {
		return
	}
	p.saving.Lock()
	defer p.saving.Unlock()
	p.mu.Lock()
	if !p.dirty {
		p.mu.Unlock()
		return
	}
	p.dirty = false
	mine := make([]cacheEntry, 0, len(p.cache))
	for _, e := range p.cache {
		mine = append(mine, e)
	}
	now := p.now()
	p.mu.Unlock()

	theirs, err := p.store.read()
	if err != nil {
		p.log.Warn("geo: online cache", "err", err)
	}
	if err := p.store.write(mergeEntries(mine, theirs, now, p.maxEntries)); err != nil {
		p.log.Warn("geo: online cache not saved", "file", p.store.path, "err", err)
		p.mu.Lock()
		p.dirty = true
		p.mu.Unlock()
	}
}
