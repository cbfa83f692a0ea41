package packet

import "encoding/binary"

// TokenLen is the size of a probe token.
const TokenLen = 8

// PutToken writes a probe token to the start of b: a 4-byte magic, the
// 2-byte sequence number and 2 bytes reserved as 0.
//
// The unprivileged UDP backend sends every probe of a flow from one socket
// with fixed ports, so the kernel cannot tell their errors apart; the token
// at the start of the payload can, because the destination and routers
// quote the payload back and Linux hands it to the socket's error queue. The
// magic, random per socket, keeps a stray datagram from matching a probe.
//
// b must hold at least TokenLen bytes; like binary.BigEndian.PutUint32,
// PutToken panics otherwise, since that is a bug in the caller, not input.
func PutToken(b []byte, seq uint16, magic uint32) {
	_ = b[TokenLen-1] // one bounds check, with a clear index in the panic
	binary.BigEndian.PutUint32(b, magic)
	binary.BigEndian.PutUint16(b[4:], seq)
	b[6], b[7] = 0, 0
}

// Token reads a probe token from the start of b, such as the payload a UDP
// socket reads from its error queue, and reports whether it carries magic.
// Routers that quote only 8 bytes past the IP header (RFC 792) leave no
// payload, and so no token.
func Token(b []byte, magic uint32) (seq uint16, ok bool) {
	if len(b) < TokenLen || binary.BigEndian.Uint32(b) != magic {
		return 0, false
	}
	return binary.BigEndian.Uint16(b[4:]), true
}
