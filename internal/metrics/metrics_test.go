package metrics

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
	"github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/trace"
)

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

// fixed is a Source with hand-made snapshots.
type fixed struct {
	snaps []monitor.Snapshot
	stats monitor.Stats
}

func (f fixed) Snapshots() []monitor.Snapshot { return f.snaps }
func (f fixed) Stats() monitor.Stats          { return f.stats }

var (
	r1   = netip.MustParseAddr("10.0.1.1")
	r2a  = netip.MustParseAddr("10.0.2.1")
	r2b  = netip.MustParseAddr("10.0.2.2")
	dest = netip.MustParseAddr("192.0.2.7")
)

func sampleSnapshot() monitor.Snapshot {
	st := func(sent, recv int, last, best, worst, avg time.Duration) hopstat.Stats {
		return hopstat.Stats{Sent: sent, Recv: recv, Last: last, Best: best, Worst: worst, Avg: avg,
			StdDev: ms(0.5), Jitter: ms(0.25), P50: avg, P95: worst}
	}
	return monitor.Snapshot{
		Target: monitor.Target{ID: "web", Host: "web.example", Addr: dest, Settings: monitor.Settings{
			Trace: trace.Config{Mode: result.TCP, Port: 443}, Interval: 2 * time.Second}},
		State:  monitor.Alerting,
		Rounds: 10,
		Hops: []monitor.Hop{
			{Hop: hopstat.Hop{TTL: 1, Stats: st(10, 10, ms(1), ms(0.5), ms(2), ms(1)),
				Responders: []hopstat.Responder{{Addr: r1, Stats: hopstat.Stats{Sent: 10, Recv: 10}}}}},
			{Hop: hopstat.Hop{TTL: 2, Stats: st(10, 8, ms(3), ms(2), ms(4), ms(3)),
				Responders: []hopstat.Responder{{Addr: r2a, Stats: hopstat.Stats{Recv: 5}}, {Addr: r2b, Stats: hopstat.Stats{Recv: 3}}}}},
			{Hop: hopstat.Hop{TTL: 3}}, // silent
			{Hop: hopstat.Hop{TTL: 4, Reached: true, Stats: st(10, 7, ms(20), ms(10), ms(30), ms(15)),
				Responders: []hopstat.Responder{{Addr: dest, Stats: hopstat.Stats{Recv: 7}}}}},
		},
		Dest: monitor.Destination{TTL: 4, Sent: 10, LossPct: 30, Latency: ms(15), Jitter: ms(2), R: 80, MOS: 4.0,
			Active: []alert.Condition{alert.Loss}},
	}
}

