package session

import (
	"fmt"
	"net/netip"
	"unicode"
	"unicode/utf8"

	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/packet"
	"github.com/pingerplot/pingerplot/internal/probe/result"
)

// fileDetails is one responder's latest details at a hop
// (monitor.ResponderDetails): what its ICMP errors said beyond its address.
type fileDetails struct {
	Addr       string          `json:"addr"`
	MPLS       []fileLabel     `json:"mpls,omitempty"`
	Interfaces []fileInterface `json:"interfaces,omitempty"`
	Quoted     bool            `json:"quoted,omitempty"`
	TOS        uint8           `json:"tos,omitempty"`
	NAT        bool            `json:"nat,omitempty"`
}

type fileLabel struct {
	Label uint32 `json:"label"`
	TC    uint8  `json:"tc"`
	S     bool   `json:"s,omitempty"`
	TTL   uint8  `json:"ttl"`
}

type fileInterface struct {
	Role    string  `json:"role"`
	IfIndex *uint32 `json:"ifindex,omitempty"`
	Addr    string  `json:"addr,omitempty"`
	Name    string  `json:"name,omitempty"`
	MTU     uint32  `json:"mtu,omitempty"`
}

// maxNameBytes bounds an interface name: RFC 5837 allows 63 bytes, which
// the parser's replacement of bad bytes can make at most three times longer.
const maxNameBytes = 3 * packet.MaxInterfaceName

func detailsOf(ds []monitor.ResponderDetails) []fileDetails {
	var out []fileDetails
	for _, d := range ds {
		fd := fileDetails{Addr: addrText(d.Addr), Quoted: d.Quoted, TOS: d.TOS, NAT: d.NAT}
		for _, l := range d.MPLS {
			fd.MPLS = append(fd.MPLS, fileLabel{Label: l.Label, TC: l.TC, S: l.S, TTL: l.TTL})
		}
		for _, in := range d.Interfaces {
			fi := fileInterface{Role: in.Role.String(), Name: in.Name, MTU: in.MTU}
			if in.HasIfIndex {
				fi.IfIndex = &in.IfIndex
			}
			if in.Addr.IsValid() {
				fi.Addr = in.Addr.String()
			}
			fd.Interfaces = append(fd.Interfaces, fi)
		}
		out = append(out, fd)
	}
	return out
}

// details checks and converts a hop's saved details.
func details(fds []fileDetails) ([]monitor.ResponderDetails, error) {
	if len(fds) > monitor.MaxDetailResponders {
		return nil, fmt.Errorf("details: %d responders, more than the %d a hop keeps", len(fds), monitor.MaxDetailResponders)
	}
	var out []monitor.ResponderDetails
	for k, fd := range fds {
		a, err := parseAddr(fd.Addr)
		if err != nil {
			return nil, fmt.Errorf("details[%d]: addr: %v", k, err)
		}
		for _, seen := range out {
			if seen.Addr == a {
				return nil, fmt.Errorf("details[%d]: %s is listed twice", k, a)
			}
		}
		if (fd.TOS != 0 || fd.NAT) && !fd.Quoted {
			return nil, fmt.Errorf("details[%d] (%s): tos and nat come from a quote: want quoted true with them", k, a)
		}
		d := monitor.ResponderDetails{Addr: a, Details: result.Details{Quoted: fd.Quoted, TOS: fd.TOS, NAT: fd.NAT}}
		for j, l := range fd.MPLS {
			if l.Label >= 1<<20 || l.TC > 7 {
				return nil, fmt.Errorf("details[%d] (%s): mpls[%d]: label %d, tc %d: want a label below 2^20 and tc 0 to 7", k, a, j, l.Label, l.TC)
			}
			d.MPLS = append(d.MPLS, packet.MPLSLabel{Label: l.Label, TC: l.TC, S: l.S, TTL: l.TTL})
		}
		for j, fi := range fd.Interfaces {
			in, err := fi.info()
			if err != nil {
				return nil, fmt.Errorf("details[%d] (%s): interfaces[%d]: %v", k, a, j, err)
			}
			d.Interfaces = append(d.Interfaces, in)
		}
		if d.Empty() {
			return nil, fmt.Errorf("details[%d] (%s): says nothing: want labels, interfaces or a quote", k, a)
		}
		out = append(out, d)
	}
	return out, nil
}

func (fi fileInterface) info() (packet.InterfaceInfo, error) {
	var in packet.InterfaceInfo
	role, ok := roleOf(fi.Role)
	if !ok {
		return in, fmt.Errorf("role %q: want incoming, sub-ip, outgoing or next-hop", fi.Role)
	}
	in.Role, in.Name, in.MTU = role, fi.Name, fi.MTU
	if fi.IfIndex != nil {
		in.IfIndex, in.HasIfIndex = *fi.IfIndex, true
	}
	if fi.Addr != "" {
		a, err := netip.ParseAddr(fi.Addr)
		if err != nil {
			return in, fmt.Errorf("addr: %v", err)
		}
		in.Addr = a
	}
	if len(fi.Name) > maxNameBytes || !utf8.ValidString(fi.Name) {
		return in, fmt.Errorf("name: want UTF-8 text of at most %d bytes", maxNameBytes)
	}
	for _, r := range fi.Name {
		if unicode.IsControl(r) {
			return in, fmt.Errorf("name %q: control characters are not allowed", fi.Name)
		}
	}
	return in, nil
}

func roleOf(s string) (packet.InterfaceRole, bool) {
	for r := packet.RoleIncoming; r <= packet.RoleNextHop; r++ {
		if r.String() == s {
			return r, true
		}
	}
	return 0, false
}
