// Package metrics exposes the monitor to Prometheus: per-hop and
// per-target figures read from the monitor's snapshots at scrape time, and
// event counters kept from its update stream. It is one more subscriber of
// the monitor, like the recorder and the dashboard; docs/metrics.md lists
// every series.
//
// Gauges come from snapshots when Prometheus asks, so a scrape always sees
// the latest round and nothing is stored here but the event counts. Hop
// series carry only the target and TTL as labels, so a route change does
// not start new series; the responder address is in an info series (and in
// the per-responder reply counter, where ECMP members show side by side).
package metrics

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// Source is what the exporter reads: *monitor.Monitor satisfies it.
type Source interface {
	Snapshots() []monitor.Snapshot
	Stats() monitor.Stats
}

// Store is the history store's health as the exporter shows it; the
// wiring converts history.Status, so this package need not reach the store.
type Store struct {
	Bytes   int64 // size on disk
	Rounds  int64 // rounds written since start
	Pending int64 // rounds waiting to be written
	Lost    int64 // rounds given up (recorded as a gap)
	Failing bool  // the latest write failed
}

// Diagnosis is a target's diagnosis as the exporter shows it (package
// diagnose's What, the TTL and address of where it starts, its
// confidence); the wiring converts it, so this package need not import
// the rules.
type Diagnosis struct {
	What       string // "healthy", "loss", "latency", ...
	TTL        int    // 0: nowhere in particular
	Addr       string // "" when the hop is unknown or silent
	Confidence string // "low", "medium", "high"
}

// PathMTU is a target's latest path MTU discovery as the exporter shows
// it (package pmtu): the size, and the TTL and address of the hop where
// larger packets stop (0 and "": none does, or this host's interface is
// the limit).
type PathMTU struct {
	Bytes int
	TTL   int
	Addr  string
}

// FlowPath is one distinct path of a target's ECMP flows (package flows)
// as the exporter shows it; the wiring converts it, so this package need
// not reach the flows' probing.
type FlowPath struct {
	Hops  []string      // the address that answered each TTL, "" where none did
	Share float64       // share of the flows with a round that follow it, 0-1
	Loss  float64       // loss at the destination, 0-1 (1: never reached)
	Lossy bool          // its destination loss stands out above the others'
	RTT   time.Duration // mean RTT of the destination's replies; 0: none
}

// Exporter is a prometheus.Collector over a monitor.
type Exporter struct {
	src       Source
	store     func() Store                       // nil: no history store
	diagnosis func(monitor.ID) (Diagnosis, bool) // nil: no diagnosis series
	pathMTU   func(monitor.ID) (PathMTU, bool)   // nil: no path MTU series
	flows     func(monitor.ID) []FlowPath        // nil: no flow series

	mu     sync.Mutex
	events map[eventKey]uint64
}

type eventKey struct {
	target monitor.ID
	kind   monitor.EventKind
}

// New returns an Exporter reading src. Feed it the monitor's updates with
// Run so that it counts events.
func New(src Source) *Exporter {
	return &Exporter{src: src, events: map[eventKey]uint64{}}
}

// WithStore makes the exporter show the history store's health, read
// at scrape time from status.
func (e *Exporter) WithStore(status func() Store) *Exporter {
	e.store = status
	return e
}

// WithDiagnosis makes the exporter show each target's current diagnosis
// as an info series, read at scrape time from lookup (false: none yet).
func (e *Exporter) WithDiagnosis(lookup func(monitor.ID) (Diagnosis, bool)) *Exporter {
	e.diagnosis = lookup
	return e
}

// WithPathMTU makes the exporter show each target's path MTU, read at
// scrape time from lookup (false: none found yet, or discovery is off).
func (e *Exporter) WithPathMTU(lookup func(monitor.ID) (PathMTU, bool)) *Exporter {
	e.pathMTU = lookup
	return e
}

// WithFlows makes the exporter show each target's distinct ECMP paths,
// read at scrape time from lookup (none: flows are off for the target or
// none has had a round).
func (e *Exporter) WithFlows(lookup func(monitor.ID) []FlowPath) *Exporter {
	e.flows = lookup
	return e
}

