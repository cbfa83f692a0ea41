package probe

import (
	"net/netip"

	"github.com/pingerplot/pingerplot/internal/packet"
)

// What a router's quote of a probe tells beyond matching it: the TOS byte
// (traffic class) as the probe arrived there, and whether a translator
// rewrote the probe on the way. Only raw sockets see quotes with their IP
// header; the unprivileged sockets' error queues hand back the transport
// part alone, so their replies leave Details.Quoted false.

// quotedDetails returns the details a raw socket's quote gives: the TOS,
// and for an IPv4 UDP probe whether it was translated (natRewrote). src,
// sport and check are what the probe was sent with; src may be the zero
// Addr when it is not known, and is then not compared.
func quotedDetails(q *packet.Quote, udp bool, src netip.Addr, sport, check uint16) Details {
	d := Details{Quoted: true, TOS: q.IP.TOS}
	if udp && q.IP.Version == 4 {
		d.NAT, d.NATChecked = natRewrote(q, src, sport, check), true
	}
	return d
}

// natRewrote reports whether an IPv4 UDP probe's quote differs from what
// was sent in a field a network address translator rewrites: the source
// address, the source port, or the UDP checksum, which covers both and
// which a translator adjusts (RFC 3022 §4.2). A translator that follows
// RFC 5508 translates the quote back on its way to the client, so this
// shows only translators that leave their mark, as many do (Trippy's and
// Dublin traceroute's NAT detection rest on the same fact). Linux's own
// conntrack NAT restores the quote exactly and stays invisible.
func natRewrote(q *packet.Quote, src netip.Addr, sport, check uint16) bool {
	if q.IP.Version != 4 || q.IP.Protocol != packet.ProtoUDP {
		return false
	}
	return (src.IsValid() && q.IP.Src.Unmap() != src.Unmap()) || q.UDP.Src != sport || q.UDP.Checksum != check
}

// rawUDPSeq finds a raw UDP probe's sequence number in its quote. Its
// payload is the Paris compensation word and then the probe token; the
// token is read when the router quoted it, because a translator on the way
// rewrites the checksum, which also carries the sequence. A router that
// quotes only the 8 bytes RFC 792 requires leaves the checksum alone to go
// by (fromToken false).
func rawUDPSeq(q *packet.Quote, magic uint32) (seq uint16, fromToken bool) {
	if p := q.UDP.Payload; len(p) >= 2+packet.TokenLen {
		if seq, ok := packet.Token(p[2:], magic); ok {
			return seq, true
		}
	}
	return q.UDP.Checksum, false
}