// TestExposition pins the series of one snapshot: names, labels, values
// in seconds and ratios, silent hops without RTT series, the alert and
// state enums.
func TestExposition(t *testing.T) {
	e := New(fixed{snaps: []monitor.Snapshot{sampleSnapshot()}, stats: monitor.Stats{Targets: 1, Rounds: 10, Probes: 40, Missed: 1, Dropped: 2,
		Subscribers: []monitor.SubscriberStats{{Name: "recorder", Dropped: 2}, {Name: "web"}}}})
	want := `
# HELP pingerplot_alert_active 1 while the alert condition (loss, latency, closed) is raised for the target.
# TYPE pingerplot_alert_active gauge
pingerplot_alert_active{condition="closed",target="web"} 0
pingerplot_alert_active{condition="latency",target="web"} 0
pingerplot_alert_active{condition="loss",target="web"} 1
# HELP pingerplot_destination_loss_ratio Share of the destination's last alert-window probes lost (0-1).
# TYPE pingerplot_destination_loss_ratio gauge
pingerplot_destination_loss_ratio{target="web"} 0.3
# HELP pingerplot_destination_mos Mean opinion score (1-4.5) from the E-model (ITU-T G.107, simplified) over the alert window.
# TYPE pingerplot_destination_mos gauge
pingerplot_destination_mos{target="web"} 4
# HELP pingerplot_destination_rtt_seconds Mean RTT of the destination's replies in the alert window.
# TYPE pingerplot_destination_rtt_seconds gauge
pingerplot_destination_rtt_seconds{target="web"} 0.015
# HELP pingerplot_hop_info The address that answered most at this TTL, and whether it is the destination.
# TYPE pingerplot_hop_info gauge
pingerplot_hop_info{addr="10.0.1.1",destination="false",target="web",ttl="1"} 1
pingerplot_hop_info{addr="10.0.2.1",destination="false",target="web",ttl="2"} 1
pingerplot_hop_info{addr="192.0.2.7",destination="true",target="web",ttl="4"} 1
# HELP pingerplot_hop_replies_total Replies received from this TTL.
# TYPE pingerplot_hop_replies_total counter
pingerplot_hop_replies_total{target="web",ttl="1"} 10
pingerplot_hop_replies_total{target="web",ttl="2"} 8
pingerplot_hop_replies_total{target="web",ttl="3"} 0
pingerplot_hop_replies_total{target="web",ttl="4"} 7
# HELP pingerplot_hop_responder_replies_total Replies from one address at this TTL: ECMP members and reroutes show side by side.
# TYPE pingerplot_hop_responder_replies_total counter
pingerplot_hop_responder_replies_total{addr="10.0.1.1",target="web",ttl="1"} 10
pingerplot_hop_responder_replies_total{addr="10.0.2.1",target="web",ttl="2"} 5
pingerplot_hop_responder_replies_total{addr="10.0.2.2",target="web",ttl="2"} 3
pingerplot_hop_responder_replies_total{addr="192.0.2.7",target="web",ttl="4"} 7
# HELP pingerplot_hop_rtt_avg_seconds Mean RTT at this TTL since the target was added.
# TYPE pingerplot_hop_rtt_avg_seconds gauge
pingerplot_hop_rtt_avg_seconds{target="web",ttl="1"} 0.001
pingerplot_hop_rtt_avg_seconds{target="web",ttl="2"} 0.003
pingerplot_hop_rtt_avg_seconds{target="web",ttl="4"} 0.015
# HELP pingerplot_target_info A target: what the user typed (host), the address probed, the probe mode and port.
# TYPE pingerplot_target_info gauge
pingerplot_target_info{addr="192.0.2.7",host="web.example",mode="tcp",port="443",target="web"} 1
# HELP pingerplot_target_state 1 for the target's current state (running, paused, alert, no-answer, cannot-send, closed), 0 for the others.
# TYPE pingerplot_target_state gauge
pingerplot_target_state{state="alert",target="web"} 1
pingerplot_target_state{state="cannot-send",target="web"} 0
pingerplot_target_state{state="closed",target="web"} 0
pingerplot_target_state{state="no-answer",target="web"} 0
pingerplot_target_state{state="paused",target="web"} 0
pingerplot_target_state{state="running",target="web"} 0
# HELP pingerplot_monitor_rounds_late_total Rounds that started later than planned by more than a tenth of their interval.
# TYPE pingerplot_monitor_rounds_late_total counter
pingerplot_monitor_rounds_late_total 1
# HELP pingerplot_monitor_dropped_updates_total Updates a subscriber's full channel did not take, all subscribers together.
# TYPE pingerplot_monitor_dropped_updates_total counter
pingerplot_monitor_dropped_updates_total 2
# HELP pingerplot_subscriber_dropped_total Updates the named subscriber's full channel did not take. A durable one (recorder) catches them up from the monitor's history or logs a record_gap event; for metrics, event counts may miss some.
# TYPE pingerplot_subscriber_dropped_total counter
pingerplot_subscriber_dropped_total{subscriber="recorder"} 2
pingerplot_subscriber_dropped_total{subscriber="web"} 0
`
	names := []string{"pingerplot_alert_active", "pingerplot_destination_loss_ratio", "pingerplot_destination_mos",
		"pingerplot_destination_rtt_seconds", "pingerplot_hop_info", "pingerplot_hop_replies_total",
		"pingerplot_hop_responder_replies_total", "pingerplot_hop_rtt_avg_seconds", "pingerplot_target_info",
		"pingerplot_target_state", "pingerplot_monitor_rounds_late_total", "pingerplot_monitor_dropped_updates_total",
		"pingerplot_subscriber_dropped_total"}
	if err := testutil.CollectAndCompare(e, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if err := testutil.CollectAndCompare(e, strings.NewReader(""), "pingerplot_events_total"); err != nil {
		t.Errorf("events before any were counted: %v", err)
	}
	if problems, err := testutil.CollectAndLint(e); err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
}

// TestNoRepliesNoLatency: a destination with no replies in its window has
// no latency, jitter or MOS series (absent, not a zero a graph would draw
// as perfect), and ICMP targets carry no port.
func TestNoRepliesNoLatency(t *testing.T) {
	s := monitor.Snapshot{Target: monitor.Target{ID: "x", Host: "x", Addr: dest, Settings: monitor.Settings{Trace: trace.Config{Mode: result.ICMP}}},
		State: monitor.NoAnswer, Hops: []monitor.Hop{{Hop: hopstat.Hop{TTL: 1, Stats: hopstat.Stats{Sent: 3}}}},
		Dest: monitor.Destination{Sent: 3, LossPct: 100}}
	e := New(fixed{snaps: []monitor.Snapshot{s}})
	for _, name := range []string{"pingerplot_destination_rtt_seconds", "pingerplot_destination_jitter_seconds", "pingerplot_destination_mos", "pingerplot_hop_rtt_last_seconds", "pingerplot_hop_info"} {
		if n := testutil.CollectAndCount(e, name); n != 0 {
			t.Errorf("%s: %d series; want none", name, n)
		}
	}
	want := `
# HELP pingerplot_destination_loss_ratio Share of the destination's last alert-window probes lost (0-1).
# TYPE pingerplot_destination_loss_ratio gauge
pingerplot_destination_loss_ratio{target="x"} 1
# HELP pingerplot_target_info A target: what the user typed (host), the address probed, the probe mode and port.
# TYPE pingerplot_target_info gauge
pingerplot_target_info{addr="192.0.2.7",host="x",mode="icmp",port="",target="x"} 1
`
	if err := testutil.CollectAndCompare(e, strings.NewReader(want), "pingerplot_destination_loss_ratio", "pingerplot_target_info"); err != nil {
		t.Error(err)
	}
}

// TestLiveMonitor runs a real monitor over a scripted path that is
// rerouted: the scrape over HTTP shows every hop, the route-change event
// counted, the Go and process collectors, and a removed target's series
// and counters gone.
func TestLiveMonitor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2), ms(5))
		m := monitor.New(monitor.Config{Prober: net})
		e := New(m)
		updates, unsubscribe := m.Subscribe(0)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { e.Run(ctx, updates); close(done) }()
		runDone := make(chan error, 1)
		go func() { runDone <- m.Run(ctx) }()

		id, err := m.Add(monitor.Target{Host: "dest", Addr: net.Hops[2].Addr, Settings: monitor.Settings{Interval: time.Second}})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		hops := append([]probetest.Hop(nil), net.Hops...)
		hops[1].Addr = netip.MustParseAddr("10.9.9.9")
		net.SetHops(hops)
		time.Sleep(5 * time.Second)
		synctest.Wait()

		body := scrape(t, e)
		for _, want := range []string{
			`pingerplot_hop_sent_total{target="` + string(id) + `",ttl="3"}`,
			`pingerplot_hop_responder_replies_total{addr="10.9.9.9",target="` + string(id) + `",ttl="2"}`,
			`pingerplot_events_total{kind="route_change",target="` + string(id) + `"} 1`,
			`pingerplot_destination_rtt_seconds{target="` + string(id) + `"} 0.005`,
			`pingerplot_targets 1`,
			"go_goroutines ",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("scrape lacks %q", want)
			}
		}

		if err := m.Remove(id); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		body = scrape(t, e)
		if strings.Contains(body, `target="`+string(id)+`"`) {
			t.Errorf("a removed target still has series:\n%s", grep(body, string(id)))
		}
		cancel()
		<-runDone
		unsubscribe()
		<-done
		m.Close()
	})
}

