package packet

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
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

	classInterface = 2 // RFC 5837 interface information object

	// RFC 5837 section 4.1: the C-Type's bits, bit 0 the most
	// significant: the role in bits 0-1, then two reserved bits, then
	// which sub-objects follow, in this order.
	ifHasIfIndex = 0x08
	ifHasAddr    = 0x04
	ifHasName    = 0x02
	ifHasMTU     = 0x01

	afiIPv4 = 1 // RFC 5837 section 4.2, IANA address family numbers
	afiIPv6 = 2

	// MaxInterfaceName is the longest name sub-object, its length octet
	// included (RFC 5837 section 4.3).
	MaxInterfaceName = 64
)

// Extensions is what PingerPlot reads from an RFC 4884 extension
// structure: the MPLS label stack objects' labels (RFC 4950) and the
// interface information objects (RFC 5837), each in the order they came.
type Extensions struct {
	MPLS       []MPLSLabel
	Interfaces []InterfaceInfo
}

// ParseExtensions parses an RFC 4884 ICMP extension structure: a 4-byte
// header (version 2, checksum) and the objects after it, to the end of b.
// It returns the labels of every MPLS label stack object and every
// interface information object, in order; other object classes are
// skipped, and so is an interface object whose address family it does
// not know. A non-zero checksum must be correct; 0 means the sender did
// not compute one. A malformed object spoils the whole structure: an
// error and nothing else.
//
// Give it the bytes from the extension header on: in a raw ICMP message
// that is where the original datagram field ends, and in error-queue data
// it is ee_rfc4884.len bytes in (Linux 5.9+, IP_RECVERR_RFC4884).
func ParseExtensions(b []byte) (Extensions, error) {
	if len(b) < extHeaderLen {
		return Extensions{}, fmt.Errorf("icmp extension header truncated to %d bytes", len(b))
	}
	if v := b[0] >> 4; v != extVersion {
		return Extensions{}, fmt.Errorf("icmp extension version %d, want %d", v, extVersion)
	}
	if binary.BigEndian.Uint16(b[2:]) != 0 && Checksum(b) != 0 {
		return Extensions{}, fmt.Errorf("icmp extension checksum %#04x is wrong", binary.BigEndian.Uint16(b[2:]))
	}
	var e Extensions
	for o := b[extHeaderLen:]; len(o) > 0; {
		if len(o) < objHeaderLen {
			return Extensions{}, fmt.Errorf("icmp extension object header truncated to %d bytes", len(o))
		}
		n := int(binary.BigEndian.Uint16(o))
		if n < objHeaderLen || n > len(o) {
			return Extensions{}, fmt.Errorf("icmp extension object length %d does not fit %d bytes", n, len(o))
		}
		class, ctype, data := o[2], o[3], o[objHeaderLen:n]
		o = o[n:]
		switch {
		case class == classMPLS && ctype == cTypeIncoming:
			if len(data)%4 != 0 {
				return Extensions{}, fmt.Errorf("mpls label stack of %d bytes is not whole entries", len(data))
			}
			for ; len(data) > 0; data = data[4:] {
				e.MPLS = append(e.MPLS, MPLSLabel{
					Label: uint32(data[0])<<12 | uint32(data[1])<<4 | uint32(data[2])>>4,
					TC:    data[2] >> 1 & 0x07,
					S:     data[2]&1 != 0,
					TTL:   data[3],
				})
			}
		case class == classInterface:
			in, known, err := parseInterface(ctype, data)
			if err != nil {
				return Extensions{}, err
			}
			if known {
				e.Interfaces = append(e.Interfaces, in)
			}
		}
	}
	return e, nil
}

