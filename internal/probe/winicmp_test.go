package probe

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

func TestEchoLayout(t *testing.T) {
	tests := []struct {
		name string
		ptr  int
		want echoLayout
	}{
		// 64-bit (amd64, arm64): IP_OPTION_INFORMATION is 4 bytes, 4 of
		// padding and an 8-byte pointer; ICMP_ECHO_REPLY puts Data at 16
		// and Options at 24, 40 bytes in all.
		{"64-bit", 8, echoLayout{ptr: 8, optionSize: 16, optionsDataOff: 8, replySize: 40, dataOff: 16, optionsOff: 24, ioStatusSize: 16}},
		// 32-bit (ICMP_ECHO_REPLY32's shape): 8-byte options, 28 bytes.
		{"32-bit", 4, echoLayout{ptr: 4, optionSize: 8, optionsDataOff: 4, replySize: 28, dataOff: 16, optionsOff: 20, ioStatusSize: 8}},
	}
	for _, tt := range tests {
		if got := layoutFor(tt.ptr); got != tt.want {
			t.Errorf("%s: layoutFor(%d) = %+v; want %+v", tt.name, tt.ptr, got, tt.want)
		}
	}
}

// The same layout derived a second way: Go lays out these mirrors of the C
// declarations with the same natural alignment on the host's pointer size.
func TestEchoLayoutMatchesGoMirror(t *testing.T) {
	type ipOptionInformation struct {
		TTL, TOS, Flags, OptionsSize uint8
		OptionsData                  uintptr
	}
	type icmpEchoReply struct {
		Address       uint32
		Status        uint32
		RoundTripTime uint32
		DataSize      uint16
		Reserved      uint16
		Data          uintptr
		Options       ipOptionInformation
	}
	var r icmpEchoReply
	l := layoutFor(int(unsafe.Sizeof(uintptr(0))))
	got := []int{int(unsafe.Sizeof(r.Options)), int(unsafe.Offsetof(r.Options.OptionsData)), int(unsafe.Sizeof(r)),
		int(unsafe.Offsetof(r.Data)), int(unsafe.Offsetof(r.Options)), int(unsafe.Offsetof(r.Status)), int(unsafe.Offsetof(r.RoundTripTime))}
	want := []int{l.optionSize, l.optionsDataOff, l.replySize, l.dataOff, l.optionsOff, 4, 8}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mirror sizes/offsets = %v; want %v", got, want)
			break
		}
	}
}

func TestEcho6Layout(t *testing.T) {
	// IPV6_ADDRESS_EX is packed: USHORT(2) + ULONG(4) + USHORT[8](16) + ULONG(4).
	if got := 2 + 4 + 16 + 4; got != ipv6AddrExSize {
		t.Errorf("IPV6_ADDRESS_EX size = %d; want %d", got, ipv6AddrExSize)
	}
	if ipv6AddrExAddrOff != 6 || ipv6AddrExScopeOff != 22 {
		t.Errorf("IPV6_ADDRESS_EX offsets addr %d scope %d; want 6, 22", ipv6AddrExAddrOff, ipv6AddrExScopeOff)
	}
	// Status is the first ULONG after 26 bytes at 4-byte alignment.
	if got := alignUp(ipv6AddrExSize, 4); got != echo6StatusOff {
		t.Errorf("ICMPV6_ECHO_REPLY.Status offset = %d; want %d", got, echo6StatusOff)
	}
	if echo6RTTOff != echo6StatusOff+4 || echo6ReplySize != echo6RTTOff+4 {
		t.Errorf("ICMPV6_ECHO_REPLY RoundTripTime at %d, size %d; want %d, %d", echo6RTTOff, echo6ReplySize, echo6StatusOff+4, echo6StatusOff+8)
	}
}

