package result

import (
	"fmt"
	"strconv"
	"strings"
)

// The TOS byte (IPv4) or traffic class (IPv6) holds two fields: the DSCP
// in its high six bits (RFC 2474) and ECN in its low two (RFC 3168).

// DSCP returns the DSCP field of a TOS byte.
func DSCP(tos uint8) uint8 { return tos >> 2 }

// ECN returns the ECN field of a TOS byte.
func ECN(tos uint8) uint8 { return tos & 3 }

// ECN codepoints (RFC 3168 §5).
const (
	NotECT = 0 // not ECN-capable
	ECT1   = 1
	ECT0   = 2
	CE     = 3 // congestion experienced
)

// dscpNames are the code points with well-known names: class selectors
// (RFC 2474), assured forwarding (RFC 2597), expedited forwarding (RFC
// 3246), voice admit (RFC 5865) and lower effort (RFC 8622).
var dscpNames = map[uint8]string{
	0: "CS0", 8: "CS1", 16: "CS2", 24: "CS3", 32: "CS4", 40: "CS5", 48: "CS6", 56: "CS7",
	10: "AF11", 12: "AF12", 14: "AF13", 18: "AF21", 20: "AF22", 22: "AF23",
	26: "AF31", 28: "AF32", 30: "AF33", 34: "AF41", 36: "AF42", 38: "AF43",
	46: "EF", 44: "VA", 1: "LE",
}

// DSCPName names a DSCP value: "EF", "AF41", "CS0" and so on, or its
// decimal number when it has no name.
func DSCPName(dscp uint8) string {
	if n, ok := dscpNames[dscp&0x3f]; ok {
		return n
	}
	return strconv.Itoa(int(dscp & 0x3f))
}

// ECNName names an ECN codepoint the way RFC 3168 does.
func ECNName(ecn uint8) string {
	switch ecn & 3 {
	case ECT1:
		return "ECT(1)"
	case ECT0:
		return "ECT(0)"
	case CE:
		return "CE"
	}
	return "Not-ECT"
}

// ParseTOS reads a TOS setting: a number 0-255 (decimal, or hex with 0x,
// as mtr's --tos takes it), or a DSCP name or number and an ECN codepoint
// joined by "+", such as "EF", "AF41+ECT(0)", "ef+ect0" or "46+ECT1".
func ParseTOS(s string) (uint8, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if !strings.Contains(s, "+") {
		if v, err := strconv.ParseUint(s, 0, 8); err == nil {
			return uint8(v), nil
		}
		if strings.HasPrefix(s, "0") || isDigits(s) {
			return 0, fmt.Errorf("TOS %q out of range: want 0-255, or a DSCP name such as EF or AF41 with an optional +ECT(0)", s)
		}
	}
	var dscp, ecn uint8
	var haveDSCP, haveECN bool
	for _, part := range strings.Split(s, "+") {
		p := strings.ToUpper(strings.TrimSpace(part))
		if e, ok := parseECN(p); ok && !haveECN {
			ecn, haveECN = e, true
			continue
		}
		if d, ok := parseDSCP(p); ok && !haveDSCP {
			dscp, haveDSCP = d, true
			continue
		}
		return 0, fmt.Errorf("TOS %q: %q is neither a DSCP (a name such as EF, AF41, CS1 or a number 0-63) nor an ECN codepoint (Not-ECT, ECT(0), ECT(1), CE), or is given twice", s, part)
	}
	return dscp<<2 | ecn, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

func parseECN(p string) (uint8, bool) {
	switch strings.NewReplacer("(", "", ")", "", "-", "", "_", "").Replace(p) {
	case "NOTECT":
		return NotECT, true
	case "ECT1":
		return ECT1, true
	case "ECT0":
		return ECT0, true
	case "CE":
		return CE, true
	}
	return 0, false
}

func parseDSCP(p string) (uint8, bool) {
	for v, n := range dscpNames {
		if n == p {
			return v, true
		}
	}
	if v, err := strconv.ParseUint(p, 10, 8); err == nil && v < 64 {
		return uint8(v), true
	}
	return 0, false
}

// FormatTOS writes a TOS byte the way ParseTOS reads it back: the DSCP's
// name, and "+" and the ECN codepoint when it is not Not-ECT ("EF",
// "AF41+ECT(0)"). A DSCP without a name is its number, and alone a number
// means the whole byte, so it always comes with its ECN ("3+Not-ECT").
func FormatTOS(tos uint8) string {
	s := DSCPName(DSCP(tos))
	_, named := dscpNames[DSCP(tos)]
	if e := ECN(tos); e != NotECT || !named {
		s += "+" + ECNName(e)
	}
	return s
}
