// Package config owns the file formats people write and the app keeps: the
// headless config (Load, Starter), the user settings file (LoadUser,
// SaveUser), and Options, the one JSON encoding of a target's engine,
// alert and log options that both of them, and saved sessions, use. It
// applies defaults and validates; the only I/O is reading a file and
// replacing one atomically (WriteAtomic).
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
	MaxHistory   = 1 << 20 // the monitor's bound: 12 days of rounds at 1 s
	MinLogBytes  = 1 << 10 // csvlog.MinMaxBytes: a header and a few rows
	MaxWindow    = 10000
	MaxLatency   = 60 * time.Second
)

// optionKeys are the keys of Options in the order files list them.
var optionKeys = []string{
	"interval", "mode", "port", "timeout", "size", "max_hops", "first_ttl",
	"send_delay", "final_hop_only", "alert_loss_pct", "alert_latency_ms",
	"alert_window", "history", "webhook_url", "log_path", "log_max_bytes",
	"log_max_files", "event_log_path", "dns",
}

const (
	wantSeconds = "a number of seconds"
	wantInt     = "a whole number"
	wantBool    = "true or false"
	wantString  = "a string"
	wantMode    = `"icmp", "udp" or "tcp"`
)

// decodeKey decodes one member into o; known is false when key is not an
// option key.
func (o *Options) decodeKey(key string, raw json.RawMessage) (known bool, err error) {
	switch key {
	case "interval":
		return true, set(&o.Interval, raw, wantSeconds)
	case "mode":
		return true, set(&o.Mode, raw, wantMode)
	case "port":
		return true, set(&o.Port, raw, wantInt)
	case "timeout":
		return true, set(&o.Timeout, raw, wantSeconds)
	case "size":
		return true, set(&o.Size, raw, wantInt)
	case "max_hops":
		return true, set(&o.MaxHops, raw, wantInt)
	case "first_ttl":
		return true, set(&o.FirstTTL, raw, wantInt)
	case "send_delay":
		return true, set(&o.SendDelay, raw, wantSeconds)
	case "final_hop_only":
		return true, set(&o.FinalHopOnly, raw, wantBool)
	case "alert_loss_pct":
		return true, set(&o.AlertLossPct, raw, "a percentage")
	case "alert_latency_ms":
		return true, set(&o.AlertLatency, raw, "a number of milliseconds")
	case "alert_window":
		return true, set(&o.AlertWindow, raw, wantInt)
	case "history":
		return true, set(&o.History, raw, wantInt)
	case "webhook_url":
		return true, set(&o.WebhookURL, raw, wantString)
	case "log_path":
		return true, set(&o.LogPath, raw, wantString)
	case "log_max_bytes":
		return true, set(&o.LogMaxBytes, raw, wantInt)
	case "log_max_files":
		return true, set(&o.LogMaxFiles, raw, wantInt)
	case "event_log_path":
		return true, set(&o.EventLogPath, raw, wantString)
	case "dns":
		return true, set(&o.DNS, raw, wantBool)
	}
	return false, nil
}

// values returns the set fields in optionKeys order, for encoding.
func (o Options) values() []member {
	var ms []member
	add := func(key string, set bool, v func() any) {
		if set {
			b, _ := marshal(v()) // numbers, strings, bools and modes always marshal
			ms = append(ms, member{key, b})
		}
	}
	add("interval", o.Interval != nil, func() any { return *o.Interval })
	add("mode", o.Mode != nil, func() any { return *o.Mode })
	add("port", o.Port != nil, func() any { return *o.Port })
	add("timeout", o.Timeout != nil, func() any { return *o.Timeout })
	add("size", o.Size != nil, func() any { return *o.Size })
	add("max_hops", o.MaxHops != nil, func() any { return *o.MaxHops })
	add("first_ttl", o.FirstTTL != nil, func() any { return *o.FirstTTL })
	add("send_delay", o.SendDelay != nil, func() any { return *o.SendDelay })
	add("final_hop_only", o.FinalHopOnly != nil, func() any { return *o.FinalHopOnly })
	add("alert_loss_pct", o.AlertLossPct != nil, func() any { return *o.AlertLossPct })
	add("alert_latency_ms", o.AlertLatency != nil, func() any { return *o.AlertLatency })
	add("alert_window", o.AlertWindow != nil, func() any { return *o.AlertWindow })
	add("history", o.History != nil, func() any { return *o.History })
	add("webhook_url", o.WebhookURL != nil, func() any { return *o.WebhookURL })
	add("log_path", o.LogPath != nil, func() any { return *o.LogPath })
	add("log_max_bytes", o.LogMaxBytes != nil, func() any { return *o.LogMaxBytes })
	add("log_max_files", o.LogMaxFiles != nil, func() any { return *o.LogMaxFiles })
	add("event_log_path", o.EventLogPath != nil, func() any { return *o.EventLogPath })
	add("dns", o.DNS != nil, func() any { return *o.DNS })
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
		p.add(where, "%s", misplaced(m.key, append(allowed, optionKeys...)))
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
	pick(&o.Interval, over.Interval)
	pick(&o.Mode, over.Mode)
	pick(&o.Port, over.Port)
	pick(&o.Timeout, over.Timeout)
	pick(&o.Size, over.Size)
	pick(&o.MaxHops, over.MaxHops)
	pick(&o.FirstTTL, over.FirstTTL)
	pick(&o.SendDelay, over.SendDelay)
	pick(&o.FinalHopOnly, over.FinalHopOnly)
	pick(&o.AlertLossPct, over.AlertLossPct)
	pick(&o.AlertLatency, over.AlertLatency)
	pick(&o.AlertWindow, over.AlertWindow)
	pick(&o.History, over.History)
	pick(&o.WebhookURL, over.WebhookURL)
	pick(&o.LogPath, over.LogPath)
	pick(&o.LogMaxBytes, over.LogMaxBytes)
	pick(&o.LogMaxFiles, over.LogMaxFiles)
	pick(&o.EventLogPath, over.EventLogPath)
	pick(&o.DNS, over.DNS)
	return o
}

