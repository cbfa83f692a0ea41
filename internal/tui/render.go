package tui

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/report"
)

// Frame is everything one screen shows.
type Frame struct {
	// Snapshots are the targets in tab order. The one shown carries its
	// hops' history when the view is in Strip mode.
	Snapshots []monitor.Snapshot
	// Events are each target's latest event (same index; zero for none).
	Events []monitor.Event
	View   View
	Now    time.Time
	// Names returns a hop's host name or ""; nil shows addresses only.
	Names func(netip.Addr) string
	// AS, if set, adds mtr's -z column: an address's AS number, 0 if unknown.
	AS report.ASLookup
	// Color allows ANSI colours (loss in red, alerts, the selected tab).
	Color bool
	// Stored is the shown target's stored last 24 h, drawn under the
	// table when View.Stored is on.
	Stored Stored
	// Diagnosis is the shown target's diagnosis, a footer line under the
	// destination's; zero: none yet, and no line.
	Diagnosis Diagnosis
	// PathMTU is the shown target's path MTU in words ("1400 bytes
	// (drops at hop 2, 10.0.1.2)"), a footer line under the diagnosis;
	// "": none, and no line.
	PathMTU string
}

// Diagnosis is a target's reading in words (docs/diagnosis.md), as the
// caller's diagnosis watcher gives it: this package draws it and knows
// no rule.
type Diagnosis struct {
	What       string // "healthy", "loss", ...; "" for none
	Confidence string // "low", "medium", "high"
	Text       string // one sentence
}

// problem reports whether the diagnosis says something is wrong: not
// healthy, and based on enough data.
func (d Diagnosis) problem() bool {
	return d.What != "" && d.What != "healthy" && d.What != "not_enough_data"
}

// Fixed widths of the table: "%3d. " before the host, the AS column with
// -z, and the figures after it. RTTs get 6 characters, enough for
// microseconds below 10 ms and 0.1 ms up to a second (see msText).
const (
	ttlWidth   = 5
	asWidth    = 9
	statsWidth = 7 + 5 + 6*7 // " Loss%" " Snt" and six RTT columns
	minHost    = 8
)

const (
	sgrReset = "\x1b[0m"
	sgrRed   = "\x1b[31m"
	sgrBold  = "\x1b[1m"
	sgrRev   = "\x1b[7m"
)

// helpText is the help line (?); docs/tui.md says the same at length.
const helpText = "q quit  p pause/resume  r reset  n names/addresses  d display  e details  s stored 24 h  Tab/Shift-Tab/1-9 target  ? hide"

// Render returns the lines of the screen for f on a terminal of width ×
// height characters: at most height lines, none wider than width (ANSI
// colour sequences take no width). It is pure.
func Render(f Frame, width, height int) []string {
	if width <= 0 {
		width = 80
	}
	if height <= 0 {
		height = 24
	}
	p := painter{color: f.Color}
	if len(f.Snapshots) == 0 {
		return clipAll([]string{"PingerPlot: no targets"}, width, height)
	}
	sel := min(max(f.View.Target, 0), len(f.Snapshots)-1)
	s := f.Snapshots[sel]
	var top []string
	top = append(top, headerLine(p, s, f.Now, width))
	if len(f.Snapshots) > 1 {
		top = append(top, tabLine(p, f.Snapshots, sel))
	}
	var names report.Namer
	if f.View.Names && f.Names != nil {
		names = f.Names
	}
	hops := report.Hops(hopstats(s.Hops), names)
	if f.AS != nil {
		report.AddAS(hops, f.AS)
	}
	if f.View.Ext {
		for i := range hops {
			report.SetDetails(&hops[i], reportDetails(s.Hops[i].Details))
		}
	}
	var table []string
	if f.View.Mode == Strip {
		table = stripTable(p, s, hops, f.AS != nil, width)
	} else {
		table = statsTable(p, hops, f.AS != nil, f.View.Ext, width)
	}
	var ev monitor.Event
	if sel < len(f.Events) {
		ev = f.Events[sel]
	}
	bottom := []string{""}
	if f.View.Stored {
		bottom = append(append(bottom, storedLines(p, f.Stored, width)...), "")
	}
	bottom = append(bottom, destLine(p, s))
	if f.Diagnosis.What != "" {
		bottom = append(bottom, diagnosisLine(p, f.Diagnosis))
	}
	if f.PathMTU != "" {
		bottom = append(bottom, "Path MTU "+f.PathMTU)
	}
	bottom = append(bottom, statusLine(f.View, s), eventLine(p, ev))

	// The table gives way first when the terminal is short: the header,
	// destination and latest event are what a glance needs.
	room := height - len(top) - len(bottom)
	if room < len(table) {
		if room <= 1 {
			table = table[:max(room, 0)]
		} else {
			hidden := len(table) - (room - 1)
			table = append(table[:room-1:room-1], fmt.Sprintf("     (%d more lines: enlarge the terminal)", hidden))
		}
	}
	lines := append(append(top, table...), bottom...)
	return clipAll(lines, width, height)
}