// parseInterface parses the body of an RFC 5837 interface information
// object whose C-Type is ctype. known is false for an address family
// other than IPv4 and IPv6, whose length this parser cannot know.
func parseInterface(ctype uint8, b []byte) (in InterfaceInfo, known bool, err error) {
	in.Role = InterfaceRole(ctype >> 6)
	if ctype&ifHasIfIndex != 0 {
		if len(b) < 4 {
			return InterfaceInfo{}, false, fmt.Errorf("interface object: ifIndex truncated to %d bytes", len(b))
		}
		in.IfIndex, in.HasIfIndex, b = binary.BigEndian.Uint32(b), true, b[4:]
	}
	if ctype&ifHasAddr != 0 {
		if len(b) < 4 {
			return InterfaceInfo{}, false, fmt.Errorf("interface object: address sub-object header truncated to %d bytes", len(b))
		}
		afi := binary.BigEndian.Uint16(b)
		var n int
		switch afi {
		case afiIPv4:
			n = 4
		case afiIPv6:
			n = 16
		default:
			return InterfaceInfo{}, false, nil
		}
		if len(b) < 4+n {
			return InterfaceInfo{}, false, fmt.Errorf("interface object: address of family %d truncated to %d bytes", afi, len(b)-4)
		}
		in.Addr, _ = netip.AddrFromSlice(b[4 : 4+n])
		b = b[4+n:]
	}
	if ctype&ifHasName != 0 {
		if len(b) < 1 {
			return InterfaceInfo{}, false, fmt.Errorf("interface object: name sub-object missing")
		}
		n := int(b[0])
		if n < 1 || n%4 != 0 || n > MaxInterfaceName || n > len(b) {
			return InterfaceInfo{}, false, fmt.Errorf("interface object: name sub-object length %d (want a multiple of 4 up to %d, within %d bytes)", n, MaxInterfaceName, len(b))
		}
		in.Name = cleanName(b[1:n])
		b = b[n:]
	}
	if ctype&ifHasMTU != 0 {
		if len(b) < 4 {
			return InterfaceInfo{}, false, fmt.Errorf("interface object: MTU truncated to %d bytes", len(b))
		}
		in.MTU, b = binary.BigEndian.Uint32(b), b[4:]
	}
	if len(b) != 0 {
		return InterfaceInfo{}, false, fmt.Errorf("interface object: %d bytes after its last sub-object", len(b))
	}
	return in, true, nil
}

// cleanName turns a name sub-object's text into a string safe to show: the
// NUL padding dropped, invalid UTF-8 and control characters (which a
// terminal would obey) replaced by U+FFFD. A router's text is not trusted.
func cleanName(b []byte) string {
	b = bytes.TrimRight(b, "\x00")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return utf8.RuneError
		}
		return r
	}, strings.ToValidUTF8(string(b), string(utf8.RuneError)))
}

// AppendExtensions appends an RFC 4884 extension structure carrying e to b
// and returns the extended slice: an MPLS label stack object when e has
// labels, then one interface information object per interface (an
// address, when valid, as AFI 1 or 2; a name, when set, cut to fit
// MaxInterfaceName; an MTU when non-zero). The checksum is filled in.
// With enough capacity in b it does not allocate, so the lab's cable can
// stamp extensions onto every frame.
func AppendExtensions(b []byte, e Extensions) []byte {
	start := len(b)
	b = append(b, extVersion<<4, 0, 0, 0)
	if len(e.MPLS) > 0 {
		b = binary.BigEndian.AppendUint16(b, uint16(objHeaderLen+4*len(e.MPLS)))
		b = append(b, classMPLS, cTypeIncoming)
		for _, l := range e.MPLS {
			v := (l.Label&(1<<20-1))<<12 | uint32(l.TC&7)<<9 | uint32(l.TTL)
			if l.S {
				v |= 1 << 8
			}
			b = binary.BigEndian.AppendUint32(b, v)
		}
	}
	for _, in := range e.Interfaces {
		obj := len(b)
		ctype := uint8(in.Role&3) << 6
		b = append(b, 0, 0, classInterface, 0)
		if in.HasIfIndex {
			ctype |= ifHasIfIndex
			b = binary.BigEndian.AppendUint32(b, in.IfIndex)
		}
		if in.Addr.IsValid() {
			ctype |= ifHasAddr
			if a := in.Addr.Unmap(); a.Is4() {
				a4 := a.As4()
				b = append(b, 0, afiIPv4, 0, 0)
				b = append(b, a4[:]...)
			} else {
				a16 := a.As16()
				b = append(b, 0, afiIPv6, 0, 0)
				b = append(b, a16[:]...)
			}
		}
		if in.Name != "" {
			ctype |= ifHasName
			name := in.Name[:min(len(in.Name), MaxInterfaceName-1)]
			n := (1 + len(name) + 3) &^ 3
			b = append(b, byte(n))
			b = append(b, name...)
			for range n - 1 - len(name) {
				b = append(b, 0)
			}
		}
		if in.MTU != 0 {
			ctype |= ifHasMTU
			b = binary.BigEndian.AppendUint32(b, in.MTU)
		}
		binary.BigEndian.PutUint16(b[obj:], uint16(len(b)-obj))
		b[obj+3] = ctype
	}
	binary.BigEndian.PutUint16(b[start+2:], Checksum(b[start:]))
	return b
}
