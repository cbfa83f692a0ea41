package probe

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/pingerplot/pingerplot/internal/packet"
)

func TestConnectOutcome(t *testing.T) {
	tests := []struct {
		name       string
		code       uint32
		want       Kind
		wantClosed bool
		wantWhy    string // a substring of why; "" means why must be empty
	}{
		{"accepted", 0, Reached, false, ""},
		{"refused is a closed port", wsaECONNREFUSED, Reached, true, ""},
		{"stack timed out", wsaETIMEDOUT, Timeout, false, ""},
		{"net unreachable", wsaENETUNREACH, Unreachable, false, "network unreachable"},
		{"host unreachable", wsaEHOSTUNREACH, Unreachable, false, "host unreachable"},
		{"host down", wsaEHOSTDOWN, Unreachable, false, "host unreachable"},
		{"local firewall", wsaEACCES, Failed, false, "firewall"},
		{"bad address", wsaEADDRNOTAVAIL, Failed, false, "cannot be connected"},
		{"network down", wsaENETDOWN, Failed, false, "network is down"},
		{"aborted", wsaECONNABORTED, Failed, false, "aborted"},
		{"unknown code is named", 10099, Failed, false, "10099"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, closed, why := connectOutcome(tt.code)
			if k != tt.want || closed != tt.wantClosed {
				t.Errorf("connectOutcome(%d) = %v, closed=%v; want %v, closed=%v", tt.code, k, closed, tt.want, tt.wantClosed)
			}
			if (tt.wantWhy == "") != (why == "") || !strings.Contains(why, tt.wantWhy) {
				t.Errorf("connectOutcome(%d) why = %q; want it to contain %q", tt.code, why, tt.wantWhy)
			}
		})
	}
}