// Run counts the events of updates until the channel closes or ctx ends.
// A removed target's counters are forgotten with it, as its other series
// are.
func (e *Exporter) Run(ctx context.Context, updates <-chan monitor.Update) {
	monitor.Consume(ctx, updates, func(u monitor.Update) {
		if u.Event == nil {
			return
		}
		ev := u.Event
		e.mu.Lock()
		defer e.mu.Unlock()
		if ev.Kind == monitor.Removed {
			for k := range e.events {
				if k.target == ev.Target {
					delete(e.events, k)
				}
			}
			return
		}
		e.events[eventKey{ev.Target, ev.Kind}]++
	})
}

// Handler serves the exporter's series, with the Go runtime's and the
// process's, in Prometheus' text format (render.go says why not through
// the client library's registry). Two exporters in one process do not
// share series.
func (e *Exporter) Handler() http.Handler {
	return newTextHandler(e)
}

const ns = "pingerplot"

const dDiagnosisHelp = "The target's current diagnosis (docs/diagnosis.md): what (healthy, loss, latency, jitter, route_change, path_broken, destination_silent, not_enough_data), the TTL and address of the hop where it starts (0 and empty: nowhere in particular) and its confidence. One series per target, always 1; its labels change with the diagnosis."

// family is one series' name, help and label names, with its description
// for the client library's registry (the Collector) and its index in the
// fast text renderer's per-family buffers.
type family struct {
	name, help string
	typ        prometheus.ValueType
	labels     []string
	// sorted lists the indexes of labels in name order: the order the
	// client library writes them in, which readers of the text (and the
	// lab tests' searches) rely on.
	sorted []int
	desc   *prometheus.Desc
	idx    int
}

func gaugeFamily(name, help string, labels ...string) *family {
	sorted := make([]int, len(labels))
	for i := range sorted {
		sorted[i] = i
	}
	slices.SortFunc(sorted, func(a, b int) int { return strings.Compare(labels[a], labels[b]) })
	return &family{name: ns + "_" + name, help: help, typ: prometheus.GaugeValue, labels: labels, sorted: sorted,
		desc: prometheus.NewDesc(ns+"_"+name, help, labels, nil)}
}

func counterFamily(name, help string, labels ...string) *family {
	f := gaugeFamily(name, help, labels...)
	f.typ = prometheus.CounterValue
	return f
}

var (
	hopLabels    = []string{"target", "ttl"}
	targetLabels = []string{"target"}
)

