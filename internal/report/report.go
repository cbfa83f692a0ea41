// Package report renders the per-hop table of a finished run as text (the
// table mtr users know), JSON (a documented, versioned object) or CSV.
// It receives plain values; it knows nothing of sockets or monitors.
package report

import (
	"math"
	"net/netip"
	"sort"
	"strconv"
	"time"

	"github.com/pingerplot/pingerplot/internal/hopstat"
)

// FormatVersion is the version of the JSON and CSV layouts; it changes
// only when a field is removed or changes meaning (docs/report-format.md).
const FormatVersion = 1

// Report is the JSON object `pingerplot report --json` prints.
type Report struct {
	FormatVersion int       `json:"format_version"`
	Target        string    `json:"target"`
	Addr          string    `json:"addr"`
	Mode          string    `json:"mode"`
	Settings      Settings  `json:"settings"`
	Backend       string    `json:"backend,omitempty"`
	Start         time.Time `json:"start"`
	End           time.Time `json:"end"`
	Rounds        int       `json:"rounds"`
	Reached       bool      `json:"reached"`
	// Unsent counts the probes the local system refused to send (no
	// route, no permission); they are counted as lost in the hops, and
	// SendError is the first one's cause. Absent when every probe left.
	Unsent    int    `json:"unsent,omitempty"`
	SendError string `json:"send_error,omitempty"`
	// PortState says, for TCP, how the destination answered the
	// connections: PortOpen, PortClosed or PortMixed (PortStateOf).
	// Absent for ICMP and UDP and when the destination never answered.
	PortState string `json:"port_state,omitempty"`
	Hops      []Hop  `json:"hops"`
	// Diagnosis reads the run's rounds: what is wrong and where. Absent
	// where no rounds were read (a stored window without them).
	Diagnosis *Diagnosis `json:"diagnosis,omitempty"`
	// PathMTU is what path MTU discovery found (--pmtu, pmtu.go); absent
	// when it was not asked for.
	PathMTU *PathMTU `json:"path_mtu,omitempty"`
	// Flows are the distinct paths of ECMP flow enumeration (--flows);
	// absent without it.
	Flows *Flows `json:"flows,omitempty"`
}

// Port states of a TCP destination.
const (
	PortOpen   = "open"   // every answer accepted the connection (SYN-ACK): the service is up
	PortClosed = "closed" // every answer refused it (RST): the host is there, the service is down
	PortMixed  = "mixed"  // some accepted, some refused: the destination hop's refused counts them
)

// PortStateOf returns the port state of a run in mode from its hops: the
// destination's hop's answers and refusals. "" unless mode is TCP and the
// destination answered.
func PortStateOf(mode string, hops []Hop) string {
	if mode != "tcp" {
		return ""
	}
	for _, h := range hops {
		if !h.Dest || h.Recv == 0 {
			continue
		}
		switch h.Refused {
		case 0:
			return PortOpen
		case h.Recv:
			return PortClosed
		}
		return PortMixed
	}
	return ""
}

// Settings are the probe settings of the run.
type Settings struct {
	Count      int     `json:"count"`
	IntervalS  float64 `json:"interval_s"`
	TimeoutS   float64 `json:"timeout_s"`
	Port       uint16  `json:"port,omitempty"`
	Size       int     `json:"size"`
	FirstTTL   int     `json:"first_ttl"`
	MaxHops    int     `json:"max_hops"`
	DNS        bool    `json:"dns"`
	AddressFam string  `json:"family"`
	// ASLookup: -z was given, so hops carry their AS when it is known.
	ASLookup bool `json:"aslookup"`
	// PingHops: --ping-hops was given, so hops carry their direct pings.
	PingHops bool `json:"ping_hops,omitempty"`
	// Ext: -e was given, so hops carry their responders' details.
	Ext bool `json:"ext,omitempty"`
}

