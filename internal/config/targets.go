package config

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/pingerplot/pingerplot/internal/monitor"
)

// TargetEntry is one entry of a "targets" list: a host and the options it
// overrides. In files it is one flat object: {"target": "8.8.8.8",
// "name": "dns", "interval": 2}.
type TargetEntry struct {
	Host    string  // "target": a host name or address; required
	Name    string  // "name": the target's ID; "" means Host
	Options Options // overrides of the defaults block
}

// MarshalJSON writes the entry as one flat object.
func (e TargetEntry) MarshalJSON() ([]byte, error) {
	ms := []member{{"target", quote(e.Host)}}
	if e.Name != "" {
		ms = append(ms, member{"name", quote(e.Name)})
	}
	return appendObject(nil, append(ms, e.Options.values()...)), nil
}

func quote(s string) json.RawMessage {
	b, _ := marshal(s) // a string always marshals
	return b
}

// UnmarshalJSON reads an entry strictly (see Options.UnmarshalJSON). It
// does not validate values: Resolve does.
func (e *TargetEntry) UnmarshalJSON(b []byte) error {
	var p problems
	*e = decodeEntry(b, "", &p)
	return p.err("")
}

// decodeEntry reads one targets entry, recording problems at where.
func decodeEntry(b []byte, where string, p *problems) TargetEntry {
	var e TargetEntry
	e.Options.decode(b, func(m member) bool {
		var err error
		switch m.key {
		case "target":
			err = decodeValue(m.val, &e.Host, "a host name or address")
		case "name":
			err = decodeValue(m.val, &e.Name, wantString)
		default:
			return false
		}
		if err != nil {
			p.add(where, "%s: %v", m.key, err)
		}
		return true
	}, where, p, "target", "name")
	return e
}

// entryLabel names targets[i] in messages, with its host when it has one.
func entryLabel(i int, host string) string {
	if host == "" {
		return fmt.Sprintf("targets[%d]", i)
	}
	return fmt.Sprintf("targets[%d] (%s)", i, host)
}

// rawHost digs the host out of an entry that may not decode, for labels.
func rawHost(b []byte) string {
	var v struct {
		Target any `json:"target"`
	}
	_ = json.Unmarshal(b, &v) // best effort: only for a label
	s, _ := v.Target.(string)
	return s
}

// Resolved is one target ready for the monitor.
type Resolved struct {
	ID   monitor.ID // the entry's name, or its host
	Host string     // to resolve: Settings.Trace.Target is left zero
	// Settings has every default filled in; LogPath is absolute when the
	// options were resolved against a directory.
	Settings monitor.Settings
	// EventLogPath is where this target's events go as CSV; "" for none.
	// It defaults to the probe log's path with ".csv" replaced by
	// ".events.csv".
	EventLogPath string
}

// Resolve merges each entry over defaults, validates the result and
// returns one Resolved per entry, in order. Relative log paths are taken
// from dir ("" leaves them relative). Every problem found is reported, each
// naming the field and where it was written: "defaults" or
// "targets[2] (8.8.8.8)". Two targets may not share an ID. They may share
// a log file, if it is the same kind of log (probe or event) with the same
// caps: the caller opens one log per distinct path (paths are cleaned, so
// equal files have equal strings).
func Resolve(defaults Options, targets []TargetEntry, dir string) ([]Resolved, error) {
	var p problems
	rs := resolve(defaults, targets, dir, &p)
	if err := p.err(""); err != nil {
		return nil, err
	}
	return rs, nil
}

