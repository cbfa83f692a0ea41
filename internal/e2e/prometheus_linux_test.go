//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pingerplot/pingerplot/internal/lab"
	"github.com/pingerplot/pingerplot/internal/metrics"
)

// The files shipped for users who collect many vantage points with
// Prometheus and Grafana (docs/metrics.md).
const (
	dashboardFile     = "../../docs/grafana/pingerplot-dashboard.json"
	alertRulesFile    = "../../docs/prometheus/pingerplot-alerts.yml"
	alertTestsFile    = "../../docs/prometheus/pingerplot-alerts.test.yml"
	prometheusExample = "../../docs/prometheus/prometheus-example.yml"
)

// grafanaDashboard is the part of Grafana's dashboard model the checks read.
type grafanaDashboard struct {
	Title         string `json:"title"`
	UID           string `json:"uid"`
	SchemaVersion int    `json:"schemaVersion"`
	Time          struct {
		From string `json:"from"`
		To   string `json:"to"`
	} `json:"time"`
	Annotations struct {
		List []grafanaAnnotation `json:"list"`
	} `json:"annotations"`
	Templating struct {
		List []grafanaVariable `json:"list"`
	} `json:"templating"`
	Panels []grafanaPanel `json:"panels"`
}

type grafanaDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type grafanaAnnotation struct {
	Name       string             `json:"name"`
	BuiltIn    int                `json:"builtIn"`
	Enable     bool               `json:"enable"`
	Datasource *grafanaDatasource `json:"datasource"`
	Expr       string             `json:"expr"`
	Target     *struct {
		Expr  string `json:"expr"`
		RefID string `json:"refId"`
	} `json:"target"`
}

type grafanaVariable struct {
	Name       string             `json:"name"`
	Type       string             `json:"type"`
	Query      json.RawMessage    `json:"query"` // a string, or an object with a query field
	Definition string             `json:"definition"`
	Multi      bool               `json:"multi"`
	IncludeAll bool               `json:"includeAll"`
	Datasource *grafanaDatasource `json:"datasource"`
}

type grafanaPanel struct {
	ID         int                `json:"id"`
	Type       string             `json:"type"`
	Title      string             `json:"title"`
	Repeat     string             `json:"repeat"`
	Datasource *grafanaDatasource `json:"datasource"`
	GridPos    struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Targets []grafanaTarget `json:"targets"`
	Panels  []grafanaPanel  `json:"panels"` // a collapsed row's
}

type grafanaTarget struct {
	RefID        string             `json:"refId"`
	Expr         string             `json:"expr"`
	LegendFormat string             `json:"legendFormat"`
	Format       string             `json:"format"`
	Datasource   *grafanaDatasource `json:"datasource"`
}

// dashboardQuery is one PromQL expression of the dashboard, with where it
// comes from, and the row that repeats it (empty outside a repeated row).
type dashboardQuery struct {
	where, expr, legend, format, repeat, panelType string
}

func readDashboard(t *testing.T) grafanaDashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s is not a dashboard's JSON: %v", dashboardFile, err)
	}
	if dec.More() {
		t.Fatalf("%s has data after the dashboard's object", dashboardFile)
	}
	return d
}

// panelsInOrder flattens the dashboard's panels (a collapsed row holds its
// own) and tells each one which repeated row it sits under: a row's panels
// follow it in the list until the next row.
func panelsInOrder(d grafanaDashboard) (panels []grafanaPanel, repeatOf map[int]string) {
	repeatOf = map[int]string{}
	row := ""
	for _, p := range d.Panels {
		if p.Type == "row" {
			row = p.Repeat
		}
		panels = append(panels, p)
		repeatOf[p.ID] = row
		for _, c := range p.Panels {
			panels = append(panels, c)
			repeatOf[c.ID] = p.Repeat
		}
	}
	return panels, repeatOf
}

