// Package config owns the file formats people write and the app keeps: the
// headless config (Load, Starter), the user settings file (LoadUser,
// SaveUser), and Options, the one JSON encoding of a target's engine,
// alert and log options that both of them, and saved sessions, use. It
// applies defaults and validates; the only I/O is reading a file and
// replacing one atomically (atomicfile.Write).
//
// It must not import packages that probe, show or store results beyond the
// types it fills (monitor.Settings and what that holds).
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// Seconds is a duration written in files as a number of seconds (2.5).
type Seconds time.Duration

// MarshalJSON writes s as seconds, in the shortest form that reads back
// exactly.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, time.Duration(s).Seconds(), 'f', -1, 64), nil
}

// UnmarshalJSON reads a number of seconds, rounded to the nanosecond.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	d, err := scaled(b, 1e9)
	*s = Seconds(d)
	return err
}

// Millis is a duration written in files as a number of milliseconds.
type Millis time.Duration

// MarshalJSON writes m as milliseconds.
func (m Millis) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(m)/1e6, 'f', -1, 64), nil
}

// UnmarshalJSON reads a number of milliseconds, rounded to the nanosecond.
func (m *Millis) UnmarshalJSON(b []byte) error {
	d, err := scaled(b, 1e6)
	*m = Millis(d)
	return err
}

// scaled reads a JSON number in units of unit nanoseconds.
func scaled(b []byte, unit float64) (time.Duration, error) {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return 0, err
	}
	ns := math.Round(f * unit)
	if math.Abs(ns) > float64(100*24*time.Hour) {
		return 0, fmt.Errorf("%s is far too large", bytes.TrimSpace(b))
	}
	return time.Duration(ns), nil
}

// Options are a target's engine, alert and log options as files write
// them, under the headless config's key names. A nil field is unset: it
// takes its value from the level below (a target's entry over the
// defaults block over the built-in defaults). Use FromSettings and
// Settings to convert; go through them rather than reading fields, so the
// defaults and validation stay in one place.
type Options struct {
	Interval     *Seconds // interval: time between round starts
	Mode         *string  // mode: "icmp", "udp" or "tcp"
	Port         *int     // port: UDP/TCP destination port
	Timeout      *Seconds // timeout: per-probe reply timeout
	Size         *int     // size: payload bytes
	MaxHops      *int     // max_hops
	FirstTTL     *int     // first_ttl
	SendDelay    *Seconds // send_delay: gap between the probes of a round
	FinalHopOnly *bool    // final_hop_only
	TOS          *string  // tos: DSCP and ECN the probes are sent with
	AlertLossPct *float64 // alert_loss_pct
	AlertLatency *Millis  // alert_latency_ms
	AlertWindow  *int     // alert_window: probes
	History      *int     // history: rounds kept per hop
	WebhookURL   *string  // webhook_url
	LogPath      *string  // log_path: CSV probe log
	LogMaxBytes  *int64   // log_max_bytes
	LogMaxFiles  *int     // log_max_files
	EventLogPath *string  // event_log_path: CSV event log
	// DNS is the "name resolution" switch for a target's hops (dns;
	// default on): false becomes monitor.Settings.NoNames, so event
	// messages, CSV logs, summaries and the dashboard leave names out.
	DNS *bool
	// PingHops (ping_hops; default off) sends direct hop pings beside
	// the target's rounds: monitor.Settings.PingHops.
	PingHops *bool
	// PathMTU (pmtu; default off) runs path MTU discovery beside the
	// target's rounds: monitor.Settings.PathMTU.
	PathMTU *bool
	// Flows (flows; default 0, off) is how many flows ECMP flow
	// enumeration probes beside the target's rounds: monitor.Settings.Flows.
	Flows *int
	// The e-mail alert keys: monitor.Settings.Email (see email.go).
	EmailTo            *string // email_to
	EmailFrom          *string // email_from
	SMTPServer         *string // smtp_server
	SMTPTLS            *string // smtp_tls
	SMTPUser           *string // smtp_user
	SMTPPassword       *string // smtp_password
	SMTPPasswordEnv    *string // smtp_password_env
	SMTPPasswordFile   *string // smtp_password_file
	SMTPCAFile         *string // smtp_ca_file
	SMTPAllowClearAuth *bool   // smtp_allow_clear_auth
}

// Built-in defaults that monitor.Settings does not already define.
const (
	DefaultInterval       = time.Second // monitor.Settings' zero Interval
	DefaultStatusInterval = 60 * time.Second
)

// Limits checked by validation.
const (
	MinInterval  = 50 * time.Millisecond
	MaxInterval  = 24 * time.Hour
	MaxTimeout   = 60 * time.Second
	MaxSendDelay = 10 * time.Second
	MaxSize      = 65000
	MaxHistory   = monitor.MaxHistory // 12 days of rounds at 1 s
	MinLogBytes  = 1 << 10            // csvlog.MinMaxBytes: a header and a few rows
	MaxWindow    = 10000
	MaxLatency   = 60 * time.Second
	MaxLogFiles  = 10000
	MaxFlows     = 64 // the flows option's cap (see its entry in Table)
)

const (
	wantSeconds = "a number of seconds"
	wantInt     = "a whole number"
	wantBool    = "true or false"
	wantString  = "a string"
)

// decodeKey decodes one member into o; known is false when key is not an
// option key.
func (o *Options) decodeKey(key string, raw json.RawMessage) (known bool, err error) {
	op, ok := lookup(Table(), key)
	if !ok {
		return false, nil
	}
	return true, op.field.decode(o, raw)
}

