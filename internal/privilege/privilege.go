// Package privilege finds out what this process may do with the network:
// open ping sockets, open raw sockets, use IPv6. It only looks; it never
// sends a packet. OS-specific checks live in build-tagged files.
package privilege

// Report is what the system allows this process.
type Report struct {
	OS     string
	Kernel string // kernel release, where known
	UID    int
	GID    int

	// PingGroupRange is net.ipv4.ping_group_range as read ("1 0" = nobody).
	PingGroupRange string
	// PingGroupIncludesUs reports whether our egid or a supplementary group
	// is inside that range.
	PingGroupIncludesUs bool
	// PingSocket4/6 are the errors from trying to open a ping socket (nil = it opened).
	PingSocket4, PingSocket6 error

	// CapNetRaw: the effective capability set holds CAP_NET_RAW (or we are root).
	CapNetRaw bool
	// RawSocket4/6 are the errors from trying to open a raw ICMP socket.
	RawSocket4, RawSocket6 error

	// IPv6 reports whether an IPv6 socket can be opened at all.
	IPv6 bool
	// TCPErrQueue: the kernel (5.8 or later) reports routers' answers to
	// TCP probes on the error queue, which unprivileged TCP traces need.
	TCPErrQueue bool

	// Windows only. Admin: the process token is elevated (run as
	// administrator), which raw sockets, and so TCP and UDP traces, need.
	Admin bool
	// ICMPAPI4/6 are the errors from opening the ICMP helper API's handles
	// (IcmpCreateFile, Icmp6CreateFile), which ICMP probes use without
	// administrator rights (nil = it opened).
	ICMPAPI4, ICMPAPI6 error
}