func hopstats(hs []monitor.Hop) []hopstat.Hop {
	out := make([]hopstat.Hop, len(hs))
	for i, h := range hs {
		out[i] = h.Hop
	}
	return out
}

func headerLine(p painter, s monitor.Snapshot, now time.Time, width int) string {
	mode := strings.ToUpper(s.Trace.Mode.String())
	if s.Trace.Mode != result.ICMP && s.Trace.Port != 0 {
		mode += " port " + strconv.Itoa(int(s.Trace.Port))
	}
	left := fmt.Sprintf("%s (%s)  %s  every %v  %d rounds", s.Host, s.Addr, mode, s.Interval, s.Rounds)
	tag := ""
	switch s.State {
	case monitor.Paused:
		tag = "  [paused]"
	case monitor.Alerting:
		tag = "  " + p.paint(sgrBold+sgrRed, "[ALERT]")
	case monitor.NoAnswer:
		tag = "  [no answer]"
	}
	right := now.Format("2006-01-02 15:04:05")
	used := cells(left) + visibleLen(tag)
	gap := width - used - len(right)
	if gap < 2 {
		return left + tag
	}
	return left + tag + strings.Repeat(" ", gap) + right
}

func tabLine(p painter, snaps []monitor.Snapshot, sel int) string {
	var b strings.Builder
	for i, s := range snaps {
		if i > 0 {
			b.WriteString(" ")
		}
		label := fmt.Sprintf("%d %s", i+1, s.ID)
		switch s.State {
		case monitor.Alerting:
			label += "!"
		case monitor.Paused:
			label += " (paused)"
		}
		switch {
		case i == sel && p.color:
			b.WriteString(p.paint(sgrRev, " "+label+" "))
		case i == sel:
			b.WriteString("[" + label + "]")
		case s.State == monitor.Alerting:
			b.WriteString(" " + p.paint(sgrRed, label) + " ")
		default:
			b.WriteString(" " + label + " ")
		}
	}
	return b.String()
}

// hostWidth is what is left for the host column.
func hostWidth(width int, withAS bool, rest int) int {
	w := width - ttlWidth - rest
	if withAS {
		w -= asWidth
	}
	return max(w, minHost)
}

func asCell(withAS bool, addr string, asn uint32) string {
	switch {
	case !withAS:
		return ""
	case addr == "":
		return strings.Repeat(" ", asWidth)
	case asn == 0:
		return fmt.Sprintf("%-*s", asWidth, "AS???")
	}
	return fmt.Sprintf("%-*s", asWidth, "AS"+strconv.FormatUint(uint64(asn), 10))
}

