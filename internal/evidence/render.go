package evidence

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/monitor"
)

// Section ids: the file's anchors, which tests and readers' links rely on.
const (
	IDSummary     = "summary"
	IDDestination = "destination"
	IDHops        = "hops"
	IDTimelines   = "timelines"
	IDEvents      = "events"
	IDSettings    = "settings"
	IDProvenance  = "provenance"
)

// Sections lists every section's id in the order of the file.
var Sections = []string{IDSummary, IDDestination, IDHops, IDTimelines, IDEvents, IDSettings, IDProvenance}

//go:embed page.html.tmpl
var pageTemplate string

// page is parsed once per Render: a package-level parsed template would
// be shared mutable state, and rendering evidence is rare.
func page() (*template.Template, error) {
	return template.New("evidence").Parse(pageTemplate)
}

// view is Data prepared for the template: every number formatted, every
// chart drawn.
type view struct {
	Title, Window string
	Summary       []string
	DestChart     figure
	Rows          []row
	Timelines     []figure
	TimelineNote  string
	Events        []eventRow
	Settings      [][2]string
	Provenance    [][2]string
}

type figure struct {
	ID, Name string
	SVG      template.HTML
}

type row struct {
	Class                                         string
	TTL, Addr, Name, Sent, Loss                   string
	Last, Best, Avg, Worst, StDev, P50, P95, Jttr string
	Note                                          string
}

type eventRow struct {
	N                     int
	Time, Kind, TTL, Text string
	Colour                string
}

// Render writes d as one self-contained HTML file.
func Render(w io.Writer, d Data) error {
	t, err := page()
	if err != nil {
		return fmt.Errorf("evidence template: %w", err)
	}
	if err := t.Execute(w, prepare(d)); err != nil {
		return fmt.Errorf("writing the evidence file: %w", err)
	}
	return nil
}

