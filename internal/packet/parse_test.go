package packet

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// norm makes empty slices nil so that reflect.DeepEqual compares contents.
func norm(m Message) Message {
	z := func(b []byte) []byte {
		if len(b) == 0 {
			return nil
		}
		return b
	}
	m.Echo.Data = z(m.Echo.Data)
	m.Quote.Echo.Data = z(m.Quote.Echo.Data)
	m.Quote.UDP.Payload = z(m.Quote.UDP.Payload)
	m.Quote.Transport = z(m.Quote.Transport)
	m.Ext = z(m.Ext)
	if len(m.MPLS) == 0 {
		m.MPLS = nil
	}
	return m
}

func u16(b []byte, off int) uint16 { return binary.BigEndian.Uint16(b[off:]) }

type parseCase struct {
	name    string
	in      []byte
	want    Message
	wantErr string // a substring of the error; "" means success
}

func runParse(t *testing.T, fn func([]byte) (Message, error), name string, tests []parseCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fn(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("%s(% x) error = %v; want one containing %q", name, tt.in, err, tt.wantErr)
				}
				if !reflect.DeepEqual(got, Message{}) {
					t.Errorf("%s returned %+v with its error; want a zero Message", name, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s(% x) error = %v; want nil", name, tt.in, err)
			}
			if g, w := norm(got), norm(tt.want); !reflect.DeepEqual(g, w) {
				t.Errorf("%s(% x)\n got %+v\nwant %+v", name, tt.in, g, w)
			}
		})
	}
}

// Probes as sent, and the IP headers a router would quote for them.
var (
	echoProbe4 = AppendEcho(nil, false, 0x1234, 7, []byte("abcd"))
	echoProbe6 = AppendEcho(nil, true, 0x4321, 9, []byte("wxyz"))
	udpToken   = func() []byte { b := make([]byte, TokenLen); PutToken(b, 0x0102, 0xfeedf00d); return b }()
	udpProbe   = udpHeader(40000, 33434, 0x0005, udpToken)
	tcpProbe   = tcpSYN(40001, 443, 0xa1b2c3d4)
)

func quotedIP4(proto uint8, n int) IP {
	return IP{Version: 4, Len: IPv4HeaderLen + n, ID: 0x1111, DF: true, TTL: 1, Protocol: proto, Src: me4, Dst: target4}
}

func outerIP4(n int) IP {
	return IP{Version: 4, Len: IPv4HeaderLen + n, ID: 0x2222, DF: true, TTL: 250, Protocol: ProtoICMP, Src: router4, Dst: me4}
}

