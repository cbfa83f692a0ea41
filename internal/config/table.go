package config

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// Option describes one option key: its type, unit, range, default, the
// probe modes it applies to and what it means. Table lists them all and
// is the one statement of these facts: decoding, validation, merging, the
// conversion to monitor settings, the command-line flag checks, the
// dashboard (GET /api/options) and docs/config.md's table follow it.
type Option struct {
	Key  string `json:"key"`
	Type string `json:"type"` // "seconds", "integer", "number", "bool" or "string"
	// Unit is what a number counts: "s", "ms", "bytes", "%", "rounds",
	// "probes"; "" for none.
	Unit string `json:"unit,omitempty"`
	// Min and Max bound a number, in Unit; nil means no bound.
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// MinOpen excludes Min itself: a timeout must be more than 0.
	MinOpen bool `json:"min_open,omitempty"`
	// Zero, when set, is what 0 means ("off", "the default"); 0 is then
	// allowed even below Min.
	Zero string `json:"zero,omitempty"`
	// AtMost names an option this one may not exceed (first_ttl and
	// max_hops), compared after merging.
	AtMost string `json:"at_most,omitempty"`
	// Choices are the only values a string may take; nil allows any.
	Choices []string `json:"choices,omitempty"`
	// URL marks a string that, when not empty, must be an http:// or
	// https:// URL.
	URL bool `json:"url,omitempty"`
	// Default is the built-in value in Unit, as a file or the API writes
	// it ("" and 0 where the empty value means none or "the default");
	// nil when it depends on the mode (DefaultByMode).
	Default       any            `json:"default"`
	DefaultByMode map[string]int `json:"default_by_mode,omitempty"`
	// DefaultText describes what Default stands for when that is not
	// the value itself ("10485760 (10 MiB)", "beside the probe log").
	DefaultText string `json:"default_text,omitempty"`
	// Modes are the probe modes the option applies to; nil means all.
	// Set where it does not apply, it is an error in a target and ignored
	// when it comes from the defaults block.
	Modes       []string `json:"modes,omitempty"`
	Description string   `json:"description"`

	field field
	// check, if set, refuses a bad non-empty string value with why.
	check func(string) error
}

