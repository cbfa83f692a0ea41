//go:build linux

package privilege

import (
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Check inspects this process and system.
func Check() Report {
	r := Report{OS: "linux", UID: os.Geteuid(), GID: os.Getegid()}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		r.Kernel = unix.ByteSliceToString(u.Release[:])
		r.TCPErrQueue = kernelAtLeast(r.Kernel, 5, 8)
	}
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range"); err == nil {
		f := strings.Fields(string(b))
		r.PingGroupRange = strings.Join(f, " ")
		if len(f) == 2 {
			lo, e1 := strconv.ParseUint(f[0], 10, 32)
			hi, e2 := strconv.ParseUint(f[1], 10, 32)
			if e1 == nil && e2 == nil {
				groups, _ := os.Getgroups()
				groups = append(groups, os.Getegid())
				for _, g := range groups {
					if uint64(g) >= lo && uint64(g) <= hi {
						r.PingGroupIncludesUs = true
					}
				}
			}
		}
	}
	r.PingSocket4 = try(unix.AF_INET, unix.SOCK_DGRAM, unix.IPPROTO_ICMP)
	r.PingSocket6 = try(unix.AF_INET6, unix.SOCK_DGRAM, unix.IPPROTO_ICMPV6)
	r.RawSocket4 = try(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_ICMP)
	r.RawSocket6 = try(unix.AF_INET6, unix.SOCK_RAW, unix.IPPROTO_ICMPV6)
	r.IPv6 = try(unix.AF_INET6, unix.SOCK_DGRAM, unix.IPPROTO_UDP) == nil
	r.CapNetRaw = hasCapNetRaw()
	return r
}

func try(af, typ, proto int) error {
	fd, err := unix.Socket(af, typ|unix.SOCK_CLOEXEC, proto)
	if err != nil {
		return err
	}
	unix.Close(fd)
	return nil
}

func hasCapNetRaw() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[0].Effective&(1<<unix.CAP_NET_RAW) != 0
}

// kernelAtLeast compares a release string such as "6.1.0-18-amd64".
func kernelAtLeast(release string, major, minor int) bool {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(parts[0])
	mi, err2 := strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || (ma == major && mi >= minor)
}