func TestDecodeEchoReply(t *testing.T) {
	l := layoutFor(8)
	b4 := make([]byte, l.replySize)
	copy(b4, []byte{192, 0, 2, 7})
	binary.LittleEndian.PutUint32(b4[4:], ipTTLExpiredTransit)
	binary.LittleEndian.PutUint32(b4[8:], 12)
	got, err := l.decodeEchoReply4(b4)
	if want := (echoReply{status: ipTTLExpiredTransit, from: netip.MustParseAddr("192.0.2.7"), rttMS: 12}); err != nil || got != want {
		t.Errorf("decodeEchoReply4 = %+v, %v; want %+v", got, err, want)
	}
	if _, err := l.decodeEchoReply4(b4[:39]); !errors.Is(err, errShortReply) {
		t.Errorf("decodeEchoReply4(39 bytes) error = %v; want %v", err, errShortReply)
	}

	b6 := make([]byte, echo6ReplySize)
	binary.BigEndian.PutUint16(b6[0:], 0)           // sin6_port
	binary.BigEndian.PutUint32(b6[2:], 0xabcde)     // sin6_flowinfo: not part of the address
	a := netip.MustParseAddr("2001:db8::42").As16() // sin6_addr, network order
	copy(b6[6:], a[:])
	binary.LittleEndian.PutUint32(b6[22:], 0) // sin6_scope_id
	binary.LittleEndian.PutUint32(b6[28:], ipDestPortUnreachable)
	binary.LittleEndian.PutUint32(b6[32:], 3)
	got, err = decodeEchoReply6(b6)
	if want := (echoReply{status: ipDestPortUnreachable, from: netip.MustParseAddr("2001:db8::42"), rttMS: 3}); err != nil || got != want {
		t.Errorf("decodeEchoReply6 = %+v, %v; want %+v", got, err, want)
	}
	ll := netip.MustParseAddr("fe80::1").As16()
	copy(b6[6:], ll[:])
	binary.LittleEndian.PutUint32(b6[22:], 7)
	if got, _ := decodeEchoReply6(b6); got.from != netip.MustParseAddr("fe80::1%7") {
		t.Errorf("decodeEchoReply6(link-local, scope 7).from = %v; want fe80::1%%7", got.from)
	}
}

func TestPutSockaddrIn6(t *testing.T) {
	b := make([]byte, sockaddrIn6Size)
	for i := range b {
		b[i] = 0xEE // every byte must be written
	}
	putSockaddrIn6(b, netip.MustParseAddr("2001:db8::1"), 5)
	want := []byte{23, 0, 0, 0, 0, 0, 0, 0,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		5, 0, 0, 0}
	if string(b) != string(want) {
		t.Errorf("putSockaddrIn6 = % x; want % x", b, want)
	}
}

func TestOptionInfoAndAddrArg(t *testing.T) {
	l := layoutFor(8)
	b := make([]byte, l.optionSize)
	for i := range b {
		b[i] = 0xEE
	}
	l.putOptionInfo(b, 17, false)
	if want := []byte{17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}; string(b) != string(want) {
		t.Errorf("putOptionInfo(ttl 17) = % x; want % x", b, want)
	}
	// Don't fragment: IP_FLAG_DF in Flags, the third byte.
	l.putOptionInfo(b, 9, true)
	if want := []byte{9, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}; string(b) != string(want) {
		t.Errorf("putOptionInfo(ttl 9, df) = % x; want % x", b, want)
	}
	if got, want := ipAddrArg(netip.MustParseAddr("127.0.0.1")), uint32(0x0100007f); got != want {
		t.Errorf("ipAddrArg(127.0.0.1) = %#x; want %#x", got, want)
	}
	if got := l.replyBufferSize(56, false); got < 40+56+8+16 {
		t.Errorf("replyBufferSize(56, v4) = %d; want at least %d", got, 40+56+8+16)
	}
	if got := l.replyBufferSize(56, true); got < 36+56+8+16 {
		t.Errorf("replyBufferSize(56, v6) = %d; want at least %d", got, 36+56+8+16)
	}
}