func statsTable(p painter, hops []report.Hop, withAS, ext bool, width int) []string {
	hw := hostWidth(width, withAS, statsWidth)
	asHead := ""
	if withAS {
		asHead = fmt.Sprintf("%-*s", asWidth, "AS")
	}
	out := []string{fmt.Sprintf("%-*s%s%-*s %6s %4s %6s %6s %6s %6s %6s %6s", ttlWidth, "Hop", asHead, hw, "Host",
		"Loss%", "Snt", "Last", "Avg", "Best", "Wrst", "StDev", "Jitter")}
	for _, h := range hops {
		loss := fmt.Sprintf("%5.1f%%", h.LossPct)
		if h.LossPct > 0 {
			loss = p.paint(sgrRed, loss)
		}
		out = append(out, fmt.Sprintf("%3d. %s%s %s %4d %6s %6s %6s %6s %6s %6s", h.TTL, asCell(withAS, h.Addr, h.ASN),
			fit(hostText(h.Addr, h.Host), hw), loss, h.Sent, msText(h.LastMs), msText(h.AvgMs), msText(h.MinMs), msText(h.MaxMs), msText(h.StdevMs), msText(h.JitterMs)))
		if ext {
			out = append(out, detailLines(h, h.Addr)...)
		}
		// Other responders at this TTL (ECMP, a reroute) follow on their
		// own lines as in mtr, with their reply count and RTTs.
		for _, o := range h.Others {
			out = append(out, fmt.Sprintf("%*s%s  %s %6s %4d %6s %6s %6s %6s", ttlWidth, "", asCell(withAS, o.Addr, o.ASN),
				fit(hostText(o.Addr, o.Host), hw-2), "", o.Recv, "", msText(o.AvgMs), msText(o.MinMs), msText(o.MaxMs)))
			if ext {
				out = append(out, detailLines(h, o.Addr)...)
			}
		}
	}
	return out
}

// detailLines are the details of responder addr at hop h, one line per
// detail column that says something, as mtr's e shows MPLS labels under
// the hop: "[MPLS: Lbl 24001 TC 5 S 0 TTL 1]". A wide cell is cut at the
// terminal's edge like any line.
// shortCell is the longest detail cell that shares a line with others.
const shortCell = 8

func detailLines(h report.Hop, addr string) []string {
	var out []string
	for _, d := range h.Details {
		if d.Addr != addr {
			continue
		}
		// Short cells (NAT, DSCP, ECN) share one line, so that a raw
		// trace, where every hop quotes them, keeps its table compact;
		// long ones (a label stack) get a line each.
		var short []string
		for _, c := range report.DetailColumns() {
			if v := c.Cell(d); v != "" {
				item := fmt.Sprintf("[%s: %s]", c.Head, v)
				if len(v) <= shortCell {
					short = append(short, item)
					continue
				}
				out = append(out, fmt.Sprintf("%*s%s", ttlWidth+2, "", item))
			}
		}
		if len(short) > 0 {
			out = append(out, fmt.Sprintf("%*s%s", ttlWidth+2, "", strings.Join(short, " ")))
		}
	}
	return out
}

// reportDetails converts a hop's responder details into the report's.
func reportDetails(ds []monitor.ResponderDetails) []report.Details {
	var out []report.Details
	for _, d := range ds {
		out = append(out, report.DetailsOf(d.Addr, d.Details))
	}
	return out
}

// hostText is a responder as the host column shows it: its name when
// names are on and known, else its address; "???" for a silent hop.
func hostText(addr, host string) string {
	switch {
	case addr == "":
		return "???"
	case host != "":
		return host
	}
	return addr
}

// msText formats milliseconds in 6 characters with the precision that fits:
// microseconds below 10 ms (where they matter on a LAN), 0.1 ms from
// 100 ms. "-" when there is no value.
func msText(v *float64) string {
	if v == nil {
		return "-"
	}
	switch x := *v; {
	case x < 9.9995:
		return strconv.FormatFloat(x, 'f', 3, 64)
	case x < 99.995:
		return strconv.FormatFloat(x, 'f', 2, 64)
	case x < 999.95:
		return strconv.FormatFloat(x, 'f', 1, 64)
	default:
		return strconv.FormatFloat(x, 'f', 0, 64)
	}
}

