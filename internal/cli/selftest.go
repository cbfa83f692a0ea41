package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/pingerplot/pingerplot/internal/privilege"
	"github.com/pingerplot/pingerplot/internal/probe"
)

func runSelftest(ctx context.Context, args []string, env Env) error {
	var pf probeFlags
	fs := flag.NewFlagSet("selftest", flag.ContinueOnError)
	pf.register(fs, false)
	pos, err := parse(fs, args)
	if err == errHelp {
		printUsage(env.Stdout, fs, "pingerplot selftest [flags] [HOST]")
		return err
	}
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("want at most one HOST, got %d arguments", len(pos))
	}
	if _, err := pf.validate(false, false); err != nil {
		return err
	}
	w := env.Stdout
	r := privilege.Check()
	if r.OS == "windows" {
		printWindowsAllowed(w, r)
	} else {
		printLinuxAllowed(w, r)
	}
	if len(pos) == 0 {
		fmt.Fprintln(w, "\nGive a HOST to trace it in every mode.")
		return nil
	}
	dst, err := resolveTarget(ctx, pos[0], pf.v4, pf.v6)
	if err != nil {
		return err
	}
	failed := 0
	for _, mode := range []probe.Mode{probe.ICMP, probe.UDP, probe.TCP} {
		fmt.Fprintf(w, "\n== %s\n", mode)
		p, err := openProber(pf, mode, dst, env)
		if err != nil {
			fmt.Fprintf(w, "cannot trace: %v\n", err)
			failed++
			continue
		}
		fmt.Fprintf(w, "backend: %s\n", p.Backend())
		err = traceOnce(ctx, p, pf, nil, pos[0], dst, mode, env)
		p.Close()
		var unsent nothingSentError
		if errors.As(err, &unsent) {
			// This mode could open its sockets but send nothing: it
			// does not work here, as one that could not open them.
			fmt.Fprintf(w, "cannot trace: %v\n", err)
			failed++
			continue
		}
		if err != nil {
			return err
		}
	}
	if failed == 3 {
		return fmt.Errorf("no probe mode can trace %s from this machine", pos[0])
	}
	return nil
}

// printWindowsAllowed is the Windows half of selftest's report: ICMP needs
// no administrator rights (the ICMP helper API), a TCP service check needs
// none either (a timed connect), TCP and UDP traces need them (the routers'
// answers arrive only on a raw socket).
func printWindowsAllowed(w io.Writer, r privilege.Report) {
	fmt.Fprintf(w, "System: windows %s, running as administrator: %s\n", r.Kernel, yes(r.Admin))
	fmt.Fprintf(w, "ICMP helper API (IcmpSendEcho2, no administrator rights needed): IPv4: %s, IPv6: %s\n", ok(r.ICMPAPI4), ok(r.ICMPAPI6))
	fmt.Fprintf(w, "Raw sockets (administrator only): IPv4: %s, IPv6: %s\n", ok(r.RawSocket4), ok(r.RawSocket6))
	fmt.Fprintf(w, "IPv6: %s\n", yes(r.IPv6))

	fmt.Fprintln(w, "\nProbe modes:")
	icmp := "yes (ICMP helper API, no administrator rights needed)"
	if r.ICMPAPI4 != nil {
		icmp = "no: the ICMP helper API does not open (" + r.ICMPAPI4.Error() + ")"
	}
	fmt.Fprintf(w, "  ICMP: %s\n", icmp)
	udp := "no: UDP probes need administrator rights (the answers arrive on a raw socket): run PingerPlot as administrator, or use ICMP"
	trace := "no: TCP traces need administrator rights (routers' answers arrive on a raw socket): run PingerPlot as administrator, or use ICMP"
	if r.RawSocket4 == nil {
		udp = "yes (administrator: UDP datagrams with the TTL set, answers from a raw ICMP socket)"
		trace = "yes (administrator: a connect per probe with the TTL set, routers' answers from a raw ICMP socket)"
	}
	fmt.Fprintf(w, "  UDP:  %s\n", udp)
	fmt.Fprintf(w, "  TCP service check (final hop only): yes (a timed connect, no administrator rights needed)\n")
	fmt.Fprintf(w, "  TCP trace: %s\n", trace)
}

// printLinuxAllowed is the Linux report, unchanged from before Windows
// had one of its own.
func printLinuxAllowed(w io.Writer, r privilege.Report) {
	fmt.Fprintf(w, "System: %s %s, uid %d, gid %d\n", r.OS, r.Kernel, r.UID, r.GID)
	fmt.Fprintf(w, "Ping sockets: net.ipv4.ping_group_range = %q; includes your groups: %v\n", r.PingGroupRange, yes(r.PingGroupIncludesUs))
	fmt.Fprintf(w, "  IPv4 ping socket: %s\n  IPv6 ping socket: %s\n", ok(r.PingSocket4), ok(r.PingSocket6))
	fmt.Fprintf(w, "CAP_NET_RAW: %s; raw ICMP socket IPv4: %s, IPv6: %s\n", yes(r.CapNetRaw), ok(r.RawSocket4), ok(r.RawSocket6))
	fmt.Fprintf(w, "IPv6: %s\n", yes(r.IPv6))
	fmt.Fprintf(w, "TCP answers on the error queue (kernel 5.8+): %s\n", yes(r.TCPErrQueue))

	fmt.Fprintln(w, "\nProbe modes:")
	icmp := "no: " + fixICMP
	switch {
	case r.RawSocket4 == nil:
		icmp = "yes (raw sockets)"
	case r.PingSocket4 == nil:
		icmp = "yes (unprivileged ping sockets)"
	}
	fmt.Fprintf(w, "  ICMP: %s\n", icmp)
	udp := "yes (unprivileged UDP socket with the error queue)"
	if r.RawSocket4 == nil {
		udp = "yes (raw sockets, Paris flow identity)"
	}
	fmt.Fprintf(w, "  UDP:  %s\n", udp)
	tcp := "yes (unprivileged connect with the error queue)"
	if !r.TCPErrQueue {
		tcp = "no: the kernel is older than 5.8 and does not report routers' answers to TCP probes"
	}
	fmt.Fprintf(w, "  TCP:  %s\n", tcp)
}

const fixICMP = `allow ping sockets (sudo sysctl -w net.ipv4.ping_group_range="0 2147483647") or grant raw sockets (sudo setcap cap_net_raw+ep $(command -v pingerplot))`

func ok(err error) string {
	if err == nil {
		return "ok"
	}
	return "refused (" + err.Error() + ")"
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
