package packet

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// MPLSLabel is one MPLS label stack entry (RFC 3032, RFC 5462) as an MPLS
// router reports it in an ICMP extension (RFC 4950).
type MPLSLabel struct {
	Label uint32 // 20 bits
	TC    uint8  // traffic class, formerly EXP; 3 bits
	S     bool   // bottom of stack
	TTL   uint8
}

// InterfaceRole says which interface an RFC 5837 object describes (the
// object's C-Type bits 0-1, RFC 5837 section 4.1).
type InterfaceRole uint8

const (
	RoleIncoming InterfaceRole = 0 // the interface the probe arrived on
	RoleSubIP    InterfaceRole = 1 // a sub-IP component of that interface
	RoleOutgoing InterfaceRole = 2 // the interface the probe would have left by
	RoleNextHop  InterfaceRole = 3 // the IP next hop it would have gone to
)

// String names the role as report -e and the dashboard show it.
func (r InterfaceRole) String() string {
	switch r {
	case RoleIncoming:
		return "incoming"
	case RoleSubIP:
		return "sub-ip"
	case RoleOutgoing:
		return "outgoing"
	case RoleNextHop:
		return "next-hop"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// InterfaceInfo is one RFC 5837 interface information object: any of the
// interface's ifIndex, address, name and MTU the router chose to include.
type InterfaceInfo struct {
	Role       InterfaceRole
	IfIndex    uint32     `json:",omitempty"`
	HasIfIndex bool       `json:",omitempty"`
	Addr       netip.Addr `json:",omitzero"`
	Name       string     `json:",omitempty"`
	MTU        uint32     `json:",omitempty"` // 0: not included
}

const (
	extHeaderLen = 4
	extVersion   = 2
	objHeaderLen = 4

	classMPLS     = 1 // RFC 4950 MPLS label stack
	cTypeIncoming = 1 // incoming label stack
)

// ParseExtensions parses an RFC 4884 ICMP extension structure: a 4-byte
// header (version 2, checksum) and the objects after it, to the end of b.
// It returns the labels of every MPLS label stack object, in order; other
// object classes are skipped. A non-zero checksum must be correct; 0 means
// the sender did not compute one.
//
// Give it the bytes from the extension header on: in a raw ICMP message
// that is where the original datagram field ends, and in error-queue data
// it is ee_rfc4884.len bytes in (Linux 5.9+, IP_RECVERR_RFC4884).
func ParseExtensions(b []byte) ([]MPLSLabel, error) {
	if len(b) < extHeaderLen {
		return nil, fmt.Errorf("icmp extension header truncated to %d bytes", len(b))
	}
	if v := b[0] >> 4; v != extVersion {
		return nil, fmt.Errorf("icmp extension version %d, want %d", v, extVersion)
	}
	if binary.BigEndian.Uint16(b[2:]) != 0 && Checksum(b) != 0 {
		return nil, fmt.Errorf("icmp extension checksum %#04x is wrong", binary.BigEndian.Uint16(b[2:]))
	}
	var labels []MPLSLabel
	for o := b[extHeaderLen:]; len(o) > 0; {
		if len(o) < objHeaderLen {
			return nil, fmt.Errorf("icmp extension object header truncated to %d bytes", len(o))
		}
		n := int(binary.BigEndian.Uint16(o))
		if n < objHeaderLen || n > len(o) {
			return nil, fmt.Errorf("icmp extension object length %d does not fit %d bytes", n, len(o))
		}
		class, ctype, data := o[2], o[3], o[objHeaderLen:n]
		o = o[n:]
		if class != classMPLS || ctype != cTypeIncoming {
			continue
		}
		if len(data)%4 != 0 {
			return nil, fmt.Errorf("mpls label stack of %d bytes is not whole entries", len(data))
		}
		for ; len(data) > 0; data = data[4:] {
			labels = append(labels, MPLSLabel{
				Label: uint32(data[0])<<12 | uint32(data[1])<<4 | uint32(data[2])>>4,
				TC:    data[2] >> 1 & 0x07,
				S:     data[2]&1 != 0,
				TTL:   data[3],
			})
		}
	}
	return labels, nil
}
