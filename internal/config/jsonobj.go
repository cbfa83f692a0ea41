package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// member is one key of a JSON object, in file order.
type member struct {
	key string
	val json.RawMessage
}

// members splits a JSON object into its members in file order. b must be
// valid JSON (see checkSyntax); a value that is not an object is an error
// saying what it is instead. A key given twice is an error: encoding/json
// would silently keep the last one.
func members(b []byte) ([]member, error) {
	if kind(b) != "an object" {
		return nil, fmt.Errorf("want an object {...}, got %s", describe(b))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	var ms []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, fmt.Errorf("key %q is given twice", key)
		}
		seen[key] = true
		ms = append(ms, member{key, val})
	}
	return ms, nil
}

// list splits a JSON array into its elements; b must be valid JSON.
func list(b []byte) ([]json.RawMessage, error) {
	if kind(b) != "a list" {
		return nil, fmt.Errorf("want a list [...], got %s", describe(b))
	}
	var l []json.RawMessage
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, err
	}
	return l, nil
}

// kind names the JSON type of a valid value.
func kind(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "true/false"
	case 'n':
		return "null"
	}
	return "a number"
}

// describe names a value for a "want X, got Y" message: the text itself
// for short scalars, the kind otherwise.
func describe(b []byte) string {
	b = bytes.TrimSpace(b)
	if k := kind(b); k == "an object" || k == "a list" || len(b) > 40 {
		return k
	}
	return string(b)
}

// marshal encodes v compactly without escaping <, > and & (which
// encoding/json does for HTML's sake): URLs in files read as written.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// isNull reports whether a valid value is JSON null.
func isNull(b []byte) bool { return string(bytes.TrimSpace(b)) == "null" }

// isComment reports whether key is a comment: any key starting with "_" is
// ignored, so "_comment" documents a block and "_webhook_url" switches a
// key off without deleting it.
func isComment(key string) bool { return strings.HasPrefix(key, "_") }

// decodeValue unmarshals raw into v, turning type mismatches into
// "want <want>, got <value>".
func decodeValue(raw json.RawMessage, v any, want string) error {
	if err := json.Unmarshal(raw, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("want %s, got %s", want, describe(raw))
		}
		return err
	}
	return nil
}

// set decodes raw into a new T stored in *dst; null clears *dst.
func set[T any](dst **T, raw json.RawMessage, want string) error {
	if isNull(raw) {
		*dst = nil
		return nil
	}
	v := new(T)
	if err := decodeValue(raw, v, want); err != nil {
		return err
	}
	*dst = v
	return nil
}

// checkSyntax reports where data stops being valid JSON, as line and
// column (people edit config files in editors that show those).
func checkSyntax(data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errors.New("the file is empty")
	}
	var v json.RawMessage
	err := json.Unmarshal(data, &v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	if !errors.As(err, &se) {
		return err
	}
	// Offset is just past the byte that broke the syntax: its column.
	line, col := lineCol(data, se.Offset)
	if strings.Contains(se.Error(), "unexpected end of JSON input") {
		return fmt.Errorf("line %d, column %d: the JSON ends too early (a missing } or ]?)", line, col+1)
	}
	msg := strings.TrimPrefix(se.Error(), "json: ")
	return fmt.Errorf("line %d, column %d: %s", line, col, msg)
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = len(before) - (bytes.LastIndexByte(before, '\n') + 1)
	if col == 0 {
		col = 1
	}
	return line, col
}

// readLimited reads all of r, refusing more than limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes; is this the right file?", limit)
	}
	return data, nil
}

// problems collects every problem of a file, so that one run reports
// them all rather than one per edit.
type problems []string

// add records a problem; where is a location such as "targets[2] (8.8.8.8)"
// or "" for the top level.
func (p *problems) add(where, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if where != "" {
		msg = where + ": " + msg
	}
	*p = append(*p, msg)
}

// maxListed caps how many problems one error lists.
const maxListed = 20

// err returns nil or an error listing the problems, prefixed by file.
func (p problems) err(file string) error {
	if len(p) == 0 {
		return nil
	}
	prefix := ""
	if file != "" {
		prefix = file + ": "
	}
	if len(p) == 1 {
		return errors.New(prefix + p[0])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s%d problems:", prefix, len(p))
	for i, s := range p {
		if i == maxListed {
			fmt.Fprintf(&b, "\n  ... and %d more", len(p)-maxListed)
			break
		}
		b.WriteString("\n  " + s)
	}
	return errors.New(b.String())
}

// unknownKey describes a key that is not allowed where it is, with a
// suggestion when one of the allowed keys is a small edit away.
func unknownKey(key string, allowed []string) string {
	msg := "unknown key " + strconv.Quote(key)
	if s := suggest(key, allowed); s != "" {
		msg += " (did you mean " + strconv.Quote(s) + "?)"
	}
	return msg
}

// suggest returns the allowed key closest to key if it is close enough to
// be a typo: at most 2 edits, and fewer than a third of the key's length.
func suggest(key string, allowed []string) string {
	best, bestD := "", 3
	for _, a := range allowed {
		d := editDistance(strings.ToLower(key), a)
		if d < bestD && d*3 <= max(len(a), len(key)) {
			best, bestD = a, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