// The series. Descriptions are immutable values shared by every Exporter.
var (
	dTargets = gaugeFamily("targets", "Targets being monitored.")
	dRounds  = counterFamily("monitor_rounds_total", "Rounds completed by the monitor, all targets.")
	dProbes  = counterFamily("monitor_probes_total", "Probes folded into statistics, all targets.")
	dMissed  = counterFamily("monitor_rounds_late_total", "Rounds that started later than planned by more than a tenth of their interval.")
	dDropped = counterFamily("monitor_dropped_updates_total", "Updates a subscriber's full channel did not take, all subscribers together.")
	dSubDrop = counterFamily("subscriber_dropped_total", "Updates the named subscriber's full channel did not take. A durable one (recorder) catches them up from the monitor's history or logs a record_gap event; for metrics, event counts may miss some.", "subscriber")

	dInfo        = gaugeFamily("target_info", "A target: what the user typed (host), the address probed, the probe mode and port.", "target", "host", "addr", "mode", "port")
	dState       = gaugeFamily("target_state", "1 for the target's current state (running, paused, alert, no-answer, cannot-send, closed), 0 for the others.", "target", "state")
	dTRounds     = counterFamily("target_rounds_total", "Rounds completed for the target.", targetLabels...)
	dPathLen     = gaugeFamily("target_path_hops", "TTL at which the destination answered in the latest round that reached it (1 for a final-hop-only target); 0 if none has.", targetLabels...)
	dInterval    = gaugeFamily("target_interval_seconds", "Time between the starts of the target's rounds.", targetLabels...)
	dDestLoss    = gaugeFamily("destination_loss_ratio", "Share of the destination's last alert-window probes lost (0-1).", targetLabels...)
	dDestRTT     = gaugeFamily("destination_rtt_seconds", "Mean RTT of the destination's replies in the alert window.", targetLabels...)
	dDestJitter  = gaugeFamily("destination_jitter_seconds", "Mean absolute difference of consecutive destination RTTs in the alert window.", targetLabels...)
	dDestMOS     = gaugeFamily("destination_mos", "Mean opinion score (1-4.5) from the E-model (ITU-T G.107, simplified) over the alert window.", targetLabels...)
	dDestR       = gaugeFamily("destination_r_factor", "E-model transmission rating factor R (0-93.2) over the alert window.", targetLabels...)
	dDestSamples = gaugeFamily("destination_window_probes", "Probes in the destination's alert window.", targetLabels...)
	dDestRefused = gaugeFamily("destination_refused_ratio", "Share of the destination's last alert-window probes whose answer refused the connection (TCP RST: port closed), 0-1. Not loss.", targetLabels...)
	dAlert       = gaugeFamily("alert_active", "1 while the alert condition (loss, latency, closed) is raised for the target.", "target", "condition")
	dEvents      = counterFamily("events_total", "Events of the target by kind (route_change, multipath, alert_raised, ...).", "target", "kind")
	dDiagnosis   = gaugeFamily("diagnosis", dDiagnosisHelp, "target", "what", "ttl", "addr", "confidence")
	dPathMTU     = gaugeFamily("path_mtu_bytes", "The target's path MTU from the latest discovery (docs/probing.md, the pmtu setting): the largest packet that reached it unfragmented, with the TTL and address of the hop where larger packets stop (0 and empty: none does, or this host's interface is the limit). Absent while discovery is off or has found none.", "target", "ttl", "addr")

	dFlowInfo  = gaugeFamily("flow_path_info", "One distinct path of the target's ECMP flows (docs/flows.md): path is its rank by share of the flows (0: the largest), hops the address that answered each TTL, joined by commas (* where none did). Always 1; its labels change when the paths or their ranks do.", "target", "path", "hops")
	dFlowShare = gaugeFamily("flow_path_share_ratio", "Share of the target's flows (those with a round) that follow this path, 0-1.", "target", "path")
	dFlowLoss  = gaugeFamily("flow_path_loss_ratio", "Loss at the destination of this path's flows, 0-1 (1 when the path never reached it).", "target", "path")
	dFlowLossy = gaugeFamily("flow_path_lossy", "1 when this path's destination loss stands out above the least lossy path's (by 5 percentage points or more); never with one path.", "target", "path")
	dFlowRTT   = gaugeFamily("flow_path_rtt_seconds", "Mean RTT of the destination's replies on this path; absent without replies.", "target", "path")

	dHistBytes   = gaugeFamily("history_bytes", "Size of the history store on disk (database and write-ahead log).")
	dHistRounds  = counterFamily("history_rounds_written_total", "Rounds the history store has written since start.")
	dHistPending = gaugeFamily("history_pending_rounds", "Rounds waiting to be written to the history store (a slow or full disk).")
	dHistLost    = counterFamily("history_lost_rounds_total", "Rounds the history store gave up: no longer in the monitor's memory when it could write again; each span is a record_gap event.")
	dHistFailing = gaugeFamily("history_write_failing", "1 while the history store's latest write failed (the record_error event says why).")

	dHopSent    = counterFamily("hop_sent_total", "Probes sent to this TTL.", hopLabels...)
	dHopRecv    = counterFamily("hop_replies_total", "Replies received from this TTL.", hopLabels...)
	dHopRefused = counterFamily("hop_refused_total", "Replies from this TTL that refused the connection (a TCP destination's RST: port closed); counted in hop_replies_total, not loss.", hopLabels...)
	dHopLast    = gaugeFamily("hop_rtt_last_seconds", "RTT of the most recent reply at this TTL.", hopLabels...)
	dHopAvg     = gaugeFamily("hop_rtt_avg_seconds", "Mean RTT at this TTL since the target was added.", hopLabels...)
	dHopMin     = gaugeFamily("hop_rtt_min_seconds", "Best RTT at this TTL.", hopLabels...)
	dHopMax     = gaugeFamily("hop_rtt_max_seconds", "Worst RTT at this TTL.", hopLabels...)
	dHopStdDev  = gaugeFamily("hop_rtt_stddev_seconds", "Standard deviation of the RTTs at this TTL.", hopLabels...)
	dHopJitter  = gaugeFamily("hop_jitter_seconds", "Mean absolute difference of consecutive RTTs at this TTL.", hopLabels...)
	dHopP50     = gaugeFamily("hop_rtt_p50_seconds", "Median RTT of the recent replies at this TTL (the history window).", hopLabels...)
	dHopP95     = gaugeFamily("hop_rtt_p95_seconds", "95th percentile RTT of the recent replies at this TTL (the history window).", hopLabels...)
	dHopInfo    = gaugeFamily("hop_info", "The address that answered most at this TTL, and whether it is the destination.", "target", "ttl", "addr", "destination")
	dHopRespRcv = counterFamily("hop_responder_replies_total", "Replies from one address at this TTL: ECMP members and reroutes show side by side.", "target", "ttl", "addr")
)

