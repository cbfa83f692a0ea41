package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/diagnose"
	"github.com/pingerplot/pingerplot/internal/flowwatch"
	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/metrics"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe/result"
)

// metricsHelp is the --metrics-listen flag's help, shared by ui and headless.
const metricsHelp = "serve Prometheus metrics at http://ADDR/metrics (host:port, e.g. 127.0.0.1:9469; \":9469\" listens on every interface; docs/metrics.md)"

// serveMetrics starts the Prometheus endpoint on addr and subscribes its
// exporter to m. The endpoint is read-only and has no token, as scrapers
// expect; it listens only where the user asked. The returned stop shuts it
// down. A nil store, diag, pathMTU or flows leaves its series out.
func serveMetrics(ctx context.Context, addr string, m *monitor.Monitor, store func() history.Status,
	diag func(monitor.ID) (diagnose.Diagnosis, bool), pathMTU func(monitor.ID) (result.PathMTU, bool),
	flows func(monitor.ID) (flowwatch.Paths, bool), stdout io.Writer) (stop func(), err error) {
	if err := config.CheckListen(addr); err != nil {
		return nil, usagef("--metrics-listen: %v", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w; choose another address with --metrics-listen (or metrics_listen in the config)", addr, err)
	}
	exp := metrics.New(m)
	if store != nil {
		exp.WithStore(func() metrics.Store {
			st := store()
			return metrics.Store{Bytes: st.Bytes, Rounds: st.Rounds, Pending: st.Pending, Lost: st.Lost, Failing: st.LastError != ""}
		})
	}
	if diag != nil {
		exp.WithDiagnosis(func(id monitor.ID) (metrics.Diagnosis, bool) {
			d, ok := diag(id)
			if !ok {
				return metrics.Diagnosis{}, false
			}
			out := metrics.Diagnosis{What: string(d.What), TTL: d.Where.TTL, Confidence: string(d.Confidence)}
			if d.Where.Addr.IsValid() {
				out.Addr = d.Where.Addr.String()
			}
			return out, true
		})
	}
	if pathMTU != nil {
		exp.WithPathMTU(func(id monitor.ID) (metrics.PathMTU, bool) {
			p, ok := pathMTU(id)
			if !ok || !p.Valid() {
				return metrics.PathMTU{}, false
			}
			out := metrics.PathMTU{Bytes: p.MTU, TTL: p.HopTTL}
			if p.HopAddr.IsValid() {
				out.Addr = p.HopAddr.String()
			}
			return out, true
		})
	}
	if flows != nil {
		exp.WithFlows(func(id monitor.ID) []metrics.FlowPath {
			p, ok := flows(id)
			if !ok {
				return nil
			}
			return metricsFlows(p)
		})
	}
	updates, unsubscribe := m.SubscribeWith(monitor.SubscriberConfig{Name: "metrics", Buffer: 4096})
	done := make(chan struct{})
	go func() {
		defer close(done)
		exp.Run(ctx, updates)
	}()
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", exp.Handler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "PingerPlot metrics are at /metrics (Prometheus text format); docs/metrics.md lists them.")
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(stdout, "metrics: %v\n", err)
		}
	}()
	fmt.Fprintf(stdout, "Prometheus metrics: http://%s/metrics\n", ln.Addr())
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
		unsubscribe()
		<-done
	}, nil
}

// metricsFlows converts a target's distinct ECMP paths for the exporter:
// each hop's main responder, and the destination's loss and mean RTT,
// which is the last hop when the path reached it.
func metricsFlows(p flowwatch.Paths) []metrics.FlowPath {
	if len(p.Paths) == 0 {
		return nil
	}
	out := make([]metrics.FlowPath, len(p.Paths))
	for i, fp := range p.Paths {
		mp := metrics.FlowPath{Hops: make([]string, len(fp.Hops)), Share: fp.Share, Loss: fp.DestLossPct / 100, Lossy: fp.Lossy}
		for k, h := range fp.Hops {
			if h.Addr.IsValid() {
				mp.Hops[k] = h.Addr.String()
			}
		}
		if n := len(fp.Hops); fp.Reached && n > 0 && fp.Hops[n-1].Stats.Recv > 0 {
			mp.RTT = fp.Hops[n-1].Stats.Avg
		}
		out[i] = mp
	}
	return out
}