func TestICMPStatusReply(t *testing.T) {
	router4 := netip.MustParseAddr("192.0.2.1")
	router6 := netip.MustParseAddr("2001:db8::1")
	pr := Probe{Dst: netip.MustParseAddr("198.51.100.9"), TTL: 3, Mode: ICMP, Size: 56}
	tests := []struct {
		code       uint32
		v6         bool
		from       netip.Addr
		kind       Kind
		typ, icode uint8
		errHas     string // in Reply.Err; "" for none
	}{
		{ipSuccess, false, router4, Reached, 0, 0, ""},
		{ipSuccess, true, router6, Reached, 129, 0, ""},
		{ipTTLExpiredTransit, false, router4, TimeExceeded, 11, 0, ""},
		{ipTTLExpiredTransit, true, router6, TimeExceeded, 3, 0, ""},
		{ipTTLExpiredReassem, false, router4, TimeExceeded, 11, 1, ""},
		{ipTTLExpiredReassem, true, router6, TimeExceeded, 3, 1, ""},
		{ipTimeExceeded, true, router6, TimeExceeded, 3, 0, ""},
		{ipReqTimedOut, false, netip.Addr{}, Timeout, 0, 0, ""},
		{ipReqTimedOut, true, router6, Timeout, 0, 0, ""},
		{ipDestNetUnreachable, false, router4, Unreachable, 3, 0, "IP_DEST_NET_UNREACHABLE"},
		{ipDestHostUnreachable, false, router4, Unreachable, 3, 1, "host is unreachable"},
		{ipDestProtUnreachable, false, router4, Unreachable, 3, 2, "protocol unreachable"},
		{ipDestPortUnreachable, false, router4, Unreachable, 3, 3, "port unreachable"},
		{ipPacketTooBig, false, router4, Unreachable, 3, 4, "smaller -s"},
		{ipParamProblem, false, router4, Unreachable, 12, 0, "parameter problem"},
		{ipDestNetUnreachable, true, router6, Unreachable, 1, 0, "no route"},
		{ipDestProtUnreachable, true, router6, Unreachable, 1, 1, "prohibited"},
		{ipDestScopeMismatch, true, router6, Unreachable, 1, 2, "scope"},
		{ipDestHostUnreachable, true, router6, Unreachable, 1, 3, "address is unreachable"},
		{ipDestPortUnreachable, true, router6, Unreachable, 1, 4, "port unreachable"},
		{ipDestUnreachable, true, router6, Unreachable, 1, 0, "did not report the reason"},
		{ipPacketTooBig, true, router6, Unreachable, 2, 0, "too big"},
		{ipParamProblem, true, router6, Unreachable, 4, 0, "parameter problem"},
		{ipBadHeader, true, router6, Unreachable, 4, 0, "IP_BAD_HEADER"},
		{ipUnrecognizedNextHdr, true, router6, Unreachable, 4, 1, "IP_UNRECOGNIZED_NEXT_HEADER"},
		{ipICMPError, true, router6, Unreachable, 4, 2, "did not classify"},
		// IPv6-only codes mean nothing for IPv4.
		{ipDestUnreachable, false, router4, Failed, 0, 0, "IP_DEST_UNREACHABLE"},
		{ipDestScopeMismatch, false, router4, Failed, 0, 0, "IP_DEST_SCOPE_MISMATCH"},
		// An error status with no responder happened on this computer.
		{ipDestHostUnreachable, false, netip.Addr{}, Failed, 0, 0, "no router answered"},
		{ipPacketTooBig, false, netip.IPv4Unspecified(), Failed, 0, 0, "link MTU"},
		{ipPacketTooBig, true, netip.IPv6Unspecified(), Failed, 0, 0, "link MTU"},
		// Local failures: named, with what to do.
		{ipBufTooSmall, false, netip.Addr{}, Failed, 0, 0, "IP_BUF_TOO_SMALL"},
		{ipNoResources, false, netip.Addr{}, Failed, 0, 0, "fewer targets"},
		{ipBadOption, false, netip.Addr{}, Failed, 0, 0, "TTL 3"},
		{ipOptionTooBig, true, netip.Addr{}, Failed, 0, 0, "IP_OPTION_TOO_BIG"},
		{ipHWError, false, netip.Addr{}, Failed, 0, 0, "hardware error"},
		{ipBadReq, false, netip.Addr{}, Failed, 0, 0, "smaller -s"},
		{ipBadRoute, false, router4, Failed, 0, 0, "route print"},
		{ipSourceQuench, false, router4, Failed, 0, 0, "longer interval"},
		{ipBadDestination, false, netip.Addr{}, Failed, 0, 0, "choose another target"},
		{ipAddrDeleted, false, netip.Addr{}, Failed, 0, 0, "IP_ADDR_DELETED"},
		{11025, false, netip.Addr{}, Failed, 0, 0, "IP_MEDIA_DISCONNECT"},
		{ipDuplicateIPAdd, true, netip.Addr{}, Failed, 0, 0, "configuration changed"},
		{ipGeneralFailure, false, netip.Addr{}, Failed, 0, 0, "firewall"},
		{ipPending, false, netip.Addr{}, Failed, 0, 0, "IP_PENDING"},
		{87, false, netip.Addr{}, Failed, 0, 0, "parameters"},
		{1231, false, netip.Addr{}, Failed, 0, 0, "no route"},
		{11049, false, router4, Failed, 0, 0, "IP_STATUS_11049"},
	}
	for _, tt := range tests {
		p := pr
		if tt.v6 {
			p.Dst = netip.MustParseAddr("2001:db8::99")
		}
		r := icmpStatusReply(tt.code, tt.v6, tt.from, p)
		name := ipStatusName(tt.code)
		if r.Kind != tt.kind || r.ICMPType != tt.typ || r.ICMPCode != tt.icode {
			t.Errorf("%s (v6=%v): kind %v type %d code %d; want %v type %d code %d", name, tt.v6, r.Kind, r.ICMPType, r.ICMPCode, tt.kind, tt.typ, tt.icode)
		}
		switch {
		case tt.errHas == "" && r.Err != nil:
			t.Errorf("%s (v6=%v): Err = %v; want none", name, tt.v6, r.Err)
		case tt.errHas != "" && (r.Err == nil || !strings.Contains(r.Err.Error(), tt.errHas)):
			t.Errorf("%s (v6=%v): Err = %v; want it to contain %q", name, tt.v6, r.Err, tt.errHas)
		}
		if r.Err != nil {
			var se *IPStatusError
			if !errors.As(r.Err, &se) || se.Code != tt.code {
				t.Errorf("%s (v6=%v): Err %v is not an IPStatusError with code %d", name, tt.v6, r.Err, tt.code)
			}
		}
		if (r.Kind == Reached || r.Kind == TimeExceeded || r.Kind == Unreachable) && r.From != tt.from {
			t.Errorf("%s (v6=%v): From = %v; want %v", name, tt.v6, r.From, tt.from)
		}
	}
}

