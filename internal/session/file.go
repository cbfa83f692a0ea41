package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"

	"github.com/pingerplot/pingerplot/internal/atomicfile"
)

// The file layout. Addresses, times and settings are kept as text here and
// parsed by the checks in check.go, so that every problem is reported with
// where it is.

type fileSession struct {
	Format  string       `json:"format"`
	Version int          `json:"version"`
	SavedAt string       `json:"saved_at,omitempty"`
	App     string       `json:"app,omitempty"`
	Targets []fileTarget `json:"targets"`
}

type fileTarget struct {
	Target   fileIdent       `json:"target"`
	Settings json.RawMessage `json:"settings"`
	State    string          `json:"state,omitempty"`
	Rounds   int             `json:"rounds"`
	Started  string          `json:"started,omitempty"`
	Last     string          `json:"last,omitempty"`
	Hops     []fileHop       `json:"hops"`
	Events   []fileEvent     `json:"events"`
}

type fileIdent struct {
	ID   string `json:"id"`
	Host string `json:"host"`
	Addr string `json:"addr"`
}

type fileHop struct {
	TTL        int             `json:"ttl"`
	Stats      fileStats       `json:"stats"`
	Reached    bool            `json:"reached,omitempty"`
	Responders []fileResponder `json:"responders,omitempty"`
	Details    []fileDetails   `json:"details,omitempty"`
	History    []fileSample    `json:"history,omitempty"`
}

// fileStats are hopstat.Stats with durations in milliseconds, to the
// microsecond: the unit people read RTTs in, and finer than any network
// jitter that matters.
type fileStats struct {
	Sent      int     `json:"sent"`
	Recv      int     `json:"recv"`
	Refused   int     `json:"refused,omitempty"`
	Last      float64 `json:"last_ms"`
	Best      float64 `json:"best_ms"`
	Worst     float64 `json:"worst_ms"`
	Avg       float64 `json:"avg_ms"`
	StdDev    float64 `json:"stdev_ms"`
	Jitter    float64 `json:"jitter_ms"`
	JitterMax float64 `json:"jitter_max_ms"`
	P50       float64 `json:"p50_ms"`
	P95       float64 `json:"p95_ms"`
}

type fileResponder struct {
	Addr  string    `json:"addr"`
	Stats fileStats `json:"stats"`
}

type fileSample struct {
	Round   int     `json:"round"`
	Time    string  `json:"time"`
	From    string  `json:"from,omitempty"`
	RTT     float64 `json:"rtt_ms"`
	Lost    bool    `json:"lost,omitempty"`
	Reached bool    `json:"reached,omitempty"`
	Refused bool    `json:"refused,omitempty"`
}

type fileEvent struct {
	Time      string  `json:"time"`
	Kind      string  `json:"kind"`
	TTL       int     `json:"ttl,omitempty"`
	Message   string  `json:"message"`
	Condition string  `json:"condition,omitempty"`
	Value     float64 `json:"value,omitempty"`
	Threshold float64 `json:"threshold,omitempty"`
}

// Save writes s as a session file. It checks s first by the rules Load
// applies and writes nothing if they refuse it, so every saved session
// loads. Use SaveFile for files: a failed write to w leaves a partial file.
func Save(w io.Writer, s Session) error {
	h := fileSession{Format: Format, Version: Version, SavedAt: fmtTime(s.SavedAt), App: s.App}
	if err := h.checkHeader(); err != nil {
		return fmt.Errorf("session not saved: %w", err)
	}
	ids := map[string]int{}
	for i, r := range s.Records {
		if _, err := targetOf(r).record(i, ids); err != nil {
			return fmt.Errorf("session not saved: %w", err)
		}
	}
	var b []byte
	b = append(b, "{\n"...)
	b = appendKey(b, 1, "format", h.Format, true)
	b = appendKey(b, 1, "version", h.Version, true)
	if h.SavedAt != "" {
		b = appendKey(b, 1, "saved_at", h.SavedAt, true)
	}
	if h.App != "" {
		b = appendKey(b, 1, "app", h.App, true)
	}
	b = append(b, `  "targets": [`...)
	for i, r := range s.Records {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTarget(append(b, '\n'), targetOf(r))
		// One target at a time: a session's size is mostly history, and
		// this keeps at most one target's worth of it in memory.
		if _, err := w.Write(b); err != nil {
			return err
		}
		b = b[:0]
	}
	if len(s.Records) > 0 {
		b = append(b, "\n  "...)
	}
	b = append(b, "]\n}\n"...)
	_, err := w.Write(b)
	return err
}

