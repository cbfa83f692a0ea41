package evidence

import (
	"fmt"
	"html"
	"math"
	"strings"
	"time"

	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/monitor"
)

// A chart is drawn in Go as inline SVG: the file needs no script to show
// it, prints as it looks, and the page's only script (PNG export) draws
// the same SVG onto a canvas. Every style is an attribute of the SVG
// itself, since an SVG rasterised as an image sees none of the page's CSS.

// Chart geometry, in SVG user units (pixels at 1x).
const (
	chartW   = 960
	chartH   = 262
	plotL    = 64  // left of the plot: latency labels
	plotR    = 944 // right of the plot
	latTop   = 34
	latBot   = 174
	lossTop  = 186
	lossBot  = 226
	axisText = 244
)

// Colours: readable in print and by the common colour blindnesses (the
// loss is red and also drawn apart, in its own band).
const (
	colRange  = "#b9d3ea"
	colMedian = "#1f5f99"
	colLoss   = "#c62828"
	colGap    = "#e6e6e6"
	colGrid   = "#d9d9d9"
	colText   = "#333333"
	colRoute  = "#6a3d9a"
	colAlert  = "#e65100"
	colClear  = "#2e7d32"
	colOther  = "#757575"
)

// marker is an event drawn on the charts' time axis, numbered as in the
// events list.
type marker struct {
	At   time.Time
	N    int
	Kind monitor.EventKind
}

func markerColour(k monitor.EventKind) string {
	switch k {
	case monitor.RouteChange, monitor.PathLength, monitor.Multipath:
		return colRoute
	case monitor.AlertRaised:
		return colAlert
	case monitor.AlertCleared:
		return colClear
	}
	return colOther
}

// chart is one time chart: a hop's latency (median line over the
// min-max range of each bucket) above its loss (red bars, 0-100 %).
type chart struct {
	ID, Title string
	From, To  time.Time
	Buckets   []history.Bucket
	Markers   []marker
	Top       time.Duration // the latency scale's top; charts of one figure share it
}

// latencyTop is a scale top that shows every bucket's 95th percentile:
// the worst single replies may run off the top, the bulk does not.
func latencyTop(series ...[]history.Bucket) time.Duration {
	var top time.Duration
	for _, bs := range series {
		for _, b := range bs {
			if b.Sent > b.Lost {
				top = max(top, b.P95, b.Avg)
			}
		}
	}
	return niceTop(top)
}

// niceTop rounds d up to 1, 2 or 5 times a power of ten milliseconds,
// at least 1 ms.
func niceTop(d time.Duration) time.Duration {
	v := max(float64(d)/float64(time.Millisecond)*1.1, 1)
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return time.Duration(m * p * float64(time.Millisecond))
		}
	}
	return time.Duration(10 * p * float64(time.Millisecond))
}