func prepare(d Data) view {
	f := analyse(d)
	v := view{
		Title:   fmt.Sprintf("Network path evidence: %s", targetName(d)),
		Window:  fmt.Sprintf("%s to %s (%s)", stamp(d.From, d.From), stamp(d.To, d.From), d.Meta.TimeZone),
		Summary: f.Sentences,
	}
	if d.Target.Addr.IsValid() && d.Target.Addr.String() != targetName(d) {
		v.Title += " (" + d.Target.Addr.String() + ")"
	}

	markers := make([]marker, 0, len(d.Events))
	for i, e := range d.Events {
		markers = append(markers, marker{At: e.Time, N: i + 1, Kind: e.Kind})
		ttl := ""
		if e.TTL > 0 {
			ttl = fmt.Sprint(e.TTL)
		}
		v.Events = append(v.Events, eventRow{N: i + 1, Time: stamp(e.Time, d.From), Kind: kindWords(e.Kind),
			TTL: ttl, Text: e.Message, Colour: markerColour(e.Kind)})
	}

	bySeries := map[int][]history.Bucket{}
	for _, s := range d.Series {
		bySeries[s.TTL] = s.Buckets
	}
	dest, hasDest := destHop(d)
	destTTL := 0
	if hasDest {
		destTTL = dest.TTL
	} else if n := len(d.Series); n > 0 {
		destTTL = d.Series[n-1].TTL
	}
	name := fileStem(d)
	v.DestChart = figure{ID: "chart-destination", Name: name + "-destination.png", SVG: template.HTML(chart{
		ID: "chart-destination", Title: fmt.Sprintf("Destination (hop %d): latency and loss", destTTL),
		From: d.From, To: d.To, Buckets: bySeries[destTTL], Markers: markers, Top: latencyTop(bySeries[destTTL]),
	}.svg())}

	// The timelines: the first hop, where trouble starts, the
	// destination, on one time axis and one latency scale, so the reader
	// sees the trouble start at one and carry through to the other.
	first := 0
	for _, s := range d.Series {
		if first == 0 || s.TTL < first {
			first = s.TTL
		}
	}
	type pick struct {
		ttl  int
		role string
	}
	picks := []pick{{first, "first hop"}}
	trouble := f.Trouble()
	switch {
	case trouble != 0 && trouble != first && trouble != destTTL:
		role := "where the loss starts"
		if f.LossStart == 0 {
			role = "where the latency rises"
		}
		picks = append(picks, pick{trouble, role})
	case trouble == 0:
		v.TimelineNote = "The summary places no trouble at an intermediate hop, so the first hop and the destination are shown."
	default:
		v.TimelineNote = fmt.Sprintf("The trouble is first seen at hop %d, shown here as the %s.", trouble,
			map[bool]string{true: "first hop", false: "destination"}[trouble == first])
	}
	if destTTL != 0 && destTTL != first {
		picks = append(picks, pick{destTTL, "destination"})
	}
	var all [][]history.Bucket
	for _, p := range picks {
		all = append(all, bySeries[p.ttl])
	}
	top := latencyTop(all...)
	for _, p := range picks {
		h := hopAt(d.Hops, p.ttl)
		id := "timeline-" + strings.ReplaceAll(p.role, " ", "-")
		title := fmt.Sprintf("Hop %d, %s: %s", p.ttl, p.role, hopName(h))
		v.Timelines = append(v.Timelines, figure{ID: id, Name: fmt.Sprintf("%s-hop%d.png", name, p.ttl), SVG: template.HTML(chart{
			ID: id, Title: title, From: d.From, To: d.To, Buckets: bySeries[p.ttl], Markers: markers, Top: top,
		}.svg())})
	}

	for _, h := range d.Hops {
		r := row{TTL: fmt.Sprint(h.TTL), Addr: h.Addr, Name: h.Host, Sent: fmt.Sprint(h.Sent), Loss: pct(h.LossPct),
			Last: msPtr(h.LastMs), Best: msPtr(h.MinMs), Avg: msPtr(h.AvgMs), Worst: msPtr(h.MaxMs),
			StDev: msPtr(h.StdevMs), P50: msPtr(h.MedianMs), P95: msPtr(h.P95Ms), Jttr: msPtr(h.JitterMs),
			Note: f.Own[h.TTL]}
		if r.Addr == "" {
			r.Addr = "no answer"
		}
		var cls []string
		if h.TTL == trouble {
			cls = append(cls, "trouble")
			if r.Note == "" {
				r.Note = map[bool]string{true: "the loss that reaches the destination is first seen here", false: "the latency rise first seen here"}[f.LossStart != 0]
			}
		}
		if h.Dest {
			cls = append(cls, "dest")
			if r.Note == "" {
				r.Note = "destination"
			}
		}
		if _, own := f.Own[h.TTL]; own {
			cls = append(cls, "own")
		}
		r.Class = strings.Join(cls, " ")
		if len(h.Others) > 0 {
			var o []string
			for _, x := range h.Others {
				o = append(o, fmt.Sprintf("%s (%d replies)", x.Addr, x.Recv))
			}
			r.Note = strings.TrimPrefix(r.Note+"; also answered: "+strings.Join(o, ", "), "; ")
		}
		v.Rows = append(v.Rows, r)
	}

	p := d.Target.Probe
	v.Settings = [][2]string{
		{"Probe", strings.ToUpper(orDash(p.Mode))},
		{"Interval", seconds(p.Interval)},
		{"Timeout", seconds(p.Timeout)},
		{"Max hops", fmt.Sprint(p.MaxHops)},
	}
	if p.Port != 0 {
		v.Settings = append(v.Settings, [2]string{"Port", fmt.Sprint(p.Port)})
	}
	if p.Size != 0 {
		v.Settings = append(v.Settings, [2]string{"Payload", fmt.Sprintf("%d bytes", p.Size)})
	}
	if p.FinalHop {
		v.Settings = append(v.Settings, [2]string{"Hops probed", "the destination only"})
	}
	s := d.Summary
	exact := "exact, from every probe"
	if !s.Exact {
		exact = "partly from per-minute summaries: percentiles within about 1 %"
	}
	v.Settings = append(v.Settings,
		[2]string{"Rounds in the window", fmt.Sprint(s.Rounds)},
		[2]string{"First and last round", stamp(s.First, d.From) + " to " + stamp(s.Last, d.From)},
		[2]string{"Time step of the charts", seconds(d.Step)},
		[2]string{"Statistics", exact},
	)
	v.Provenance = [][2]string{
		{"Tool", "PingerPlot " + orDash(d.Meta.Version)},
		{"Target", fmt.Sprintf("%s (key %s, address %s)", targetName(d), d.Key, addrText(d.Target))},
		{"Vantage point (this machine's address toward the target)", orDash(d.Meta.Vantage)},
		{"Time zone of every time in this file", orDash(d.Meta.TimeZone)},
		{"Window", stamp(d.From, d.From) + " to " + stamp(d.To, d.From)},
		{"Made", stamp(d.Meta.Made, d.From)},
	}
	return v
}

func addrText(t history.TargetInfo) string {
	if !t.Addr.IsValid() {
		return "-"
	}
	return t.Addr.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// fileStem names the exported PNGs: the target and the window's start.
func fileStem(d Data) string {
	keep := func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-':
			return r
		}
		return '_'
	}
	return "pingerplot-" + strings.Map(keep, targetName(d)) + "-" + d.From.Format("20060102-1504")
}

func kindWords(k monitor.EventKind) string {
	switch k {
	case monitor.RouteChange:
		return "Route change"
	case monitor.PathLength:
		return "Path length changed"
	case monitor.Multipath:
		return "Several paths"
	case monitor.AlertRaised:
		return "Alert raised"
	case monitor.AlertCleared:
		return "Alert cleared"
	case monitor.SendFailed:
		return "Probes could not be sent"
	case monitor.SendResumed:
		return "Probes sent again"
	case monitor.NoAnswerEvent:
		return "No answer to this probe"
	case monitor.PausedEvent:
		return "Paused"
	case monitor.ResumedEvent:
		return "Resumed"
	case monitor.SettingsChanged:
		return "Settings changed"
	case monitor.RecordGap:
		return "Gap in the record"
	case monitor.RecordError:
		return "Record error"
	}
	return string(k)
}