func pick[T any](dst **T, over *T) {
	if over != nil {
		*dst = over
	}
}

// check records a problem for every set field out of its range. Rules that
// relate two fields are in checkTogether: they apply after merging.
func (o Options) check(where string, p *problems) {
	sec := func(key string, v *Seconds, lo, hi time.Duration, loOpen bool) {
		if v == nil {
			return
		}
		d := time.Duration(*v)
		if d < lo || d > hi || (loOpen && d == lo) {
			rng := fmt.Sprintf("from %s to %s", fmtSec(lo), fmtSec(hi))
			if loOpen {
				rng = fmt.Sprintf("more than %s and at most %s", fmtSec(lo), fmtSec(hi))
			}
			p.add(where, "%s: %s is out of range: want %s", key, fmtSec(d), rng)
		}
	}
	num := func(key string, v *int, lo, hi int) {
		if v != nil && (*v < lo || *v > hi) {
			p.add(where, "%s: %d is out of range: want %d to %d", key, *v, lo, hi)
		}
	}
	sec("interval", o.Interval, MinInterval, MaxInterval, false)
	if o.Mode != nil {
		var m trace.Config
		if err := m.Mode.UnmarshalText([]byte(*o.Mode)); err != nil {
			p.add(where, "mode: %v", err)
		}
	}
	num("port", o.Port, 1, 65535)
	sec("timeout", o.Timeout, 0, MaxTimeout, true)
	num("size", o.Size, 0, MaxSize)
	num("max_hops", o.MaxHops, 1, 255)
	num("first_ttl", o.FirstTTL, 1, 255)
	sec("send_delay", o.SendDelay, 0, MaxSendDelay, false)
	if v := o.AlertLossPct; v != nil && !(*v >= 0 && *v <= 100) { // NaN too
		p.add(where, "alert_loss_pct: %g is out of range: want 0 (off) to 100", *v)
	}
	if v := o.AlertLatency; v != nil && (*v < 0 || time.Duration(*v) > MaxLatency) {
		p.add(where, "alert_latency_ms: %g is out of range: want 0 (off) to %d", float64(*v)/1e6, MaxLatency.Milliseconds())
	}
	num("alert_window", o.AlertWindow, 1, MaxWindow)
	num("history", o.History, 1, MaxHistory)
	if v := o.WebhookURL; v != nil && *v != "" {
		if err := checkWebhook(*v); err != nil {
			p.add(where, "webhook_url: %v", err)
		}
	}
	if v := o.LogMaxBytes; v != nil && *v != 0 && *v < MinLogBytes {
		p.add(where, "log_max_bytes: %d is below the smallest cap (%d bytes); 0 means the default", *v, MinLogBytes)
	}
	num("log_max_files", o.LogMaxFiles, 0, 10000)
}

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
func (o Options) checkTogether(where string, p *problems) {
	maxHops, first := trace.DefaultMaxHops, 1
	if o.MaxHops != nil {
		maxHops = *o.MaxHops
	}
	if o.FirstTTL != nil {
		first = *o.FirstTTL
	}
	if first > maxHops {
		p.add(where, "first_ttl: %d is above max_hops (%d)", first, maxHops)
	}
	if o.Port != nil && !PortAllowed(o.mode()) {
		p.add(where, "port: only udp and tcp probes use a port; set \"mode\" to \"udp\" or \"tcp\", or remove \"port\"")
	}
}

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
	get(&s.Interval, o.Interval, func(v Seconds) time.Duration { return time.Duration(v) })
	get(&s.Trace.Timeout, o.Timeout, func(v Seconds) time.Duration { return time.Duration(v) })
	get(&s.Trace.Size, o.Size, same)
	get(&s.Trace.MaxHops, o.MaxHops, same)
	get(&s.Trace.FirstTTL, o.FirstTTL, same)
	get(&s.Trace.SendGap, o.SendDelay, func(v Seconds) time.Duration { return time.Duration(v) })
	get(&s.Trace.FinalHopOnly, o.FinalHopOnly, same)
	get(&s.Alert.LossPct, o.AlertLossPct, same)
	get(&s.Alert.Latency, o.AlertLatency, func(v Millis) time.Duration { return time.Duration(v) })
	get(&s.Alert.Window, o.AlertWindow, same)
	get(&s.History, o.History, same)
	get(&s.Webhook, o.WebhookURL, same)
	get(&s.LogPath, o.LogPath, same)
	get(&s.LogMaxBytes, o.LogMaxBytes, same)
	get(&s.LogMaxFiles, o.LogMaxFiles, same)
	get(&s.NoNames, o.DNS, func(on bool) bool { return !on })
	if o.Mode != nil {
		_ = s.Trace.Mode.UnmarshalText([]byte(*o.Mode)) // checked by check
	}
	switch o.mode() {
	case "udp":
		s.Trace.Port = trace.DefaultUDPPort
	case "tcp":
		s.Trace.Port = trace.DefaultTCPPort
	}
	if o.Port != nil && PortAllowed(o.mode()) {
		s.Trace.Port = uint16(*o.Port)
	}
	if s.Trace.Size == 0 {
		s.Trace.Size = trace.DefaultSize // as trace.Config reads a zero size
	}
	return s
}

