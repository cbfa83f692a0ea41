package csvlog

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// SummaryVersion is the format version of WriteSummary's output, written
// in its first line. It changes when a line or column is removed or
// changes meaning; added header lines and trailing columns keep it.
const SummaryVersion = 1

// SummaryColumns is the header row of the per-hop table of a summary.
const SummaryColumns = "ttl,addr,host,loss_pct,sent,recv,last_ms,avg_ms,min_ms,max_ms,stdev_ms,jitter_ms,p50_ms,p95_ms,others,refused"

// DefaultMOSFormula describes the MOS computation when Summary.MOSFormula
// is empty: the simplified E-model of alert.MOS, spelled out so an export
// explains its own score.
const DefaultMOSFormula = "ITU-T G.107 E-model, simplified: EL = avg_rtt + 2*jitter + 10 ms;" +
	" R = 93.2 - EL/40 (EL < 160 ms) else 93.2 - (EL - 120)/10; R -= 2.5*loss_pct; R in [0,100];" +
	" MOS = 1 + 0.035*R + 7e-6*R*(R - 60)*(100 - R) in [1,4.5];" +
	" TCP: a refused connection counts as lost and RTTs come from accepted ones; none accepted, no MOS"

// Summary is what a summary export holds: one target's per-hop table and
// the settings and time window it was measured under, so that two exports
// can be compared. FromSnapshot fills one from the monitor.
type Summary struct {
	Target string // the target's ID
	Host   string // as the user gave it
	Addr   netip.Addr
	// Probe holds the probe settings; zero fields are written as the
	// defaults trace.Config documents.
	Probe trace.Config
	// Interval is the time between round starts; 0 is written as 1 s,
	// the monitor's default.
	Interval time.Duration
	// Rounds is how many rounds the statistics hold; Start is the start of
	// the first and End the end of the last.
	Rounds     int
	Start, End time.Time
	Hops       []hopstat.Hop
	// Hosts maps responder addresses to reverse-DNS names; a missing or
	// empty entry leaves the host column empty.
	Hosts map[netip.Addr]string
	// Dest is the destination's quality over its most recent probes (the
	// alert window, Dest.Sent probes), with its MOS.
	Dest monitor.Destination
	// MOSFormula names how Dest.MOS was computed; "" means
	// DefaultMOSFormula.
	MOSFormula string
}

// FromSnapshot returns the summary of s. name gives reverse-DNS names of
// responders ("" if unknown); nil means none.
func FromSnapshot(s monitor.Snapshot, name func(netip.Addr) string) Summary {
	sum := Summary{
		Target: string(s.ID), Host: s.Host, Addr: s.Addr,
		Probe: s.Settings.Trace, Interval: s.Settings.Interval,
		Rounds: s.Rounds, Start: s.Started, End: s.Last,
		Dest: s.Dest,
	}
	sum.Hops = make([]hopstat.Hop, len(s.Hops))
	for i, h := range s.Hops {
		sum.Hops[i] = h.Hop
	}
	if name != nil {
		sum.Hosts = make(map[netip.Addr]string)
		for _, h := range sum.Hops {
			for _, r := range h.Responders {
				if n := name(r.Addr); n != "" {
					sum.Hosts[r.Addr] = n
				}
			}
		}
	}
	return sum
}