func TestParseICMPv4(t *testing.T) {
	// wrap puts an ICMP message in the packet a raw socket reads.
	wrap := func(icmpMsg []byte) []byte { return ipv4Packet(t, ProtoICMP, router4, me4, 250, 0x2222, icmpMsg) }
	quote := func(proto uint8, transport []byte) []byte {
		return ipv4Packet(t, proto, me4, target4, 1, 0x1111, transport)
	}

	teEcho := icmpError(11, 0, [4]byte{}, quote(ProtoICMP, echoProbe4))
	teUDP := icmpError(11, 0, [4]byte{}, quote(ProtoUDP, udpProbe))
	teUDP8 := icmpError(11, 0, [4]byte{}, quote(ProtoUDP, udpProbe)[:28]) // RFC 792: IP header + 8 bytes
	teTCP8 := icmpError(11, 0, [4]byte{}, quote(ProtoTCP, tcpProbe)[:28])
	teTCP := icmpError(11, 1, [4]byte{}, quote(ProtoTCP, tcpProbe))
	reply := AppendEcho(nil, false, 0x1234, 7, []byte("abcd"))
	reply[0] = ICMPv4EchoReply
	binary.BigEndian.PutUint16(reply[2:], 0)
	binary.BigEndian.PutUint16(reply[2:], naiveChecksum(reply))
	portUnreach := icmpError(3, 3, [4]byte{}, quote(ProtoUDP, udpProbe))
	fragNeeded := icmpError(3, 4, [4]byte{0, 0, 0x05, 0x78}, quote(ProtoUDP, udpProbe))
	paramProb := icmpError(12, 0, [4]byte{9}, quote(ProtoUDP, udpProbe))
	quench := icmpError(4, 0, [4]byte{}, quote(ProtoTCP, tcpProbe))
	timestamp := icmpError(13, 0, [4]byte{1, 2, 3, 4}, make([]byte, 12))

	// An inner header with options (IHL 6), as a router quotes it.
	withOpts := quote(ProtoUDP, udpProbe)
	withOpts = cat([]byte{0x46}, withOpts[1:20], []byte{1, 1, 1, 0}, withOpts[20:])
	binary.BigEndian.PutUint16(withOpts[2:], uint16(len(withOpts)))
	teOpts := icmpError(11, 0, [4]byte{}, withOpts)
	// An outer header with options.
	outerOpts := wrap(teEcho)
	outerOpts = cat([]byte{0x46}, outerOpts[1:20], []byte{1, 1, 1, 0}, outerOpts[20:])

	labels := []MPLSLabel{{Label: 16014, TC: 5, S: false, TTL: 254}, {Label: 3, TC: 0, S: true, TTL: 1}}
	ext := mplsExt(true, labels...)
	// Compliant, short datagram: padded to 128, length = 32 words.
	compliant := icmpError(11, 0, [4]byte{0, 32}, pad(quote(ProtoUDP, udpProbe), 128), ext)
	// Compliant, long datagram (160 bytes = 40 words).
	longProbe := udpHeader(40000, 33434, 5, cat(udpToken, make([]byte, 124)))
	long := icmpError(11, 0, [4]byte{0, 40}, quote(ProtoUDP, longProbe), ext)
	// Non-compliant: length 0, extension at 128 anyway.
	nonCompliant := icmpError(11, 0, [4]byte{}, pad(quote(ProtoUDP, udpProbe), 128), ext)
	// Length 0 and a long quote that is all probe payload: no extension.
	longNoExt := icmpError(11, 0, [4]byte{}, quote(ProtoUDP, udpHeader(1, 2, 3, bytes.Repeat([]byte{0x20}, 200))))
	// A length below 128 with data after 128: the extension is at 128.
	shortLen := icmpError(11, 0, [4]byte{0, 9}, pad(quote(ProtoUDP, udpProbe), 128), ext)
	// A compliant message whose extension checksum is wrong.
	badExt := append([]byte(nil), ext...)
	badExt[2] ^= 0xff
	badSum := icmpError(11, 0, [4]byte{0, 32}, pad(quote(ProtoUDP, udpProbe), 128), badExt)
	// A length that overstates the data.
	overLen := icmpError(11, 0, [4]byte{0, 200}, quote(ProtoUDP, udpProbe))

	// x/net builds an RFC 4884 message with an MPLS object.
	xlabels := []icmp.MPLSLabel{{Label: 16014, TC: 5, TTL: 254}, {Label: 3, S: true, TTL: 1}}
	xnet, err := (&icmp.Message{Type: ipv4.ICMPTypeTimeExceeded, Body: &icmp.TimeExceeded{
		Data:       quote(ProtoUDP, udpProbe),
		Extensions: []icmp.Extension{&icmp.MPLSLabelStack{Class: 1, Type: 1, Labels: xlabels}},
	}}).Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}

	udpQuote := func(n int) Quote {
		return Quote{
			IP:        quotedIP4(ProtoUDP, n),
			UDP:       UDP{Src: 40000, Dst: 33434, Len: uint16(n), Checksum: 5, Payload: udpToken},
			Transport: udpProbe,
		}
	}
	withExt := func(m Message, e []byte, l []MPLSLabel) Message { m.Ext, m.MPLS = e, l; return m }
	te := func(code uint8, b []byte, q Quote) Message {
		return Message{Type: 11, Code: code, Checksum: u16(b, 2), IP: outerIP4(len(b)), Quote: q}
	}
	longQuote := udpQuote(len(longProbe))
	longQuote.UDP.Payload, longQuote.Transport = longProbe[8:], longProbe
	longNoExtProbe := udpHeader(1, 2, 3, bytes.Repeat([]byte{0x20}, 200))
	optsQuote := udpQuote(len(udpProbe))
	optsQuote.IP.Len += 4

	tests := []parseCase{
		{name: "time exceeded for icmp echo", in: wrap(teEcho), want: te(0, teEcho, Quote{
			IP:        quotedIP4(ProtoICMP, len(echoProbe4)),
			Echo:      Echo{Type: 8, Checksum: u16(echoProbe4, 2), ID: 0x1234, Seq: 7, Data: []byte("abcd")},
			Transport: echoProbe4,
		})},
		{name: "time exceeded for udp with payload", in: wrap(teUDP), want: te(0, teUDP, udpQuote(len(udpProbe)))},
		{name: "time exceeded for udp, 8 bytes quoted", in: wrap(teUDP8), want: te(0, teUDP8, Quote{
			IP:        quotedIP4(ProtoUDP, len(udpProbe)),
			UDP:       UDP{Src: 40000, Dst: 33434, Len: uint16(len(udpProbe)), Checksum: 5},
			Transport: udpProbe[:8],
		})},
		{name: "time exceeded for tcp, 8 bytes quoted", in: wrap(teTCP8), want: te(0, teTCP8, Quote{
			IP:        quotedIP4(ProtoTCP, 20),
			TCP:       TCP{Src: 40001, Dst: 443, Seq: 0xa1b2c3d4},
			Transport: tcpProbe[:8],
		})},
		{name: "fragment reassembly time exceeded for tcp", in: wrap(teTCP), want: te(1, teTCP, Quote{
			IP:        quotedIP4(ProtoTCP, 20),
			TCP:       TCP{Src: 40001, Dst: 443, Seq: 0xa1b2c3d4},
			Transport: tcpProbe,
		})},
		{name: "echo reply", in: wrap(reply), want: Message{Type: 0, Checksum: u16(reply, 2), IP: outerIP4(len(reply)),
			Echo: Echo{Type: 0, Checksum: u16(reply, 2), ID: 0x1234, Seq: 7, Data: []byte("abcd")}}},
		{name: "port unreachable", in: wrap(portUnreach), want: Message{Type: 3, Code: 3, Checksum: u16(portUnreach, 2),
			IP: outerIP4(len(portUnreach)), Quote: udpQuote(len(udpProbe))}},
		{name: "fragmentation needed", in: wrap(fragNeeded), want: Message{Type: 3, Code: 4, Checksum: u16(fragNeeded, 2),
			IP: outerIP4(len(fragNeeded)), MTU: 1400, Quote: udpQuote(len(udpProbe))}},
		{name: "parameter problem", in: wrap(paramProb), want: Message{Type: 12, Checksum: u16(paramProb, 2),
			IP: outerIP4(len(paramProb)), Pointer: 9, Quote: udpQuote(len(udpProbe))}},
		{name: "source quench", in: wrap(quench), want: Message{Type: 4, Checksum: u16(quench, 2),
			IP: outerIP4(len(quench)), Quote: Quote{IP: quotedIP4(ProtoTCP, 20), TCP: TCP{Src: 40001, Dst: 443, Seq: 0xa1b2c3d4}, Transport: tcpProbe}}},
		{name: "other types carry no quote", in: wrap(timestamp), want: Message{Type: 13, Checksum: u16(timestamp, 2), IP: outerIP4(len(timestamp))}},
		{name: "inner header options", in: wrap(teOpts), want: te(0, teOpts, optsQuote)},
		{name: "outer header options", in: outerOpts, want: func() Message {
			m := te(0, teEcho, Quote{
				IP:        quotedIP4(ProtoICMP, len(echoProbe4)),
				Echo:      Echo{Type: 8, Checksum: u16(echoProbe4, 2), ID: 0x1234, Seq: 7, Data: []byte("abcd")},
				Transport: echoProbe4,
			})
			return m // the total length field was left stale: it is not trusted
		}()},
		{name: "rfc 4884 padded datagram", in: wrap(compliant), want: withExt(te(0, compliant, udpQuote(len(udpProbe))), ext, labels)},
		{name: "rfc 4884 long datagram", in: wrap(long), want: withExt(te(0, long, longQuote), ext, labels)},
		{name: "rfc 4884 length below 128", in: wrap(shortLen), want: withExt(te(0, shortLen, udpQuote(len(udpProbe))), ext, labels)},
		{name: "rfc 4884 from x/net", in: wrap(xnet), want: withExt(te(0, xnet, udpQuote(len(udpProbe))), xnet[8+128:], labels)},
		{name: "non-compliant extension at 128", in: wrap(nonCompliant), want: withExt(te(0, nonCompliant, udpQuote(len(udpProbe))), ext, labels)},
		{name: "long quote is not an extension", in: wrap(longNoExt), want: te(0, longNoExt, Quote{
			IP:        quotedIP4(ProtoUDP, len(longNoExtProbe)),
			UDP:       UDP{Src: 1, Dst: 2, Len: uint16(len(longNoExtProbe)), Checksum: 3, Payload: longNoExtProbe[8:]},
			Transport: longNoExtProbe,
		})},
		{name: "bad extension checksum keeps the quote", in: wrap(badSum), want: withExt(te(0, badSum, udpQuote(len(udpProbe))), badExt, nil)},
		{name: "length beyond the data", in: wrap(overLen), want: te(0, overLen, udpQuote(len(udpProbe)))},

		{name: "empty", in: nil, wantErr: "truncated"},
		{name: "short outer header", in: wrap(teEcho)[:19], wantErr: "truncated"},
		{name: "outer version 6", in: append([]byte{0x65}, wrap(teEcho)[1:]...), wantErr: "version 6"},
		{name: "outer ihl 4", in: append([]byte{0x44}, wrap(teEcho)[1:]...), wantErr: "header length 16"},
		{name: "outer ihl beyond data", in: append([]byte{0x4f}, wrap(teEcho)[1:30]...), wantErr: "header length 60"},
		{name: "not icmp", in: ipv4Packet(t, ProtoUDP, router4, me4, 1, 1, teEcho), wantErr: "protocol 17"},
		{name: "short icmp header", in: wrap([]byte{11, 0, 0, 0, 0, 0, 0}), wantErr: "shorter than its header"},
		{name: "short echo reply", in: wrap(reply[:7]), wantErr: "shorter than its header"},
		{name: "empty quote", in: wrap(icmpError(11, 0, [4]byte{})), wantErr: "empty"},
		{name: "quote of ipv6", in: wrap(icmpError(11, 0, [4]byte{}, ipv6Packet(me6, target6, 1, ProtoUDP, nil, udpProbe))), wantErr: "ip version 6"},
		{name: "quote shorter than its header", in: wrap(icmpError(11, 0, [4]byte{}, quote(ProtoUDP, udpProbe)[:19])), wantErr: "truncated to 19"},
		{name: "quote ihl 0", in: wrap(icmpError(11, 0, [4]byte{}, append([]byte{0x40}, quote(ProtoUDP, udpProbe)[1:]...))), wantErr: "header length 0"},
		{name: "transport truncated", in: wrap(icmpError(11, 0, [4]byte{}, quote(ProtoUDP, udpProbe)[:24])), wantErr: "udp header truncated to 4"},
		{name: "tcp truncated", in: wrap(icmpError(11, 0, [4]byte{}, quote(ProtoTCP, tcpProbe)[:27])), wantErr: "tcp header truncated to 7"},
		{name: "icmp truncated", in: wrap(icmpError(3, 1, [4]byte{}, quote(ProtoICMP, echoProbe4)[:20])), wantErr: "icmp header truncated to 0"},
		{name: "non-first fragment", in: wrap(icmpError(11, 1, [4]byte{}, func() []byte {
			q := quote(ProtoUDP, udpProbe)
			q[7] = 0x10
			return q
		}())), wantErr: "non-first fragment"},
	}
	runParse(t, ParseICMPv4, "ParseICMPv4", tests)
}

