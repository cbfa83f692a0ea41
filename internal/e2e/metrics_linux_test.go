//go:build linux

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/lab"
)

// TestHeadlessMetrics runs `pingerplot headless` unprivileged with
// metrics_listen and scrapes it from the lab's client namespace as
// Prometheus would: every hop's address and counters, the destination's
// RTT against the delay the lab injects, and after a reroute the
// route-change counter (one per changed hop) and the new responder's series.
func TestHeadlessMetrics(t *testing.T) {
	const oneWay = 5 * time.Millisecond
	l := lab.New(t, lab.Options{Routers: 3, AltRouters: 1, CableLinks: []int{3}, RealTime: true})
	if err := l.SetLink(3, lab.LinkParams{Delay: oneWay}, lab.LinkParams{Delay: oneWay}); err != nil {
		t.Fatal(err)
	}
	dir := workDir(t)
	h := startHeadless(t, l, dir, map[string]any{
		"status_interval": 0,
		"metrics_listen":  "127.0.0.1:0",
		"defaults":        map[string]any{"interval": 0.2, "timeout": 0.5},
		"targets":         []any{map[string]any{"target": l.TargetAddr4.String(), "name": "t"}},
	})
	addrRE := regexp.MustCompile(`Prometheus metrics: http://(127\.0\.0\.1:\d+)/metrics`)
	var ap netip.AddrPort
	waitFor(t, 10*time.Second, "the metrics address", func() bool {
		m := addrRE.FindStringSubmatch(h.out.String())
		if m == nil {
			return false
		}
		ap = netip.MustParseAddrPort(m[1])
		return true
	})
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return l.DialTCP(ctx, l.Client, ap) },
	}}
	var s scrape
	waitFor(t, 20*time.Second, "20 probes at the destination", func() bool {
		s = scrapeMetrics(t, client, ap)
		return s.value(`pingerplot_hop_sent_total{target="t",ttl="4"}`) >= 20
	})
	for i, a := range append(append([]netip.Addr(nil), l.Hops4...), l.TargetAddr4) {
		ttl := i + 1
		key := fmt.Sprintf(`pingerplot_hop_info{addr="%s",destination="%t",target="t",ttl="%d"}`, a, ttl == 4, ttl)
		if s.value(key) != 1 {
			t.Errorf("no %s in the scrape", key)
		}
		sent := s.value(fmt.Sprintf(`pingerplot_hop_sent_total{target="t",ttl="%d"}`, ttl))
		recv := s.value(fmt.Sprintf(`pingerplot_hop_replies_total{target="t",ttl="%d"}`, ttl))
		if sent < 20 || recv < sent-1 {
			t.Errorf("ttl %d: sent %v, replies %v; want 20 or more, all answered on a lossless path", ttl, sent, recv)
		}
	}
	// The median, not the window's mean: one VM stall in the window would
	// move a mean by milliseconds.
	p50 := s.value(`pingerplot_hop_rtt_p50_seconds{target="t",ttl="4"}`)
	t.Logf("destination median RTT %.3f ms (injected %v); window mean %.3f ms, MOS %.2f", p50*1000, 2*oneWay,
		s.value(`pingerplot_destination_rtt_seconds{target="t"}`)*1000, s.value(`pingerplot_destination_mos{target="t"}`))
	if want := (2 * oneWay).Seconds(); p50 < want || p50 > want+0.002 {
		t.Errorf("pingerplot_hop_rtt_p50_seconds at the destination %.6f; want %.3f to %.3f", p50, want, want+0.002)
	}
	if !s.has(`pingerplot_destination_rtt_seconds{target="t"}`) || s.value(`pingerplot_destination_mos{target="t"}`) < 4 {
		t.Errorf("no destination RTT, or a MOS below 4 on a clean 10 ms path")
	}
	if s.value(`pingerplot_target_state{state="running",target="t"}`) != 1 {
		t.Errorf("target not reported running")
	}
	if s.has(`pingerplot_events_total{kind="route_change",target="t"}`) {
		t.Errorf("a route change before any reroute")
	}

	if err := l.Reroute(true); err != nil {
		t.Fatal(err)
	}
	alt := l.AltPath4()[1]
	waitFor(t, 10*time.Second, "the route change in the metrics", func() bool {
		s = scrapeMetrics(t, client, ap)
		return s.value(`pingerplot_events_total{kind="route_change",target="t"}`) >= 1
	})
	// One route change per TTL whose router changed: the alt router at
	// TTL 2, and the last router answering from its alt-side address.
	changed := 0
	for i, a := range l.AltPath4() {
		if a != l.Hops4[i] {
			changed++
		}
	}
	waitFor(t, 5*time.Second, "every changed hop's route change", func() bool {
		s = scrapeMetrics(t, client, ap)
		return s.value(`pingerplot_events_total{kind="route_change",target="t"}`) >= float64(changed)
	})
	if n := s.value(`pingerplot_events_total{kind="route_change",target="t"}`); n != float64(changed) {
		t.Errorf("route_change counted %v times; want %d, one per changed hop", n, changed)
	}
	key := fmt.Sprintf(`pingerplot_hop_responder_replies_total{addr="%s",target="t",ttl="2"}`, alt)
	if s.value(key) < 1 {
		t.Errorf("no replies from the alt router in %s", key)
	}
	old := fmt.Sprintf(`pingerplot_hop_responder_replies_total{addr="%s",target="t",ttl="2"}`, l.Hops4[1])
	if s.value(old) < 20 {
		t.Errorf("the old router's replies (%s) are gone; both must show side by side", old)
	}
	h.stop(t)
}

// scrape is one scrape in Prometheus' text format: series (name and
// labels, as written) to value.
type scrape map[string]float64

func (s scrape) value(series string) float64 { return s[series] }

func (s scrape) has(series string) bool { _, ok := s[series]; return ok }

func scrapeMetrics(t *testing.T, c *http.Client, ap netip.AddrPort) scrape {
	t.Helper()
	resp, err := c.Get("http://" + ap.String() + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("scrape: %s %s: %s", resp.Status, resp.Header.Get("Content-Type"), b)
	}
	s := scrape{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("scrape: bad line %q", line)
		}
		s[line[:i]] = v
	}
	return s
}
