package metrics

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
)

// Why a renderer of our own: a headless monitor of 5,000 targets exports
// about 400,000 series, and the client library's registry (a const metric
// per series, a protobuf message each, sorted and checked for consistency)
// took 14-17 s of CPU per scrape at that size, longer than Prometheus'
// scrape timeout. Our series need none of that: the exporter's own emit
// feeds this renderer, which appends each family's lines to a buffer of its
// own and writes the families out in order (the text format wants each
// family's samples together). The buffers are kept between scrapes, so a
// scrape allocates little. TestRendererMatchesCollector proves both paths
// give the same series; BenchmarkScrape measures them.
//
// The Go runtime's and the process's collectors still go through a
// registry: a few dozen series.

// textSink appends the text exposition of each series to its family's
// buffer.
type textSink struct {
	bufs [][]byte // by family.idx
}

func (t *textSink) reset() {
	if t.bufs == nil {
		t.bufs = make([][]byte, len(families))
	}
	for i := range t.bufs {
		t.bufs[i] = t.bufs[i][:0]
	}
}

func (t *textSink) add(f *family, v float64, labels []string) {
	b := t.bufs[f.idx]
	b = append(b, f.name...)
	if len(labels) > 0 {
		b = append(b, '{')
		for k, i := range f.sorted {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, f.labels[i]...)
			b = append(b, '=', '"')
			b = appendLabelValue(b, labels[i])
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	b = append(b, ' ')
	b = appendValue(b, v)
	t.bufs[f.idx] = append(b, '\n')
}

// appendLabelValue escapes a label value as the text format requires:
// backslash, double quote and line feed.
func appendLabelValue(b []byte, s string) []byte {
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		clean = s[i] != '\\' && s[i] != '"' && s[i] != '\n'
	}
	if clean {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '"':
			b = append(b, '\\', '"')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return b
}

// appendValue formats v as the client library does: shortest 'g', and
// +Inf, -Inf, NaN spelled as the text format wants. Whole numbers, the
// most common value (counts, zeros, ones), skip the float formatter.
func appendValue(b []byte, v float64) []byte {
	switch {
	case math.IsInf(v, 1):
		return append(b, "+Inf"...)
	case math.IsInf(v, -1):
		return append(b, "-Inf"...)
	case math.IsNaN(v):
		return append(b, "NaN"...)
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// helpEscaper escapes HELP text: backslash and line feed.
var helpEscaper = strings.NewReplacer("\\", `\\`, "\n", `\n`)

// textHandler serves the exporter's series through the renderer and the
// runtime's through a registry, in the text format (version 0.0.4), which
// every Prometheus reads.
//
// A rendering of thousands of targets takes tens of milliseconds of CPU
// (24 MB at 5,000 targets), longer on a busy machine, and a scrape that
// waits for it is late by as much. So once a rendering took longer than
// slow, scrapes are answered with the latest finished rendering and a
// refresher renders anew every refresh for as long as scrapes keep coming
// (it stops after idle without one): what a scrape reads is then at most
// refresh plus one rendering old, where the figures themselves are a round
// old anyway. Small configurations render in well under slow and are
// always rendered for the scrape that asks.
type textHandler struct {
	e       *Exporter
	runtime *prometheus.Registry

	slow, refresh, idle time.Duration

	renderMu sync.Mutex // one rendering at a time; guards sink
	sink     textSink

	mu         sync.Mutex // guards the following
	last       []byte     // the latest rendering; never written once published
	cost       time.Duration
	lastScrape time.Time
	refreshing bool
}

// Defaults of textHandler's slow, refresh and idle.
const (
	slowRender    = 25 * time.Millisecond
	refreshRender = 2 * time.Second
	idleRender    = 2 * time.Minute
)

func newTextHandler(e *Exporter) *textHandler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &textHandler{e: e, runtime: reg, slow: slowRender, refresh: refreshRender, idle: idleRender}
}

// render renders every series into a new buffer and publishes it as the
// latest rendering.
func (h *textHandler) render() ([]byte, error) {
	h.renderMu.Lock()
	defer h.renderMu.Unlock()
	start := time.Now()
	h.sink.reset()
	h.e.emit(sink{text: &h.sink})
	h.mu.Lock()
	size := len(h.last)
	h.mu.Unlock()
	out := bytes.NewBuffer(make([]byte, 0, size+size/8))
	for _, f := range families {
		b := h.sink.bufs[f.idx]
		if len(b) == 0 {
			continue
		}
		typ := "gauge"
		if f.typ == prometheus.CounterValue {
			typ = "counter"
		}
		fmt.Fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", f.name, helpEscaper.Replace(f.help), f.name, typ)
		out.Write(b)
	}
	mfs, err := h.runtime.Gather()
	if err != nil {
		// a runtime series that cannot be read costs only itself
		fmt.Fprintf(out, "# runtime metrics: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
	}
	enc := expfmt.NewEncoder(out, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return nil, fmt.Errorf("metrics: encode %s: %w", mf.GetName(), err)
		}
	}
	h.mu.Lock()
	h.last, h.cost = out.Bytes(), time.Since(start)
	h.mu.Unlock()
	return out.Bytes(), nil
}

// refreshLoop renders every h.refresh until no scrape came for h.idle.
func (h *textHandler) refreshLoop() {
	for {
		time.Sleep(h.refresh)
		h.mu.Lock()
		if time.Since(h.lastScrape) > h.idle {
			h.refreshing = false
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
		_, _ = h.render() // an error shows at the next synchronous rendering
	}
}

func (h *textHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.lastScrape = time.Now()
	body := h.last
	cached := body != nil && h.cost >= h.slow
	if cached && !h.refreshing {
		h.refreshing = true
		go h.refreshLoop()
	}
	h.mu.Unlock()
	if !cached {
		var err error
		if body, err = h.render(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.Header().Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}
