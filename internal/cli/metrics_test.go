package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/flows"
	"github.com/pingerplot/pingerplot/internal/flowwatch"
	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/metrics"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
)

// TestServeMetrics: the endpoint serves the exporter on the address asked
// for, says where it is, and refuses a bad or busy address with a message
// that names the flag to change.
func TestServeMetrics(t *testing.T) {
	m := monitor.New(monitor.Config{Prober: probetest.Path(1)})
	defer m.Close()
	var out bytes.Buffer
	stop, err := serveMetrics(context.Background(), "127.0.0.1:0", m, nil, nil, nil, nil, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	addr := regexp.MustCompile(`http://(127\.0\.0\.1:\d+)/metrics`).FindStringSubmatch(out.String())
	if addr == nil {
		t.Fatalf("no URL in %q", out.String())
	}
	resp, err := http.Get("http://" + addr[1] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "pingerplot_targets 0") {
		t.Errorf("GET /metrics: %d\n%s", resp.StatusCode, body)
	}

	if _, err := serveMetrics(context.Background(), "127.0.0.1", m, nil, nil, nil, nil, io.Discard); err == nil || !strings.Contains(err.Error(), "--metrics-listen") {
		t.Errorf("no port: %v; want a message naming --metrics-listen", err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if _, err := serveMetrics(context.Background(), busy.Addr().String(), m, nil, nil, nil, nil, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "address already in use") || !strings.Contains(err.Error(), "--metrics-listen") {
		t.Errorf("busy port: %v; want in use and how to choose another", err)
	}
}

// TestMetricsFlows: the exporter gets each path's main responders (none
// where a hop was silent), its share, its destination loss as a ratio and
// its lossy mark, and the destination's mean RTT only when the path
// reached it with replies.
func TestMetricsFlows(t *testing.T) {
	a := netip.MustParseAddr
	hop := func(ttl int, addr string, recv int, avg time.Duration, reached bool) flows.Hop {
		h := flows.Hop{TTL: ttl, Reached: reached, Stats: hopstat.Stats{Sent: 10, Recv: recv, Avg: avg}}
		if addr != "" {
			h.Addr = a(addr)
		}
		return h
	}
	tests := []struct {
		name string
		in   flowwatch.Paths
		want []metrics.FlowPath
	}{
		{"none yet", flowwatch.Paths{Count: 16}, nil},
		{"two paths", flowwatch.Paths{Count: 16, Paths: []flows.Path{
			{Share: 0.5, Reached: true, DestLossPct: 0, Hops: []flows.Hop{hop(1, "10.0.0.2", 10, time.Millisecond, false), hop(2, "192.0.2.9", 10, 3*time.Millisecond, true)}},
			{Share: 0.5, Reached: true, DestLossPct: 30, Lossy: true, Hops: []flows.Hop{hop(1, "", 0, 0, false), hop(2, "192.0.2.9", 7, 4*time.Millisecond, true)}},
		}}, []metrics.FlowPath{
			{Hops: []string{"10.0.0.2", "192.0.2.9"}, Share: 0.5, RTT: 3 * time.Millisecond},
			{Hops: []string{"", "192.0.2.9"}, Share: 0.5, Loss: 0.3, Lossy: true, RTT: 4 * time.Millisecond},
		}},
		{"never reached: no RTT", flowwatch.Paths{Count: 2, Paths: []flows.Path{
			{Share: 1, DestLossPct: 100, Hops: []flows.Hop{hop(1, "10.0.0.2", 10, time.Millisecond, false)}},
		}}, []metrics.FlowPath{{Hops: []string{"10.0.0.2"}, Share: 1, Loss: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := metricsFlows(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v; want %+v", got, tt.want)
			}
		})
	}
}
