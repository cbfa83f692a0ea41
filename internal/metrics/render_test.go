package metrics

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/monitor"
)

// series flattens parsed families into "name{sorted labels} value" lines,
// with each family's type and help, so two expositions compare as sets.
func series(mfs map[string]*dto.MetricFamily) []string {
	var out []string
	for name, mf := range mfs {
		out = append(out, fmt.Sprintf("# %s %s %q", name, mf.GetType(), mf.GetHelp()))
		for _, m := range mf.Metric {
			var ls []string
			for _, l := range m.Label {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			slices.Sort(ls)
			var v float64
			switch {
			case m.Gauge != nil:
				v = m.Gauge.GetValue()
			case m.Counter != nil:
				v = m.Counter.GetValue()
			}
			out = append(out, fmt.Sprintf("%s{%s} %v", name, strings.Join(ls, ","), v))
		}
	}
	slices.Sort(out)
	return out
}

// TestRendererMatchesCollector: the handler's own renderer gives exactly
// the series, types, help and values the client library's registry gives
// for the same exporter, including label values that need escaping and
// values the float formatter spells specially.
func TestRendererMatchesCollector(t *testing.T) {
	odd := sampleSnapshot()
	odd.ID = "odd"
	odd.Host = "a \"quoted\" \\ host\nwith a line feed"
	odd.Hops[0].Stats.Avg = time.Duration(math.MaxInt64)
	odd.Rounds = 123456789
	snaps := []monitor.Snapshot{sampleSnapshot(), odd}
	e := New(fixed{snaps: snaps, stats: monitor.Stats{Targets: 2, Rounds: 1e7, Probes: 4e9,
		Subscribers: []monitor.SubscriberStats{{Name: "recorder", Dropped: 2}}}})
	e.WithStore(func() Store { return Store{Bytes: 1 << 40, Rounds: 5, Failing: true} })
	e.WithDiagnosis(func(id monitor.ID) (Diagnosis, bool) {
		return Diagnosis{What: "loss", TTL: 2, Addr: "10.0.2.1", Confidence: "high"}, id == "web"
	})
	e.WithPathMTU(func(id monitor.ID) (PathMTU, bool) {
		return PathMTU{Bytes: 1400, TTL: 2, Addr: "10.0.1.2"}, id == "web"
	})
	e.WithFlows(func(id monitor.ID) []FlowPath {
		if id != "web" {
			return nil
		}
		return []FlowPath{
			{Hops: []string{"10.0.0.2", "10.1.0.2", "192.0.2.9"}, Share: 0.5625, RTT: ms(2.5)},
			{Hops: []string{"10.0.0.2", "", "192.0.2.9"}, Share: 0.4375, Loss: 0.3125, Lossy: true, RTT: ms(3.25)},
			{Hops: []string{"10.0.0.2", "a\\\"b"}, Share: 0, Loss: 1},
		}
	})
	e.events[eventKey{"web", monitor.RouteChange}] = 3

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e)
	gathered, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*dto.MetricFamily{}
	for _, mf := range gathered {
		want[mf.GetName()] = mf
	}

	rec := httptest.NewRecorder()
	e.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q; want the text format 0.0.4", ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	got, err := parser.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, rec.Body)
	}
	for name := range got {
		if !strings.HasPrefix(name, ns+"_") {
			delete(got, name) // the runtime's, checked below
		}
	}
	g, w := series(got), series(want)
	if !slices.Equal(g, w) {
		for _, l := range w {
			if !slices.Contains(g, l) {
				t.Errorf("missing from the renderer: %s", l)
			}
		}
		for _, l := range g {
			if !slices.Contains(w, l) {
				t.Errorf("renderer only: %s", l)
			}
		}
	}
	if len(w) < 60 {
		t.Errorf("only %d series compared; the sample should give more", len(w))
	}
	for _, runtime := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if !strings.Contains(rec.Body.String(), "\n"+runtime+" ") {
			t.Errorf("no %s in the exposition", runtime)
		}
	}
}

// manySnapshots is n targets of hops hops each, two responders on one hop.
func manySnapshots(n, hops int) []monitor.Snapshot {
	base := sampleSnapshot()
	out := make([]monitor.Snapshot, n)
	for i := range out {
		s := base
		s.ID = monitor.ID(fmt.Sprintf("t%05d", i))
		s.Host = fmt.Sprintf("10.201.%d.%d", i/256, i%256)
		s.Hops = make([]monitor.Hop, hops)
		for j := range s.Hops {
			h := base.Hops[j%2]
			h.TTL = j + 1
			h.Responders = slices.Clone(h.Responders)
			h.Responders[0].Addr = netip.AddrFrom4([4]byte{10, 0, byte(j), 2})
			h.Stats.Avg += time.Duration(i) * time.Microsecond
			s.Hops[j] = monitor.Hop{Hop: hopstat.Hop{TTL: h.TTL, Stats: h.Stats, Responders: h.Responders}}
		}
		out[i] = s
	}
	return out
}