// Table returns every option, in the order files list them. It returns a
// new slice each time: callers (tests) may change their copy.
func Table() []Option {
	f := func(v float64) *float64 { return &v }
	// Each field converts both ways: to stores a value in monitor
	// settings, from reads the value in effect back (zeros read as the
	// monitor reads them) and says whether a file should write it.
	secs := func(ptr func(*Options) **Seconds, to func(*monitor.Settings, time.Duration), from func(monitor.Settings) time.Duration) field {
		return fieldOf[Seconds]{ptr, "a number of seconds",
			func(s *monitor.Settings, v Seconds) { to(s, time.Duration(v)) },
			func(s monitor.Settings) (Seconds, bool) { return Seconds(from(s)), true }}
	}
	ints := func(ptr func(*Options) **int, to func(*monitor.Settings, int), from func(monitor.Settings) (int, bool)) field {
		return fieldOf[int]{ptr, "a whole number", to, from}
	}
	bools := func(ptr func(*Options) **bool, to func(*monitor.Settings, bool), from func(monitor.Settings) (bool, bool)) field {
		return fieldOf[bool]{ptr, "true or false", to, from}
	}
	strs := func(ptr func(*Options) **string, to func(*monitor.Settings, string), from func(monitor.Settings) (string, bool)) field {
		return fieldOf[string]{ptr, "a string", to, from}
	}
	orDur := func(v, def time.Duration) time.Duration {
		if v == 0 {
			return def
		}
		return v
	}
	orInt := func(v, def int) (int, bool) {
		if v == 0 {
			return def, true
		}
		return v, true
	}
	ifSet := func(v string) (string, bool) { return v, v != "" }
	portDefaults := map[string]int{"udp": trace.DefaultUDPPort, "tcp": trace.DefaultTCPPort}
	table := []Option{
		{Key: "interval", Type: "seconds", Unit: "s", Min: f(MinInterval.Seconds()), Max: f(MaxInterval.Seconds()),
			Default: DefaultInterval.Seconds(), Description: "time between the starts of rounds",
			field: secs(func(o *Options) **Seconds { return &o.Interval }, func(s *monitor.Settings, d time.Duration) { s.Interval = d },
				func(s monitor.Settings) time.Duration { return orDur(s.Interval, DefaultInterval) })},
		{Key: "mode", Type: "string", Choices: []string{"icmp", "udp", "tcp"}, Default: "icmp",
			Description: "probe protocol",
			field: fieldOf[string]{func(o *Options) **string { return &o.Mode }, `"icmp", "udp" or "tcp"`,
				func(s *monitor.Settings, v string) { _ = s.Trace.Mode.UnmarshalText([]byte(v)) }, // checked by check
				func(s monitor.Settings) (string, bool) { return s.Trace.Mode.String(), true }}},
		{Key: "port", Type: "integer", Min: f(1), Max: f(65535), Modes: []string{"udp", "tcp"},
			DefaultByMode: portDefaults,
			Description:   "destination port of UDP and TCP probes",
			field: ints(func(o *Options) **int { return &o.Port }, func(s *monitor.Settings, v int) { s.Trace.Port = uint16(v) },
				func(s monitor.Settings) (int, bool) {
					return orInt(int(s.Trace.Port), portDefaults[strings.ToLower(s.Trace.Mode.String())])
				})},
		{Key: "timeout", Type: "seconds", Unit: "s", Min: f(0), MinOpen: true, Max: f(MaxTimeout.Seconds()),
			Default: trace.DefaultTimeout.Seconds(), Description: "how long a probe waits for its reply",
			field: secs(func(o *Options) **Seconds { return &o.Timeout }, func(s *monitor.Settings, d time.Duration) { s.Trace.Timeout = d },
				func(s monitor.Settings) time.Duration { return orDur(s.Trace.Timeout, trace.DefaultTimeout) })},
		{Key: "size", Type: "integer", Unit: "bytes", Min: f(0), Max: f(MaxSize), Default: trace.DefaultSize,
			Description: "payload bytes per probe",
			field: ints(func(o *Options) **int { return &o.Size }, func(s *monitor.Settings, v int) {
				if v == 0 {
					v = trace.DefaultSize // as trace.Config reads a zero size
				}
				s.Trace.Size = v
			}, func(s monitor.Settings) (int, bool) { return orInt(s.Trace.Size, trace.DefaultSize) })},
		{Key: "max_hops", Type: "integer", Min: f(1), Max: f(255), Default: trace.DefaultMaxHops,
			Description: "highest TTL probed",
			field: ints(func(o *Options) **int { return &o.MaxHops }, func(s *monitor.Settings, v int) { s.Trace.MaxHops = v },
				func(s monitor.Settings) (int, bool) { return orInt(s.Trace.MaxHops, trace.DefaultMaxHops) })},
		{Key: "first_ttl", Type: "integer", Min: f(1), Max: f(255), AtMost: "max_hops", Default: 1,
			Description: "lowest TTL probed",
			field: ints(func(o *Options) **int { return &o.FirstTTL }, func(s *monitor.Settings, v int) { s.Trace.FirstTTL = v },
				func(s monitor.Settings) (int, bool) { return orInt(s.Trace.FirstTTL, 1) })},
		{Key: "send_delay", Type: "seconds", Unit: "s", Min: f(0), Max: f(MaxSendDelay.Seconds()), Default: 0.0,
			Description: "gap between the probes of one round",
			field: secs(func(o *Options) **Seconds { return &o.SendDelay }, func(s *monitor.Settings, d time.Duration) { s.Trace.SendGap = d },
				func(s monitor.Settings) time.Duration { return s.Trace.SendGap })},
		{Key: "final_hop_only", Type: "bool", Default: false, Description: "probe the destination alone, not the path",
			field: bools(func(o *Options) **bool { return &o.FinalHopOnly }, func(s *monitor.Settings, v bool) { s.Trace.FinalHopOnly = v },
				func(s monitor.Settings) (bool, bool) { return s.Trace.FinalHopOnly, true })},
		{Key: "tos", Type: "string", Default: "", DefaultText: "0 (unmarked)",
			Description: "DSCP and ECN the probes are sent with, so the hops' DSCP and ECN columns show who re-marks them: " +
				"a TOS byte 0-255, or a DSCP name or number and an ECN codepoint joined by + (EF, AF41+ECT(0)); TCP probes carry the DSCP only",
			check: func(v string) error { _, err := result.ParseTOS(v); return err },
			field: strs(func(o *Options) **string { return &o.TOS },
				func(s *monitor.Settings, v string) { s.Trace.TOS, _ = result.ParseTOS(v) }, // checked by check
				func(s monitor.Settings) (string, bool) { return result.FormatTOS(s.Trace.TOS), s.Trace.TOS != 0 })},
		{Key: "alert_loss_pct", Type: "number", Unit: "%", Min: f(0), Max: f(100), Zero: "off", Default: 0.0,
			Description: "alert when at least this share of the window's destination probes were lost",
			field: fieldOf[float64]{func(o *Options) **float64 { return &o.AlertLossPct }, "a percentage",
				func(s *monitor.Settings, v float64) { s.Alert.LossPct = v },
				func(s monitor.Settings) (float64, bool) { return s.Alert.LossPct, true }}},
		{Key: "alert_latency_ms", Type: "number", Unit: "ms", Min: f(0), Max: f(float64(MaxLatency.Milliseconds())), Zero: "off", Default: 0.0,
			Description: "alert when the window's mean destination RTT is at least this",
			field: fieldOf[Millis]{func(o *Options) **Millis { return &o.AlertLatency }, "a number of milliseconds",
				func(s *monitor.Settings, v Millis) { s.Alert.Latency = time.Duration(v) },
				func(s monitor.Settings) (Millis, bool) { return Millis(s.Alert.Latency), true }}},
		{Key: "alert_window", Type: "integer", Unit: "probes", Min: f(1), Max: f(MaxWindow), Default: alert.DefaultWindow,
			Description: "how many of the latest destination probes the alert rules look at",
			field: ints(func(o *Options) **int { return &o.AlertWindow }, func(s *monitor.Settings, v int) { s.Alert.Window = v },
				func(s monitor.Settings) (int, bool) { return orInt(s.Alert.Window, alert.DefaultWindow) })},
		{Key: "history", Type: "integer", Unit: "rounds", Min: f(1), Max: f(MaxHistory), Default: monitor.DefaultHistory,
			Description: "rounds of history each hop keeps",
			field: ints(func(o *Options) **int { return &o.History }, func(s *monitor.Settings, v int) { s.History = v },
				func(s monitor.Settings) (int, bool) { return orInt(s.History, monitor.DefaultHistory) })},
		{Key: "webhook_url", Type: "string", URL: true, Default: "", DefaultText: "none",
			Description: "gets a JSON POST on every alert raise and clear",
			field: strs(func(o *Options) **string { return &o.WebhookURL }, func(s *monitor.Settings, v string) { s.Webhook = v },
				func(s monitor.Settings) (string, bool) { return ifSet(s.Webhook) })},
		{Key: "log_path", Type: "string", Default: "", DefaultText: "none", Description: "the target's CSV probe log",
			field: strs(func(o *Options) **string { return &o.LogPath }, func(s *monitor.Settings, v string) { s.LogPath = v },
				func(s monitor.Settings) (string, bool) { return ifSet(s.LogPath) })},
		{Key: "log_max_bytes", Type: "integer", Unit: "bytes", Min: f(MinLogBytes), Zero: "the default", Default: 0,
			DefaultText: "10485760 (10 MiB)", Description: "size cap of each log file before it rolls over",
			field: fieldOf[int64]{func(o *Options) **int64 { return &o.LogMaxBytes }, "a whole number",
				func(s *monitor.Settings, v int64) { s.LogMaxBytes = v },
				// the caps' defaults belong to the CSV log: 0 is left unwritten
				func(s monitor.Settings) (int64, bool) { return s.LogMaxBytes, s.LogMaxBytes != 0 }}},
		{Key: "log_max_files", Type: "integer", Min: f(0), Max: f(MaxLogFiles), Zero: "the default", Default: 0,
			DefaultText: "5", Description: "log files kept, the current one included",
			field: ints(func(o *Options) **int { return &o.LogMaxFiles }, func(s *monitor.Settings, v int) { s.LogMaxFiles = v },
				func(s monitor.Settings) (int, bool) { return s.LogMaxFiles, s.LogMaxFiles != 0 })},
		{Key: "event_log_path", Type: "string", Default: "", DefaultText: "beside the probe log",
			Description: "the target's CSV event log",
			field:       strs(func(o *Options) **string { return &o.EventLogPath }, nil, nil)}, // not a monitor setting: see Resolve
		{Key: "dns", Type: "bool", Default: true, Description: "name resolution for the target's hops",
			field: bools(func(o *Options) **bool { return &o.DNS }, func(s *monitor.Settings, on bool) { s.NoNames = !on },
				// written only when off: "on" is what a file without the key
				// has always meant
				func(s monitor.Settings) (bool, bool) { return false, s.NoNames })},
		{Key: "ping_hops", Type: "bool", Default: false,
			Description: "also send one echo request a round to each answering hop's own address",
			field: bools(func(o *Options) **bool { return &o.PingHops }, func(s *monitor.Settings, on bool) { s.PingHops = on },
				// written only when on: what every file written before it
				// existed meant
				func(s monitor.Settings) (bool, bool) { return true, s.PingHops })},
		// Off by default: each discovery sends packets of up to 1500 bytes
		// and one probe per TTL, and a TCP target's discovery sends ICMP,
		// which a user who chose TCP to avoid ICMP did not ask for.
		{Key: "pmtu", Type: "bool", Default: false,
			Description: "discover the path MTU and the hop where larger packets stop, at start, every 10 minutes and after a route change",
			field: bools(func(o *Options) **bool { return &o.PathMTU }, func(s *monitor.Settings, on bool) { s.PathMTU = on },
				// written only when on, like ping_hops
				func(s monitor.Settings) (bool, bool) { return true, s.PathMTU })},
		// Off by default: every flow sends a round's probes of its own, so
		// 16 flows send 16 times the target's probes. At most MaxFlows: a
		// monitor runs for days, and a few dozen flows find the paths of
		// any ECMP fan-out seen in practice.
		{Key: "flows", Type: "integer", Unit: "flows", Min: f(2), Max: f(MaxFlows), Zero: "off", Default: 0,
			Description: "ECMP flow enumeration: probe this many flows (UDP source ports, or ICMP echo identifiers) each round and show each distinct path with its share of the flows; not with TCP",
			field: ints(func(o *Options) **int { return &o.Flows }, func(s *monitor.Settings, v int) { s.Flows = v },
				// written only when on, like ping_hops
				func(s monitor.Settings) (int, bool) { return s.Flows, s.Flows != 0 })},
	}
	// The e-mail keys follow webhook_url: both say where alerts go.
	at := slices.IndexFunc(table, func(op Option) bool { return op.Key == "webhook_url" }) + 1
	return slices.Insert(table, at, emailOptions()...)
}