func resolve(defaults Options, targets []TargetEntry, dir string, p *problems) []Resolved {
	defaults.check("defaults", p)
	ids := map[monitor.ID]int{}
	logs := map[string]logFile{} // clean path → its first user
	var rs []Resolved
	for i, e := range targets {
		where := entryLabel(i, e.Host)
		if err := CheckHost(e.Host); err != nil {
			p.add(where, "target: %v", err)
		}
		if err := checkName(e.Name); err != nil {
			p.add(where, "name: %v", err)
		}
		n := len(*p)
		e.Options.check(where, p)
		o := defaults.Merge(e.Options)
		o.dropInapplicable(e.Options) // a default port for the targets that probe UDP or TCP
		o.checkTogether(where, p)

		id := monitor.ID(e.Host)
		if e.Name != "" {
			id = monitor.ID(e.Name)
		}
		if j, dup := ids[id]; dup && id != "" {
			if e.Name != "" {
				p.add(where, "name: %q is also the name of %s", e.Name, entryLabel(j, targets[j].Host))
			} else {
				p.add(where, "%s monitors the same host; give one of them a distinct \"name\"", entryLabel(j, targets[j].Host))
			}
		}
		ids[id] = i

		r := Resolved{ID: id, Host: e.Host}
		if o.LogPath != nil && *o.LogPath != "" {
			o.LogPath = new(filepath.Clean(inDir(dir, *o.LogPath)))
			if o.EventLogPath == nil {
				r.EventLogPath = eventLogFor(*o.LogPath)
			}
		}
		if o.EventLogPath != nil && *o.EventLogPath != "" {
			r.EventLogPath = filepath.Clean(inDir(dir, *o.EventLogPath))
		}
		o.resolveEmailPaths(dir)
		// Targets may share a log file (csvlog rows name their target), so
		// a log_path in "defaults" can mean one log for all. A file cannot
		// be both kinds of log, and a shared file has one set of caps.
		claim := func(key, path string) bool {
			if path == "" {
				return true
			}
			f := logFile{kind: key, who: where, maxBytes: o.LogMaxBytes, maxFiles: o.LogMaxFiles}
			prev, taken := logs[path]
			switch {
			case !taken:
				logs[path] = f
			case prev.kind != key:
				p.add(where, "%s: %q is already the %s of %s; a file is a probe log or an event log, not both", key, path, prev.kind, prev.who)
				return false
			case !sameCap(prev.maxBytes, f.maxBytes) || !sameCap(prev.maxFiles, f.maxFiles):
				p.add(where, "%s: %q is shared with %s, whose log_max_bytes or log_max_files differ; a shared log has one set of caps", key, path, prev.who)
				return false
			}
			return true
		}
		if o.LogPath == nil || claim("log_path", *o.LogPath) {
			claim("event_log_path", r.EventLogPath)
		}
		if len(*p) == n {
			r.Settings = o.settings()
		}
		rs = append(rs, r)
	}
	return rs
}

// logFile is a log path's first claim.
type logFile struct {
	kind, who string
	maxBytes  *int64
	maxFiles  *int
}

// sameCap reports whether two caps are equal, unset reading as 0 (the
// default).
func sameCap[T comparable](a, b *T) bool {
	var x, y T
	if a != nil {
		x = *a
	}
	if b != nil {
		y = *b
	}
	return x == y
}

// inDir resolves a relative path against dir.
func inDir(dir, path string) string {
	if dir == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

// eventLogFor names the event log that goes beside a probe log:
// logs/dns.csv → logs/dns.events.csv.
func eventLogFor(logPath string) string {
	if ext := filepath.Ext(logPath); strings.EqualFold(ext, ".csv") {
		logPath = strings.TrimSuffix(logPath, ext)
	}
	return logPath + ".events.csv"
}

// checkHost catches hosts that can never resolve; resolving is the
// caller's job.
func checkHost(h string) error {
	switch {
	case h == "":
		return fmt.Errorf("missing: every entry needs a host name or address, such as \"target\": \"8.8.8.8\"")
	case strings.Contains(h, "://"):
		return fmt.Errorf("%q is a URL; give the host alone, such as %q", h, hostOfURL(h))
	case len(h) > 253:
		return fmt.Errorf("%q is longer than a host name can be", h[:40]+"...")
	case strings.IndexFunc(h, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '/' }) >= 0:
		return fmt.Errorf("%s is not a host name or address", strconv.Quote(h))
	case strings.HasPrefix(h, "-"):
		return fmt.Errorf("%q cannot start with '-'", h)
	}
	return nil
}

func hostOfURL(s string) string {
	s = s[strings.Index(s, "://")+3:]
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	return s
}

func checkName(n string) error {
	if n == "" {
		return nil
	}
	if len(n) > 100 {
		return fmt.Errorf("longer than 100 bytes")
	}
	if strings.IndexFunc(n, unicode.IsControl) >= 0 || strings.TrimSpace(n) != n {
		return fmt.Errorf("%s has control characters or surrounding spaces", strconv.Quote(n))
	}
	return nil
}