// dashboardQueries lists every PromQL expression of the dashboard: the
// panels' and the annotations'. The variables' label_values queries are
// Grafana's, not PromQL, and are checked apart.
func dashboardQueries(d grafanaDashboard) []dashboardQuery {
	var qs []dashboardQuery
	panels, repeatOf := panelsInOrder(d)
	for _, p := range panels {
		for _, tg := range p.Targets {
			qs = append(qs, dashboardQuery{where: fmt.Sprintf("panel %q query %s", p.Title, tg.RefID), expr: tg.Expr,
				legend: tg.LegendFormat, format: tg.Format, repeat: repeatOf[p.ID], panelType: p.Type})
		}
	}
	for _, a := range d.Annotations.List {
		if a.BuiltIn != 0 {
			continue
		}
		qs = append(qs, dashboardQuery{where: fmt.Sprintf("annotation %q", a.Name), expr: a.Expr, panelType: "annotation"})
		if a.Target != nil {
			qs = append(qs, dashboardQuery{where: fmt.Sprintf("annotation %q target", a.Name), expr: a.Target.Expr, panelType: "annotation"})
		}
	}
	return qs
}

// exportedSeries returns every series the exporter describes, with its
// labels. It reads them from Describe, so renaming a series in the
// exporter fails the dashboard's check until the dashboard follows.
func exportedSeries(t *testing.T) map[string][]string {
	t.Helper()
	ch := make(chan *prometheus.Desc)
	go func() {
		metrics.New(nil).Describe(ch)
		close(ch)
	}()
	// The client library gives a Desc no accessors; its String is the one
	// way to the name and labels. A change of that format fails here
	// rather than letting every name pass.
	re := regexp.MustCompile(`fqName: "([^"]+)".*variableLabels: \{([^}]*)\}`)
	series := map[string][]string{}
	for d := range ch {
		m := re.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("cannot read a series name and labels from %s: has client_golang's Desc.String changed?", d)
		}
		var labels []string
		if m[2] != "" {
			labels = strings.Split(m[2], ",")
		}
		series[m[1]] = labels
	}
	if len(series) < 30 {
		t.Fatalf("the exporter describes %d series; want the 30 or more docs/metrics.md lists", len(series))
	}
	return series
}

var (
	seriesRE   = regexp.MustCompile(`\b(pingerplot_[a-zA-Z0-9_]+)(\{[^}]*\})?`)
	matcherRE  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"`)
	variableRE = regexp.MustCompile(`\$(?:\{(\w+)\}|(\w+))`)
)

// grafanaGlobals are the variables Grafana defines itself.
var grafanaGlobals = []string{"__rate_interval", "__interval", "__interval_ms", "__range", "__range_s", "__range_ms"}