func destLine(p painter, s monitor.Snapshot) string {
	d := s.Dest
	mode := strings.ToUpper(s.Trace.Mode.String())
	switch {
	case s.State == monitor.NoAnswer:
		return fmt.Sprintf("Destination: does not answer %s probes (try -u or -T)", mode)
	case d.Sent == 0:
		return "Destination: waiting for the first round"
	case d.MOS == 0:
		return p.paint(sgrRed, fmt.Sprintf("Destination: no replies in the last %d probes", d.Sent))
	}
	// An alert comes first: it is the one thing on the line that needs
	// action, and a narrow terminal cuts the end.
	line := fmt.Sprintf("Destination hop %d: ", d.TTL)
	if len(d.Active) > 0 {
		var cs []string
		for _, c := range d.Active {
			cs = append(cs, string(c))
		}
		line += p.paint(sgrBold+sgrRed, "ALERT "+strings.Join(cs, ", ")) + "  "
	}
	loss := fmt.Sprintf("loss %.1f%%", d.LossPct)
	if d.LossPct > 0 {
		loss = p.paint(sgrRed, loss)
	}
	return line + fmt.Sprintf("MOS %.2f  R %.1f  %s  avg %s ms  jitter %s ms  over %d probes",
		d.MOS, d.R, loss, strings.TrimSpace(msText(msp(d.Latency))), strings.TrimSpace(msText(msp(d.Jitter))), d.Sent)
}

func msp(d time.Duration) *float64 { v := report.Ms(d); return &v }

// diagnosisLine says where the problem is; a problem is red, as loss is.
// A narrow terminal cuts its end: what and the confidence come first.
func diagnosisLine(p painter, d Diagnosis) string {
	line := fmt.Sprintf("Diagnosis (%s confidence): %s", d.Confidence, d.Text)
	if d.problem() {
		return p.paint(sgrRed, line)
	}
	return line
}

func statusLine(v View, s monitor.Snapshot) string {
	switch {
	case v.Message != "":
		return v.Message
	case v.Help:
		return helpText
	case v.Paused || s.State == monitor.Paused:
		return "paused, history kept: p resumes  (? help, q quit)"
	}
	return "? help  q quit"
}

func eventLine(p painter, e monitor.Event) string {
	if e.Kind == "" {
		return "No events yet"
	}
	line := fmt.Sprintf("Last event %s  %s: %s", e.Time.Format("15:04:05"), strings.ReplaceAll(string(e.Kind), "_", " "), e.Message)
	if e.Kind == monitor.AlertRaised || e.Kind == monitor.RecordError {
		return p.paint(sgrRed, line)
	}
	return line
}

// painter wraps text in colour escapes when colours are allowed.
type painter struct{ color bool }

func (p painter) paint(sgr, s string) string {
	if !p.color {
		return s
	}
	return sgr + s + sgrReset
}

// visibleLen is the width of s on screen in terminal cells: the cells of
// the runes outside escape sequences.
func visibleLen(s string) int {
	n, esc := 0, false
	for _, r := range s {
		switch {
		case esc:
			esc = !(r >= 0x40 && r <= 0x7e && r != '[')
		case r == 0x1b:
			esc = true
		default:
			n += runeWidth(r)
		}
	}
	return n
}

// clip cuts s to w cells, keeping escape sequences whole and closing a
// colour it cut into. A wide character that would straddle the edge is
// left out.
func clip(s string, w int) string {
	if visibleLen(s) <= w {
		return s
	}
	var b strings.Builder
	n, esc, colored := 0, false, false
	for _, r := range s {
		switch {
		case esc:
			b.WriteRune(r)
			esc = !(r >= 0x40 && r <= 0x7e && r != '[')
			continue
		case r == 0x1b:
			esc, colored = true, true
			b.WriteRune(r)
			continue
		}
		rw := runeWidth(r)
		if n+rw > w {
			break
		}
		b.WriteRune(r)
		n += rw
	}
	if colored {
		b.WriteString(sgrReset)
	}
	return b.String()
}

func clipAll(lines []string, width, height int) []string {
	if len(lines) > height {
		lines = lines[:height]
	}
	for i, l := range lines {
		lines[i] = clip(l, width)
	}
	return lines
}