func scrape(t *testing.T, e *Exporter) string {
	t.Helper()
	rec := httptest.NewRecorder()
	e.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestLiveClosedPort: a final-hop-only TCP check of a closed port, under
// a real monitor: one hop (path_hops 1, the destination at ttl 1), its
// refusals counted apart from replies lost, the closed state and alert,
// and no MOS series.
func TestLiveClosedPort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2), ms(5))
		net.Hops[2].Refuse = probetest.Always
		m := monitor.New(monitor.Config{Prober: net})
		e := New(m)
		ctx, cancel := context.WithCancel(context.Background())
		runDone := make(chan error, 1)
		go func() { runDone <- m.Run(ctx) }()
		_, err := m.Add(monitor.Target{Host: "svc", Addr: net.Hops[2].Addr, Settings: monitor.Settings{Interval: time.Second,
			Trace: trace.Config{Mode: result.TCP, Port: 8080, FinalHopOnly: true}, Alert: alert.Rules{Window: 3}}})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(5*time.Second + ms(500))
		synctest.Wait()
		body := scrape(t, e)
		for _, want := range []string{
			`pingerplot_target_path_hops{target="svc"} 1`,
			`pingerplot_destination_loss_ratio{target="svc"} 0`,
			`pingerplot_destination_refused_ratio{target="svc"} 1`,
			`pingerplot_target_state{state="closed",target="svc"} 1`,
			`pingerplot_target_state{state="running",target="svc"} 0`,
			`pingerplot_alert_active{condition="closed",target="svc"} 1`,
			`pingerplot_destination_rtt_seconds{target="svc"} 0.005`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("scrape lacks %q:\n%s", want, grep(body, "svc"))
			}
		}
		// Every probe answered, every answer a refusal (the first round
		// falls anywhere in the first second: counts are compared, not pinned).
		sent := value(body, `pingerplot_hop_sent_total{target="svc",ttl="1"}`)
		if refused, replies := value(body, `pingerplot_hop_refused_total{target="svc",ttl="1"}`),
			value(body, `pingerplot_hop_replies_total{target="svc",ttl="1"}`); atLeast(sent, 5) != nil || refused != sent || replies != sent {
			t.Errorf("hop 1: sent %q, replies %q, refused %q; want at least 5, all answered, all refused", sent, replies, refused)
		}
		for _, absent := range []string{`ttl="30"`, "pingerplot_destination_mos{", "pingerplot_destination_r_factor{"} {
			if strings.Contains(body, absent) {
				t.Errorf("scrape has %q; want none for a closed port:\n%s", absent, grep(body, absent))
			}
		}
		cancel()
		<-runDone
		m.Close()
	})
}