// TestGrafanaDashboard checks the shipped dashboard without Grafana: the
// fields Grafana needs to import it, a Prometheus datasource variable,
// the instance and target variables from pingerplot_target_info, every
// query on series the exporter describes (with their labels) and filtered
// by the vantage point, and the panels per target and per hop and the
// route-change annotation that docs/metrics.md promises.
func TestGrafanaDashboard(t *testing.T) {
	d := readDashboard(t)
	series := exportedSeries(t)

	if d.Title == "" || d.UID == "" || len(d.UID) > 40 {
		t.Errorf("title %q, uid %q; want both set, the uid at most 40 characters (Grafana's limit)", d.Title, d.UID)
	}
	// 38 is Grafana 10.0's schema; 39 to 41 are 10.4 to 12. An older
	// schema is migrated on import, but panels and variables would then
	// be read by rules this file was not written for.
	if d.SchemaVersion < 38 || d.SchemaVersion > 41 {
		t.Errorf("schemaVersion %d; want 38 to 41 (Grafana 10 and 11)", d.SchemaVersion)
	}
	if d.Time.From == "" || d.Time.To == "" {
		t.Errorf("time range %q to %q; want both set", d.Time.From, d.Time.To)
	}

	vars := map[string]grafanaVariable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	if v, ok := vars["datasource"]; !ok || v.Type != "datasource" || string(v.Query) != `"prometheus"` {
		t.Errorf("datasource variable %+v; want type datasource, query prometheus", v)
	}
	for _, tc := range []struct {
		name, label string
		multi       bool
	}{
		{"instance", "instance", true},
		{"target", "target", true},
	} {
		v, ok := vars[tc.name]
		if !ok {
			t.Errorf("no %s variable", tc.name)
			continue
		}
		metric, label, ok := labelValues(v.Definition)
		if !ok || !strings.HasPrefix(metric, "pingerplot_target_info") || label != tc.label {
			t.Errorf("variable %s is %q; want label_values(pingerplot_target_info…, %s)", tc.name, v.Definition, tc.label)
		}
		var q struct {
			Query string `json:"query"`
		}
		if err := json.Unmarshal(v.Query, &q); err != nil || q.Query != v.Definition {
			t.Errorf("variable %s: query %s; want the definition %q", tc.name, v.Query, v.Definition)
		}
		if v.Type != "query" || v.Multi != tc.multi || !v.IncludeAll || v.Datasource == nil || v.Datasource.UID != "${datasource}" {
			t.Errorf("variable %s: type %q, multi %v, includeAll %v, datasource %+v; want query, %v, true, ${datasource}",
				tc.name, v.Type, v.Multi, v.IncludeAll, v.Datasource, tc.multi)
		}
	}

	panels, _ := panelsInOrder(d)
	ids := map[int]bool{}
	for _, p := range panels {
		if p.ID <= 0 || ids[p.ID] {
			t.Errorf("panel %q: id %d; want a positive id no other panel has", p.Title, p.ID)
		}
		ids[p.ID] = true
		g := p.GridPos
		if g.W < 1 || g.H < 1 || g.X < 0 || g.X+g.W > 24 || g.Y < 0 {
			t.Errorf("panel %q: gridPos %+v; want inside Grafana's 24 columns", p.Title, g)
		}
		if p.Repeat != "" {
			if v, ok := vars[p.Repeat]; !ok || !v.Multi {
				t.Errorf("panel %q repeats on %q, which is not a multi-value variable", p.Title, p.Repeat)
			}
		}
		if p.Type == "row" {
			continue
		}
		if !slices.Contains([]string{"timeseries", "stat", "table", "state-timeline"}, p.Type) {
			t.Errorf("panel %q: type %q; want a core panel of Grafana 10", p.Title, p.Type)
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %+v, %d queries; want ${datasource} and at least one query", p.Title, p.Datasource, len(p.Targets))
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.RefID == "" || refs[tg.RefID] || tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q: query refId %q, datasource %+v; want a refId of its own and ${datasource}", p.Title, tg.RefID, tg.Datasource)
			}
			refs[tg.RefID] = true
		}
	}
	for _, a := range d.Annotations.List {
		if a.BuiltIn == 0 && (a.Datasource == nil || a.Datasource.UID != "${datasource}" || !a.Enable) {
			t.Errorf("annotation %q: datasource %+v, enabled %v; want ${datasource}, enabled", a.Name, a.Datasource, a.Enable)
		}
		if a.Target != nil && a.Target.Expr != a.Expr {
			t.Errorf("annotation %q: target expression %q differs from %q; Grafana reads one, older versions the other", a.Name, a.Target.Expr, a.Expr)
		}
	}

	defined := append(slices.Collect(func(yield func(string) bool) {
		for name := range vars {
			if !yield(name) {
				return
			}
		}
	}), grafanaGlobals...)
	queries := dashboardQueries(d)
	for _, q := range queries {
		if strings.TrimSpace(q.expr) == "" {
			t.Errorf("%s: empty expression", q.where)
			continue
		}
		found := seriesRE.FindAllStringSubmatch(q.expr, -1)
		if len(found) == 0 {
			t.Errorf("%s: %q reads no pingerplot series", q.where, q.expr)
		}
		for _, m := range found {
			labels, ok := series[m[1]]
			if !ok {
				t.Errorf("%s: %s is not a series the exporter describes", q.where, m[1])
				continue
			}
			seen := map[string]string{}
			for _, mm := range matcherRE.FindAllStringSubmatch(m[2], -1) {
				seen[mm[1]] = mm[2] + `"` + mm[3] + `"`
				if !slices.Contains(labels, mm[1]) && mm[1] != "instance" && mm[1] != "job" {
					t.Errorf("%s: %s has no label %q (it has %v, and Prometheus adds instance and job)", q.where, m[1], mm[1], labels)
				}
			}
			// Without this filter the vantage-point variable would not
			// narrow the panel, and many vantage points would mix.
			if seen["instance"] != `=~"$instance"` {
				t.Errorf(`%s: %s%s lacks instance=~"$instance"`, q.where, m[1], m[2])
			}
			if slices.Contains(labels, "target") && seen["target"] != `=~"$target"` && seen["target"] != `="$target"` {
				t.Errorf(`%s: %s%s is not filtered by the target variable`, q.where, m[1], m[2])
			}
		}
		for _, m := range variableRE.FindAllStringSubmatch(q.expr, -1) {
			name := m[1] + m[2]
			if !slices.Contains(defined, name) {
				t.Errorf("%s: variable $%s is not defined", q.where, name)
			}
		}
		if (q.panelType == "timeseries" || q.panelType == "state-timeline") && !strings.Contains(q.legend, "{{instance}}") {
			t.Errorf("%s: legend %q does not name the vantage point ({{instance}})", q.where, q.legend)
		}
	}

	// What each target's row and the hops must show.
	for _, want := range []struct {
		what, series, legend, repeat, panelType string
	}{
		{"destination loss per target", "pingerplot_destination_loss_ratio", "", "target", "timeseries"},
		{"destination RTT per target", "pingerplot_destination_rtt_seconds", "", "target", "timeseries"},
		{"destination jitter per target", "pingerplot_destination_jitter_seconds", "", "target", "timeseries"},
		{"MOS per target", "pingerplot_destination_mos", "", "target", "timeseries"},
		{"state per target", "pingerplot_target_state", "{{state}}", "target", "state-timeline"},
		{"each hop's median RTT by TTL", "pingerplot_hop_rtt_p50_seconds", "{{ttl}}", "target", "timeseries"},
		{"each hop's loss by TTL", "pingerplot_hop_replies_total", "{{ttl}}", "target", "timeseries"},
		{"the hops' addresses", "pingerplot_hop_info", "", "target", "table"},
		{"route changes as annotations", `pingerplot_events_total{kind="route_change"`, "", "", "annotation"},
	} {
		ok := false
		for _, q := range queries {
			ok = ok || (strings.Contains(q.expr, want.series) && strings.Contains(q.legend, want.legend) &&
				q.repeat == want.repeat && q.panelType == want.panelType)
		}
		if !ok {
			t.Errorf("no %s panel reads %s with %q in its legend in a row repeated by %q; want one (%s)",
				want.panelType, want.series, want.legend, want.repeat, want.what)
		}
	}
}