// values returns the set fields in Table order, for encoding.
func (o Options) values() []member {
	var ms []member
	for _, op := range Table() {
		if v, set := op.field.value(&o); set {
			b, _ := marshal(v) // numbers, strings, bools and modes always marshal
			ms = append(ms, member{op.Key, b})
		}
	}
	return ms
}

// MarshalJSON writes the set fields as one object, keys in a fixed order.
// (json.Marshal escapes the <, > and & in its output; an Encoder with
// SetEscapeHTML(false) keeps them.)
func (o Options) MarshalJSON() ([]byte, error) { return appendObject(nil, o.values()), nil }

// appendObject writes members as a compact JSON object.
func appendObject(b []byte, ms []member) []byte {
	b = append(b, '{')
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, m.key)
		b = append(b, ':')
		b = append(b, m.val...)
	}
	return append(b, '}')
}

// UnmarshalJSON reads an object of option keys strictly: an unknown key or
// a value of the wrong type is an error naming the key. Keys starting with
// "_" are comments. It does not check ranges: Settings does.
func (o *Options) UnmarshalJSON(b []byte) error {
	var p problems
	*o = Options{}
	o.decode(b, nil, "", &p)
	return p.err("")
}

// decode reads the members of object b into o, sending other keys to
// extra (which reports whether it knew the key; nil knows none). Problems
// are recorded at where; allowed lists the keys extra knows, for
// suggestions.
func (o *Options) decode(b []byte, extra func(member) bool, where string, p *problems, allowed ...string) {
	ms, err := members(b)
	if err != nil {
		p.add(where, "%v", err)
		return
	}
	for _, m := range ms {
		if isComment(m.key) {
			continue
		}
		known, err := o.decodeKey(m.key, m.val)
		if err != nil {
			p.add(where, "%s: %v", m.key, err)
			continue
		}
		if known || (extra != nil && extra(m)) {
			continue
		}
		p.add(where, "%s", misplaced(m.key, append(allowed, optionKeys()...)))
	}
}

// misplaced explains a key that does not belong where it was found.
func misplaced(key string, allowed []string) string {
	switch key {
	case "status_interval", "metrics_listen", "defaults", "targets", "version":
		return fmt.Sprintf("%q belongs at the top level of the file", key)
	case "target", "name":
		return fmt.Sprintf("%q belongs in an entry of \"targets\"", key)
	}
	return unknownKey(key, allowed)
}

// Merge returns o with every field that over sets replaced by over's.
func (o Options) Merge(over Options) Options {
	for _, op := range Table() {
		op.field.merge(&o, &over)
	}
	return o
}

// check records a problem for every set field out of its range (Table
// says which). Rules that relate two fields are in checkTogether: they
// apply after merging.
func (o Options) check(where string, p *problems) { o.checkWith(Table(), where, p) }

// mode returns the probe mode o names, lower case; "icmp" when unset.
// Modes are handled by name: this package must not import the probe
// package (internal/archtest), whose Mode type reaches it only through
// trace.Config.
func (o Options) mode() string {
	if o.Mode == nil {
		return "icmp"
	}
	return strings.ToLower(*o.Mode)
}

// checkTogether records problems between fields of fully merged options.
func (o Options) checkTogether(where string, p *problems) { o.checkTogetherWith(Table(), where, p) }

// checkWebhook checks a webhook URL. Messages do not repeat the URL: its
// path or query often holds a secret token, and errors end up in logs.
func checkWebhook(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL; want http://HOST/... or https://HOST/...")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return errors.New("no scheme; want an http:// or https:// URL")
		}
		return fmt.Errorf("scheme %q: want an http:// or https:// URL", u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("no host after %s://", u.Scheme)
	}
	return nil
}

func fmtSec(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}

// Settings validates o as a complete set of options (unset fields take the
// built-in defaults) and returns the monitor settings it describes, every
// default filled in. The trace target address is left zero; EventLogPath
// has no place in monitor.Settings and is ignored here (see Resolve).
func (o Options) Settings() (monitor.Settings, error) {
	var p problems
	o.check("", &p)
	o.checkTogether("", &p)
	if err := p.err(""); err != nil {
		return monitor.Settings{}, err
	}
	return o.settings(), nil
}

// settings converts valid options.
func (o Options) settings() monitor.Settings {
	s := monitor.Settings{
		Interval: DefaultInterval,
		History:  monitor.DefaultHistory,
		Trace: trace.Config{
			Timeout: trace.DefaultTimeout, Size: trace.DefaultSize,
			MaxHops: trace.DefaultMaxHops, FirstTTL: 1,
		},
		Alert: alert.Rules{Window: alert.DefaultWindow},
	}
	for _, op := range Table() {
		if op.AppliesTo(o.mode()) {
			op.field.apply(&o, &s)
		}
	}
	if s.Trace.Port == 0 {
		if v, ok := PortOption().ModeDefault(o.mode()); ok {
			s.Trace.Port = uint16(v)
		}
	}
	return s
}

// FromSettings returns s as options with every field set to the value in
// effect (zeros read as the monitor reads them), so a saved file says what
// ran rather than "the default of the version that wrote it". The log
// caps are left unset when zero: their defaults belong to the CSV log.
// DNS is set only when names are off: "on" is what a file without the key
// has always meant, and leaving it out keeps such files readable by
// PingerPlots that do not know the key. Settings(FromSettings(s)) returns
// s with its defaults filled in.
func FromSettings(s monitor.Settings) Options {
	var o Options
	for _, op := range Table() { // mode comes before the options that depend on it
		if op.AppliesTo(o.mode()) {
			op.field.load(&o, s)
		}
	}
	return o
}
