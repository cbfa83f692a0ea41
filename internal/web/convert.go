package web

import (
	"encoding/json"
	"math"
	"net/netip"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/report"
)

// The JSON shapes of docs/web-api.md.

type destJSON struct {
	TTL       int               `json:"ttl"`
	Sent      int               `json:"sent"`
	Refused   int               `json:"refused"`
	LossPct   float64           `json:"loss_pct"`
	LatencyMs *float64          `json:"latency_ms"`
	JitterMs  *float64          `json:"jitter_ms"`
	MOS       *float64          `json:"mos"`
	R         *float64          `json:"r"`
	Active    []alert.Condition `json:"active"`
}

type targetSummary struct {
	ID       string          `json:"id"`
	Host     string          `json:"host"`
	Addr     string          `json:"addr"`
	State    monitor.State   `json:"state"`
	Hops     int             `json:"hops"`
	Rounds   int             `json:"rounds"`
	Dest     destJSON        `json:"dest"`
	Settings json.RawMessage `json:"settings"`
	Last     *time.Time      `json:"last"`
	// Diagnosis is where the target's problem is (docs/diagnosis.md),
	// the object of the report's JSON; null before its first round, or
	// when the server has no diagnosis.
	Diagnosis *report.Diagnosis `json:"diagnosis"`
	// PathMTU is the latest path MTU discovery (the pmtu setting,
	// docs/probing.md); null while discovery is off for the target or has
	// not finished once.
	PathMTU *pathMTUJSON `json:"path_mtu"`
}

// pathMTUJSON is a path MTU discovery's result with the fields of the
// report's path_mtu object (mtu, max, hop_ttl, hop_addr, local, reported,
// probes, at, error) and the words the dashboard shows, "1400 bytes
// (drops at hop 2, 10.0.1.2)".
type pathMTUJSON struct {
	result.PathMTU
	Summary string `json:"summary"`
}

type otherJSON struct {
	Addr   string   `json:"addr"`
	Host   string   `json:"host"`
	Recv   int      `json:"recv"`
	AvgMs  *float64 `json:"avg_ms"`
	ASN    uint32   `json:"asn,omitempty"`
	ASName string   `json:"as_name,omitempty"`
}

type hopJSON struct {
	TTL      int         `json:"ttl"`
	Addr     string      `json:"addr"`
	Host     string      `json:"host"`
	Sent     int         `json:"sent"`
	Recv     int         `json:"recv"`
	Refused  int         `json:"refused"`
	LossPct  float64     `json:"loss_pct"`
	LastMs   *float64    `json:"last_ms"`
	AvgMs    *float64    `json:"avg_ms"`
	MinMs    *float64    `json:"min_ms"`
	MaxMs    *float64    `json:"max_ms"`
	StdevMs  *float64    `json:"stdev_ms"`
	JitterMs *float64    `json:"jitter_ms"`
	P50Ms    *float64    `json:"p50_ms"`
	P95Ms    *float64    `json:"p95_ms"`
	Dest     bool        `json:"destination"`
	ASN      uint32      `json:"asn,omitempty"`
	ASName   string      `json:"as_name,omitempty"`
	Others   []otherJSON `json:"others"`
	// History rows are [t (Unix seconds), rtt_ms or null, round].
	History [][3]any `json:"history,omitempty"`
	// Details are what the responders' answers said beyond their
	// addresses (MPLS labels, interfaces, ...); live detail only.
	Details []detailJSON `json:"details,omitempty"`
}

type targetDetail struct {
	targetSummary
	HopList []hopJSON `json:"hops_detail"`
}

// MarshalJSON flattens the detail: the summary's fields plus "hops" as the
// list (the summary's hop count is then len(hops)).
func (d targetDetail) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(d.targetSummary)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	hops, err := json.Marshal(d.HopList)
	if err != nil {
		return nil, err
	}
	m["hops"] = hops
	return json.Marshal(m)
}

type eventJSON struct {
	Time      time.Time `json:"time"`
	Target    string    `json:"target"`
	Kind      string    `json:"kind"`
	TTL       int       `json:"ttl"`
	Message   string    `json:"message"`
	Condition string    `json:"condition,omitempty"`
	Value     float64   `json:"value,omitempty"`
	Threshold float64   `json:"threshold,omitempty"`
}

type sampleJSON struct {
	TTL  int      `json:"ttl"`
	T    float64  `json:"t"`
	RTT  *float64 `json:"rtt_ms"`
	Addr string   `json:"addr"`
}

type roundJSON struct {
	Seq     uint64        `json:"seq"`
	Target  string        `json:"target"`
	Round   int           `json:"round"`
	Summary targetSummary `json:"summary"`
	Samples []sampleJSON  `json:"samples"`
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 }

func msp(d time.Duration) *float64 { v := ms(d); return &v }

func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return math.Round(float64(t.UnixNano())/1e3) / 1e6
}

func addrString(a netip.Addr) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// settingsJSON is a target's settings object in the order of
// docs/web-api.md. Unlike files, the API always shows "dns", on or off:
// the page's switch needs its state.
func settingsJSON(s monitor.Settings) json.RawMessage {
	o := config.FromSettings(s)
	o.DNS = new(!s.NoNames)
	b, err := json.Marshal(o)
	if err != nil {
		return json.RawMessage("{}")
	}
	return b
}

// summaryOf is sn's summary with settings, the target's settings as
// JSON (Server.settingsJSON caches them).
func summaryOf(sn monitor.Snapshot, settings json.RawMessage) targetSummary {
	d := sn.Dest
	dj := destJSON{TTL: d.TTL, Sent: d.Sent, Refused: d.Refused, LossPct: math.Round(d.LossPct*10) / 10, Active: d.Active}
	if dj.Active == nil {
		dj.Active = []alert.Condition{}
	}
	if d.Sent > 0 && d.Latency > 0 {
		dj.LatencyMs, dj.JitterMs = msp(d.Latency), msp(d.Jitter)
	}
	if d.Sent > 0 && d.MOS > 0 {
		// A closed port answers but has no MOS: null, not a score of 0.
		mos, r := math.Round(d.MOS*100)/100, math.Round(d.R*10)/10
		dj.MOS, dj.R = &mos, &r
	}
	ts := targetSummary{ID: string(sn.ID), Host: sn.Host, Addr: addrString(sn.Addr), State: sn.State,
		Hops: len(sn.Hops), Rounds: sn.Rounds, Dest: dj, Settings: settings}
	if !sn.Last.IsZero() {
		l := sn.Last.UTC()
		ts.Last = &l
	}
	return ts
}

func detailOf(sn monitor.Snapshot, settings json.RawMessage, names func(netip.Addr) string) targetDetail {
	d := targetDetail{targetSummary: summaryOf(sn, settings), HopList: []hopJSON{}}
	for _, h := range sn.Hops {
		hj := hopOf(h.Hop, names)
		hj.Details = detailsJSON(hj, h.Details)
		for _, smp := range h.History {
			var rtt any
			if !smp.Lost {
				rtt = ms(smp.RTT)
			}
			hj.History = append(hj.History, [3]any{unixSeconds(smp.Time), rtt, smp.Round})
		}
		d.HopList = append(d.HopList, hj)
	}
	return d
}

func eventOf(e monitor.Event) eventJSON {
	return eventJSON{Time: e.Time.UTC(), Target: string(e.Target), Kind: string(e.Kind), TTL: e.TTL, Message: e.Message,
		Condition: string(e.Condition), Value: e.Value, Threshold: e.Threshold}
}