// labelValues splits Grafana's label_values(selector, label).
func labelValues(def string) (selector, label string, ok bool) {
	inner, ok := strings.CutPrefix(strings.TrimSpace(def), "label_values(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return "", "", false
	}
	inner = strings.TrimSuffix(inner, ")")
	i := strings.LastIndexByte(inner, ',')
	if i < 0 {
		return "", "", false
	}
	return strings.TrimSpace(inner[:i]), strings.TrimSpace(inner[i+1:]), true
}

// expandVariables gives the dashboard's variables the values Grafana
// would for one vantage point, one target and a 1 s scrape interval.
func expandVariables(expr, instance, target string) string {
	return strings.NewReplacer(
		"$__rate_interval", "10s", "$__interval", "2s", "$__range", "1m",
		"${instance}", instance, "$instance", instance, "${target}", target, "$target", target,
	).Replace(expr)
}

// prometheusTools returns the paths of Debian's prometheus and promtool,
// or ends the test saying what to install: a skip, or a failure when the
// lab is required (CI), so these checks never pass by not running.
func prometheusTools(t *testing.T) (server, promtool string) {
	t.Helper()
	var paths []string
	for _, name := range []string{"prometheus", "promtool"} {
		p, err := exec.LookPath(name)
		if err != nil {
			msg := fmt.Sprintf("%s not found in PATH: apt-get install prometheus (scripts/install-deps.sh)", name)
			if os.Getenv(lab.RequiredEnv) == "1" {
				t.Fatalf("%s (%s=1: the Prometheus tests may not skip)", msg, lab.RequiredEnv)
			}
			t.Skip(msg)
		}
		paths = append(paths, p)
	}
	return paths[0], paths[1]
}