// Every documented status has a name and maps to some outcome.
func TestEveryStatusNamed(t *testing.T) {
	for code := uint32(11001); code <= 11034; code++ {
		if strings.HasPrefix(ipStatusName(code), "IP_STATUS_") {
			t.Errorf("ipStatusName(%d) = %q; want a documented name", code, ipStatusName(code))
		}
	}
	for _, code := range []uint32{0, 11040, 11041, 11042, 11043, 11044, 11045, 11050, 11255} {
		if strings.HasPrefix(ipStatusName(code), "IP_STATUS_") {
			t.Errorf("ipStatusName(%d) = %q; want a documented name", code, ipStatusName(code))
		}
	}
}

func TestRefineRTT(t *testing.T) {
	ms, us := time.Millisecond, time.Microsecond
	tests := []struct {
		api   uint32
		clock time.Duration
		want  time.Duration
	}{
		{0, 50 * us, 50 * us},     // loopback: the clock inside the API's "0 ms"
		{0, 0, 0},                 //
		{0, 1500 * us, 999 * us},  // a late wakeup is cut to the interval's top
		{3, 3400 * us, 3400 * us}, // within [3, 4) ms: the clock is kept
		{3, 3999 * us, 3999 * us}, //
		{3, 4 * ms, 3999 * us},    // 4 ms is outside [3, 4)
		{3, 15 * ms, 3999 * us},   // Wine's scheduling delay
		{3, 2900 * us, 3 * ms},    // an API that rounded up: its floor is kept
		{250, 250*ms + 10*us, 250*ms + 10*us},
	}
	for _, tt := range tests {
		if got := refineRTT(tt.api, tt.clock); got != tt.want {
			t.Errorf("refineRTT(%d ms, %v) = %v; want %v", tt.api, tt.clock, got, tt.want)
		}
	}
}