var families = []*family{dTargets, dRounds, dProbes, dMissed, dDropped, dSubDrop, dHistBytes, dHistRounds, dHistPending, dHistLost, dHistFailing, dInfo, dState, dTRounds, dPathLen,
	dInterval, dDestLoss, dDestRTT, dDestJitter, dDestMOS, dDestR, dDestSamples, dDestRefused, dAlert, dEvents, dDiagnosis, dPathMTU, dFlowInfo, dFlowShare, dFlowLoss, dFlowLossy, dFlowRTT, dHopSent, dHopRecv, dHopRefused,
	dHopLast, dHopAvg, dHopMin, dHopMax, dHopStdDev, dHopJitter, dHopP50, dHopP95, dHopInfo, dHopRespRcv}

// family indexes are assigned once, before any exporter exists.
func init() {
	for i, f := range families {
		f.idx = i
	}
}

// Describe sends every series' description.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, f := range families {
		ch <- f.desc
	}
}

// sink receives the series one by one: the client library's channel for
// the Collector, or the fast text renderer (render.go). One emit function
// feeds both, so they cannot disagree on what is exported. A concrete type,
// not an interface, so that the labels of a call stay on the caller's
// stack: the renderer handles 400,000 series a scrape at 5,000 targets.
type sink struct {
	ch   chan<- prometheus.Metric // the Collector's, or nil
	text *textSink
}

func (s sink) add(f *family, v float64, labels ...string) {
	if s.text != nil {
		s.text.add(f, v, labels)
		return
	}
	// the client library keeps the label values: give it its own copy
	s.ch <- prometheus.MustNewConstMetric(f.desc, f.typ, v, slices.Clone(labels)...)
}

var states = []monitor.State{monitor.Running, monitor.Paused, monitor.Alerting, monitor.NoAnswer, monitor.CannotSend, monitor.Closed}

var conditions = []alert.Condition{alert.Loss, alert.Latency, alert.Closed}

// Collect reads the monitor's snapshots and sends their series.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	e.emit(sink{ch: ch})
}