// TestPrometheusFiles runs promtool over the shipped files: the alerting
// rules parse, their unit tests pass (each alert waits its "for" and names
// the vantage point that sees the problem), the example configuration is
// valid with the rules it loads, and every query of the dashboard, its
// variables given values, is valid PromQL.
func TestPrometheusFiles(t *testing.T) {
	_, promtool := prometheusTools(t)
	dir := t.TempDir()
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, q := range dashboardQueries(readDashboard(t)) {
		expr, err := json.Marshal(expandVariables(q.expr, "127.0.0.1:9469", "web"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&rules, "      - record: dashboard:query_%d\n        expr: %s\n", i, expr)
	}
	dashRules := filepath.Join(dir, "dashboard-queries.yml")
	if err := os.WriteFile(dashRules, []byte(rules.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"alert rules", []string{"check", "rules", alertRulesFile}},
		{"alert rule tests", []string{"test", "rules", alertTestsFile}},
		{"example config", []string{"check", "config", prometheusExample}},
		{"dashboard queries", []string{"check", "rules", dashRules}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := exec.Command(promtool, tc.args...).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "SUCCESS") {
				t.Errorf("promtool %s: %v; want success\n%s", strings.Join(tc.args, " "), err, out)
			}
		})
	}
}

// promClient talks to a Prometheus server in a lab namespace.
type promClient struct {
	http *http.Client
	base string
}

// promSample is one element of an instant query's result.
type promSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s promSample) value(t *testing.T) float64 {
	t.Helper()
	str, _ := s.Value[1].(string)
	v, err := strconv.ParseFloat(str, 64)
	if err != nil {
		t.Fatalf("sample %v: value %q is not a number", s.Metric, s.Value[1])
	}
	return v
}

// get fetches path from the server and decodes the API's envelope; a
// status other than success is returned as an error.
func (c promClient) get(path string, data any) error {
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, b)
	}
	if env.Status != "success" {
		return fmt.Errorf("GET %s: %s: %s", path, env.Status, env.Error)
	}
	return json.Unmarshal(env.Data, data)
}

// query runs an instant PromQL query and returns its vector.
func (c promClient) query(q string) ([]promSample, error) {
	var data struct {
		ResultType string       `json:"resultType"`
		Result     []promSample `json:"result"`
	}
	if err := c.get("/api/v1/query?"+url.Values{"query": {q}}.Encode(), &data); err != nil {
		return nil, fmt.Errorf("query %s: %w", q, err)
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: result type %q; want vector", q, data.ResultType)
	}
	return data.Result, nil
}