func TestSockRefusal(t *testing.T) {
	tests := []struct {
		name                    string
		mode                    Mode
		v6, finalHopOnly, admin bool
		want                    []string // substrings; nil means no refusal
	}{
		{"admin traces tcp", TCP, false, false, true, nil},
		{"admin traces udp v6", UDP, true, false, true, nil},
		{"admin udp final hop", UDP, false, true, true, nil},
		{"tcp service check without admin", TCP, false, true, false, nil},
		{"tcp v6 service check without admin", TCP, true, true, false, nil},
		{"tcp trace without admin", TCP, false, false, false,
			[]string{"TCP/IPv4 traces", "administrator", "use ICMP (the default)", "final-hop-only for a TCP service check"}},
		{"udp trace without admin", UDP, true, false, false,
			[]string{"UDP/IPv6 traces", "administrator", "use ICMP (the default)"}},
		{"udp final hop without admin", UDP, false, true, false,
			[]string{"UDP/IPv4", "even for the final hop", "port unreachable", "administrator", "use ICMP (the default)", "TCP final-hop-only"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := sockRefusal(tt.mode, tt.v6, tt.finalHopOnly, tt.admin)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("sockRefusal = %v; want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("sockRefusal = nil; want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("sockRefusal = %q; want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestCheckSockProbe(t *testing.T) {
	dst := mustAddr("192.0.2.1")
	tests := []struct {
		name    string
		in      Probe
		wantErr string
		want    Probe
	}{
		{"defaults timeout and unmaps", Probe{Dst: netip.AddrFrom16(dst.As16()), TTL: 3, Mode: TCP, Port: 443},
			"", Probe{Dst: dst, TTL: 3, Mode: TCP, Port: 443, Timeout: 1e9}},
		{"keeps timeout", Probe{Dst: dst, TTL: 1, Mode: UDP, Port: 53, Timeout: 5e8},
			"", Probe{Dst: dst, TTL: 1, Mode: UDP, Port: 53, Timeout: 5e8}},
		{"no address", Probe{TTL: 1, Mode: TCP, Port: 80}, "no destination", Probe{}},
		{"ttl 0", Probe{Dst: dst, Mode: TCP, Port: 80}, "TTL 0", Probe{}},
		{"ttl 256", Probe{Dst: dst, TTL: 256, Mode: TCP, Port: 80}, "TTL 256", Probe{}},
		{"icmp is not ours", Probe{Dst: dst, TTL: 1, Mode: ICMP}, "not TCP or UDP", Probe{}},
		{"port 0", Probe{Dst: dst, TTL: 1, Mode: UDP}, "port 0", Probe{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := checkSockProbe(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("checkSockProbe(%+v) error = %v; want one containing %q", tt.in, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("checkSockProbe(%+v) = %+v, %v; want %+v, nil", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestPortPool(t *testing.T) {
	type step struct {
		op     string // "take" or "release"
		port   uint16 // release: the port; take: the port wanted
		wantOK bool
	}
	tests := []struct {
		name      string
		lo, hi, s uint16
		steps     []step
	}{
		{"round robin, no reuse at once", 10, 12, 10, []step{
			{"take", 10, true}, {"release", 10, false}, {"take", 11, true}, {"take", 12, true}, {"take", 10, true},
		}},
		{"skips busy ports and wraps", 10, 12, 11, []step{
			{"take", 11, true}, {"take", 12, true}, {"take", 10, true}, {"take", 0, false},
			{"release", 12, false}, {"take", 12, true},
		}},
		{"start outside the range begins at lo", 100, 101, 7, []step{
			{"take", 100, true}, {"take", 101, true}, {"take", 0, false},
		}},
		{"range ending at 65535 wraps", 65534, 65535, 65535, []step{
			{"take", 65535, true}, {"take", 65534, true}, {"release", 65535, false}, {"take", 65535, true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPortPool(tt.lo, tt.hi, tt.s)
			for i, st := range tt.steps {
				switch st.op {
				case "release":
					p.release(st.port)
				case "take":
					got, ok := p.take()
					if ok != st.wantOK || (ok && got != st.port) {
						t.Fatalf("step %d: take() = %d, %v; want %d, %v", i, got, ok, st.port, st.wantOK)
					}
				}
			}
		})
	}
}

// icmpError builds what a raw socket reads for an ICMP error from router
// about a probe datagram dgram (IPv4: outer header included; IPv6: the
// ICMPv6 message alone).
func icmpError(t *testing.T, v6 bool, router netip.Addr, typ, code uint8, dgram []byte) []byte {
	t.Helper()
	msg := append([]byte{typ, code, 0, 0, 0, 0, 0, 0}, dgram...)
	if v6 {
		return msg
	}
	h, err := packet.AppendIPv4(nil, packet.IP{TTL: 60, Protocol: packet.ProtoICMP, Src: router, Dst: mustAddr("192.0.2.10")}, len(msg))
	if err != nil {
		t.Fatal(err)
	}
	return append(h, msg...)
}

// quotedProbe builds the probe datagram a router quotes: an IP header and
// the first 8 bytes of the transport header (all RFC 792 promises).
func quotedProbe(t *testing.T, src, dst netip.Addr, proto uint8, transport []byte) []byte {
	t.Helper()
	if dst.Is6() {
		h := make([]byte, packet.IPv6HeaderLen)
		h[0] = 0x60
		binary.BigEndian.PutUint16(h[4:], uint16(len(transport)))
		h[6], h[7] = proto, 1
		s, d := src.As16(), dst.As16()
		copy(h[8:], s[:])
		copy(h[24:], d[:])
		return append(h, transport...)
	}
	h, err := packet.AppendIPv4(nil, packet.IP{TTL: 1, Protocol: proto, Src: src, Dst: dst}, len(transport))
	if err != nil {
		t.Fatal(err)
	}
	return append(h, transport...)
}

func TestQuoteOfRawMessages(t *testing.T) {
	src4, dst4, r4 := mustAddr("192.0.2.10"), mustAddr("198.51.100.7"), mustAddr("203.0.113.1")
	src6, dst6, r6 := mustAddr("2001:db8::10"), mustAddr("2001:db8:1::7"), mustAddr("2001:db8:ff::1")
	udpHdr := []byte{0xc0, 0x01, 0x00, 0x35, 0x00, 0x20, 0xbe, 0xef} // 49153 -> 53, check 0xbeef
	tcpHdr := []byte{0xe0, 0x00, 0x01, 0xbb, 1, 2, 3, 4}             // 57344 -> 443, seq 0x01020304
	tests := []struct {
		name      string
		v6        bool
		raw       []byte
		from      netip.Addr // recvfrom's sender
		wantFrom  netip.Addr
		wantType  uint8
		wantKey   quoteKey
		wantQuote bool
	}{
		{"v4 udp time exceeded", false, icmpError(t, false, r4, 11, 0, quotedProbe(t, src4, dst4, packet.ProtoUDP, udpHdr)),
			r4, r4, 11, quoteKey{mode: UDP, dst: dst4, sport: 49153, dport: 53, check: 0xbeef}, true},
		{"v4 tcp time exceeded", false, icmpError(t, false, r4, 11, 0, quotedProbe(t, src4, dst4, packet.ProtoTCP, tcpHdr)),
			r4, r4, 11, quoteKey{mode: TCP, dst: dst4, sport: 57344, dport: 443}, true},
		{"v4 port unreachable from the target", false, icmpError(t, false, dst4, 3, 3, quotedProbe(t, src4, dst4, packet.ProtoUDP, udpHdr)),
			dst4, dst4, 3, quoteKey{mode: UDP, dst: dst4, sport: 49153, dport: 53, check: 0xbeef}, true},
		{"v4 without its header uses the sender", false,
			icmpError(t, false, r4, 11, 0, quotedProbe(t, src4, dst4, packet.ProtoTCP, tcpHdr))[packet.IPv4HeaderLen:],
			r4, r4, 11, quoteKey{mode: TCP, dst: dst4, sport: 57344, dport: 443}, true},
		{"v6 udp hop limit exceeded", true, icmpError(t, true, r6, 3, 0, quotedProbe(t, src6, dst6, packet.ProtoUDP, udpHdr)),
			r6, r6, 3, quoteKey{mode: UDP, dst: dst6, sport: 49153, dport: 53, check: 0xbeef}, true},
		{"v6 tcp admin prohibited", true, icmpError(t, true, r6, 1, 1, quotedProbe(t, src6, dst6, packet.ProtoTCP, tcpHdr)),
			r6, r6, 1, quoteKey{mode: TCP, dst: dst6, sport: 57344, dport: 443}, true},
		{"v4 echo message quotes nothing", false, func() []byte {
			e := packet.AppendEcho(nil, false, 7, 9, []byte("x"))
			h, _ := packet.AppendIPv4(nil, packet.IP{TTL: 60, Protocol: packet.ProtoICMP, Src: r4, Dst: src4}, len(e))
			return append(h, e...)
		}(), r4, r4, 8, quoteKey{}, false},
		{"v4 quote of an icmp probe is not ours", false, icmpError(t, false, r4, 11, 0,
			quotedProbe(t, src4, dst4, packet.ProtoICMP, packet.AppendEcho(nil, false, 1, 2, nil))),
			r4, r4, 11, quoteKey{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, from, err := parseRawICMP(tt.raw, tt.v6, tt.from)
			if err != nil {
				t.Fatalf("parseRawICMP: %v", err)
			}
			if from != tt.wantFrom || m.Type != tt.wantType {
				t.Errorf("parseRawICMP = from %v type %d; want from %v type %d", from, m.Type, tt.wantFrom, tt.wantType)
			}
			k, ok := quoteOf(m)
			if ok != tt.wantQuote || k != tt.wantKey {
				t.Errorf("quoteOf = %+v, %v; want %+v, %v", k, ok, tt.wantKey, tt.wantQuote)
			}
		})
	}
}

func TestParseRawICMPRejects(t *testing.T) {
	tests := []struct {
		name string
		v6   bool
		raw  []byte
		from netip.Addr
	}{
		{"empty v4", false, nil, mustAddr("192.0.2.1")},
		{"truncated v4 header", false, []byte{0x45, 0, 0, 40, 0, 0}, mustAddr("192.0.2.1")},
		{"headerless v4 from a v6 sender", false, []byte{11, 0, 0, 0, 0, 0, 0, 0}, mustAddr("2001:db8::1")},
		{"short v6", true, []byte{3, 0, 0}, mustAddr("2001:db8::1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := parseRawICMP(tt.raw, tt.v6, tt.from); err == nil {
				t.Errorf("parseRawICMP(% x) = nil error; want one", tt.raw)
			}
		})
	}
}

// TestUDPProbePayloadChecksum checks that the payload makes the checksum a
// stack computes over it, as an ordinary socket sends it, equal the probe's
// sequence number: the value a router's quote carries back.
func TestUDPProbePayloadChecksum(t *testing.T) {
	tests := []struct {
		name     string
		src, dst netip.AddrPort
		seq      uint16
		size     int
	}{
		{"v4 small", netip.MustParseAddrPort("192.0.2.10:49153"), netip.MustParseAddrPort("198.51.100.7:33434"), 1, 0},
		{"v4 odd size", netip.MustParseAddrPort("10.0.0.2:50000"), netip.MustParseAddrPort("10.9.9.9:53"), 0x1234, 37},
		{"v4 high seq", netip.MustParseAddrPort("192.0.2.10:65535"), netip.MustParseAddrPort("198.51.100.7:443"), 0xfffe, 64},
		{"v6", netip.MustParseAddrPort("[2001:db8::10]:49153"), netip.MustParseAddrPort("[2001:db8:1::7]:33434"), 0x8001, 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := udpProbePayload(tt.src, tt.dst, tt.seq, tt.size, 0xa1b2c3d4)
			if err != nil {
				t.Fatal(err)
			}
			if want := max(tt.size, packet.TokenLen+2); len(p) != want {
				t.Errorf("payload is %d bytes; want %d", len(p), want)
			}
			dgram, err := packet.AppendUDP(nil, tt.src, tt.dst, p)
			if err != nil {
				t.Fatal(err)
			}
			if got := binary.BigEndian.Uint16(dgram[6:]); got != tt.seq {
				t.Errorf("stack's checksum = %#04x; want the sequence %#04x", got, tt.seq)
			}
			if seq, ok := packet.Token(p[2:], 0xa1b2c3d4); !ok || seq != tt.seq {
				t.Errorf("token = %d, %v; want %d, true", seq, ok, tt.seq)
			}
		})
	}
	if _, err := udpProbePayload(netip.MustParseAddrPort("192.0.2.1:1"), netip.MustParseAddrPort("192.0.2.2:2"), 0, 10, 1); err == nil {
		t.Error("udpProbePayload(seq 0) = nil error; want one (0 means no checksum)")
	}
}

func TestUDPQuotedSeq(t *testing.T) {
	src, dst, r := mustAddr("192.0.2.10"), mustAddr("198.51.100.7"), mustAddr("203.0.113.1")
	const magic = 0xa1b2c3d4
	withToken := func(seq uint16, mg uint32, check uint16) []byte {
		b := []byte{0xc0, 0x01, 0x82, 0x9a, 0, 18, byte(check >> 8), byte(check), 0xee, 0xee}
		tok := make([]byte, packet.TokenLen)
		packet.PutToken(tok, seq, mg)
		return append(b, tok...)
	}
	tests := []struct {
		name   string
		udp    []byte // the quoted UDP header and payload
		want   uint16
		wantOK bool
	}{
		{"token wins over a partial checksum", withToken(0x1234, magic, 0x18a1), 0x1234, true},
		{"foreign token: checksum", withToken(0x1234, 0x01020304, 0x4321), 0x4321, true},
		{"8-byte quote: checksum", []byte{0xc0, 0x01, 0x82, 0x9a, 0, 18, 0x43, 0x21}, 0x4321, true},
		{"8-byte quote without checksum", []byte{0xc0, 0x01, 0x82, 0x9a, 0, 18, 0, 0}, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, err := parseRawICMP(icmpError(t, false, r, 11, 0, quotedProbe(t, src, dst, packet.ProtoUDP, tt.udp)), false, r)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := udpQuotedSeq(m, magic)
			if ok != tt.wantOK || (ok && got != tt.want) {
				t.Errorf("udpQuotedSeq = %#04x, %v; want %#04x, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
