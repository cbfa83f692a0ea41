package web

import (
	"fmt"
	"net/http"
	"net/netip"
	"testing"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
)

// BenchmarkListTargets answers GET /api/targets for 5,000 targets, the
// list the dashboard's Targets grid polls (op = one answer).
func BenchmarkListTargets(b *testing.B) {
	mon := monitor.New(monitor.Config{Prober: probetest.Path(msec(1))})
	defer mon.Close()
	st, err := config.DefaultUser().Defaults.Settings()
	if err != nil {
		b.Fatal(err)
	}
	for i := range 5000 {
		addr := netip.AddrFrom4([4]byte{10, 201, byte(i / 256), byte(i % 256)})
		if _, err := mon.Add(monitor.Target{Host: fmt.Sprintf("t%05d", i), Addr: addr, Settings: st}); err != nil {
			b.Fatal(err)
		}
	}
	srv := New(Config{Monitor: mon, Resolve: fakeResolve, Names: fakeNames, UserDir: b.TempDir(), User: config.DefaultUser(),
		Token: testToken, Listen: testListen, App: "pingerplot bench"})
	h := srv.Handler()
	req := newRequest(http.MethodGet, "/api/targets", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	w := &countingWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		w.n = 0
		h.ServeHTTP(w, req)
		if w.code != http.StatusOK {
			b.Fatalf("status %d", w.code)
		}
	}
	b.ReportMetric(float64(w.n)/1e6, "MB/answer")
}

type countingWriter struct {
	h    http.Header
	n    int
	code int
}

func (c *countingWriter) Header() http.Header  { return c.h }
func (c *countingWriter) WriteHeader(code int) { c.code = code }
func (c *countingWriter) Write(p []byte) (int, error) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	c.n += len(p)
	return len(p), nil
}