func TestCheckEchoProbe(t *testing.T) {
	dst := netip.MustParseAddr("::ffff:192.0.2.1")
	tests := []struct {
		in      Probe
		wantErr string
		want    Probe
	}{
		{Probe{Dst: dst, TTL: 1, Mode: ICMP}, "", Probe{Dst: netip.MustParseAddr("192.0.2.1"), TTL: 1, Mode: ICMP, Size: icmpMinPayload, Timeout: time.Second}},
		{Probe{Dst: dst, TTL: 9, Mode: ICMP, Size: 1400, Timeout: 2 * time.Second}, "", Probe{Dst: netip.MustParseAddr("192.0.2.1"), TTL: 9, Mode: ICMP, Size: 1400, Timeout: 2 * time.Second}},
		{Probe{TTL: 1, Mode: ICMP}, "no destination", Probe{}},
		{Probe{Dst: dst, TTL: 0, Mode: ICMP}, "TTL 0", Probe{}},
		{Probe{Dst: dst, TTL: 256, Mode: ICMP}, "TTL 256", Probe{}},
		{Probe{Dst: dst, TTL: 1, Mode: UDP}, "not ICMP", Probe{}},
		{Probe{Dst: dst, TTL: 1, Mode: ICMP, Size: 65501}, "smaller -s", Probe{}},
	}
	for _, tt := range tests {
		got, err := checkEchoProbe(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("checkEchoProbe(%+v) error = %v; want one containing %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("checkEchoProbe(%+v) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		d    time.Duration
		want uint32
	}{{0, 1}, {time.Microsecond, 1}, {time.Second, 1000}, {1500 * time.Microsecond, 2}} {
		if got := timeoutMS(tt.d); got != tt.want {
			t.Errorf("timeoutMS(%v) = %d; want %d", tt.d, got, tt.want)
		}
	}
}

// TestPacketTooBigForPathMTU: what path MTU discovery reads from a
// don't-fragment probe's IP_PACKET_TOO_BIG. A router's answer is
// "fragmentation needed" (3/4) or "packet too big" (2/0) from it, with no
// MTU (the API does not give it: the search bisects); this computer's own
// refusal is a Failed reply whose error is EMSGSIZE, as on Linux. No other
// status is EMSGSIZE.
func TestPacketTooBigForPathMTU(t *testing.T) {
	router4, router6 := netip.MustParseAddr("10.0.1.2"), netip.MustParseAddr("2001:db8:1::2")
	pr := Probe{Dst: netip.MustParseAddr("192.0.2.9"), TTL: 30, Mode: ICMP, Size: 1472, DontFragment: true}
	pr6 := pr
	pr6.Dst = netip.MustParseAddr("2001:db8::99")
	tests := []struct {
		name     string
		code     uint32
		p        Probe
		from     netip.Addr
		kind     Kind
		typ      uint8
		icode    uint8
		emsgsize bool
	}{
		{"router, IPv4", ipPacketTooBig, pr, router4, Unreachable, 3, 4, false},
		{"router, IPv6", ipPacketTooBig, pr6, router6, Unreachable, 2, 0, false},
		{"this computer, IPv4", ipPacketTooBig, pr, netip.IPv4Unspecified(), Failed, 0, 0, true},
		{"this computer, IPv6", ipPacketTooBig, pr6, netip.Addr{}, Failed, 0, 0, true},
		{"no route is not a size", ipBadRoute, pr, netip.Addr{}, Failed, 0, 0, false},
		{"host unreachable is not a size", ipDestHostUnreachable, pr, netip.Addr{}, Failed, 0, 0, false},
	}
	for _, tt := range tests {
		r := icmpStatusReply(tt.code, tt.p.Dst.Is6(), tt.from, tt.p)
		if r.Kind != tt.kind || r.ICMPType != tt.typ || r.ICMPCode != tt.icode || r.MTU != 0 {
			t.Errorf("%s: kind %v type %d code %d MTU %d; want %v type %d code %d MTU 0", tt.name, r.Kind, r.ICMPType, r.ICMPCode, r.MTU, tt.kind, tt.typ, tt.icode)
		}
		if got := errors.Is(r.Err, syscall.EMSGSIZE); got != tt.emsgsize {
			t.Errorf("%s: errors.Is(%v, EMSGSIZE) = %v; want %v", tt.name, r.Err, got, tt.emsgsize)
		}
	}
}