// lookup returns the option of table named key.
func lookup(table []Option, key string) (Option, bool) {
	for _, op := range table {
		if op.Key == key {
			return op, true
		}
	}
	return Option{}, false
}

// Lookup returns the option named key.
func Lookup(key string) (Option, bool) { return lookup(Table(), key) }

// PortOption returns the port option: its Modes say which probes use a
// port, its DefaultByMode which port they use by default.
func PortOption() Option {
	op, _ := lookup(Table(), "port")
	return op
}

// optionKeys returns the option keys in the order files list them.
func optionKeys() []string {
	t := Table()
	keys := make([]string, len(t))
	for i, op := range t {
		keys[i] = op.Key
	}
	return keys
}

// AppliesTo reports whether the option is used by probes of mode (by
// name, any case).
func (op Option) AppliesTo(mode string) bool {
	if op.Modes == nil {
		return true
	}
	for _, m := range op.Modes {
		if strings.EqualFold(m, mode) {
			return true
		}
	}
	return false
}

// ModeDefault returns the option's default for probes of mode, if it has
// one that is a number (DefaultByMode or Default).
func (op Option) ModeDefault(mode string) (float64, bool) {
	if v, ok := op.DefaultByMode[strings.ToLower(mode)]; ok {
		return float64(v), true
	}
	return toFloat(op.Default)
}