// value returns the value of the series written exactly as series, or "".
func value(body, series string) string {
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			return v
		}
	}
	return ""
}

// atLeast checks that a series' value is a number of at least n.
func atLeast(v string, n float64) error {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < n {
		return fmt.Errorf("%q is not at least %v", v, n)
	}
	return nil
}

// TestHistoryStoreSeries: the store's health is read at scrape time, and
// nothing of it is shown without a store.
func TestHistoryStoreSeries(t *testing.T) {
	src := fixed{stats: monitor.Stats{}}
	names := []string{"pingerplot_history_bytes", "pingerplot_history_rounds_written_total", "pingerplot_history_pending_rounds",
		"pingerplot_history_lost_rounds_total", "pingerplot_history_write_failing"}
	if n, err := testutil.GatherAndCount(registry(New(src)), names...); err != nil || n != 0 {
		t.Errorf("without a store: %d history series, %v; want none", n, err)
	}
	status := Store{Bytes: 4096, Rounds: 120, Pending: 7, Lost: 3, Failing: true}
	e := New(src).WithStore(func() Store { return status })
	want := `
# HELP pingerplot_history_bytes Size of the history store on disk (database and write-ahead log).
# TYPE pingerplot_history_bytes gauge
pingerplot_history_bytes 4096
# HELP pingerplot_history_lost_rounds_total Rounds the history store gave up: no longer in the monitor's memory when it could write again; each span is a record_gap event.
# TYPE pingerplot_history_lost_rounds_total counter
pingerplot_history_lost_rounds_total 3
# HELP pingerplot_history_pending_rounds Rounds waiting to be written to the history store (a slow or full disk).
# TYPE pingerplot_history_pending_rounds gauge
pingerplot_history_pending_rounds 7
# HELP pingerplot_history_rounds_written_total Rounds the history store has written since start.
# TYPE pingerplot_history_rounds_written_total counter
pingerplot_history_rounds_written_total 120
# HELP pingerplot_history_write_failing 1 while the history store's latest write failed (the record_error event says why).
# TYPE pingerplot_history_write_failing gauge
pingerplot_history_write_failing 1
`
	if err := testutil.CollectAndCompare(e, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
}

func registry(c prometheus.Collector) *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(c)
	return r
}