// BenchmarkScrape serves /metrics for 5,000 targets of 4 hops (the headless
// scale run's size: about 400,000 series) through the handler, and, for
// comparison, through the client library's registry, which the handler
// used before (ns/op is one scrape).
func BenchmarkScrape(b *testing.B) {
	e := New(fixed{snaps: manySnapshots(5000, 4)})
	b.Run("renderer", func(b *testing.B) {
		h := e.Handler().(*textHandler)
		h.slow = time.Hour // always render: this measures the rendering
		b.ReportAllocs()
		w := &discardWriter{h: http.Header{}}
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		for b.Loop() {
			w.n = 0
			h.ServeHTTP(w, req)
		}
		b.ReportMetric(float64(w.n)/1e6, "MB/scrape")
	})
	b.Run("registry", func(b *testing.B) {
		reg := prometheus.NewRegistry()
		reg.MustRegister(e)
		b.ReportAllocs()
		for b.Loop() {
			mfs, err := reg.Gather()
			if err != nil {
				b.Fatal(err)
			}
			var sb strings.Builder
			enc := expfmt.NewEncoder(&sb, expfmt.NewFormat(expfmt.TypeTextPlain))
			for _, mf := range mfs {
				_ = enc.Encode(mf)
			}
		}
	})
}

// discardWriter is a ResponseWriter that counts the bytes and keeps none,
// as a socket would: the benchmark measures rendering, not a recorder's
// growing buffer.
type discardWriter struct {
	h http.Header
	n int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

// slowSource is a Source whose Snapshots waits for a value on gate, and
// counts its calls, so a test can hold a rendering in progress.
type slowSource struct {
	fixed
	gate  chan struct{}
	calls chan int
	n     int
}

func (s *slowSource) Snapshots() []monitor.Snapshot {
	<-s.gate
	s.n++
	s.calls <- s.n
	snaps := slices.Clone(s.fixed.snaps)
	snaps[0].Rounds = s.n // each rendering tells its number
	return snaps
}

// TestSlowRenderingIsServedFromTheLatest: once a rendering was slow,
// scrapes are answered at once with the latest one while a refresher
// renders anew in the background, and a later scrape sees the refresh;
// a fast rendering is always made for the scrape that asks.
func TestSlowRenderingIsServedFromTheLatest(t *testing.T) {
	src := &slowSource{fixed: fixed{snaps: []monitor.Snapshot{sampleSnapshot()}}, gate: make(chan struct{}, 16), calls: make(chan int, 16)}
	h := New(src).Handler().(*textHandler)
	h.slow, h.refresh, h.idle = time.Nanosecond, time.Millisecond, time.Minute
	rounds := func() string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		for _, l := range strings.Split(rec.Body.String(), "\n") {
			if strings.HasPrefix(l, `pingerplot_target_rounds_total{target="web"}`) {
				return l[strings.LastIndexByte(l, ' ')+1:]
			}
		}
		t.Fatalf("no rounds series in:\n%s", rec.Body)
		return ""
	}
	src.gate <- struct{}{}
	if got := rounds(); got != "1" {
		t.Fatalf("first scrape shows rendering %s; want 1 (rendered for it)", got)
	}
	<-src.calls
	// The gate is shut: a scrape that waited for a rendering would hang.
	done := make(chan string, 1)
	go func() { done <- rounds() }()
	select {
	case got := <-done:
		if got != "1" {
			t.Errorf("second scrape shows rendering %s; want 1, the latest finished", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("second scrape waited for a rendering; want the latest one at once")
	}
	src.gate <- struct{}{} // let the refresher finish one rendering
	if n := <-src.calls; n != 2 {
		t.Fatalf("refresher made rendering %d; want 2", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for rounds() != "2" {
		if time.Now().After(deadline) {
			t.Fatal("scrapes never showed the refreshed rendering")
		}
		time.Sleep(time.Millisecond)
	}

	// Fast: every scrape renders.
	fast := New(&slowSource{fixed: fixed{snaps: []monitor.Snapshot{sampleSnapshot()}}, gate: make(chan struct{}, 16), calls: make(chan int, 16)})
	fh := fast.Handler().(*textHandler)
	fs := fh.e.src.(*slowSource)
	for want := 1; want <= 3; want++ {
		fs.gate <- struct{}{}
		rec := httptest.NewRecorder()
		fh.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if n := <-fs.calls; n != want {
			t.Fatalf("scrape %d made rendering %d; want %d", want, n, want)
		}
	}
	if fh.refreshing {
		t.Error("a fast exporter started a refresher; want none")
	}
}