func get[T, U any](dst *U, v *T, conv func(T) U) {
	if v != nil {
		*dst = conv(*v)
	}
}

func same[T any](v T) T { return v }

// FromSettings returns s as options with every field set to the value in
// effect (zeros read as the monitor reads them), so a saved file says what
// ran rather than "the default of the version that wrote it". The log
// caps are left unset when zero: their defaults belong to the CSV log.
// DNS is set only when names are off: "on" is what a file without the key
// has always meant, and leaving it out keeps such files readable by
// PingerPlots that do not know the key. Settings(FromSettings(s)) returns
// s with its defaults filled in.
func FromSettings(s monitor.Settings) Options {
	orDefault := func(v, def time.Duration) time.Duration {
		if v == 0 {
			return def
		}
		return v
	}
	orInt := func(v, def int) int {
		if v == 0 {
			return def
		}
		return v
	}
	o := Options{
		Interval:     new(Seconds(orDefault(s.Interval, DefaultInterval))),
		Mode:         new(s.Trace.Mode.String()),
		Timeout:      new(Seconds(orDefault(s.Trace.Timeout, trace.DefaultTimeout))),
		Size:         new(orInt(s.Trace.Size, trace.DefaultSize)),
		MaxHops:      new(orInt(s.Trace.MaxHops, trace.DefaultMaxHops)),
		FirstTTL:     new(orInt(s.Trace.FirstTTL, 1)),
		SendDelay:    new(Seconds(s.Trace.SendGap)),
		FinalHopOnly: new(s.Trace.FinalHopOnly),
		AlertLossPct: new(s.Alert.LossPct),
		AlertLatency: new(Millis(s.Alert.Latency)),
		AlertWindow:  new(orInt(s.Alert.Window, alert.DefaultWindow)),
		History:      new(orInt(s.History, monitor.DefaultHistory)),
	}
	switch o.mode() {
	case "udp":
		o.Port = new(orInt(int(s.Trace.Port), trace.DefaultUDPPort))
	case "tcp":
		o.Port = new(orInt(int(s.Trace.Port), trace.DefaultTCPPort))
	}
	if s.Webhook != "" {
		o.WebhookURL = new(s.Webhook)
	}
	if s.LogPath != "" {
		o.LogPath = new(s.LogPath)
	}
	if s.LogMaxBytes != 0 {
		o.LogMaxBytes = new(s.LogMaxBytes)
	}
	if s.LogMaxFiles != 0 {
		o.LogMaxFiles = new(s.LogMaxFiles)
	}
	if s.NoNames {
		o.DNS = new(false)
	}
	return o
}