// RangeText says in words which numbers the option takes ("1 to 65535",
// "more than 0 s and at most 60 s"); messages and flags use it.
func (op Option) RangeText() string {
	u := ""
	if op.Type == "seconds" {
		u = " s"
	}
	var rng string
	switch {
	case op.Min == nil && op.Max == nil:
		return ""
	case op.MinOpen:
		rng = "more than " + fmtNum(*op.Min) + u + " and at most " + fmtNum(*op.Max) + u
	case op.Max == nil:
		rng = "at least " + fmtNum(*op.Min) + u
	case op.Type == "seconds":
		rng = "from " + fmtNum(*op.Min) + u + " to " + fmtNum(*op.Max) + u
	default:
		rng = fmtNum(*op.Min) + u + " to " + fmtNum(*op.Max) + u
	}
	if op.Zero != "" {
		if op.Min != nil && *op.Min == 0 {
			return strings.Replace(rng, "0", "0 ("+op.Zero+")", 1)
		}
		return "0 (" + op.Zero + ") or " + rng
	}
	return rng
}

// inRange reports whether v (in Unit) is allowed. NaN is not.
func (op Option) inRange(v float64) bool {
	if op.Zero != "" && v == 0 {
		return true
	}
	if op.Min != nil && (!(v >= *op.Min) || (op.MinOpen && v == *op.Min)) {
		return false
	}
	return op.Max == nil || v <= *op.Max
}