// SaveFile saves s to path atomically (see atomicfile.Write): the file
// is either the old one or the whole new session, never a torn one. It is
// readable by its owner only (0600): settings carry webhook URLs, whose
// tokens are secrets.
func SaveFile(path string, s Session) error {
	return atomicfile.Write(path, 0o600, func(w io.Writer) error { return Save(w, s) })
}

// indent returns n levels of indentation.
func indent(n int) string { return strings.Repeat("  ", n) }

// appendKey appends one `"key": value` line at the given depth.
func appendKey(b []byte, depth int, key string, v any, comma bool) []byte {
	b = append(b, indent(depth)...)
	b = strconv.AppendQuote(b, key)
	b = append(b, ": "...)
	b = appendJSON(b, v)
	if comma {
		b = append(b, ',')
	}
	return append(b, '\n')
}

// appendJSON appends v compactly. The file types always marshal: they
// hold only strings, numbers, bools and raw JSON checked beforehand.
func appendJSON(b []byte, v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // messages and URLs read as written: & not \u0026
	if err := enc.Encode(v); err != nil {
		panic("session: " + err.Error())
	}
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

// appendTarget lays out one target: containers indented, leaves (stats,
// a responder, a history sample, an event) one per line, so the file reads
// well and diffs well while history stays compact.
func appendTarget(b []byte, t fileTarget) []byte {
	b = append(b, indent(2)+"{\n"...)
	b = appendKey(b, 3, "target", t.Target, true)
	b = appendKey(b, 3, "settings", t.Settings, true)
	if t.State != "" {
		b = appendKey(b, 3, "state", t.State, true)
	}
	b = appendKey(b, 3, "rounds", t.Rounds, true)
	if t.Started != "" {
		b = appendKey(b, 3, "started", t.Started, true)
	}
	if t.Last != "" {
		b = appendKey(b, 3, "last", t.Last, true)
	}
	b = append(b, indent(3)+`"hops": [`...)
	for i, h := range t.Hops {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n"+indent(4)+"{\n"...)
		b = appendKey(b, 5, "ttl", h.TTL, true)
		more := len(h.Responders) > 0 || len(h.Details) > 0 || len(h.History) > 0
		b = appendKey(b, 5, "stats", h.Stats, h.Reached || more)
		if h.Reached {
			b = appendKey(b, 5, "reached", true, more)
		}
		if len(h.Responders) > 0 {
			b = appendList(b, 5, "responders", len(h.Responders), func(b []byte, i int) []byte { return appendJSON(b, h.Responders[i]) })
			if len(h.Details) > 0 || len(h.History) > 0 {
				b = append(b, ',')
			}
			b = append(b, '\n')
		}
		if len(h.Details) > 0 {
			b = appendList(b, 5, "details", len(h.Details), func(b []byte, i int) []byte { return appendJSON(b, h.Details[i]) })
			if len(h.History) > 0 {
				b = append(b, ',')
			}
			b = append(b, '\n')
		}
		if len(h.History) > 0 {
			b = appendList(b, 5, "history", len(h.History), func(b []byte, i int) []byte { return appendSample(b, h.History[i]) })
			b = append(b, '\n')
		}
		b = append(b, indent(4)+"}"...)
	}
	if len(t.Hops) > 0 {
		b = append(b, "\n"+indent(3)...)
	}
	b = append(b, "],\n"...)
	b = appendList(b, 3, "events", len(t.Events), func(b []byte, i int) []byte { return appendJSON(b, t.Events[i]) })
	return append(b, "\n"+indent(2)+"}"...)
}

// appendSample appends a history sample as appendJSON would, by hand:
// samples are most of a session, and encoding/json costs several
// allocations each.
func appendSample(b []byte, s fileSample) []byte {
	if !plainASCII(s.Time) || !plainASCII(s.From) {
		return appendJSON(b, s)
	}
	b = append(b, `{"round":`...)
	b = strconv.AppendInt(b, int64(s.Round), 10)
	b = append(b, `,"time":"`...)
	b = append(b, s.Time...)
	if s.From != "" {
		b = append(b, `","from":"`...)
		b = append(b, s.From...)
	}
	b = append(b, `","rtt_ms":`...)
	b = strconv.AppendFloat(b, s.RTT, 'f', -1, 64) // as encoding/json writes 0 and 1e-3 to 1e21
	if s.Lost {
		b = append(b, `,"lost":true`...)
	}
	if s.Reached {
		b = append(b, `,"reached":true`...)
	}
	if s.Refused {
		b = append(b, `,"refused":true`...)
	}
	return append(b, '}')
}

// plainASCII reports whether s needs no escaping in a JSON string.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// appendList appends `"key": [` with n elements one per line and `]`
// (no newline after).
func appendList(b []byte, depth int, key string, n int, elem func([]byte, int) []byte) []byte {
	b = append(b, indent(depth)...)
	b = strconv.AppendQuote(b, key)
	b = append(b, ": ["...)
	for i := range n {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n"+indent(depth+1)...)
		b = elem(b, i)
	}
	if n > 0 {
		b = append(b, "\n"+indent(depth)...)
	}
	return append(b, ']')
}

// Load reads a session. It returns the whole session or, with an error
// saying what is wrong and where, nothing.
func Load(r io.Reader) (Session, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return Session{}, fmt.Errorf("%w; nothing was loaded", err)
	}
	s, err := parse(data)
	if err != nil {
		return Session{}, fmt.Errorf("%s; nothing was loaded", err)
	}
	return s, nil
}

// LoadFile loads the session at path; errors start with the path.
func LoadFile(path string) (Session, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Session{}, fmt.Errorf("%s: no such file; nothing was loaded", path)
		}
		return Session{}, err
	}
	defer f.Close()
	s, err := Load(f)
	if err != nil {
		return Session{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// parse checks data from the outside in: JSON syntax, then whether it is
// a session of a version this package reads, then the layout, then the
// contents.
func parse(data []byte) (Session, error) {
	if len(data) > MaxSize {
		return Session{}, fmt.Errorf("larger than %d MiB: not a session this PingerPlot can load", MaxSize>>20)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return Session{}, errors.New("the file is empty: not a PingerPlot session")
	}
	var head map[string]json.RawMessage
	if err := json.Unmarshal(data, &head); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se) && strings.Contains(se.Error(), "unexpected end of JSON input"):
			return Session{}, fmt.Errorf("truncated JSON at byte %d: the file is incomplete", len(data))
		case errors.As(err, &se):
			return Session{}, fmt.Errorf("invalid JSON at byte %d: %s: the file is damaged or not a session",
				se.Offset, strings.TrimPrefix(se.Error(), "json: "))
		case errors.As(err, &te):
			return Session{}, fmt.Errorf("not a PingerPlot session: the file holds a JSON %s, not an object", te.Value)
		}
		return Session{}, err
	}
	var format string
	if json.Unmarshal(head["format"], &format) != nil || format != Format {
		if head["format"] == nil {
			return Session{}, fmt.Errorf(`not a PingerPlot session: it has no "format": %q`, Format)
		}
		return Session{}, fmt.Errorf(`not a PingerPlot session: its "format" is %s, not %q`, head["format"], Format)
	}
	var version int
	switch err := json.Unmarshal(head["version"], &version); {
	case head["version"] == nil:
		return Session{}, errors.New(`damaged session: it has no "version"`)
	case err != nil || version < 1:
		return Session{}, fmt.Errorf(`damaged session: "version" %s is not a version`, head["version"])
	case version > Version:
		return Session{}, fmt.Errorf("version %d is newer than this PingerPlot understands (%d); upgrade PingerPlot", version, Version)
	}
	var f fileSession
	if err := json.Unmarshal(data, &f); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Session{}, fmt.Errorf("damaged session at byte %d: %s: want %s, got a JSON %s", te.Offset, te.Field, te.Type, te.Value)
		}
		return Session{}, err
	}
	return f.session()
}
