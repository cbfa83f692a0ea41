package monitor

import (
	"fmt"
	"strings"
	"time"

	"github.com/pingerplot/pingerplot/internal/trace"
)

// DefaultInterval is the round interval of Settings with Interval 0.
const DefaultInterval = time.Second

// MaxHistory bounds Settings.History: about 12 days of rounds at 1 s, 16
// MiB per hop.
const MaxHistory = 1 << 20

// withDefaults fills the zero settings of t and validates them. Errors
// name the target.
func (t Target) withDefaults() (Target, error) {
	if !t.Addr.IsValid() {
		return t, fmt.Errorf("target %q: no address", t.Host)
	}
	t.Addr = t.Addr.Unmap()
	if t.Host == "" {
		t.Host = t.Addr.String()
	}
	s := &t.Settings
	s.Trace.Target = t.Addr
	var err error
	if s.Trace, err = s.Trace.WithDefaults(); err != nil {
		return t, fmt.Errorf("target %q: %v", t.Host, err)
	}
	switch {
	case s.Interval == 0:
		s.Interval = DefaultInterval
	case s.Interval < 0:
		return t, fmt.Errorf("target %q: interval %v must be positive", t.Host, s.Interval)
	}
	switch {
	case s.History == 0:
		s.History = DefaultHistory
	case s.History < 0 || s.History > MaxHistory:
		return t, fmt.Errorf("target %q: history %d rounds out of range 1-%d", t.Host, s.History, MaxHistory)
	}
	if s.Alert, err = s.Alert.WithDefaults(); err != nil {
		return t, fmt.Errorf("target %q: %v", t.Host, err)
	}
	if s.LogMaxBytes < 0 || s.LogMaxFiles < 0 {
		return t, fmt.Errorf("target %q: log caps must not be negative", t.Host)
	}
	return t, nil
}

// sameProbeType reports whether two trace configs ask the destination the
// same question, so that whether it answers carries over.
func sameProbeType(a, b trace.Config) bool {
	return a.Mode == b.Mode && a.Port == b.Port && a.Target == b.Target
}

// sameButNames reports whether a and b differ at most in NoNames: a
// display choice, which makes no settings-changed event.
func sameButNames(a, b Settings) bool {
	a.NoNames = b.NoNames
	return a == b
}

// describeChanges words what differs between two settings, for the
// settings-changed event ("interval 1s → 5s, loss alert off → 5%"). The
// webhook URL is not quoted: it often carries a secret token.
func describeChanges(a, b Settings) string {
	var out []string
	add := func(name string, from, to any) {
		if f, t := fmt.Sprint(from), fmt.Sprint(to); f != t {
			out = append(out, name+" "+f+" → "+t)
		}
	}
	onOff := func(v bool) string { return map[bool]string{true: "on", false: "off"}[v] }
	add("mode", a.Trace.Mode, b.Trace.Mode)
	add("port", a.Trace.Port, b.Trace.Port)
	add("size", a.Trace.Size, b.Trace.Size)
	add("timeout", a.Trace.Timeout, b.Trace.Timeout)
	add("first TTL", a.Trace.FirstTTL, b.Trace.FirstTTL)
	add("max hops", a.Trace.MaxHops, b.Trace.MaxHops)
	add("send gap", a.Trace.SendGap, b.Trace.SendGap)
	add("final hop only", onOff(a.Trace.FinalHopOnly), onOff(b.Trace.FinalHopOnly))
	add("ping hops", onOff(a.PingHops), onOff(b.PingHops))
	add("path MTU", onOff(a.PathMTU), onOff(b.PathMTU))
	add("flows", a.Flows, b.Flows)
	add("interval", a.Interval, b.Interval)
	add("history", a.History, b.History)
	add("loss alert", thresholdText(a.Alert.LossPct, "%"), thresholdText(b.Alert.LossPct, "%"))
	add("latency alert", thresholdText(float64(a.Alert.Latency)/1e6, " ms"), thresholdText(float64(b.Alert.Latency)/1e6, " ms"))
	add("alert window", a.Alert.Window, b.Alert.Window)
	switch {
	case a.Webhook == b.Webhook:
	case a.Webhook == "":
		out = append(out, "webhook set")
	case b.Webhook == "":
		out = append(out, "webhook removed")
	default:
		out = append(out, "webhook changed")
	}
	// Recipients are named; the server settings, which may carry a
	// password, are not.
	add("e-mail to", quoteOrNone(a.Email.To), quoteOrNone(b.Email.To))
	if a.Email.To != "" && b.Email.To != "" && a.Email != b.Email && a.Email.To == b.Email.To {
		out = append(out, "e-mail server settings changed")
	}
	add("log path", quoteOrNone(a.LogPath), quoteOrNone(b.LogPath))
	add("log max bytes", a.LogMaxBytes, b.LogMaxBytes)
	add("log max files", a.LogMaxFiles, b.LogMaxFiles)
	return strings.Join(out, ", ")
}

func thresholdText(v float64, unit string) string {
	if v == 0 {
		return "off"
	}
	return fmt.Sprintf("%g%s", v, unit)
}

func quoteOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return fmt.Sprintf("%q", s)
}
