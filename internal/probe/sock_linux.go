//go:build linux

package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"
)

// sockaddr converts an address and port to what sendmsg and connect take.
func sockaddr(a netip.Addr, port uint16) unix.Sockaddr {
	if a.Is4() {
		return &unix.SockaddrInet4{Addr: a.As4(), Port: int(port)}
	}
	return &unix.SockaddrInet6{Addr: a.As16(), Port: int(port)}
}

// addrOf returns the address and port in a Sockaddr from recvmsg.
func addrOf(sa unix.Sockaddr) (netip.Addr, uint16) {
	switch s := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrFrom4(s.Addr), uint16(s.Port)
	case *unix.SockaddrInet6:
		return netip.AddrFrom16(s.Addr), uint16(s.Port)
	}
	return netip.Addr{}, 0
}

// enableRecvErr turns on the error queue, where Linux delivers the ICMP
// errors (time exceeded, unreachable) that answer probes on ordinary
// sockets, and kernel receive timestamps. RFC 4884 extension offsets are
// asked for too; kernels before 5.9 refuse that, which only costs MPLS labels.
func enableRecvErr(fd int, v6 bool) error {
	if v6 {
		if err := unix.SetsockoptInt(fd, unix.SOL_IPV6, unix.IPV6_RECVERR, 1); err != nil {
			return fmt.Errorf("setsockopt IPV6_RECVERR: %w", err)
		}
		_ = unix.SetsockoptInt(fd, unix.SOL_IPV6, unix.IPV6_RECVERR_RFC4884, 1)
	} else {
		if err := unix.SetsockoptInt(fd, unix.SOL_IP, unix.IP_RECVERR, 1); err != nil {
			return fmt.Errorf("setsockopt IP_RECVERR: %w", err)
		}
		_ = unix.SetsockoptInt(fd, unix.SOL_IP, unix.IP_RECVERR_RFC4884, 1)
	}
	return enableTimestamps(fd)
}

// rcvBuf is the receive buffer asked for on shared sockets: thousands of
// answers a second queue there between wakeups.
const rcvBuf = 4 << 20

// growRcvBuf enlarges the receive buffer; beyond net.core.rmem_max only
// CAP_NET_ADMIN may go, so the forced call is tried first and may fail.
func growRcvBuf(fd int) {
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, rcvBuf) != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, rcvBuf)
	}
}

func enableTimestamps(fd int) error {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
		return fmt.Errorf("setsockopt SO_TIMESTAMPNS: %w", err)
	}
	return nil
}

// message is one datagram or error-queue entry read from a socket.
type message struct {
	data []byte
	// from is the sender for normal reads; for error-queue reads Linux puts
	// the ORIGINAL destination (and port) of the probe here.
	from     netip.Addr
	fromPort uint16
	// errqueue fields
	isErr    bool
	ee       unix.SockExtendedErr
	offender netip.Addr // the router that sent the ICMP error
	// kernel receive time, zero when the kernel attached none
	kernelTS time.Time
}

// oobSize fits a timestamp, an extended error with an IPv6 offender and a
// hop limit, with room to spare.
var oobSize = unix.CmsgSpace(16) + unix.CmsgSpace(16+28) + unix.CmsgSpace(4) + 64

// offender decodes the sockaddr that follows sock_extended_err.
func offender(b []byte) netip.Addr {
	if len(b) < 2 {
		return netip.Addr{}
	}
	switch binary.NativeEndian.Uint16(b[0:2]) {
	case unix.AF_INET:
		if len(b) >= 8 {
			return netip.AddrFrom4([4]byte(b[4:8]))
		}
	case unix.AF_INET6:
		if len(b) >= 24 {
			return netip.AddrFrom16([16]byte(b[8:24])).Unmap()
		}
	}
	return netip.Addr{}
}

// isICMPErrno reports whether err is one the kernel stores in sk_err when an
// ICMP error arrives. A send on a socket with a pending sk_err consumes it
// and fails without sending (see the reference on ping sockets), so such a
// send is retried: the error itself is still waiting in the error queue.
func isICMPErrno(err error) bool {
	var e unix.Errno
	if !errors.As(err, &e) {
		return false
	}
	return isICMPErr(e)
}

// isICMPErr is isICMPErrno for a bare errno, without boxing it.
func isICMPErr(e unix.Errno) bool {
	switch e {
	case unix.EHOSTUNREACH, unix.ENETUNREACH, unix.ECONNREFUSED, unix.EHOSTDOWN,
		unix.ENONET, unix.EPROTO, unix.EREMOTEIO, unix.ENOPROTOOPT, unix.EOPNOTSUPP:
		return true
	}
	return false
}
