package report

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/pingerplot/pingerplot/internal/probe/result"
)

// Details is what one responder's replies at a hop said beyond its
// address (report -e): its latest non-empty details. Each field is one
// or more of DetailColumns.
type Details struct {
	Addr string `json:"addr"`
	// MPLS is the label stack the router attached (RFC 4950), top first.
	MPLS []MPLSLabel `json:"mpls,omitempty"`
	// Interfaces are the RFC 5837 interface objects it attached.
	Interfaces []Interface `json:"interfaces,omitempty"`
	// TOS is the TOS byte (IPv4) or traffic class (IPv6) the responder's
	// quote shows the probe arrived with, DSCP and ECN its two fields by
	// name; absent when its answers quoted no IP header (quote.go).
	TOS  *uint8 `json:"tos,omitempty"`
	DSCP string `json:"dscp,omitempty"`
	ECN  string `json:"ecn,omitempty"`
	// NAT says whether a translator rewrote the probe before this
	// responder; absent when that could not be judged.
	NAT *bool `json:"nat,omitempty"`
}

// MPLSLabel is one label stack entry as mtr -e shows it.
type MPLSLabel struct {
	Label uint32 `json:"label"`
	TC    uint8  `json:"tc"`
	S     bool   `json:"s"` // bottom of stack
	TTL   uint8  `json:"ttl"`
}

// Interface is one RFC 5837 interface information object. Absent fields
// were not included by the router.
type Interface struct {
	// Role: "incoming" (where the probe arrived), "sub-ip" (a component
	// of that interface), "outgoing" or "next-hop".
	Role    string  `json:"role"`
	IfIndex *uint32 `json:"ifindex,omitempty"`
	Addr    string  `json:"addr,omitempty"`
	Name    string  `json:"name,omitempty"`
	MTU     uint32  `json:"mtu,omitempty"`
}

// DetailsOf converts a responder's details into the report's.
func DetailsOf(addr netip.Addr, d result.Details) Details {
	out := Details{Addr: addr.String()}
	for _, l := range d.MPLS {
		out.MPLS = append(out.MPLS, MPLSLabel{Label: l.Label, TC: l.TC, S: l.S, TTL: l.TTL})
	}
	for _, in := range d.Interfaces {
		o := Interface{Role: in.Role.String(), Name: in.Name, MTU: in.MTU}
		if in.HasIfIndex {
			o.IfIndex = &in.IfIndex
		}
		if in.Addr.IsValid() {
			o.Addr = in.Addr.String()
		}
		out.Interfaces = append(out.Interfaces, o)
	}
	setQuoted(&out, d)
	return out
}

// SetDetails gives h the details ds, ordered as its responders are: the
// primary address first, then Others; details of an address no longer
// listed come last.
func SetDetails(h *Hop, ds []Details) {
	rank := func(addr string) int {
		if addr == h.Addr {
			return 0
		}
		for i, o := range h.Others {
			if o.Addr == addr {
				return 1 + i
			}
		}
		return 1 + len(h.Others)
	}
	h.Details = slices.Clone(ds)
	slices.SortStableFunc(h.Details, func(a, b Details) int { return rank(a.Addr) - rank(b.Addr) })
}

// detailsFor returns the details of addr at h; zero when none.
func detailsFor(h Hop, addr string) Details {
	for _, d := range h.Details {
		if d.Addr == addr {
			return d
		}
	}
	return Details{}
}

// DetailColumn is one column report -e adds: to the text table (Head) and
// to every CSV row (CSV, filled only with -e). A new detail is one more
// entry in DetailColumns; its field in Details and a line in DetailsOf.
type DetailColumn struct {
	Head string
	CSV  string
	// Cell is the column's text for one responder's details, "" when
	// they say nothing of it.
	Cell func(Details) string
}

// DetailColumns are report -e's columns, in order. CSV columns are only
// ever added at the end, so new entries go last.
func DetailColumns() []DetailColumn {
	return []DetailColumn{
		{Head: "MPLS", CSV: "mpls", Cell: mplsCell},
		{Head: "Interfaces", CSV: "interfaces", Cell: interfacesCell},
		{Head: "NAT", CSV: "nat", Cell: natCell},
		{Head: "DSCP", CSV: "dscp", Cell: func(d Details) string { return d.DSCP }},
		{Head: "ECN", CSV: "ecn", Cell: func(d Details) string { return d.ECN }},
	}
}

// mplsCell writes a label stack as mtr -e does, top first:
// "Lbl 24001 TC 0 S 1 TTL 1", entries joined by " / ".
func mplsCell(d Details) string {
	var b strings.Builder
	for i, l := range d.MPLS {
		if i > 0 {
			b.WriteString(" / ")
		}
		s := 0
		if l.S {
			s = 1
		}
		fmt.Fprintf(&b, "Lbl %d TC %d S %d TTL %d", l.Label, l.TC, s, l.TTL)
	}
	return b.String()
}

// interfacesCell writes each interface object as its role and what the
// router included: "incoming: ge-0/0/1 #12 192.0.2.1 mtu 1500", objects
// joined by "; ".
func interfacesCell(d Details) string {
	var parts []string
	for _, in := range d.Interfaces {
		f := []string{in.Role + ":"}
		if in.Name != "" {
			f = append(f, in.Name)
		}
		if in.IfIndex != nil {
			f = append(f, "#"+strconv.FormatUint(uint64(*in.IfIndex), 10))
		}
		if in.Addr != "" {
			f = append(f, in.Addr)
		}
		if in.MTU != 0 {
			f = append(f, "mtu "+strconv.FormatUint(uint64(in.MTU), 10))
		}
		parts = append(parts, strings.Join(f, " "))
	}
	return strings.Join(parts, "; ")
}

// detailCSV is a hop's cell of column c in CSV: each responder with
// something to say, as "ADDR=CELL", joined by " | ".
func detailCSV(h Hop, c DetailColumn) string {
	var parts []string
	for _, d := range h.Details {
		if v := c.Cell(d); v != "" {
			parts = append(parts, d.Addr+"="+v)
		}
	}
	return strings.Join(parts, " | ")
}
