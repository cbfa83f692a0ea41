package evidence

import (
	"net/netip"
	"time"

	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/report"
)

// hop is a table row of the fixtures: loss and median latency, the rest
// derived from them.
type hop struct {
	ttl    int
	addr   string
	loss   float64 // percent
	median float64 // ms; 0 with no reply
	dest   bool
}

func f64(v float64) *float64 { return &v }

func reportHops(hs []hop) []report.Hop {
	out := make([]report.Hop, 0, len(hs))
	for _, h := range hs {
		sent := 1000
		r := report.Hop{TTL: h.ttl, Addr: h.addr, Sent: sent, Recv: sent - int(h.loss*float64(sent)/100), LossPct: h.loss, Dest: h.dest}
		if r.Recv > 0 {
			r.LastMs, r.MinMs, r.AvgMs, r.MaxMs = f64(h.median), f64(h.median*0.8), f64(h.median*1.05), f64(h.median*3)
			r.StdevMs, r.JitterMs, r.MedianMs, r.P95Ms = f64(h.median*0.1), f64(h.median*0.05), f64(h.median), f64(h.median*1.5)
		} else {
			r.Addr = ""
		}
		out = append(out, r)
	}
	return out
}

// fixtureTime is the fixtures' window start: 20:00 in a zone one hour
// east of UTC, so a test sees times written in the file's zone.
var fixtureZone = time.FixedZone("CET", 3600)

func fixtureStart() time.Time { return time.Date(2026, 12, 3, 20, 0, 0, 0, fixtureZone) }

// fixture is two hours of a 6-hop path probed every second: hop 2
// rate-limits its replies (30 % loss, clean after it), the loss that
// reaches the destination (10 %) starts at hop 4, and the loss comes
// between 21:00 and 21:30.
func fixture() Data {
	from := fixtureStart()
	to := from.Add(2 * time.Hour)
	hs := []hop{
		{1, "192.168.1.1", 0, 0.9, false},
		{2, "100.64.0.1", 30, 8.2, false},
		{3, "203.0.113.9", 0, 9.1, false},
		{4, "198.51.100.4", 10, 12.5, false},
		{5, "198.51.100.77", 10.5, 13.1, false},
		{6, "192.0.2.80", 10, 14.0, true},
	}
	step := StepFor(to.Sub(from), time.Second)
	var series []history.HopSeries
	for _, h := range hs {
		s := history.HopSeries{TTL: h.ttl}
		for t := from; t.Before(to); t = t.Add(step) {
			b := history.Bucket{Start: t, Sent: int(step / time.Second), Addr: netip.MustParseAddr(h.addr), DestinationHop: h.dest}
			med := time.Duration(h.median * float64(time.Millisecond))
			// Loss at hop 4 and after in 21:00-21:30 only, and hop 2's
			// own loss all the time; no round at all 20:40-20:45.
			evening := !t.Before(from.Add(time.Hour)) && t.Before(from.Add(90*time.Minute))
			switch {
			case !t.Before(from.Add(40*time.Minute)) && t.Before(from.Add(45*time.Minute)):
				b = history.Bucket{Start: t}
				s.Buckets = append(s.Buckets, b)
				continue
			case h.ttl >= 4 && evening:
				b.Lost = b.Sent * 4 / 10
				med *= 3
			case h.ttl == 2:
				b.Lost = b.Sent * 3 / 10
			}
			b.Min, b.Avg, b.Max, b.P50, b.P95 = med*8/10, med, med*2, med, med*3/2
			s.Buckets = append(s.Buckets, b)
		}
		series = append(series, s)
	}
	rh := reportHops(hs)
	rh[1].Host = "cgnat.isp.example"
	rh[3].Others = []report.Responder{{Addr: "198.51.100.5", Recv: 12}}
	return Data{
		Key: "example.net",
		Target: history.TargetInfo{Key: "example.net", Host: "example.net", Addr: netip.MustParseAddr("192.0.2.80"),
			Probe: history.ProbeSettings{Mode: "icmp", Size: 56, Interval: time.Second, Timeout: 2 * time.Second, MaxHops: 30},
			First: from.Add(-48 * time.Hour), Last: to, Rounds: 200000},
		From: from, To: to, Step: step,
		Summary: history.Summary{
			From: from, To: to, First: from, Last: to.Add(-time.Second), Rounds: 6900, DestTTL: 6, Exact: true,
			Dest: history.Dest{TTL: 6, Sent: 6900, Lost: 690, LossPct: 10, Latency: 14700 * time.Microsecond,
				Jitter: 700 * time.Microsecond, Best: 11200 * time.Microsecond, Worst: 42 * time.Millisecond,
				P50: 14 * time.Millisecond, P95: 21 * time.Millisecond},
		},
		Hops:   rh,
		Series: series,
		Events: []monitor.Event{
			{Time: from.Add(55 * time.Minute), Target: "example.net", Kind: monitor.RouteChange, TTL: 4, Message: "hop 4 changed from 198.51.100.5 to 198.51.100.4"},
			{Time: from.Add(61 * time.Minute), Target: "example.net", Kind: monitor.AlertRaised, Message: "loss 12 % over 60 probes (threshold 5 %) <b>"},
			{Time: from.Add(91 * time.Minute), Target: "example.net", Kind: monitor.AlertCleared, Message: "loss back to 0 %"},
		},
		Meta: Meta{Version: "1.4.0 (abc1234)", Vantage: "192.168.1.23", TimeZone: "CET, UTC+01:00",
			Made: time.Date(2026, 12, 4, 9, 15, 0, 0, fixtureZone)},
	}
}
