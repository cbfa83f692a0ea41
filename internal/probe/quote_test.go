package probe

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/pingerplot/pingerplot/internal/packet"
)

// timeExceeded returns the ICMPv4 time exceeded a router at 10.0.2.1 sends
// for a raw UDP probe (Paris checksum seq, token with magic), as the
// router received it: after translate has rewritten the probe, if not nil.
func timeExceeded(t *testing.T, seq uint16, magic uint32, tos uint8, quoteLen int, translate func(ip, udp []byte)) packet.Message {
	t.Helper()
	src := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), 40000)
	dst := netip.AddrPortFrom(netip.MustParseAddr("10.0.9.2"), 33434)
	payload := make([]byte, 30)
	packet.PutToken(payload, seq, magic)
	udp, err := packet.AppendParisUDP(nil, src, dst, seq, payload)
	if err != nil {
		t.Fatal(err)
	}
	inner, err := packet.AppendIPv4(nil, packet.IP{TOS: tos, TTL: 1, Protocol: packet.ProtoUDP, Src: src.Addr(), Dst: dst.Addr()}, len(udp))
	if err != nil {
		t.Fatal(err)
	}
	if translate != nil {
		translate(inner, udp)
	}
	quote := append(inner, udp...)
	quote = quote[:min(quoteLen, len(quote))]
	icmp := append([]byte{packet.ICMPv4TimeExceeded, 0, 0, 0, 0, 0, 0, 0}, quote...)
	binary.BigEndian.PutUint16(icmp[2:], packet.Checksum(icmp))
	outer, err := packet.AppendIPv4(nil, packet.IP{TTL: 64, Protocol: packet.ProtoICMP,
		Src: netip.MustParseAddr("10.0.2.1"), Dst: src.Addr()}, len(icmp))
	if err != nil {
		t.Fatal(err)
	}
	m, err := packet.ParseICMPv4(append(outer, icmp...))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// masquerade rewrites the probe's source address and port the way a
// translator does, adjusting the UDP checksum for both (RFC 3022 §4.2).
func masquerade(addr [4]byte, port uint16) func(ip, udp []byte) {
	return func(ip, udp []byte) {
		c := binary.BigEndian.Uint16(udp[6:])
		for i := 0; i < 4; i += 2 {
			c = packet.Adjust(c, binary.BigEndian.Uint16(ip[12+i:]), binary.BigEndian.Uint16(addr[i:]))
		}
		c = packet.Adjust(c, binary.BigEndian.Uint16(udp[0:]), port)
		copy(ip[12:16], addr[:])
		binary.BigEndian.PutUint16(udp[0:], port)
		binary.BigEndian.PutUint16(udp[6:], c)
	}
}

func TestQuotedDetails(t *testing.T) {
	const magic, seq, sport = 0x5eed1234, 0x0123, 40000
	sent := netip.MustParseAddr("10.0.0.1")
	tests := []struct {
		name      string
		translate func(ip, udp []byte)
		quoteLen  int // bytes of the probe the router quotes (at most all of it)
		src       netip.Addr
		wantSeq   uint16
		wantToken bool
		wantNAT   bool
	}{
		{"untouched", nil, 1000, sent, seq, true, false},
		{"untouched, source unknown", nil, 1000, netip.Addr{}, seq, true, false},
		{"address and port translated", masquerade([4]byte{10, 0, 1, 1}, 61000), 1000, sent, seq, true, true},
		{"address translated, port kept", masquerade([4]byte{10, 0, 1, 1}, sport), 1000, sent, seq, true, true},
		{"address translated, source unknown: the checksum tells", masquerade([4]byte{10, 0, 1, 1}, sport), 1000, netip.Addr{}, seq, true, true},
		{"RFC 792 quote, untouched", nil, 28, sent, seq, false, false},
		{"RFC 792 quote, port kept: only the address tells", masquerade([4]byte{10, 0, 1, 1}, sport), 28, sent, 0, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := timeExceeded(t, seq, magic, 0xb9, tc.quoteLen, tc.translate)
			q := m.Quote
			got, fromToken := rawUDPSeq(&q, magic)
			if fromToken != tc.wantToken {
				t.Errorf("rawUDPSeq fromToken = %v; want %v", fromToken, tc.wantToken)
			}
			if tc.wantToken && got != tc.wantSeq {
				t.Errorf("rawUDPSeq = %#04x; want %#04x", got, tc.wantSeq)
			}
			d := quotedDetails(&q, true, tc.src, sport, seq)
			if !d.Quoted || d.TOS != 0xb9 {
				t.Errorf("details Quoted=%v TOS=%#02x; want true 0xb9", d.Quoted, d.TOS)
			}
			if !d.NATChecked {
				t.Errorf("details NATChecked = false; want true for an IPv4 UDP quote")
			}
			if d.NAT != tc.wantNAT {
				t.Errorf("details NAT = %v; want %v (quote src %v port %d checksum %#04x)", d.NAT, tc.wantNAT, q.IP.Src, q.UDP.Src, q.UDP.Checksum)
			}
		})
	}
}

// TestQuotedDetailsOtherModes: only IPv4 UDP probes are judged for
// translation; an ICMP quote gives the TOS alone.
func TestQuotedDetailsOtherModes(t *testing.T) {
	m := timeExceeded(t, 7, 1, 0x02, 1000, masquerade([4]byte{10, 0, 1, 1}, 1))
	q := m.Quote
	if d := quotedDetails(&q, false, netip.MustParseAddr("10.0.0.1"), 40000, 7); d.NAT || d.NATChecked || !d.Quoted || d.TOS != 0x02 {
		t.Errorf("non-UDP details = %+v; want Quoted, TOS 0x02, NAT not judged", d)
	}
	q.IP.Version = 6
	if natRewrote(&q, netip.MustParseAddr("10.0.0.1"), 40000, 7) {
		t.Errorf("natRewrote on an IPv6 quote = true; want false")
	}
}