func (c promClient) mustQuery(t *testing.T, q string) []promSample {
	t.Helper()
	r, err := c.query(q)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// byTTL maps an instant vector with a ttl label to its values.
func byTTL(t *testing.T, samples []promSample) map[int]float64 {
	t.Helper()
	m := map[int]float64{}
	for _, s := range samples {
		ttl, err := strconv.Atoi(s.Metric["ttl"])
		if err != nil {
			t.Fatalf("sample %v has no numeric ttl", s.Metric)
		}
		m[ttl] = s.value(t)
	}
	return m
}

// promRule is one rule of /api/v1/rules.
type promRule struct {
	Name      string `json:"name"`
	Type      string `json:"type"`
	Health    string `json:"health"`
	LastError string `json:"lastError"`
	State     string `json:"state"`
	Alerts    []struct {
		Labels map[string]string `json:"labels"`
		State  string            `json:"state"`
	} `json:"alerts"`
}

// TestPrometheusScrapesHeadless is the many-vantage-points setup in the
// lab: `pingerplot headless` probes the lab's path (2 ms each way on every
// link, 30 % loss on the last link towards the target) with
// metrics_listen on the client namespace's loopback, and a real Prometheus
// server (Debian's), started in the same namespace with its own storage
// and a 1 s scrape interval, scrapes it and loads the shipped alerting
// rules. PromQL through Prometheus' HTTP API must then give the
// destination's loss within binomial tolerance of the injected 30 % (the
// hops before it lossless), every hop's median RTT within the lab's
// accuracy of the delay injected up to it, each hop's address through the
// join docs/metrics.md shows, the loss alert pending or firing and the
// latency alert not, and every query of the shipped dashboard an answer;
// after a reroute the dashboard's route-change annotation must mark it.
func TestPrometheusScrapesHeadless(t *testing.T) {
	const (
		oneWay = 2 * time.Millisecond
		loss   = 0.3
		window = 300 // probes in the alert window: 30 s at 10 rounds a second
	)
	l := lab.New(t, lab.Options{Routers: 3, AltRouters: 1, CableLinks: []int{0, 1, 2, 3}, RealTime: true})
	server, _ := prometheusTools(t)
	for k := 0; k < 4; k++ {
		fwd := lab.LinkParams{Delay: oneWay}
		if k == 3 {
			fwd.Loss = loss
		}
		if err := l.SetLink(k, fwd, lab.LinkParams{Delay: oneWay}); err != nil {
			t.Fatal(err)
		}
	}
	dir := workDir(t)
	h := startHeadless(t, l, dir, map[string]any{
		"status_interval": 0,
		"metrics_listen":  "127.0.0.1:0",
		"defaults":        map[string]any{"interval": 0.1, "timeout": 0.5, "alert_window": window},
		"targets":         []any{map[string]any{"target": l.TargetAddr4.String(), "name": "t"}},
	})
	addrRE := regexp.MustCompile(`Prometheus metrics: http://(127\.0\.0\.1:\d+)/metrics`)
	var exporter netip.AddrPort
	waitFor(t, 10*time.Second, "the metrics address", func() bool {
		m := addrRE.FindStringSubmatch(h.out.String())
		if m != nil {
			exporter = netip.MustParseAddrPort(m[1])
		}
		return m != nil
	})
	instance := exporter.String()

	// The namespace is the test's own: its loopback has no listener but
	// headless, so a fixed port is free unless headless took it.
	promAddr := netip.MustParseAddrPort("127.0.0.1:9090")
	if promAddr == exporter {
		promAddr = netip.MustParseAddrPort("127.0.0.1:9091")
	}
	rules, err := os.ReadFile(alertRulesFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pingerplot-alerts.yml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - pingerplot-alerts.yml
scrape_configs:
  - job_name: pingerplot
    static_configs:
      - targets: [%q]
`, instance)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	promOut := &syncBuffer{}
	prom := l.CommandUnprivileged(context.Background(), l.Client, server,
		"--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "tsdb"),
		"--web.listen-address="+promAddr.String(), "--storage.tsdb.retention.time=1h")
	prom.Stdout, prom.Stderr = promOut, promOut
	if err := prom.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	// `ip netns exec` and setpriv exec the server in place, so this PID is
	// the server's own.
	t.Cleanup(func() {
		_ = prom.Process.Kill()
		_ = prom.Wait()
		if t.Failed() {
			t.Logf("prometheus output:\n%s", promOut.String())
		}
	})
	c := promClient{base: "http://" + promAddr.String(), http: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return l.DialTCP(ctx, l.Client, promAddr) },
	}}}
	waitFor(t, 30*time.Second, "prometheus ready", func() bool {
		resp, err := c.http.Get(c.base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	t.Logf("prometheus on %s scrapes headless at %s", promAddr, instance)

	// A full alert window, and scrapes enough for rates over 10 s.
	waitFor(t, 90*time.Second, "a full alert window in Prometheus", func() bool {
		r, err := c.query(`pingerplot_destination_window_probes{job="pingerplot",target="t"}`)
		return err == nil && len(r) == 1 && r[0].value(t) >= window
	})

	// The destination's loss, two ways: the monitor's alert window, and
	// the counters at the destination's TTL (picked by the join on
	// pingerplot_hop_info) since the start.
	tol := func(n float64) float64 { return 4.5 * math.Sqrt(loss*(1-loss)/n) }
	ratio := c.mustQuery(t, `pingerplot_destination_loss_ratio{target="t"}`)
	probes := c.mustQuery(t, `pingerplot_destination_window_probes{target="t"}`)
	if len(ratio) != 1 || len(probes) != 1 {
		t.Fatalf("got %d loss ratios and %d window sizes; want one of each", len(ratio), len(probes))
	}
	if got, n := ratio[0].value(t), probes[0].value(t); math.Abs(got-loss) > tol(n) {
		t.Errorf("pingerplot_destination_loss_ratio = %.3f over %v probes; want %.2f ± %.3f (4.5 σ)", got, n, loss, tol(n))
	} else {
		t.Logf("destination loss over the alert window: %.3f over %v probes (injected %.2f ± %.3f)", got, n, loss, tol(n))
	}
	const atDest = `sum by (instance, target) (%s{target="t"} * on(instance, job, target, ttl) group_left() pingerplot_hop_info{destination="true"})`
	sent := c.mustQuery(t, fmt.Sprintf(atDest, "pingerplot_hop_sent_total"))
	lossQ := c.mustQuery(t, fmt.Sprintf("1 - "+atDest+" / "+atDest, "pingerplot_hop_replies_total", "pingerplot_hop_sent_total"))
	if len(sent) != 1 || len(lossQ) != 1 {
		t.Fatalf("destination counters: got %d and %d series; want one each", len(sent), len(lossQ))
	}
	// Probes still in flight at the scrape count as lost: at most one
	// round's worth, far inside the tolerance.
	if got, n := lossQ[0].value(t), sent[0].value(t); math.Abs(got-loss) > tol(n) {
		t.Errorf("loss from the destination's counters = %.3f over %v probes; want %.2f ± %.3f (4.5 σ)", got, n, loss, tol(n))
	} else {
		t.Logf("destination loss from the counters: %.3f over %v probes (injected %.2f ± %.3f)", got, n, loss, tol(n))
	}
	hopLoss := byTTL(t, c.mustQuery(t, `1 - pingerplot_hop_replies_total{target="t"} / pingerplot_hop_sent_total{target="t"}`))
	for ttl := 1; ttl <= 3; ttl++ {
		if got := hopLoss[ttl]; got > 0.01 {
			t.Errorf("loss at TTL %d = %.3f; want 0 (the loss is on the link after the last router)", ttl, got)
		}
	}

	// Every hop's median RTT. The cable adds +3 to +22 µs per pass (two
	// passes a link, out and back) and the veths 30-60 µs a round trip;
	// the medians ride out this machine's stalls.
	p50 := byTTL(t, c.mustQuery(t, `pingerplot_hop_rtt_p50_seconds{target="t"}`))
	const slack = time.Millisecond
	for ttl := 1; ttl <= 4; ttl++ {
		want := time.Duration(2*ttl) * oneWay
		got, ok := p50[ttl]
		if !ok {
			t.Errorf("no pingerplot_hop_rtt_p50_seconds for TTL %d", ttl)
			continue
		}
		gotD := time.Duration(got * float64(time.Second))
		t.Logf("TTL %d: median RTT %.3f ms (injected %v)", ttl, msf(gotD), want)
		if gotD < want-50*time.Microsecond || gotD > want+slack {
			t.Errorf("TTL %d: median RTT %.3f ms; want %.3f to %.3f ms", ttl, msf(gotD), msf(want), msf(want+slack))
		}
	}
	joined := c.mustQuery(t, `pingerplot_hop_rtt_p50_seconds{target="t"} * on(instance, job, target, ttl) group_left(addr) pingerplot_hop_info`)
	want := append(append([]netip.Addr(nil), l.Hops4...), l.TargetAddr4)
	got := map[int]string{}
	for _, s := range joined {
		ttl, _ := strconv.Atoi(s.Metric["ttl"])
		got[ttl] = s.Metric["addr"]
	}
	for i, a := range want {
		if got[i+1] != a.String() {
			t.Errorf("TTL %d: address from the join %q; want %s", i+1, got[i+1], a)
		}
	}

	// The rules loaded and evaluate: the loss alert is pending (it waits
	// its "for") or firing for this vantage point; latency, no-answer and
	// a silent exporter are not.
	var loaded []promRule
	waitFor(t, 20*time.Second, "the loss alert pending", func() bool {
		var data struct {
			Groups []struct {
				Name  string     `json:"name"`
				File  string     `json:"file"`
				Rules []promRule `json:"rules"`
			} `json:"groups"`
		}
		if err := c.get("/api/v1/rules", &data); err != nil {
			t.Fatal(err)
		}
		loaded = nil
		for _, g := range data.Groups {
			loaded = append(loaded, g.Rules...)
		}
		for _, r := range loaded {
			if r.Name == "PingerPlotDestinationLoss" && r.State != "inactive" {
				return true
			}
		}
		return false
	})
	states := map[string]promRule{}
	for _, r := range loaded {
		states[r.Name] = r
		if r.Type != "alerting" || r.Health != "ok" || r.LastError != "" {
			t.Errorf("rule %s: type %q, health %q, error %q; want an alerting rule evaluating without error", r.Name, r.Type, r.Health, r.LastError)
		}
	}
	for _, m := range regexp.MustCompile(`(?m)^\s*- alert: (\w+)`).FindAllStringSubmatch(string(rules), -1) {
		if _, ok := states[m[1]]; !ok {
			t.Errorf("Prometheus did not load %s from %s", m[1], alertRulesFile)
		}
	}
	for _, tc := range []struct {
		alert  string
		active bool
	}{
		{"PingerPlotDestinationLoss", true},
		{"PingerPlotDestinationLatency", false},
		{"PingerPlotDestinationNoAnswer", false},
		{"PingerPlotDown", false},
	} {
		r, ok := states[tc.alert]
		if !ok {
			t.Errorf("Prometheus did not load %s from %s", tc.alert, alertRulesFile)
			continue
		}
		if active := r.State != "inactive"; active != tc.active {
			t.Errorf("%s is %s; want active %v", tc.alert, r.State, tc.active)
			continue
		}
		for _, a := range r.Alerts {
			if a.Labels["instance"] != instance || a.Labels["target"] != "t" || a.Labels["severity"] == "" {
				t.Errorf("%s alert labels %v; want instance %s, target t and a severity", tc.alert, a.Labels, instance)
			}
		}
	}

	// Whether this shared machine starts rounds late is not the test's
	// to judge (four real-time cables spin on its two cores); that the
	// rule evaluates is checked above.
	late := c.mustQuery(t, `increase(pingerplot_monitor_rounds_late_total[30s]) / increase(pingerplot_monitor_rounds_total[30s])`)
	if len(late) == 1 {
		t.Logf("rounds started late over 30 s: %.1f %% (PingerPlotRoundsLate %s)", 100*late[0].value(t), states["PingerPlotRoundsLate"].State)
	}

	// Every query of the dashboard answers, its variables set as Grafana
	// would for this vantage point and target. The route-change
	// annotation must stay empty: nothing has rerouted yet.
	d := readDashboard(t)
	for _, v := range d.Templating.List {
		sel, label, ok := labelValues(v.Definition)
		if !ok {
			continue
		}
		r := c.mustQuery(t, expandVariables(sel, instance, "t"))
		var values []string
		for _, s := range r {
			values = append(values, s.Metric[label])
		}
		wantValue := map[string]string{"instance": instance, "target": "t"}[label]
		if !slices.Contains(values, wantValue) {
			t.Errorf("variable %s: %s gives %v; want %q among them", v.Name, v.Definition, values, wantValue)
		}
	}
	var annotation string
	for _, q := range dashboardQueries(d) {
		expr := expandVariables(q.expr, instance, "t")
		r, err := c.query(expr)
		switch {
		case err != nil:
			t.Errorf("%s: %v", q.where, err)
		case q.panelType == "annotation":
			annotation = expr
			if len(r) != 0 {
				t.Errorf("%s: %d route changes marked before any reroute; want none", q.where, len(r))
			}
		case len(r) == 0:
			t.Errorf("%s: %s gives no series; want the lab's", q.where, expr)
		}
	}

	if err := l.Reroute(true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the route change marked by the dashboard's annotation", func() bool {
		r, err := c.query(annotation)
		return err == nil && len(r) > 0 && r[0].Metric["target"] == "t" && r[0].Metric["instance"] == instance
	})
	h.stop(t)
}
