package lab

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strings"
)

// A simulated MPLS router. The test kernels cannot attach ICMP extensions
// themselves (no MPLS forwarding, no icmp_errors_extension_mask), so a
// cable can do it for them: it rewrites the time-exceeded messages one
// router sends towards the client into what an MPLS router that
// implements RFC 4950 and RFC 5837 would have sent. This file holds the
// rewrite, free of I/O; SetStamp (stamp_linux.go) turns it on.

// MPLSLabel is one label stack entry a stamp attaches (RFC 4950).
type MPLSLabel struct {
	Label uint32 // 20 bits
	TC    uint8  // 3 bits
	S     bool   // bottom of stack
	TTL   uint8
}

// Interface roles of an RFC 5837 interface information object.
const (
	RoleIncoming = 0 // where the probe arrived
	RoleSubIP    = 1 // a sub-IP component of that interface
	RoleOutgoing = 2 // where the probe would have left
	RoleNextHop  = 3 // the next hop it would have gone to
)

// InterfaceInfo is one RFC 5837 interface information object a stamp
// attaches; zero fields (and HasIfIndex false) are left out of it.
type InterfaceInfo struct {
	Role       uint8
	IfIndex    uint32
	HasIfIndex bool
	Addr       netip.Addr
	Name       string // at most 63 bytes
	MTU        uint32
}

// Stamp is the extension structure a cable attaches. The zero value
// stamps nothing.
type Stamp struct {
	MPLS       []MPLSLabel
	Interfaces []InterfaceInfo
}

func (s Stamp) empty() bool { return len(s.MPLS) == 0 && len(s.Interfaces) == 0 }

// encode writes the RFC 4884 extension structure: header (version 2,
// checksum), an MPLS label stack object (class 1, C-Type 1) when there are
// labels, then one interface information object (class 2) per interface,
// laid out as RFC 5837 section 4 says.
func (s Stamp) encode() ([]byte, error) {
	b := []byte{2 << 4, 0, 0, 0}
	if len(s.MPLS) > 0 {
		b = binary.BigEndian.AppendUint16(b, uint16(4+4*len(s.MPLS)))
		b = append(b, 1, 1)
		for _, l := range s.MPLS {
			if l.Label >= 1<<20 || l.TC > 7 {
				return nil, fmt.Errorf("mpls label %d tc %d out of range (20 and 3 bits)", l.Label, l.TC)
			}
			v := l.Label<<12 | uint32(l.TC)<<9 | uint32(l.TTL)
			if l.S {
				v |= 1 << 8
			}
			b = binary.BigEndian.AppendUint32(b, v)
		}
	}
	for _, in := range s.Interfaces {
		if in.Role > 3 || len(in.Name) > 63 {
			return nil, fmt.Errorf("interface role %d (want 0-3) or name %q (want at most 63 bytes)", in.Role, in.Name)
		}
		obj := len(b)
		ctype := in.Role << 6
		b = append(b, 0, 0, 2, 0)
		if in.HasIfIndex {
			ctype |= 0x08
			b = binary.BigEndian.AppendUint32(b, in.IfIndex)
		}
		if in.Addr.IsValid() {
			ctype |= 0x04
			if in.Addr.Is4() {
				b = append(b, 0, 1, 0, 0)
			} else {
				b = append(b, 0, 2, 0, 0)
			}
			b = append(b, in.Addr.AsSlice()...)
		}
		if in.Name != "" {
			ctype |= 0x02
			n := (1 + len(in.Name) + 3) &^ 3
			b = append(b, byte(n))
			b = append(b, in.Name...)
			b = append(b, make([]byte, n-1-len(in.Name))...)
		}
		if in.MTU != 0 {
			ctype |= 0x01
			b = binary.BigEndian.AppendUint32(b, in.MTU)
		}
		binary.BigEndian.PutUint16(b[obj:], uint16(len(b)-obj))
		b[obj+3] = ctype
	}
	binary.BigEndian.PutUint16(b[2:], ^sum16(0, b))
	return b, nil
}

// Control command: "stamp <source v4|-> <source v6|-> <extension hex>"
// stamps the time-exceeded messages from those sources; "stamp off" stops.

func formatStamp(src4, src6 netip.Addr, ext []byte) string {
	a := func(x netip.Addr) string {
		if !x.IsValid() {
			return "-"
		}
		return x.String()
	}
	return fmt.Sprintf("stamp %s %s %s", a(src4), a(src6), hex.EncodeToString(ext))
}

// parseStamp reads a stamp command's arguments; nil means off.
func parseStamp(args []string) (*stamper, error) {
	if len(args) == 1 && args[0] == "off" {
		return nil, nil
	}
	if len(args) != 3 {
		return nil, fmt.Errorf("stamp wants off or 3 values, got %d", len(args))
	}
	st := &stamper{}
	for i, a := range args[:2] {
		if a == "-" {
			continue
		}
		addr, err := netip.ParseAddr(a)
		if err != nil || addr.Is4() != (i == 0) {
			return nil, fmt.Errorf("bad stamp source %q", a)
		}
		if i == 0 {
			st.src4 = addr.As4()
			st.has4 = true
		} else {
			st.src6 = addr.As16()
			st.has6 = true
		}
	}
	ext, err := hex.DecodeString(args[2])
	if err != nil || len(ext) < 4 || len(ext)%4 != 0 {
		return nil, fmt.Errorf("bad stamp extension %q", args[2])
	}
	st.ext = ext
	return st, nil
}

