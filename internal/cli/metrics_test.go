package cli

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"

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
	stop, err := serveMetrics(context.Background(), "127.0.0.1:0", m, nil, nil, nil, &out)
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

	if _, err := serveMetrics(context.Background(), "127.0.0.1", m, nil, nil, nil, io.Discard); err == nil || !strings.Contains(err.Error(), "--metrics-listen") {
		t.Errorf("no port: %v; want a message naming --metrics-listen", err)
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if _, err := serveMetrics(context.Background(), busy.Addr().String(), m, nil, nil, nil, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "address already in use") || !strings.Contains(err.Error(), "--metrics-listen") {
		t.Errorf("busy port: %v; want in use and how to choose another", err)
	}
}
