package probe

// The pure half of the Windows ICMP backend (icmp_windows.go,
// icmp6_windows.go): what each IP_STATUS code of the ICMP helper API means
// for a probe, the byte layouts of the structures the API reads and writes,
// and how its whole-millisecond round-trip time is refined. It has no build
// tag so its tests run on Linux, where the backend itself cannot.
//
// Layouts follow Microsoft's documentation of ipexport.h (ICMP_ECHO_REPLY,
// IP_OPTION_INFORMATION, ICMPV6_ECHO_REPLY_LH, IPV6_ADDRESS_EX) and ws2def.h
// (sockaddr_in6); offsets are computed from the pointer size so they hold
// for the 64-bit builds (amd64, arm64) and, should one be made, 32-bit ones.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"syscall"
	"time"
)

// IP_STATUS codes (ipexport.h). IPv6 reuses 11002-11004 and 11013-11015 under
// other names (IP_DEST_NO_ROUTE, IP_DEST_ADDR_UNREACHABLE, IP_DEST_PROHIBITED,
// IP_HOP_LIMIT_EXCEEDED, IP_REASSEMBLY_TIME_EXCEEDED, IP_PARAMETER_PROBLEM)
// and adds 11040-11045. They are spelled out here, not taken from
// golang.org/x/sys/windows (which has none of them), so the mapping builds
// and is tested on every OS.
const (
	ipSuccess               = 0
	ipStatusBase            = 11000
	ipBufTooSmall           = 11001
	ipDestNetUnreachable    = 11002 // IPv6: IP_DEST_NO_ROUTE
	ipDestHostUnreachable   = 11003 // IPv6: IP_DEST_ADDR_UNREACHABLE
	ipDestProtUnreachable   = 11004 // IPv6: IP_DEST_PROHIBITED
	ipDestPortUnreachable   = 11005
	ipNoResources           = 11006
	ipBadOption             = 11007
	ipHWError               = 11008
	ipPacketTooBig          = 11009
	ipReqTimedOut           = 11010
	ipBadReq                = 11011
	ipBadRoute              = 11012
	ipTTLExpiredTransit     = 11013 // IPv6: IP_HOP_LIMIT_EXCEEDED
	ipTTLExpiredReassem     = 11014 // IPv6: IP_REASSEMBLY_TIME_EXCEEDED
	ipParamProblem          = 11015 // IPv6: IP_PARAMETER_PROBLEM
	ipSourceQuench          = 11016
	ipOptionTooBig          = 11017
	ipBadDestination        = 11018
	ipAddrDeleted           = 11019 // 11019-11034: status indications to transports
	ipDuplicateIPAdd        = 11034
	ipDestUnreachable       = 11040 // IPv6 only, from here to 11045
	ipTimeExceeded          = 11041
	ipBadHeader             = 11042
	ipUnrecognizedNextHdr   = 11043
	ipICMPError             = 11044
	ipDestScopeMismatch     = 11045
	ipGeneralFailure        = 11050
	ipPending               = 11255
	errorIOPending          = 997 // ERROR_IO_PENDING: an overlapped request was started
	maxEchoPayload          = 65500
	icmpMinPayload          = 8 // the same payload minimum as the Linux backend, so packets are alike on the wire
	ipStatusIndicationFirst = ipAddrDeleted
)

