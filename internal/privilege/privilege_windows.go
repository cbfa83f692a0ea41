//go:build windows

package privilege

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/windows"
)

var errNoPingSockets = errors.New("Windows has no ping sockets; ICMP uses the ICMP helper API")

// Check inspects this process and system. On Windows the questions are
// whether the process runs elevated (raw sockets), whether the ICMP helper
// API opens (ICMP probes as any user), and whether IPv6 is there.
func Check() Report {
	r := Report{OS: "windows", UID: os.Geteuid(), GID: os.Getegid()}
	v := windows.RtlGetVersion()
	r.Kernel = fmt.Sprintf("%d.%d.%d", v.MajorVersion, v.MinorVersion, v.BuildNumber)
	r.Admin = windows.GetCurrentProcessToken().IsElevated()
	dll := windows.NewLazySystemDLL("iphlpapi.dll")
	closer := dll.NewProc("IcmpCloseHandle")
	r.ICMPAPI4 = tryICMP(dll.NewProc("IcmpCreateFile"), closer)
	r.IPv6 = try(windows.AF_INET6, windows.SOCK_DGRAM, windows.IPPROTO_UDP) == nil
	if r.IPv6 {
		r.ICMPAPI6 = tryICMP(dll.NewProc("Icmp6CreateFile"), closer)
	} else {
		r.ICMPAPI6 = fmt.Errorf("IPv6 is not enabled on this computer")
	}
	r.RawSocket4 = try(windows.AF_INET, windows.SOCK_RAW, windows.IPPROTO_ICMP)
	r.RawSocket6 = try(windows.AF_INET6, windows.SOCK_RAW, windows.IPPROTO_ICMPV6)
	// Windows has no ping sockets (ICMP goes through the helper API), and
	// no capabilities: Admin stands for CAP_NET_RAW.
	r.PingSocket4 = errNoPingSockets
	r.PingSocket6 = errNoPingSockets
	return r
}

func tryICMP(create, closer *windows.LazyProc) error {
	if err := create.Find(); err != nil {
		return err
	}
	h, _, err := create.Call()
	if windows.Handle(h) == windows.InvalidHandle || h == 0 {
		return fmt.Errorf("%s: %w", create.Name, err)
	}
	closer.Call(h)
	return nil
}

func try(af, typ, proto int) error {
	var d windows.WSAData
	if err := windows.WSAStartup(uint32(0x202), &d); err != nil {
		return err
	}
	defer windows.WSACleanup()
	s, err := windows.Socket(af, typ, proto)
	if err != nil {
		return err
	}
	return windows.Closesocket(s)
}