// checkWith records a problem for every set field of o that table's
// ranges, choices or formats refuse. Rules between fields are in
// checkTogetherWith: they apply after merging.
func (o Options) checkWith(table []Option, where string, p *problems) {
	for _, op := range table {
		v, ok := op.field.value(&o)
		if !ok {
			continue
		}
		if n, isNum := toFloat(v); isNum {
			if !op.inRange(n) {
				shown := fmtNum(n)
				if op.Type == "seconds" {
					shown += " s"
				}
				p.add(where, "%s: %s is out of range: want %s", op.Key, shown, op.RangeText())
			}
			continue
		}
		s, isStr := v.(string)
		if !isStr {
			continue
		}
		if op.Choices != nil && !containsFold(op.Choices, s) {
			if op.Key == "mode" {
				// The mode's own parser words it, naming the modes this
				// build knows.
				var m trace.Config
				if err := m.Mode.UnmarshalText([]byte(s)); err != nil {
					p.add(where, "mode: %v", err)
					continue
				}
			}
			p.add(where, "%s: %q is not one of %s", op.Key, s, strings.Join(op.Choices, ", "))
		}
		if op.URL && s != "" {
			if err := checkWebhook(s); err != nil {
				p.add(where, "%s: %v", op.Key, err)
			}
		}
		if op.check != nil && s != "" {
			if err := op.check(s); err != nil {
				p.add(where, "%s: %v", op.Key, err)
			}
		}
	}
}

// checkTogetherWith records problems between fields of fully merged
// options: an option set for a mode it does not apply to, and an option
// above the one it may not exceed.
func (o Options) checkTogetherWith(table []Option, where string, p *problems) {
	o.checkEmail(where, p)
	mode := o.mode()
	for _, op := range table {
		if _, set := op.field.value(&o); set && !op.AppliesTo(mode) {
			quoted := make([]string, len(op.Modes))
			for i, m := range op.Modes {
				quoted[i] = strconv.Quote(m)
			}
			p.add(where, "%s: only %s probes use a %s; set \"mode\" to %s, or remove %q",
				op.Key, strings.Join(op.Modes, " and "), strings.ReplaceAll(op.Key, "_", " "), strings.Join(quoted, " or "), op.Key)
		}
		if op.AtMost == "" {
			continue
		}
		lim, ok := lookup(table, op.AtMost)
		if !ok {
			continue
		}
		n, ok := effective(op, &o, mode)
		m, mok := effective(lim, &o, mode)
		if ok && mok && n > m {
			p.add(where, "%s: %s is above %s (%s)", op.Key, fmtNum(n), lim.Key, fmtNum(m))
		}
	}
}

// effective returns the number op takes in o: its value, else its default.
func effective(op Option, o *Options, mode string) (float64, bool) {
	if v, ok := op.field.value(o); ok {
		return toFloat(v)
	}
	return op.ModeDefault(mode)
}

// dropInapplicable unsets the options of o that its mode does not use and
// that entry did not set itself: a port in the defaults block is meant
// for the targets that probe UDP or TCP.
func (o *Options) dropInapplicable(entry Options) {
	mode := o.mode()
	for _, op := range Table() {
		if _, set := op.field.value(&entry); !set && !op.AppliesTo(mode) {
			op.field.clear(o)
		}
	}
}