// ipStatusName returns the ipexport.h name of code, or IP_STATUS_<n> for a
// code with no documented name, for errors a user can search for.
func ipStatusName(code uint32) string {
	switch code {
	case ipSuccess:
		return "IP_SUCCESS"
	case ipBufTooSmall:
		return "IP_BUF_TOO_SMALL"
	case ipDestNetUnreachable:
		return "IP_DEST_NET_UNREACHABLE"
	case ipDestHostUnreachable:
		return "IP_DEST_HOST_UNREACHABLE"
	case ipDestProtUnreachable:
		return "IP_DEST_PROT_UNREACHABLE"
	case ipDestPortUnreachable:
		return "IP_DEST_PORT_UNREACHABLE"
	case ipNoResources:
		return "IP_NO_RESOURCES"
	case ipBadOption:
		return "IP_BAD_OPTION"
	case ipHWError:
		return "IP_HW_ERROR"
	case ipPacketTooBig:
		return "IP_PACKET_TOO_BIG"
	case ipReqTimedOut:
		return "IP_REQ_TIMED_OUT"
	case ipBadReq:
		return "IP_BAD_REQ"
	case ipBadRoute:
		return "IP_BAD_ROUTE"
	case ipTTLExpiredTransit:
		return "IP_TTL_EXPIRED_TRANSIT"
	case ipTTLExpiredReassem:
		return "IP_TTL_EXPIRED_REASSEM"
	case ipParamProblem:
		return "IP_PARAM_PROBLEM"
	case ipSourceQuench:
		return "IP_SOURCE_QUENCH"
	case ipOptionTooBig:
		return "IP_OPTION_TOO_BIG"
	case ipBadDestination:
		return "IP_BAD_DESTINATION"
	case ipAddrDeleted:
		return "IP_ADDR_DELETED"
	case 11020:
		return "IP_SPEC_MTU_CHANGE"
	case 11021:
		return "IP_MTU_CHANGE"
	case 11022:
		return "IP_UNLOAD"
	case 11023:
		return "IP_ADDR_ADDED"
	case 11024:
		return "IP_MEDIA_CONNECT"
	case 11025:
		return "IP_MEDIA_DISCONNECT"
	case 11026:
		return "IP_BIND_ADAPTER"
	case 11027:
		return "IP_UNBIND_ADAPTER"
	case 11028:
		return "IP_DEVICE_DOES_NOT_EXIST"
	case 11029:
		return "IP_DUPLICATE_ADDRESS"
	case 11030:
		return "IP_INTERFACE_METRIC_CHANGE"
	case 11031:
		return "IP_RECONFIG_SECFLTR"
	case 11032:
		return "IP_NEGOTIATING_IPSEC"
	case 11033:
		return "IP_INTERFACE_WOL_CAPABILITY_CHANGE"
	case ipDuplicateIPAdd:
		return "IP_DUPLICATE_IPADD"
	case ipDestUnreachable:
		return "IP_DEST_UNREACHABLE"
	case ipTimeExceeded:
		return "IP_TIME_EXCEEDED"
	case ipBadHeader:
		return "IP_BAD_HEADER"
	case ipUnrecognizedNextHdr:
		return "IP_UNRECOGNIZED_NEXT_HEADER"
	case ipICMPError:
		return "IP_ICMP_ERROR"
	case ipDestScopeMismatch:
		return "IP_DEST_SCOPE_MISMATCH"
	case ipGeneralFailure:
		return "IP_GENERAL_FAILURE"
	case ipPending:
		return "IP_PENDING"
	}
	return fmt.Sprintf("IP_STATUS_%d", code)
}

// IPStatusError is a probe the Windows ICMP helper API could not send or
// complete. Code is its IP_STATUS (or a Win32 error for a call that failed
// before the request was queued); the message names it and says what to do.
type IPStatusError struct {
	Code uint32
	Dst  netip.Addr
	why  string
	// local: no router answered, this computer made the status up.
	local bool
}

func (e *IPStatusError) Error() string {
	return fmt.Sprintf("ICMP echo to %v: %s (%s)", e.Dst, e.why, ipStatusName(e.Code))
}

// Is makes this computer's own IP_PACKET_TOO_BIG (not a router's) match
// syscall.EMSGSIZE,
// the local refusal for size that path MTU discovery reads (package pmtu)
// on every OS: the probe is larger than the interface it would leave by.
func (e *IPStatusError) Is(target error) bool {
	return e.local && e.Code == ipPacketTooBig && target == syscall.EMSGSIZE
}

