//go:build linux

package lab

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// inNetns runs fn on an OS thread that has joined namespace ns. Sockets fn
// creates belong to ns for good, and /proc/sys/net shows ns's settings, so the
// lab configures namespaces and opens sockets in them without starting a
// process.
func inNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// No UnlockOSThread: the thread now differs from the rest of the
		// process, so the runtime must discard it when this goroutine ends
		// rather than hand it to other goroutines.
		f, err := os.Open(netnsPath(ns))
		if err != nil {
			errc <- fmt.Errorf("open namespace: %w", err)
			return
		}
		err = unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
		f.Close()
		if err != nil {
			errc <- fmt.Errorf("enter namespace %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

type sysctl struct{ key, value string } // key relative to /proc/sys, e.g. "net/ipv4/ip_forward"

var (
	// Quiet, predictable interfaces: no DAD delay before addresses work, no
	// router solicitations or autoconfiguration, no reverse-path filter to
	// trip a reroute test.
	commonSysctls = []sysctl{
		{"net/ipv6/conf/all/accept_dad", "0"},
		{"net/ipv6/conf/default/accept_dad", "0"},
		{"net/ipv6/conf/all/accept_ra", "0"},
		{"net/ipv6/conf/default/accept_ra", "0"},
		{"net/ipv6/conf/all/autoconf", "0"},
		{"net/ipv6/conf/default/autoconf", "0"},
		{"net/ipv6/conf/all/router_solicitations", "0"},
		{"net/ipv6/conf/default/router_solicitations", "0"},
		{"net/ipv4/conf/all/rp_filter", "0"},
		{"net/ipv4/conf/default/rp_filter", "0"},
		// Answer ICMP errors from the interface the probe came in on, as
		// most hardware routers do; IPv6 always does.
		{"net/ipv4/icmp_errors_use_inbound_ifaddr", "1"},
	}
	// rateLimitsOff lets a router answer every probe; the kernel's defaults
	// make it look lossy at traceroute rates.
	rateLimitsOff = []sysctl{
		{"net/ipv4/icmp_ratelimit", "0"},
		{"net/ipv4/icmp_msgs_per_sec", "1000000"},
		{"net/ipv4/icmp_msgs_burst", "1000000"},
		{"net/ipv6/icmp/ratelimit", "0"},
	}
	routerSysctls = []sysctl{
		{"net/ipv4/ip_forward", "1"},
		{"net/ipv6/conf/all/forwarding", "1"},
		{"net/ipv6/conf/default/forwarding", "1"},
	}
	// Router1 balances flows across the two branches under SetECMP. Hash
	// on the ports too (policy 1), so that UDP and TCP probes with varying
	// ports spread over both, as they do across real ECMP routers. This
	// kernel (6.18, measured by TestECMP) hashes an ICMP echo's identifier
	// like a port: one ping socket keeps to one branch, another socket may
	// take the other. Older kernels hash ICMP on addresses only.
	multipathSysctls = []sysctl{
		{"net/ipv4/fib_multipath_hash_policy", "1"},
		{"net/ipv6/fib_multipath_hash_policy", "1"},
	}
	// Ping sockets for every group: unprivileged probes work in the client,
	// and Lab.Ping works from any node.
	pingSysctls = []sysctl{{"net/ipv4/ping_group_range", "0 2147483647"}}
	// A cable is a wire: its own stack must send nothing (no IPv6 link-local
	// address, hence no DAD, MLD or router solicitations).
	cableSysctls = []sysctl{
		{"net/ipv6/conf/all/disable_ipv6", "1"},
		{"net/ipv6/conf/default/disable_ipv6", "1"},
	}
)

// setSysctls configures every namespace before any interface exists, so new
// interfaces inherit the "default" settings.
func (l *Lab) setSysctls() error {
	var err error
	l.rateDefaults, err = readSysctls(l.Routers[0], rateLimitsOff)
	if err != nil {
		return err
	}
	for k, ns := range append(slices.Clone(l.nodes), l.AltRouters...) {
		vals := append(append(append([]sysctl(nil), commonSysctls...), rateLimitsOff...), pingSysctls...)
		if k >= 1 && k != len(l.Routers)+1 { // routers, main and alt
			vals = append(vals, routerSysctls...)
		}
		if k == 1 && len(l.AltRouters) > 0 {
			vals = append(vals, multipathSysctls...)
		}
		if err := writeSysctls(ns, vals); err != nil {
			return err
		}
	}
	for _, ns := range l.Cables {
		if ns == "" {
			continue
		}
		if err := writeSysctls(ns, cableSysctls); err != nil {
			return err
		}
	}
	return nil
}

// Sysctl sets a kernel setting inside namespace ns; key is written as for
// sysctl(8), e.g. "net.ipv4.fib_multipath_hash_policy". Network settings are
// per namespace, so this changes nothing outside the lab.
func (l *Lab) Sysctl(ns, key, value string) error {
	if !strings.HasPrefix(key, "net.") {
		return fmt.Errorf("sysctl %s: only net.* settings are per namespace", key)
	}
	return writeSysctls(ns, []sysctl{{strings.ReplaceAll(key, ".", "/"), value}})
}

func writeSysctls(ns string, vals []sysctl) error {
	return inNetns(ns, func() error {
		for _, s := range vals {
			if err := os.WriteFile(filepath.Join("/proc/sys", s.key), []byte(s.value), 0); err != nil {
				return fmt.Errorf("sysctl %s=%q in %s: %w", s.key, s.value, ns, err)
			}
		}
		return nil
	})
}

// readSysctls returns the current values of the keys of vals in ns.
func readSysctls(ns string, vals []sysctl) ([]sysctl, error) {
	out := make([]sysctl, len(vals))
	err := inNetns(ns, func() error {
		for i, s := range vals {
			b, err := os.ReadFile(filepath.Join("/proc/sys", s.key))
			if err != nil {
				return fmt.Errorf("sysctl %s in %s: %w", s.key, ns, err)
			}
			out[i] = sysctl{s.key, strings.TrimSpace(string(b))}
		}
		return nil
	})
	return out, err
}

// ListenTCP starts a TCP echo server on port of every address of namespace ns
// (IPv4 and IPv6), served by this process. Probes to it get a SYN-ACK; ports
// nobody listens on answer RST. close stops the server and its connections.
func (l *Lab) ListenTCP(ns string, port int) (close func(), err error) {
	var ln net.Listener
	err = inNetns(ns, func() error {
		var err error
		// "tcp" on an unspecified address is one dual-stack socket.
		ln, err = net.Listen("tcp", fmt.Sprintf(":%d", port))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listen on port %d in %s: %w", port, ns, err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
	)
	wg.Add(1)
	go func() { // ends when ln is closed
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() { // ends when the peer closes or close() closes c
				defer wg.Done()
				_, _ = io.Copy(c, c)
				c.Close()
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
			}()
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			ln.Close()
			mu.Lock()
			for c := range conns {
				c.Close()
			}
			mu.Unlock()
			wg.Wait()
		})
	}, nil
}

// DialTCP connects to dst from namespace ns, with a socket owned by this
// process.
func (l *Lab) DialTCP(ctx context.Context, ns string, dst netip.AddrPort) (net.Conn, error) {
	var c net.Conn
	err := inNetns(ns, func() error {
		var err error
		var d net.Dialer
		c, err = d.DialContext(ctx, "tcp", dst.String())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dial %s from %s: %w", dst, ns, err)
	}
	return c, nil
}

// killNamespacePIDs kills, by PID, every process that still runs inside ns.
// Only the lab's user starts processes in a lab namespace, so all are ours.
func killNamespacePIDs(ns string) {
	out, err := execOutput("ip", "netns", "pids", ns)
	if err != nil {
		return
	}
	for _, f := range strings.Fields(out) {
		var pid int
		if _, err := fmt.Sscan(f, &pid); err == nil && pid > 1 && pid != os.Getpid() {
			_ = unix.Kill(pid, unix.SIGKILL)
		}
	}
}

// Listen opens a listener inside namespace ns (for example an HTTP server on
// the client's loopback that the binary under test posts webhooks to). The
// socket stays in ns; Accept and Serve may run anywhere in the process.
func (l *Lab) Listen(ns, network, address string) (net.Listener, error) {
	var ln net.Listener
	err := inNetns(ns, func() error {
		var err error
		ln, err = net.Listen(network, address)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listen on %s %s in %s: %w", network, address, ns, err)
	}
	return ln, nil
}