// WriteSummary writes s as CSV: a header of "# key: value" comment lines
// (format version, target, settings, time window, destination quality and
// MOS), then the per-hop table under its column row SummaryColumns.
// encoding/csv reads it with Comment set to '#'; docs/csv-log.md has the
// details.
func WriteSummary(w io.Writer, s Summary) error {
	bw := bufio.NewWriter(w)
	cfg := s.Probe
	cfg.Target = s.Addr
	if c, err := cfg.WithDefaults(); err == nil {
		cfg = c
	}
	interval := s.Interval
	if interval == 0 {
		interval = time.Second
	}
	formula := s.MOSFormula
	if formula == "" {
		formula = DefaultMOSFormula
	}
	port := "-"
	if cfg.Port != 0 {
		port = strconv.Itoa(int(cfg.Port))
	}
	addr := ""
	if s.Addr.IsValid() {
		addr = s.Addr.String()
	}
	d := s.Dest
	answered := d.Sent > 0 && d.LossPct < 100
	ms := func(v time.Duration) string {
		if !answered {
			return ""
		}
		return string(appendMs(nil, v))
	}
	num := func(v float64, prec int) string {
		if !answered {
			return ""
		}
		return strconv.FormatFloat(v, 'f', prec, 64)
	}

	bw.WriteString("# PingerPlot summary: per-hop statistics of one target (docs/csv-log.md)\n")
	kv := func(k, v string) {
		if v == "" {
			fmt.Fprintf(bw, "# %s:\n", k) // unknown: no trailing space
			return
		}
		fmt.Fprintf(bw, "# %s: %s\n", k, oneLine(v))
	}
	kv("format", strconv.Itoa(SummaryVersion))
	kv("target", s.Target)
	kv("host", s.Host)
	kv("address", addr)
	kv("mode", cfg.Mode.String())
	kv("port", port)
	kv("interval_s", seconds(interval))
	kv("timeout_s", seconds(cfg.Timeout))
	kv("payload_bytes", strconv.Itoa(cfg.Size))
	kv("first_ttl", strconv.Itoa(cfg.FirstTTL))
	kv("max_hops", strconv.Itoa(cfg.MaxHops))
	kv("send_gap_s", seconds(cfg.SendGap))
	kv("final_hop_only", strconv.FormatBool(cfg.FinalHopOnly))
	kv("rounds", strconv.Itoa(s.Rounds))
	kv("start", stamp(s.Start))
	kv("end", stamp(s.End))
	kv("destination_probes", strconv.Itoa(d.Sent))
	kv("destination_loss_pct", strconv.FormatFloat(d.LossPct, 'f', 1, 64))
	kv("destination_refused", strconv.Itoa(d.Refused))
	kv("destination_latency_ms", ms(d.Latency))
	kv("destination_jitter_ms", ms(d.Jitter))
	kv("destination_r", num(d.R, 1))
	kv("destination_mos", num(d.MOS, 2))
	kv("mos_formula", formula)

	cw := csv.NewWriter(bw)
	cw.Write(strings.Split(SummaryColumns, ","))
	for _, h := range s.Hops {
		cw.Write(hopRow(h, s.Hosts))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write summary of %s: %w", s.Target, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write summary of %s: %w", s.Target, err)
	}
	return nil
}

func hopRow(h hopstat.Hop, hosts map[netip.Addr]string) []string {
	st := h.Stats
	addr, host := "", ""
	if len(h.Responders) > 0 {
		a := h.Responders[0].Addr
		addr, host = a.String(), oneLine(hosts[a])
	}
	// RTT figures need replies; spread figures need two.
	rtt := func(v time.Duration, need int) string {
		if st.Recv < need {
			return ""
		}
		return string(appendMs(nil, v))
	}
	pct := func(v time.Duration) string {
		if st.Recv == 0 || v == 0 { // zero: no percentile window kept
			return ""
		}
		return string(appendMs(nil, v))
	}
	var others []string
	for _, r := range h.Responders[min(1, len(h.Responders)):] {
		others = append(others, bracket(r.Addr)+":"+strconv.Itoa(r.Stats.Recv))
	}
	return []string{
		strconv.Itoa(h.TTL), addr, host,
		strconv.FormatFloat(st.LossPct(), 'f', 1, 64),
		strconv.Itoa(st.Sent), strconv.Itoa(st.Recv),
		rtt(st.Last, 1), rtt(st.Avg, 1), rtt(st.Best, 1), rtt(st.Worst, 1),
		rtt(st.StdDev, 2), rtt(st.Jitter, 2), pct(st.P50), pct(st.P95),
		strings.Join(others, " "),
		strconv.Itoa(st.Refused),
	}
}

// bracket writes IPv6 addresses in brackets so "addr:count" stays
// unambiguous.
func bracket(a netip.Addr) string {
	if a.Is6() && !a.Is4In6() {
		return "[" + a.String() + "]"
	}
	return a.String()
}

func seconds(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// oneLine keeps a header value on its comment line.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s)
}