// icmpStatusFailure explains a status that is a local failure, not an
// answer from the network, in the user's terms.
func icmpStatusFailure(code uint32, pr Probe) *IPStatusError {
	var why string
	switch {
	case code == ipBufTooSmall:
		why = "the reply buffer was too small for the answer, a fault in PingerPlot: please report it with the probe size (-s)"
	case code == ipNoResources:
		why = "Windows has no resources left for more ICMP requests: monitor fewer targets at once or use a longer interval"
	case code == ipBadOption || code == ipOptionTooBig:
		why = fmt.Sprintf("Windows refused the request's IP options (TTL %d): a fault in PingerPlot, please report it", pr.TTL)
	case code == ipHWError:
		why = "the network adapter reported a hardware error: check the network connection and the adapter's driver"
	case code == ipBadReq:
		why = fmt.Sprintf("Windows rejected the echo request (payload %d bytes): use a smaller -s/--size", pr.Size)
	case code == ipBadRoute:
		why = "this computer has no usable route to the destination: check the network connection and the routing table (route print)"
	case code == ipSourceQuench:
		why = "a router asked this computer to slow down (ICMP source quench) and dropped the probe: use a longer interval"
	case code == ipBadDestination:
		why = "Windows will not send an echo request to this address (multicast, broadcast, unspecified or otherwise invalid): choose another target"
	case code >= ipStatusIndicationFirst && code <= ipDuplicateIPAdd:
		why = "the network configuration changed while the probe was out (an address or adapter came or went): it is retried next round"
	case code == ipGeneralFailure:
		why = "general failure from the ICMP service: usually no route to the destination, a disconnected adapter, or a firewall or security software that blocks outgoing echo requests; check the connection and firewall rules"
	case code == ipPending:
		why = "the request was still pending when its completion was signalled, a fault in PingerPlot or Windows: please report it"
	case code == 87: // ERROR_INVALID_PARAMETER
		why = "Windows refused the request's parameters (size, TTL or address): a fault in PingerPlot, please report it with the command line"
	case code == 8 || code == 14: // ERROR_NOT_ENOUGH_MEMORY, ERROR_OUTOFMEMORY
		why = "Windows ran out of memory for the ICMP request: monitor fewer targets at once"
	case code == 1231 || code == 1232: // ERROR_NETWORK_UNREACHABLE, ERROR_HOST_UNREACHABLE
		why = "no route from this computer to the destination: check the network connection and the routing table (route print)"
	case code == 50: // ERROR_NOT_SUPPORTED
		why = "this Windows does not support the ICMP request for this address family (is IPv6 enabled?)"
	default:
		why = "the ICMP helper API failed"
	}
	return &IPStatusError{Code: code, Dst: pr.Dst, why: why}
}

// icmpStatusReply turns the status of a completed echo request into a
// Reply. from is the responder the API named (unspecified when none); the
// ICMP type and code are those the status stands for, so a report shows
// the same figures as on Linux, and the Kind comes from the same rule
// (classify) the Linux backend applies to the message itself.
func icmpStatusReply(code uint32, v6 bool, from netip.Addr, pr Probe) Reply {
	if code == ipReqTimedOut {
		return Reply{Kind: Timeout}
	}
	typ, icode, ok := statusICMP(code, v6)
	if !ok {
		return Reply{Kind: Failed, Err: icmpStatusFailure(code, pr)}
	}
	if !from.IsValid() || from.IsUnspecified() {
		// An error status with no responder was made up locally (a route
		// that went away, a packet larger than the local MTU): nothing on
		// the path answered.
		if code == ipPacketTooBig {
			return Reply{Kind: Failed, Err: &IPStatusError{Code: code, Dst: pr.Dst, local: true,
				why: "the probe is larger than this computer's link MTU allows: use a smaller -s/--size"}}
		}
		return Reply{Kind: Failed, Err: &IPStatusError{Code: code, Dst: pr.Dst,
			why: "this computer could not deliver the probe and no router answered: check the network connection and the routing table (route print)"}}
	}
	k, ignore := classify(v6, ICMP, typ, icode)
	if ignore {
		return Reply{Kind: Failed, Err: icmpStatusFailure(code, pr)}
	}
	r := Reply{Kind: k, From: from.Unmap(), ICMPType: typ, ICMPCode: icode}
	if k == Unreachable {
		r.Err = &IPStatusError{Code: code, Dst: pr.Dst, why: unreachableWhy(code, v6)}
	}
	return r
}