// TestDiagnosisSeries: one info series per target with a diagnosis, its
// labels read at scrape time; none for a target the lookup does not know,
// and none at all without a lookup.
func TestDiagnosisSeries(t *testing.T) {
	other := sampleSnapshot()
	other.ID, other.Host = "mail", "mail.example"
	src := fixed{snaps: []monitor.Snapshot{sampleSnapshot(), other}}
	if n, err := testutil.GatherAndCount(registry(New(src)), "pingerplot_diagnosis"); err != nil || n != 0 {
		t.Errorf("without a lookup: %d diagnosis series, %v; want none", n, err)
	}
	tests := []struct {
		name string
		d    Diagnosis
		want string
	}{
		{"loss at a hop", Diagnosis{What: "loss", TTL: 4, Addr: "192.0.2.7", Confidence: "high"},
			`pingerplot_diagnosis{addr="192.0.2.7",confidence="high",target="web",ttl="4",what="loss"} 1`},
		{"healthy, nowhere", Diagnosis{What: "healthy", Confidence: "high"},
			`pingerplot_diagnosis{addr="",confidence="high",target="web",ttl="0",what="healthy"} 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(src).WithDiagnosis(func(id monitor.ID) (Diagnosis, bool) {
				return tt.d, id == "web"
			})
			want := "# HELP pingerplot_diagnosis " + dDiagnosisHelp + "\n# TYPE pingerplot_diagnosis gauge\n" + tt.want + "\n"
			if err := testutil.CollectAndCompare(e, strings.NewReader(want), "pingerplot_diagnosis"); err != nil {
				t.Errorf("got a different exposition: %v; want %s", err, tt.want)
			}
		})
	}
}

// TestPathMTUSeries: one gauge per target with a path MTU, its labels the
// hop where larger packets stop; none for a target the lookup does not
// know, and none at all without a lookup.
func TestPathMTUSeries(t *testing.T) {
	other := sampleSnapshot()
	other.ID, other.Host = "mail", "mail.example"
	src := fixed{snaps: []monitor.Snapshot{sampleSnapshot(), other}}
	if n, err := testutil.GatherAndCount(registry(New(src)), "pingerplot_path_mtu_bytes"); err != nil || n != 0 {
		t.Errorf("without a lookup: %d path MTU series, %v; want none", n, err)
	}
	tests := []struct {
		name string
		p    PathMTU
		want string
	}{
		{"drops at a hop", PathMTU{Bytes: 1400, TTL: 2, Addr: "10.0.1.2"},
			`pingerplot_path_mtu_bytes{addr="10.0.1.2",target="web",ttl="2"} 1400`},
		{"nothing smaller", PathMTU{Bytes: 1500},
			`pingerplot_path_mtu_bytes{addr="",target="web",ttl="0"} 1500`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(src).WithPathMTU(func(id monitor.ID) (PathMTU, bool) {
				return tt.p, id == "web"
			})
			want := "# HELP pingerplot_path_mtu_bytes " + dPathMTU.help + "\n# TYPE pingerplot_path_mtu_bytes gauge\n" + tt.want + "\n"
			if err := testutil.CollectAndCompare(e, strings.NewReader(want), "pingerplot_path_mtu_bytes"); err != nil {
				t.Errorf("got a different exposition: %v; want %s", err, tt.want)
			}
		})
	}
}

// TestFlowSeries: per distinct ECMP path of a target, an info series with
// its hops (silent ones as *), its share, destination loss, lossy mark and
// destination RTT (absent without replies), ranked as the lookup gives
// them; nothing for a target without paths, and nothing at all without a
// lookup.
func TestFlowSeries(t *testing.T) {
	other := sampleSnapshot()
	other.ID, other.Host = "mail", "mail.example"
	src := fixed{snaps: []monitor.Snapshot{sampleSnapshot(), other}}
	names := []string{"pingerplot_flow_path_info", "pingerplot_flow_path_share_ratio", "pingerplot_flow_path_loss_ratio",
		"pingerplot_flow_path_lossy", "pingerplot_flow_path_rtt_seconds"}
	if n, err := testutil.GatherAndCount(registry(New(src)), names...); err != nil || n != 0 {
		t.Errorf("without a lookup: %d flow series, %v; want none", n, err)
	}
	tests := []struct {
		name  string
		paths []FlowPath
		want  []string
	}{
		{"two paths, the second lossy", []FlowPath{
			{Hops: []string{"10.0.0.2", "10.1.0.2", "192.0.2.9"}, Share: 0.5625, Loss: 0.0625, RTT: ms(2.5)},
			{Hops: []string{"10.0.0.2", "10.1.1.2", "192.0.2.9"}, Share: 0.4375, Loss: 0.3125, Lossy: true, RTT: ms(3.25)},
		}, []string{
			`pingerplot_flow_path_info{hops="10.0.0.2,10.1.0.2,192.0.2.9",path="0",target="web"} 1`,
			`pingerplot_flow_path_info{hops="10.0.0.2,10.1.1.2,192.0.2.9",path="1",target="web"} 1`,
			`pingerplot_flow_path_loss_ratio{path="0",target="web"} 0.0625`,
			`pingerplot_flow_path_loss_ratio{path="1",target="web"} 0.3125`,
			`pingerplot_flow_path_lossy{path="0",target="web"} 0`,
			`pingerplot_flow_path_lossy{path="1",target="web"} 1`,
			`pingerplot_flow_path_rtt_seconds{path="0",target="web"} 0.0025`,
			`pingerplot_flow_path_rtt_seconds{path="1",target="web"} 0.00325`,
			`pingerplot_flow_path_share_ratio{path="0",target="web"} 0.5625`,
			`pingerplot_flow_path_share_ratio{path="1",target="web"} 0.4375`,
		}},
		{"a silent hop, never reached: no RTT", []FlowPath{
			{Hops: []string{"10.0.0.2", ""}, Share: 1, Loss: 1},
		}, []string{
			`pingerplot_flow_path_info{hops="10.0.0.2,*",path="0",target="web"} 1`,
			`pingerplot_flow_path_loss_ratio{path="0",target="web"} 1`,
			`pingerplot_flow_path_lossy{path="0",target="web"} 0`,
			`pingerplot_flow_path_share_ratio{path="0",target="web"} 1`,
		}},
		{"no paths yet", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(src).WithFlows(func(id monitor.ID) []FlowPath {
				if id != "web" {
					return nil
				}
				return tt.paths
			})
			body := scrape(t, e)
			var got []string
			for _, l := range strings.Split(body, "\n") {
				if strings.HasPrefix(l, "pingerplot_flow_path_") {
					got = append(got, l)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
