//go:build linux

package probe

import (
	"encoding/binary"
	"unsafe"

	"golang.org/x/sys/unix"
)

// setTOS adds the probe's TOS byte (IPv4) or traffic class (IPv6) to the
// control scratch after setTTL, per packet like the TTL, so probes of
// different targets with different settings share one socket. A TOS of 0
// adds nothing: the socket's own default is 0.
func (b *lbatch) setTOS(v6 bool, tos uint8) {
	if tos == 0 {
		return
	}
	if v6 {
		b.appendCmsgInt(unix.SOL_IPV6, unix.IPV6_TCLASS, int32(tos))
	} else {
		b.appendCmsgInt(unix.SOL_IP, unix.IP_TOS, int32(tos))
	}
}

// appendCmsgInt appends one int-valued control message to b.oob, within the
// capacity the batch was made with (no allocation per probe).
func (b *lbatch) appendCmsgInt(level, typ int32, v int32) {
	n := len(b.oob)
	b.oob = b.oob[:n+unix.CmsgSpace(4)]
	clear(b.oob[n:])
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b.oob[n]))
	h.Level, h.Type = level, typ
	h.SetLen(unix.CmsgLen(4))
	binary.NativeEndian.PutUint32(b.oob[n+unix.CmsgLen(0):], uint32(v))
}