// statusICMP returns the ICMP type and code a status reports, ok false for
// statuses that are not an ICMP message from the network. Windows folds
// several codes into one status (IPv4 "host unknown" and "host prohibited"
// both arrive as IP_DEST_HOST_UNREACHABLE), so the code given is the
// canonical one of the status; IPv6's catch-all statuses (11040, 11041,
// 11044) carry no code and report 0.
func statusICMP(code uint32, v6 bool) (typ, icode uint8, ok bool) {
	if v6 {
		switch code {
		case ipSuccess:
			return 129, 0, true
		case ipDestNetUnreachable: // IP_DEST_NO_ROUTE
			return 1, 0, true
		case ipDestProtUnreachable: // IP_DEST_PROHIBITED
			return 1, 1, true
		case ipDestScopeMismatch:
			return 1, 2, true
		case ipDestHostUnreachable: // IP_DEST_ADDR_UNREACHABLE
			return 1, 3, true
		case ipDestPortUnreachable:
			return 1, 4, true
		case ipDestUnreachable:
			return 1, 0, true
		case ipPacketTooBig:
			return 2, 0, true
		case ipTTLExpiredTransit, ipTimeExceeded: // IP_HOP_LIMIT_EXCEEDED
			return 3, 0, true
		case ipTTLExpiredReassem: // IP_REASSEMBLY_TIME_EXCEEDED
			return 3, 1, true
		case ipParamProblem, ipBadHeader: // IP_PARAMETER_PROBLEM
			return 4, 0, true
		case ipUnrecognizedNextHdr:
			return 4, 1, true
		case ipICMPError:
			// An ICMPv6 error Windows did not classify: still a router's
			// refusal to carry the probe. Type 4 code 2 is the nearest
			// documented meaning ("unrecognized option"); the status name
			// in Reply.Err says what really came.
			return 4, 2, true
		}
		return 0, 0, false
	}
	switch code {
	case ipSuccess:
		return 0, 0, true
	case ipDestNetUnreachable:
		return 3, 0, true
	case ipDestHostUnreachable:
		return 3, 1, true
	case ipDestProtUnreachable:
		return 3, 2, true
	case ipDestPortUnreachable:
		return 3, 3, true
	case ipPacketTooBig:
		return 3, 4, true // fragmentation needed and DF set
	case ipTTLExpiredTransit:
		return 11, 0, true
	case ipTTLExpiredReassem:
		return 11, 1, true
	case ipParamProblem:
		return 12, 0, true
	}
	return 0, 0, false
}

func unreachableWhy(code uint32, v6 bool) string {
	switch code {
	case ipDestNetUnreachable:
		if v6 {
			return "a router has no route to the destination"
		}
		return "a router answered that the destination network is unreachable"
	case ipDestHostUnreachable:
		if v6 {
			return "a router answered that the destination address is unreachable"
		}
		return "a router answered that the destination host is unreachable (or communication with it is prohibited)"
	case ipDestProtUnreachable:
		if v6 {
			return "a router answered that communication with the destination is administratively prohibited (a firewall)"
		}
		return "the destination answered that it does not speak ICMP (protocol unreachable)"
	case ipDestPortUnreachable:
		return "the destination answered port unreachable to an echo request"
	case ipPacketTooBig:
		return "a router answered that the probe is too big for the next link: use a smaller -s/--size"
	case ipParamProblem, ipBadHeader, ipUnrecognizedNextHdr:
		return "a router answered that the probe's header is invalid (parameter problem)"
	case ipDestScopeMismatch:
		return "a router answered that the destination is beyond the scope of the source address"
	case ipDestUnreachable:
		return "a router answered destination unreachable (Windows did not report the reason)"
	case ipICMPError:
		return "a router answered with an ICMPv6 error Windows did not classify"
	}
	return "destination unreachable"
}

// echoLayout is the byte layout of the structures the ICMP helper API uses
// on one architecture, from the documented C declarations with natural
// alignment.
//
//	typedef struct ip_option_information {
//	  UCHAR Ttl; UCHAR Tos; UCHAR Flags; UCHAR OptionsSize; PUCHAR OptionsData;
//	} IP_OPTION_INFORMATION;
//	typedef struct icmp_echo_reply {
//	  IPAddr Address; ULONG Status; ULONG RoundTripTime; USHORT DataSize;
//	  USHORT Reserved; PVOID Data; struct ip_option_information Options;
//	} ICMP_ECHO_REPLY;
//
// A 64-bit process gets the native ICMP_ECHO_REPLY from IcmpParseReplies;
// ICMP_ECHO_REPLY32, which the documentation mentions for 64-bit
// platforms, is the layout the system uses for 32-bit callers.
type echoLayout struct {
	ptr            int // pointer size
	optionSize     int // sizeof(IP_OPTION_INFORMATION)
	optionsDataOff int // offsetof(IP_OPTION_INFORMATION, OptionsData)
	replySize      int // sizeof(ICMP_ECHO_REPLY)
	dataOff        int // offsetof(ICMP_ECHO_REPLY, Data)
	optionsOff     int // offsetof(ICMP_ECHO_REPLY, Options)
	ioStatusSize   int // sizeof(IO_STATUS_BLOCK): a union of NTSTATUS and PVOID, then ULONG_PTR
}

