// Package packet owns the wire formats PingerPlot sends and receives: ICMPv4
// and ICMPv6 echo and error messages, the IPv4/IPv6, UDP, TCP and ICMP
// headers quoted inside ICMP errors, RFC 4884 ICMP extensions with RFC 4950
// MPLS label stacks, Internet checksums (including the Paris-traceroute
// tricks that keep a flow's checksum constant), and the token PingerPlot
// puts at the start of its unprivileged UDP probes.
//
// It does no I/O and keeps no state: builders append to a caller's buffer,
// parsers read a caller's buffer and return values whose byte slices alias
// it. Parsers accept anything a hostile router can send and answer with an
// error, never a panic; they are fuzzed.
//
// Two shapes of input are parsed, one per Linux socket family:
//
//   - Raw sockets (CAP_NET_RAW) read whole ICMP messages: ParseICMPv4 takes
//     the IPv4 packet including its header, ParseICMPv6 takes the ICMPv6
//     message (Linux strips the IPv6 header).
//   - Unprivileged sockets read ICMP errors from the error queue
//     (MSG_ERRQUEUE), where the kernel has already removed the outer
//     headers: a ping socket gets the quoted echo header (ParseEcho), a UDP
//     socket the quoted UDP payload (Token), a TCP socket the quoted TCP
//     header (ParseTCP), and IP_RECVERR_RFC4884 gives the offset of any
//     extension structure (ParseExtensions).
//
// This package must not import any other PingerPlot package, nor anything
// that opens sockets: it sits below internal/probe and is pure.
package packet