// stamper rewrites the ICMP time-exceeded messages of one router.
type stamper struct {
	src4       [4]byte
	src6       [16]byte
	has4, has6 bool
	ext        []byte // the extension structure, checksum included
}

// origDgramLen is the original datagram field's length once extended:
// RFC 4884 section 4 asks for at least 128 bytes, zero padded; longer
// quotes are cut there, as routers that append extensions do.
const origDgramLen = 128

// frame stamps the IP packet at buf[ipOff:n] if it is one of the
// router's time exceeded messages, in place: buf must have room for the
// longer packet (len(buf) is the limit). It returns the frame's new
// length and whether it was stamped. The Ethernet type sits just before
// ipOff. It allocates nothing: the cable runs it on every frame.
func (s *stamper) frame(buf []byte, n, ipOff int) (int, bool) {
	if n < ipOff || ipOff < 2 {
		return n, false
	}
	switch binary.BigEndian.Uint16(buf[ipOff-2:]) {
	case 0x0800:
		if !s.has4 {
			return n, false
		}
		return s.v4(buf, n, ipOff)
	case 0x86dd:
		if !s.has6 {
			return n, false
		}
		return s.v6(buf, n, ipOff)
	}
	return n, false
}

func (s *stamper) v4(buf []byte, n, off int) (int, bool) {
	ip := buf[off:n]
	if len(ip) < 20 || ip[0]>>4 != 4 {
		return n, false
	}
	ihl := int(ip[0]&0x0f) * 4
	tot := int(binary.BigEndian.Uint16(ip[2:]))
	frag := binary.BigEndian.Uint16(ip[6:]) & 0x3fff // MF and offset
	if ihl < 20 || tot < ihl+8 || tot > len(ip) || frag != 0 || ip[9] != 1 || [4]byte(ip[12:16]) != s.src4 {
		return n, false
	}
	icmp := ip[ihl:tot]
	if icmp[0] != 11 || icmp[5] != 0 { // time exceeded, not extended yet
		return n, false
	}
	newTot := ihl + 8 + origDgramLen + len(s.ext)
	if off+newTot > len(buf) {
		return n, false
	}
	m := buf[off+ihl : off+newTot]
	if q := len(icmp); q < 8+origDgramLen {
		clear(m[q : 8+origDgramLen]) // zero padding after a short quote
	}
	copy(m[8+origDgramLen:], s.ext)
	m[5] = origDgramLen / 4 // RFC 4884 length, in 32-bit words for ICMPv4
	m[2], m[3] = 0, 0
	binary.BigEndian.PutUint16(m[2:], ^sum16(0, m))
	binary.BigEndian.PutUint16(ip[2:], uint16(newTot))
	ip[10], ip[11] = 0, 0
	binary.BigEndian.PutUint16(ip[10:], ^sum16(0, ip[:ihl]))
	return off + newTot, true
}

func (s *stamper) v6(buf []byte, n, off int) (int, bool) {
	ip := buf[off:n]
	if len(ip) < 40+8 || ip[0]>>4 != 6 || ip[6] != 58 || [16]byte(ip[8:24]) != s.src6 {
		return n, false
	}
	pl := int(binary.BigEndian.Uint16(ip[4:]))
	if pl < 8 || 40+pl > len(ip) {
		return n, false
	}
	icmp := ip[40 : 40+pl]
	if icmp[0] != 3 || icmp[4] != 0 { // time exceeded, not extended yet
		return n, false
	}
	newPL := 8 + origDgramLen + len(s.ext)
	if off+40+newPL > len(buf) {
		return n, false
	}
	m := buf[off+40 : off+40+newPL]
	if q := len(icmp); q < 8+origDgramLen {
		clear(m[q : 8+origDgramLen])
	}
	copy(m[8+origDgramLen:], s.ext)
	m[4] = origDgramLen / 8 // RFC 4884 length, in 64-bit words for ICMPv6
	m[2], m[3] = 0, 0
	binary.BigEndian.PutUint16(ip[4:], uint16(newPL))
	// The ICMPv6 checksum covers the pseudo-header: addresses, length
	// and next header (RFC 8200 section 8.1).
	var ph [8]byte
	binary.BigEndian.PutUint32(ph[:], uint32(newPL))
	ph[7] = 58
	c := sum16(sum16(sum16(0, ip[8:40]), ph[:]), m)
	binary.BigEndian.PutUint16(m[2:], ^c)
	return off + 40 + newPL, true
}

// sum16 adds b to the ones-complement sum acc (RFC 1071); b must have an
// even length unless it is the last piece.
func sum16(acc uint16, b []byte) uint16 {
	s := uint32(acc)
	for ; len(b) >= 2; b = b[2:] {
		s += uint32(b[0])<<8 | uint32(b[1])
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

// String describes a stamp for test logs.
func (s Stamp) String() string {
	var parts []string
	for _, l := range s.MPLS {
		parts = append(parts, fmt.Sprintf("label %d tc %d s %v ttl %d", l.Label, l.TC, l.S, l.TTL))
	}
	for _, in := range s.Interfaces {
		parts = append(parts, fmt.Sprintf("interface role %d ifindex %d/%v %v %q mtu %d", in.Role, in.IfIndex, in.HasIfIndex, in.Addr, in.Name, in.MTU))
	}
	return strings.Join(parts, "; ")
}