func alignUp(n, a int) int { return (n + a - 1) / a * a }

// layoutFor computes the layout for a pointer size of 4 or 8 bytes.
func layoutFor(ptr int) echoLayout {
	l := echoLayout{ptr: ptr}
	l.optionsDataOff = alignUp(4, ptr)
	l.optionSize = l.optionsDataOff + ptr
	l.dataOff = alignUp(16, ptr) // Address, Status, RoundTripTime, DataSize, Reserved
	l.optionsOff = alignUp(l.dataOff+ptr, ptr)
	l.replySize = alignUp(l.optionsOff+l.optionSize, ptr)
	l.ioStatusSize = 2 * ptr
	return l
}

// ICMPV6_ECHO_REPLY_LH: IPV6_ADDRESS_EX is declared inside #pragma pack(1)
// (USHORT sin6_port; ULONG sin6_flowinfo; USHORT sin6_addr[8]; ULONG
// sin6_scope_id: 26 bytes, alignment 1); Status and RoundTripTime follow it
// at natural alignment. The same on every architecture.
const (
	ipv6AddrExSize     = 26
	ipv6AddrExAddrOff  = 6 // sin6_addr, after sin6_port and sin6_flowinfo
	ipv6AddrExScopeOff = 22
	echo6StatusOff     = 28
	echo6RTTOff        = 32
	echo6ReplySize     = 36
	sockaddrIn6Size    = 28 // sockaddr_in6: family, port, flowinfo, addr[16], scope_id
	afInet6            = 23 // AF_INET6 on Windows
	maxIPOptions       = 40 // MAX_OPT_SIZE: IP options a reply may carry
	icmpErrorExtra     = 8  // the documented room for an ICMP error message
)

// replyBufferSize is the reply buffer an echo request of payload bytes
// needs, per the IcmpSendEcho2 documentation: one reply structure, the
// payload echoed back, 8 bytes for an ICMP error and an IO_STATUS_BLOCK,
// plus room for options a reply may carry.
func (l echoLayout) replyBufferSize(payload int, v6 bool) int {
	rs := l.replySize
	if v6 {
		rs = echo6ReplySize
	}
	return alignUp(rs+payload+icmpErrorExtra+l.ioStatusSize+maxIPOptions, 8)
}

// echoReply is what the API reported for one request.
type echoReply struct {
	status uint32
	from   netip.Addr
	rttMS  uint32
}

var errShortReply = errors.New("reply buffer shorter than one reply structure")

// decodeEchoReply4 reads the first ICMP_ECHO_REPLY of a parsed reply buffer.
// IPAddr is the in_addr's four bytes as they are in memory (network order).
func (l echoLayout) decodeEchoReply4(b []byte) (echoReply, error) {
	if len(b) < l.replySize {
		return echoReply{}, errShortReply
	}
	return echoReply{
		from:   netip.AddrFrom4([4]byte(b[0:4])),
		status: binary.LittleEndian.Uint32(b[4:8]),
		rttMS:  binary.LittleEndian.Uint32(b[8:12]),
	}, nil
}

// decodeEchoReply6 reads the ICMPV6_ECHO_REPLY of a parsed reply buffer.
// The scope id is kept only for link-local responders, as a zone.
func decodeEchoReply6(b []byte) (echoReply, error) {
	if len(b) < echo6ReplySize {
		return echoReply{}, errShortReply
	}
	from := netip.AddrFrom16([16]byte(b[ipv6AddrExAddrOff : ipv6AddrExAddrOff+16]))
	if scope := binary.LittleEndian.Uint32(b[ipv6AddrExScopeOff:]); scope != 0 && from.IsLinkLocalUnicast() {
		from = from.WithZone(fmt.Sprint(scope))
	}
	return echoReply{
		from:   from,
		status: binary.LittleEndian.Uint32(b[echo6StatusOff:]),
		rttMS:  binary.LittleEndian.Uint32(b[echo6RTTOff:]),
	}, nil
}