// svg draws the chart.
func (c chart) svg() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w(`<svg id="%s-svg" class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
		c.ID, chartW, chartH, chartW, chartH, esc(c.Title))
	w(`<rect width="%d" height="%d" fill="#ffffff"/>`, chartW, chartH)
	w(`<text x="%d" y="18" font-size="14" font-weight="bold" fill="%s">%s</text>`, plotL, colText, esc(c.Title))

	span := c.To.Sub(c.From)
	x := func(t time.Time) float64 {
		if span <= 0 {
			return plotL
		}
		return plotL + float64(t.Sub(c.From))/float64(span)*(plotR-plotL)
	}
	top := max(c.Top, time.Millisecond)
	y := func(d time.Duration) float64 {
		v := float64(min(d, top)) / float64(top)
		return latBot - v*(latBot-latTop)
	}

	// Latency grid and labels.
	for i := 0; i <= 4; i++ {
		d := top * time.Duration(i) / 4
		yy := y(d)
		w(`<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s" stroke-width="1"/>`, plotL, yy, plotR, yy, colGrid)
		label := ms(d)
		if d == 0 {
			label = "0 ms"
		}
		w(`<text x="%d" y="%.1f" text-anchor="end" fill="%s">%s</text>`, plotL-6, yy+4, colText, esc(label))
	}
	// Loss band: frame and labels.
	w(`<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="%s"/>`, plotL, lossTop, plotR-plotL, lossBot-lossTop, colGrid)
	w(`<text x="%d" y="%d" text-anchor="end" fill="%s">loss</text>`, plotL-6, (lossTop+lossBot)/2+4, colLoss)
	w(`<text x="%d" y="%d" text-anchor="end" fill="%s" font-size="10">100 %%</text>`, plotL-6, lossTop+8, colText)

	// Buckets.
	step := c.step()
	bw := max(x(c.From.Add(step))-x(c.From), 1)
	var line []string
	flush := func() {
		if len(line) > 1 {
			w(`<polyline points="%s" fill="none" stroke="%s" stroke-width="1.5"/>`, strings.Join(line, " "), colMedian)
		} else if len(line) == 1 {
			w(`<circle cx="%s" r="1.5" fill="%s"/>`, strings.Replace(line[0], ",", `" cy="`, 1), colMedian)
		}
		line = line[:0]
	}
	for _, bk := range c.Buckets {
		x0 := x(bk.Start)
		if bk.Sent == 0 {
			flush()
			w(`<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"/>`, x0, lossTop+1, bw, lossBot-lossTop-2, colGap)
			continue
		}
		if bk.Lost > 0 {
			h := float64(bk.Lost) / float64(bk.Sent) * (lossBot - lossTop)
			w(`<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x0, lossBot-h, bw, h, colLoss)
		}
		if bk.Sent == bk.Lost {
			flush()
			continue
		}
		cx := x0 + bw/2
		w(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f"/>`, cx, y(bk.Min), cx, y(bk.Max), colRange, max(bw-0.5, 1))
		line = append(line, fmt.Sprintf("%.1f,%.1f", cx, y(bucketLatency(bk))))
	}
	flush()

	// Time axis.
	for _, t := range timeTicks(c.From, c.To) {
		xx := x(t)
		w(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>`, xx, latTop, xx, lossBot, colGrid)
		w(`<text x="%.1f" y="%d" text-anchor="middle" fill="%s">%s</text>`, xx, axisText, colText, esc(tickLabel(t, span)))
	}
	w(`<text x="%d" y="%d" fill="%s" font-size="10">%s</text>`, plotL, chartH-4, colText,
		esc(fmt.Sprintf("%s to %s, %s per step; line: median, band: best to worst; red: share of probes lost; grey: no round recorded",
			stamp(c.From, c.From), stamp(c.To, c.From), seconds(step))))

	// Event markers over everything else.
	for _, m := range c.Markers {
		if m.At.Before(c.From) || !m.At.Before(c.To) {
			continue
		}
		xx := x(m.At)
		col := markerColour(m.Kind)
		w(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="1.5" stroke-dasharray="4 3"/>`, xx, latTop-6, xx, lossBot, col)
		w(`<text x="%.1f" y="%d" text-anchor="middle" font-size="10" font-weight="bold" fill="%s">%d</text>`, xx, latTop-8, col, m.N)
	}
	w(`</svg>`)
	return b.String()
}

// step is the width of one bucket: the distance between the first two,
// else the window.
func (c chart) step() time.Duration {
	if len(c.Buckets) > 1 {
		return c.Buckets[1].Start.Sub(c.Buckets[0].Start)
	}
	return c.To.Sub(c.From)
}

// tickSteps are the time axis's candidate spacings.
var tickSteps = []time.Duration{
	time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 28 * 24 * time.Hour,
}

// timeTicks are at most 8 round times of the file's time zone in
// [from, to].
func timeTicks(from, to time.Time) []time.Time {
	span := to.Sub(from)
	if span <= 0 {
		return nil
	}
	step := tickSteps[len(tickSteps)-1]
	for _, s := range tickSteps {
		if span/s <= 8 {
			step = s
			break
		}
	}
	// Round in local wall time, so "21:00" is a tick where the zone is
	// not a whole number of hours from UTC.
	_, off := from.Zone()
	shift := time.Duration(off) * time.Second
	t := from.Add(shift).Truncate(step).Add(-shift)
	var out []time.Time
	for ; !t.After(to); t = t.Add(step) {
		if !t.Before(from) {
			out = append(out, t)
		}
	}
	return out
}

func tickLabel(t time.Time, span time.Duration) string {
	switch {
	case span > 3*24*time.Hour:
		return t.Format("Jan 2")
	case span > 12*time.Hour:
		return t.Format("Jan 2 15:04")
	case span > 10*time.Minute:
		return t.Format("15:04")
	}
	return t.Format("15:04:05")
}

func esc(s string) string { return html.EscapeString(s) }