// Hop is one TTL of the path. RTT fields are null when nothing answered.
type Hop struct {
	TTL      int      `json:"ttl"`
	Addr     string   `json:"addr"`
	Host     string   `json:"host"`
	Sent     int      `json:"sent"`
	Recv     int      `json:"recv"`
	LossPct  float64  `json:"loss_pct"`
	LastMs   *float64 `json:"last_ms"`
	AvgMs    *float64 `json:"avg_ms"`
	MinMs    *float64 `json:"min_ms"`
	MaxMs    *float64 `json:"max_ms"`
	StdevMs  *float64 `json:"stdev_ms"`
	JitterMs *float64 `json:"jitter_ms"`
	MedianMs *float64 `json:"median_ms"`
	P95Ms    *float64 `json:"p95_ms"`
	Dest     bool     `json:"destination"`
	// Refused counts the replies (of Recv) that refused the connection: a
	// TCP destination's RST. Not loss. Absent when none did.
	Refused int         `json:"refused,omitempty"`
	Others  []Responder `json:"others,omitempty"`
	// ASN and ASName are the AS of Addr (-z); absent when unknown.
	ASN    uint32 `json:"asn,omitempty"`
	ASName string `json:"as_name,omitempty"`
	// Direct are the echo requests sent to the hop's own address
	// (--ping-hops); absent when none were.
	Direct *Direct `json:"direct,omitempty"`
	// Details are what the responders' replies said beyond their
	// addresses (-e): MPLS labels, interfaces; the primary address's
	// first. Absent without -e and when no reply said more.
	Details []Details `json:"details,omitempty"`
}

// Direct is a hop's direct pings: echo requests to its own address, not
// TTL-limited, beside the probes of the table.
type Direct struct {
	Addr     string   `json:"addr"` // the address pinged most
	Sent     int      `json:"sent"`
	Lost     int      `json:"lost"`
	LossPct  float64  `json:"loss_pct"`
	MedianMs *float64 `json:"median_ms"` // of the replies; null when none
}

// Responder is another address that answered at the same TTL (ECMP, a
// reroute), with the statistics of its own replies.
type Responder struct {
	Addr  string   `json:"addr"`
	Host  string   `json:"host"`
	Recv  int      `json:"recv"`
	AvgMs *float64 `json:"avg_ms"`
	MinMs *float64 `json:"min_ms"`
	MaxMs *float64 `json:"max_ms"`
	// ASN and ASName are the AS of Addr (-z); absent when unknown.
	ASN    uint32 `json:"asn,omitempty"`
	ASName string `json:"as_name,omitempty"`
}

// Namer returns the reverse-DNS name of an address, or "".
type Namer func(netip.Addr) string

// ASLookup returns the AS number and name of an address; 0 when unknown.
type ASLookup func(netip.Addr) (asn uint32, name string)

// AddAS fills the AS fields of hops and of their other responders, as
// mtr -z does.
func AddAS(hops []Hop, as ASLookup) {
	at := func(s string) (uint32, string) {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return 0, ""
		}
		return as(a)
	}
	for i := range hops {
		h := &hops[i]
		h.ASN, h.ASName = at(h.Addr)
		for j := range h.Others {
			h.Others[j].ASN, h.Others[j].ASName = at(h.Others[j].Addr)
		}
	}
}

// asLabel is the AS as mtr prints it: "AS13335", or "AS???" when unknown.
func asLabel(asn uint32) string {
	if asn == 0 {
		return "AS???"
	}
	return "AS" + strconv.FormatUint(uint64(asn), 10)
}

// Hops converts hopstat hops into report hops. The primary address of a
// hop is the responder with the most replies; the others are listed.
func Hops(hs []hopstat.Hop, name Namer) []Hop {
	out := make([]Hop, 0, len(hs))
	for _, h := range hs {
		rs := append([]hopstat.Responder(nil), h.Responders...)
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].Stats.Recv > rs[j].Stats.Recv })
		st := h.Stats
		o := Hop{TTL: h.TTL, Sent: st.Sent, Recv: st.Recv, LossPct: round3(st.LossPct()), Dest: h.Reached, Refused: st.Refused}
		if st.Recv > 0 {
			o.LastMs, o.AvgMs, o.MinMs, o.MaxMs = msp(st.Last), msp(st.Avg), msp(st.Best), msp(st.Worst)
			o.StdevMs, o.JitterMs = msp(st.StdDev), msp(st.Jitter)
			if st.P50 > 0 {
				o.MedianMs, o.P95Ms = msp(st.P50), msp(st.P95)
			}
		}
		for i, r := range rs {
			host := ""
			if name != nil {
				host = name(r.Addr)
			}
			if i == 0 {
				o.Addr, o.Host = r.Addr.String(), host
				continue
			}
			o.Others = append(o.Others, Responder{Addr: r.Addr.String(), Host: host, Recv: r.Stats.Recv,
				AvgMs: msp(r.Stats.Avg), MinMs: msp(r.Stats.Best), MaxMs: msp(r.Stats.Worst)})
		}
		out = append(out, o)
	}
	return out
}

// Ms converts a duration to milliseconds rounded to the microsecond.
func Ms(d time.Duration) float64 { return round3(float64(d) / float64(time.Millisecond)) }

func msp(d time.Duration) *float64 { v := Ms(d); return &v }

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