// MergeEdit returns o with the keys over sets, as an edit of a running
// target's options. An option that belongs to some modes (the port)
// belongs to its mode: a new mode given without it drops o's (the new
// mode takes its own default: a TCP target's 443 means nothing to UDP),
// and, as in Resolve, one the resulting mode does not use is dropped
// unless over set it (then Settings refuses it).
func (o Options) MergeEdit(over Options) Options {
	table := Table()
	if over.Mode != nil && !strings.EqualFold(o.mode(), *over.Mode) {
		for _, op := range table {
			if _, set := op.field.value(&over); op.Modes != nil && !set {
				op.field.clear(&o)
			}
		}
	}
	m := o.Merge(over)
	m.dropInapplicable(over)
	return m
}

func containsFold(list []string, s string) bool {
	for _, c := range list {
		if strings.EqualFold(c, s) {
			return true
		}
	}
	return false
}

// toFloat returns a number held in an option's value or default, in the
// option's unit.
func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case Seconds:
		return time.Duration(v).Seconds(), true
	case Millis:
		return float64(v) / 1e6, true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// fmtNum writes a number in the shortest form that reads back exactly.
func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// field reaches one field of Options without knowing its type.
type field interface {
	decode(o *Options, raw json.RawMessage) error
	value(o *Options) (any, bool) // the value, and whether it is set
	merge(dst, over *Options)
	clear(o *Options)
	apply(o *Options, s *monitor.Settings) // a no-op when unset
	load(o *Options, s monitor.Settings)   // sets the field from s, or leaves it unset
}

// fieldOf is a field of type T: ptr finds it, want names the JSON it
// takes, to stores it in monitor settings and from reads it back (nil:
// it has no place there).
type fieldOf[T any] struct {
	ptr  func(*Options) **T
	want string
	to   func(*monitor.Settings, T)
	from func(monitor.Settings) (T, bool)
}

func (f fieldOf[T]) load(o *Options, s monitor.Settings) {
	if f.from == nil {
		return
	}
	if v, ok := f.from(s); ok {
		*f.ptr(o) = &v
	}
}

func (f fieldOf[T]) decode(o *Options, raw json.RawMessage) error { return set(f.ptr(o), raw, f.want) }

func (f fieldOf[T]) value(o *Options) (any, bool) {
	if p := *f.ptr(o); p != nil {
		return *p, true
	}
	return nil, false
}

func (f fieldOf[T]) merge(dst, over *Options) {
	if v := *f.ptr(over); v != nil {
		*f.ptr(dst) = v
	}
}

func (f fieldOf[T]) clear(o *Options) { *f.ptr(o) = nil }

func (f fieldOf[T]) apply(o *Options, s *monitor.Settings) {
	if p := *f.ptr(o); p != nil && f.to != nil {
		f.to(s, *p)
	}
}

// describeDefault is the Default column of docs/config.md for op.
func (op Option) describeDefault() string {
	if op.DefaultText != "" {
		return op.DefaultText
	}
	if op.DefaultByMode != nil {
		var parts []string
		for _, m := range op.Modes {
			parts = append(parts, fmt.Sprintf("%d (%s)", op.DefaultByMode[m], m))
		}
		return strings.Join(parts, ", ")
	}
	switch v := op.Default.(type) {
	case string:
		return "`" + strconv.Quote(v) + "`"
	case bool:
		return strconv.FormatBool(v)
	}
	n, _ := toFloat(op.Default)
	if n == 0 && op.Zero != "" {
		return "0 (" + op.Zero + ")"
	}
	return fmtNum(n)
}

// describeRange is the Range column of docs/config.md for op.
func (op Option) describeRange() string {
	switch {
	case op.Choices != nil:
		return "`" + strings.Join(op.Choices, "`, `") + "`"
	case op.URL:
		return "`http://` or `https://`"
	case op.Min == nil && op.Max == nil:
		return ""
	}
	var rng string
	switch {
	case op.MinOpen:
		rng = "more than " + fmtNum(*op.Min) + ", up to " + fmtNum(*op.Max)
	case op.Max == nil:
		rng = fmtNum(*op.Min) + " and up"
	default:
		rng = fmtNum(*op.Min) + " – " + fmtNum(*op.Max)
	}
	if op.AtMost != "" {
		rng += ", at most `" + op.AtMost + "`"
	}
	if op.Zero != "" && (op.Min == nil || *op.Min != 0) {
		rng = "0, or " + rng
	}
	return rng
}