func TestParseICMPv4PaddingTrimmed(t *testing.T) {
	// A 36-byte probe padded to 128 by an RFC 4884 router: the padding is
	// not payload.
	q := pad(ipv4Packet(t, ProtoUDP, me4, target4, 1, 1, udpProbe), 128)
	m, err := ParseICMPv4(ipv4Packet(t, ProtoICMP, router4, me4, 64, 1, icmpError(11, 0, [4]byte{0, 32}, q, mplsExt(false, MPLSLabel{Label: 1, S: true}))))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Quote.UDP.Payload; !bytes.Equal(got, udpToken) {
		t.Errorf("UDP payload = % x; want % x", got, udpToken)
	}
	if got := m.Quote.Transport; len(got) != len(udpProbe) {
		t.Errorf("Transport is %d bytes; want %d", len(got), len(udpProbe))
	}
	if want := []MPLSLabel{{Label: 1, S: true}}; !reflect.DeepEqual(m.MPLS, want) {
		t.Errorf("MPLS = %+v; want %+v", m.MPLS, want)
	}
}

func TestParseICMPv6(t *testing.T) {
	quote := func(proto uint8, exts []ext6, transport []byte) []byte {
		return ipv6Packet(me6, target6, 1, proto, exts, transport)
	}
	qip := func(proto uint8, n int) IP {
		return IP{Version: 6, TOS: 0x01, Flow: 0x2345, Len: IPv6HeaderLen + n, TTL: 1, Protocol: proto, Src: me6, Dst: target6}
	}
	udpQuote := func(n int) Quote {
		return Quote{
			IP:        qip(ProtoUDP, n),
			UDP:       UDP{Src: 40000, Dst: 33434, Len: uint16(len(udpProbe)), Checksum: 5, Payload: udpToken},
			Transport: udpProbe,
		}
	}
	msg := func(typ, code uint8, rest [4]byte, data ...[]byte) []byte {
		b := icmpError(typ, code, rest, data...)
		b[2], b[3] = 0xab, 0xcd // the kernel checked the real checksum; this one is just carried
		return b
	}
	teEcho := msg(3, 0, [4]byte{}, quote(ProtoICMPv6, nil, echoProbe6))
	exts := []ext6{
		{typ: ipv6HopByHop, body: []byte{1, 4, 0, 0, 0, 0}},
		{typ: ipv6DestOpts, body: make([]byte, 14)},
		{typ: ipv6Routing, body: make([]byte, 6)},
		{typ: ipv6Fragment, body: []byte{0, 1, 0, 0, 0, 42}}, // offset 0, more fragments
		{typ: ipv6AH, body: []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
	}
	teExt := msg(3, 0, [4]byte{}, quote(ProtoUDP, exts, udpProbe))
	portUnreach := msg(1, 4, [4]byte{}, quote(ProtoUDP, nil, udpProbe))
	ptb := msg(2, 0, [4]byte{0, 0, 0x05, 0x00}, quote(ProtoUDP, nil, udpProbe))
	paramProb := msg(4, 1, [4]byte{0, 0, 0, 40}, quote(ProtoUDP, nil, udpProbe))
	reply := msg(129, 0, [4]byte{0x43, 0x21, 0, 9}, []byte("wxyz"))
	labels := []MPLSLabel{{Label: 0xfffff, TC: 7, S: true, TTL: 255}}
	ext := mplsExt(true, labels...)
	compliant := msg(3, 0, [4]byte{16}, pad(quote(ProtoUDP, nil, udpProbe), 128), ext)
	nonCompliant := msg(1, 4, [4]byte{}, pad(quote(ProtoUDP, nil, udpProbe), 128), ext)
	xnet, err := (&icmp.Message{Type: ipv6.ICMPTypeTimeExceeded, Body: &icmp.TimeExceeded{
		Data:       quote(ProtoUDP, nil, udpProbe),
		Extensions: []icmp.Extension{&icmp.MPLSLabelStack{Class: 1, Type: 1, Labels: []icmp.MPLSLabel{{Label: 0xfffff, TC: 7, S: true, TTL: 255}}}},
	}}).Marshal(icmp.IPv6PseudoHeader(router4.AsSlice(), me6.AsSlice()))
	if err != nil {
		t.Fatal(err)
	}

	extLen := 8 + 16 + 8 + 8 + 16
	teExtQuote := udpQuote(extLen + len(udpProbe))
	teExtQuote.IP.Protocol = ProtoUDP

	tests := []parseCase{
		{name: "time exceeded for echo", in: teEcho, want: Message{Type: 3, Checksum: 0xabcd, Quote: Quote{
			IP:        qip(ProtoICMPv6, len(echoProbe6)),
			Echo:      Echo{Type: 128, ID: 0x4321, Seq: 9, Data: []byte("wxyz")},
			Transport: echoProbe6,
		}}},
		{name: "extension headers walked", in: teExt, want: Message{Type: 3, Checksum: 0xabcd, Quote: teExtQuote}},
		{name: "port unreachable", in: portUnreach, want: Message{Type: 1, Code: 4, Checksum: 0xabcd, Quote: udpQuote(len(udpProbe))}},
		{name: "packet too big", in: ptb, want: Message{Type: 2, Checksum: 0xabcd, MTU: 1280, Quote: udpQuote(len(udpProbe))}},
		{name: "parameter problem", in: paramProb, want: Message{Type: 4, Code: 1, Checksum: 0xabcd, Pointer: 40, Quote: udpQuote(len(udpProbe))}},
		{name: "echo reply", in: reply, want: Message{Type: 129, Checksum: 0xabcd,
			Echo: Echo{Type: 129, Checksum: 0xabcd, ID: 0x4321, Seq: 9, Data: []byte("wxyz")}}},
		{name: "other types carry no quote", in: msg(135, 0, [4]byte{}, make([]byte, 16)), want: Message{Type: 135, Checksum: 0xabcd}},
		{name: "rfc 4884 padded datagram", in: compliant, want: Message{Type: 3, Checksum: 0xabcd, Quote: udpQuote(len(udpProbe)), Ext: ext, MPLS: labels}},
		{name: "rfc 4884 from x/net", in: xnet, want: Message{Type: 3, Checksum: u16(xnet, 2), Quote: udpQuote(len(udpProbe)), Ext: xnet[8+128:], MPLS: labels}},
		{name: "non-compliant extension at 128", in: nonCompliant, want: Message{Type: 1, Code: 4, Checksum: 0xabcd, Quote: udpQuote(len(udpProbe)), Ext: ext, MPLS: labels}},

		{name: "empty", in: nil, wantErr: "shorter than its header"},
		{name: "short header", in: teEcho[:7], wantErr: "shorter than its header"},
		{name: "quote of ipv4", in: msg(3, 0, [4]byte{}, ipv4Packet(t, ProtoUDP, me4, target4, 1, 1, udpProbe)), wantErr: "ip version 4"},
		{name: "quote shorter than its header", in: teEcho[:8+39], wantErr: "truncated to 39"},
		{name: "extension header truncated", in: teExt[:8+40+12], wantErr: "extension header 60 truncated"},
		{name: "extension header length missing", in: teExt[:8+40+1], wantErr: "extension header 0 truncated"},
		{name: "transport truncated", in: portUnreach[:8+40+7], wantErr: "udp header truncated to 7"},
		{name: "non-first fragment", in: msg(3, 1, [4]byte{}, quote(ProtoUDP, []ext6{{typ: ipv6Fragment, body: []byte{0, 8, 0, 0, 0, 1}}}, udpProbe)), wantErr: "non-first fragment"},
	}
	runParse(t, ParseICMPv6, "ParseICMPv6", tests)
}

func TestParseEcho(t *testing.T) {
	req := AppendEcho(nil, false, 0xaaaa, 0x0102, []byte("payload"))
	req6 := AppendEcho(nil, true, 0xbbbb, 0x0304, nil)
	tests := []struct {
		name    string
		in      []byte
		want    Echo
		wantErr bool
	}{
		{"quoted v4 request", req, Echo{Type: 8, Checksum: u16(req, 2), ID: 0xaaaa, Seq: 0x0102, Data: []byte("payload")}, false},
		{"v4 request, header only", req[:8], Echo{Type: 8, Checksum: u16(req, 2), ID: 0xaaaa, Seq: 0x0102}, false},
		{"v6 request", req6, Echo{Type: 128, ID: 0xbbbb, Seq: 0x0304}, false},
		{"v4 reply", []byte{0, 0, 1, 2, 3, 4, 5, 6, 'x'}, Echo{Checksum: 0x0102, ID: 0x0304, Seq: 0x0506, Data: []byte("x")}, false},
		{"v6 reply", []byte{129, 0, 0, 0, 0, 1, 0, 2}, Echo{Type: 129, ID: 1, Seq: 2}, false},
		{"empty", nil, Echo{}, true},
		{"7 bytes", req[:7], Echo{}, true},
		{"time exceeded", []byte{11, 0, 0, 0, 0, 0, 0, 0}, Echo{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEcho(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseEcho(% x) error = %v; want error %v", tt.in, err, tt.wantErr)
			}
			if len(got.Data) == 0 {
				got.Data = nil
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseEcho(% x) = %+v; want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseTCP(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    TCP
		wantErr bool
	}{
		{"full header", tcpProbe, TCP{Src: 40001, Dst: 443, Seq: 0xa1b2c3d4}, false},
		{"8 bytes", tcpProbe[:8], TCP{Src: 40001, Dst: 443, Seq: 0xa1b2c3d4}, false},
		{"7 bytes", tcpProbe[:7], TCP{}, true},
		{"empty", nil, TCP{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTCP(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseTCP(% x) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestToken(t *testing.T) {
	const magic = 0xfeedf00d
	b := make([]byte, 12)
	for i := range b {
		b[i] = 0xee
	}
	PutToken(b, 0xbeef, magic)
	if want := []byte{0xfe, 0xed, 0xf0, 0x0d, 0xbe, 0xef, 0, 0, 0xee}; !bytes.Equal(b[:9], want) {
		t.Fatalf("PutToken wrote % x; want % x", b[:9], want)
	}
	tests := []struct {
		name    string
		in      []byte
		magic   uint32
		wantSeq uint16
		wantOK  bool
	}{
		{"match", b, magic, 0xbeef, true},
		{"exact length", b[:8], magic, 0xbeef, true},
		{"other magic", b, magic + 1, 0, false},
		{"short", b[:7], magic, 0, false},
		{"empty (8-byte quote)", nil, magic, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seq, ok := Token(tt.in, tt.magic)
			if seq != tt.wantSeq || ok != tt.wantOK {
				t.Errorf("Token(% x, %#x) = %#x, %v; want %#x, %v", tt.in, tt.magic, seq, ok, tt.wantSeq, tt.wantOK)
			}
		})
	}
	t.Run("short buffer panics", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("PutToken on 7 bytes did not panic")
			}
		}()
		PutToken(make([]byte, 7), 1, 1)
	})
}

// Example of the unprivileged UDP backend's round trip: the token survives
// in the payload a router quotes.
func ExampleToken() {
	payload := make([]byte, 16)
	PutToken(payload, 42, 0xc0ffee00)
	// ... sent; the error queue returns the quoted payload ...
	seq, ok := Token(payload, 0xc0ffee00)
	fmt.Println(seq, ok)
	// Output: 42 true
}