// emit reads the monitor's snapshots and gives their series to out.
func (e *Exporter) emit(out sink) {
	snaps := e.src.Snapshots()
	st := e.src.Stats()
	out.add(dTargets, float64(len(snaps)))
	out.add(dRounds, float64(st.Rounds))
	out.add(dProbes, float64(st.Probes))
	out.add(dMissed, float64(st.Missed))
	out.add(dDropped, float64(st.Dropped))
	for _, sub := range st.Subscribers {
		out.add(dSubDrop, float64(sub.Dropped), sub.Name)
	}
	if e.store != nil {
		hs := e.store()
		out.add(dHistBytes, float64(hs.Bytes))
		out.add(dHistRounds, float64(hs.Rounds))
		out.add(dHistPending, float64(hs.Pending))
		out.add(dHistLost, float64(hs.Lost))
		out.add(dHistFailing, b2f(hs.Failing))
	}

	for _, s := range snaps {
		id := string(s.ID)
		port := ""
		switch {
		case s.Trace.Mode == result.ICMP:
		case s.Trace.Port != 0:
			port = strconv.Itoa(int(s.Trace.Port))
		case s.Trace.Mode == result.UDP:
			port = strconv.Itoa(trace.DefaultUDPPort)
		default:
			port = strconv.Itoa(trace.DefaultTCPPort)
		}
		out.add(dInfo, 1, id, s.Host, s.Addr.String(), s.Trace.Mode.String(), port)
		for _, state := range states {
			out.add(dState, b2f(s.State == state), id, string(state))
		}
		out.add(dTRounds, float64(s.Rounds), id)
		out.add(dPathLen, float64(s.Dest.TTL), id)
		out.add(dInterval, seconds(s.Interval), id)
		if s.Dest.Sent > 0 {
			out.add(dDestLoss, s.Dest.LossPct/100, id)
			out.add(dDestSamples, float64(s.Dest.Sent), id)
			out.add(dDestRefused, float64(s.Dest.Refused)/float64(s.Dest.Sent), id)
		}
		if s.Dest.Latency > 0 {
			// no replies in the window: no latency to speak of (an absent
			// series, not a zero that a graph would draw as perfect)
			out.add(dDestRTT, seconds(s.Dest.Latency), id)
			out.add(dDestJitter, seconds(s.Dest.Jitter), id)
		}
		if s.Dest.MOS > 0 {
			// none accepted (a closed port): no score, not a perfect one
			out.add(dDestMOS, s.Dest.MOS, id)
			out.add(dDestR, s.Dest.R, id)
		}
		for _, c := range conditions {
			active := false
			for _, a := range s.Dest.Active {
				active = active || a == c
			}
			out.add(dAlert, b2f(active), id, string(c))
		}
		if e.diagnosis != nil {
			if d, ok := e.diagnosis(s.ID); ok {
				out.add(dDiagnosis, 1, id, d.What, strconv.Itoa(d.TTL), d.Addr, d.Confidence)
			}
		}
		if e.pathMTU != nil {
			if p, ok := e.pathMTU(s.ID); ok {
				out.add(dPathMTU, float64(p.Bytes), id, strconv.Itoa(p.TTL), p.Addr)
			}
		}
		if e.flows != nil {
			collectFlows(out, id, e.flows(s.ID))
		}
		for _, h := range s.Hops {
			e.collectHop(out, id, h.Hop)
		}
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	for k, n := range e.events {
		out.add(dEvents, float64(n), string(k.target), string(k.kind))
	}
}

func (e *Exporter) collectHop(out sink, id string, h hopstat.Hop) {
	ttl := strconv.Itoa(h.TTL)
	gauge := func(f *family, v time.Duration) {
		out.add(f, seconds(v), id, ttl)
	}
	out.add(dHopSent, float64(h.Stats.Sent), id, ttl)
	out.add(dHopRecv, float64(h.Stats.Recv), id, ttl)
	out.add(dHopRefused, float64(h.Stats.Refused), id, ttl)
	if h.Stats.Recv > 0 {
		gauge(dHopLast, h.Stats.Last)
		gauge(dHopAvg, h.Stats.Avg)
		gauge(dHopMin, h.Stats.Best)
		gauge(dHopMax, h.Stats.Worst)
		gauge(dHopStdDev, h.Stats.StdDev)
		gauge(dHopJitter, h.Stats.Jitter)
		if h.Stats.P50 > 0 {
			gauge(dHopP50, h.Stats.P50)
			gauge(dHopP95, h.Stats.P95)
		}
	}
	if len(h.Responders) > 0 {
		out.add(dHopInfo, 1, id, ttl, h.Responders[0].Addr.String(), strconv.FormatBool(h.Reached))
	}
	for _, r := range h.Responders {
		out.add(dHopRespRcv, float64(r.Stats.Recv), id, ttl, r.Addr.String())
	}
}

func collectFlows(out sink, id string, paths []FlowPath) {
	var hops strings.Builder
	for i, p := range paths {
		path := strconv.Itoa(i)
		hops.Reset()
		for k, a := range p.Hops {
			if k > 0 {
				hops.WriteByte(',')
			}
			if a == "" {
				a = "*"
			}
			hops.WriteString(a)
		}
		out.add(dFlowInfo, 1, id, path, hops.String())
		out.add(dFlowShare, p.Share, id, path)
		out.add(dFlowLoss, p.Loss, id, path)
		out.add(dFlowLossy, b2f(p.Lossy), id, path)
		if p.RTT > 0 {
			out.add(dFlowRTT, seconds(p.RTT), id, path)
		}
	}
}

func seconds(d time.Duration) float64 { return d.Seconds() }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