// ipFlagDF is IP_FLAG_DF (ipexport.h), IP_OPTION_INFORMATION's "don't
// fragment" flag.
const ipFlagDF = 0x2

// putOptionInfo writes an IP_OPTION_INFORMATION with the probe's TTL, no
// options, and the don't-fragment flag when df (path MTU discovery) into b
// (at least l.optionSize bytes). A router that cannot forward such a probe
// answers "fragmentation needed" / "packet too big", which the API reports
// as IP_PACKET_TOO_BIG without the next-hop MTU it carried.
func (l echoLayout) putOptionInfo(b []byte, ttl int, df bool) {
	clear(b[:l.optionSize])
	b[0] = uint8(ttl)
	if df {
		b[2] = ipFlagDF
	}
}

// putSockaddrIn6 writes a sockaddr_in6 for a into b (28 bytes): family in
// host order, port and flowinfo zero, address in network order, scope id in
// host order (as the interface index it is).
func putSockaddrIn6(b []byte, a netip.Addr, scope uint32) {
	clear(b[:sockaddrIn6Size])
	binary.LittleEndian.PutUint16(b[0:2], afInet6)
	a16 := a.As16()
	copy(b[8:24], a16[:])
	binary.LittleEndian.PutUint32(b[24:28], scope)
}

// ipAddrArg is an IPv4 address as the IPAddr argument of IcmpSendEcho2: the
// in_addr's bytes in memory order, read as a little-endian ULONG.
func ipAddrArg(a netip.Addr) uint32 {
	b := a.As4()
	return binary.LittleEndian.Uint32(b[:])
}

// refineRTT combines the two round-trip figures Windows gives a probe.
//
// The API's RoundTripTime is the system's own measurement, in whole
// milliseconds (truncated), so the true RTT lies in [api, api+1 ms). The
// monotonic clock, read just before IcmpSendEcho2 and again when the
// waiter wakes on the request's event, has microsecond resolution but also
// counts the time Windows takes to queue the request and to wake the
// waiting thread: it can only be too long, never too short (real Windows
// adds tens of microseconds, Wine up to 12 ms). The clock reading is
// therefore clamped into the API's interval: within it, the clock is the
// better figure; above it, the scheduling delay is removed down to the
// interval's top; below it (an API that rounded up), the API's floor is
// kept so the figure never contradicts the millisecond Windows reported.
// Either way the result is within 1 ms of the truth and agrees with
// Windows' own ping in the millisecond.
func refineRTT(apiMS uint32, clock time.Duration) time.Duration {
	lo := time.Duration(apiMS) * time.Millisecond
	hi := lo + time.Millisecond - time.Microsecond
	return min(max(clock, lo), hi)
}

// checkEchoProbe validates an ICMP probe and fills its defaults.
func checkEchoProbe(pr Probe) (Probe, error) {
	if !pr.Dst.IsValid() {
		return pr, errors.New("no destination address")
	}
	pr.Dst = pr.Dst.Unmap()
	if pr.TTL < 1 || pr.TTL > 255 {
		return pr, fmt.Errorf("TTL %d out of range 1-255", pr.TTL)
	}
	if pr.Mode != ICMP {
		return pr, fmt.Errorf("mode %v is not ICMP", pr.Mode)
	}
	if pr.Size > maxEchoPayload {
		return pr, fmt.Errorf("payload of %d bytes is larger than Windows allows for an echo request (%d): use a smaller -s/--size", pr.Size, maxEchoPayload)
	}
	pr.Size = max(pr.Size, icmpMinPayload)
	if pr.Timeout <= 0 {
		pr.Timeout = time.Second
	}
	return pr, nil
}

// timeoutMS is a probe timeout as the API's DWORD milliseconds, at least 1.
func timeoutMS(d time.Duration) uint32 {
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return uint32(min(max(ms, 1), 1<<31))
}
