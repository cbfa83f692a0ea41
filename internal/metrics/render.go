package metrics

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"

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
type textHandler struct {
	e       *Exporter
	runtime *prometheus.Registry

	mu   sync.Mutex // one scrape renders at a time, into kept buffers
	sink textSink
	out  bytes.Buffer
}

func newTextHandler(e *Exporter) *textHandler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &textHandler{e: e, runtime: reg}
}

// render writes every series into h.out.
func (h *textHandler) render() error {
	h.sink.reset()
	h.e.emit(sink{text: &h.sink})
	h.out.Reset()
	for _, f := range families {
		b := h.sink.bufs[f.idx]
		if len(b) == 0 {
			continue
		}
		typ := "gauge"
		if f.typ == prometheus.CounterValue {
			typ = "counter"
		}
		fmt.Fprintf(&h.out, "# HELP %s %s\n# TYPE %s %s\n", f.name, helpEscaper.Replace(f.help), f.name, typ)
		h.out.Write(b)
	}
	mfs, err := h.runtime.Gather()
	if err != nil {
		// a runtime series that cannot be read costs only itself
		fmt.Fprintf(&h.out, "# runtime metrics: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
	}
	enc := expfmt.NewEncoder(&h.out, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("metrics: encode %s: %w", mf.GetName(), err)
		}
	}
	return nil
}

func (h *textHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.render(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", string(expfmt.NewFormat(expfmt.TypeTextPlain)))
	w.Header().Set("Content-Length", strconv.Itoa(h.out.Len()))
	_, _ = w.Write(h.out.Bytes())
}
