package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/trace"
)

var errHelp = errors.New("help shown")

// probeFlags are the flags shared by report, trace and selftest. Names
// follow mtr where mtr has one, so muscle memory works.
type probeFlags struct {
	count       int
	interval    float64
	noDNS       bool
	udp, tcp    bool
	port        int
	maxHops     int
	firstTTL    int
	size        int
	timeout     float64
	v4, v6      bool
	json, csv   bool
	verbose     bool
	raw, unpriv bool
}

func (pf *probeFlags) register(fs *flag.FlagSet, withCount bool) {
	if withCount {
		fs.IntVar(&pf.count, "c", 10, "")
		fs.IntVar(&pf.count, "count", 10, "number of rounds")
		fs.Float64Var(&pf.interval, "i", 1, "")
		fs.Float64Var(&pf.interval, "interval", 1, "seconds between the starts of rounds")
		fs.BoolVar(&pf.json, "json", false, "print one JSON object (docs/report-format.md)")
		fs.BoolVar(&pf.csv, "csv", false, "print CSV, one row per hop")
	}
	fs.BoolVar(&pf.noDNS, "n", false, "")
	fs.BoolVar(&pf.noDNS, "no-dns", false, "do not resolve hop addresses to names")
	fs.BoolVar(&pf.udp, "u", false, "")
	fs.BoolVar(&pf.udp, "udp", false, "probe with UDP datagrams (destination answers port unreachable)")
	fs.BoolVar(&pf.tcp, "T", false, "")
	fs.BoolVar(&pf.tcp, "tcp", false, "probe with TCP SYNs (destination answers SYN-ACK or RST)")
	fs.IntVar(&pf.port, "P", 0, "")
	fs.IntVar(&pf.port, "port", 0, "destination port for -u/-T (default 33434 UDP, 80 TCP)")
	fs.IntVar(&pf.maxHops, "m", trace.DefaultMaxHops, "")
	fs.IntVar(&pf.maxHops, "max-hops", trace.DefaultMaxHops, "largest TTL to probe")
	fs.IntVar(&pf.firstTTL, "f", 1, "")
	fs.IntVar(&pf.firstTTL, "first-ttl", 1, "first TTL to probe")
	fs.IntVar(&pf.size, "s", trace.DefaultSize, "")
	fs.IntVar(&pf.size, "size", trace.DefaultSize, "payload bytes per probe (minimum 8)")
	fs.Float64Var(&pf.timeout, "timeout", trace.DefaultTimeout.Seconds(), "seconds to wait for each reply (TCP probes wait at most 1)")
	fs.BoolVar(&pf.v4, "4", false, "use IPv4 only")
	fs.BoolVar(&pf.v6, "6", false, "use IPv6 only")
	fs.BoolVar(&pf.verbose, "verbose", false, "say which probe backend was chosen and why")
	fs.BoolVar(&pf.raw, "raw", false, "require raw sockets (CAP_NET_RAW or root)")
	fs.BoolVar(&pf.unpriv, "unprivileged", false, "never use raw sockets, even when allowed")
}

// parse parses args, allowing flags after the target as mtr does. It
// returns the positional arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// shortFor maps long flag names to their mtr-style one-letter aliases.
var shortFor = map[string]string{"count": "c", "interval": "i", "no-dns": "n", "udp": "u", "tcp": "T",
	"port": "P", "max-hops": "m", "first-ttl": "f", "size": "s", "aslookup": "z"}

func printUsage(w io.Writer, fs *flag.FlagSet, synopsis string) {
	fmt.Fprintf(w, "Usage: %s\n\nFlags:\n", synopsis)
	fs.VisitAll(func(f *flag.Flag) {
		if f.Usage == "" { // a one-letter alias, printed with its long name
			return
		}
		names := "--" + f.Name
		if len(f.Name) == 1 {
			names = "-" + f.Name
		}
		if s, ok := shortFor[f.Name]; ok {
			names = "-" + s + ", " + names
		}
		def := ""
		if f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "" {
			def = " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "  %-22s %s%s\n", names, f.Usage, def)
	})
}

// validate checks flag values and returns the probe mode.
func (pf *probeFlags) validate(withCount bool) (probe.Mode, error) {
	mode := probe.ICMP
	switch {
	case pf.udp && pf.tcp:
		return 0, usagef("-u/--udp and -T/--tcp cannot be used together")
	case pf.udp:
		mode = probe.UDP
	case pf.tcp:
		mode = probe.TCP
	}
	if pf.v4 && pf.v6 {
		return 0, usagef("-4 and -6 cannot be used together")
	}
	if pf.raw && pf.unpriv {
		return 0, usagef("--raw and --unprivileged cannot be used together")
	}
	if pf.port < 0 || pf.port > 65535 {
		return 0, usagef("port %d out of range: use 1-65535", pf.port)
	}
	if pf.port != 0 && mode == probe.ICMP {
		return 0, usagef("-P/--port applies to UDP (-u) and TCP (-T) probes only")
	}
	if pf.maxHops < 1 || pf.maxHops > 255 {
		return 0, usagef("max hops %d out of range: use 1-255", pf.maxHops)
	}
	if pf.firstTTL < 1 || pf.firstTTL > pf.maxHops {
		return 0, usagef("first TTL %d out of range: use 1-%d (the max hops)", pf.firstTTL, pf.maxHops)
	}
	if pf.size < 0 || pf.size > 65000 {
		return 0, usagef("size %d out of range: use 0-65000 payload bytes", pf.size)
	}
	if !(pf.timeout > 0) || pf.timeout > 60 || math.IsInf(pf.timeout, 0) {
		return 0, usagef("timeout %v out of range: use more than 0 and at most 60 seconds", pf.timeout)
	}
	if withCount {
		if pf.count < 1 {
			return 0, usagef("count %d out of range: use 1 or more rounds", pf.count)
		}
		if !(pf.interval >= 0) || pf.interval > 3600 {
			return 0, usagef("interval %v out of range: use 0-3600 seconds", pf.interval)
		}
		if pf.json && pf.csv {
			return 0, usagef("--json and --csv cannot be used together")
		}
	}
	return mode, nil
}

func (pf *probeFlags) privilege() probe.Privilege {
	switch {
	case pf.raw:
		return probe.Raw
	case pf.unpriv:
		return probe.Unprivileged
	}
	return probe.Auto
}

func (pf *probeFlags) traceConfig(dst netip.Addr, mode probe.Mode) trace.Config {
	return trace.Config{
		Target: dst, Mode: mode, Port: uint16(pf.port), Size: pf.size,
		Timeout: time.Duration(pf.timeout * float64(time.Second)), FirstTTL: pf.firstTTL, MaxHops: pf.maxHops,
	}
}

// resolveTarget turns a host name or address literal into one address.
func resolveTarget(ctx context.Context, host string, v4, v6 bool) (netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		if (v4 && !a.Is4()) || (v6 && !a.Is6()) {
			return netip.Addr{}, usagef("%s is not an %s address", host, map[bool]string{true: "IPv4", false: "IPv6"}[v4])
		}
		if a.Zone() != "" {
			return a, nil
		}
		return a, nil
	}
	if strings.ContainsAny(host, " /\\") || host == "" {
		return netip.Addr{}, usagef("%q is not a host name or IP address", host)
	}
	network := "ip"
	switch {
	case v4:
		network = "ip4"
	case v6:
		network = "ip6"
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(rctx, network, host)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return netip.Addr{}, fmt.Errorf("unknown host %q: the name does not resolve%s; check the spelling or give an IP address", host, famHint(v4, v6))
		}
		return netip.Addr{}, fmt.Errorf("cannot resolve %q: %v; check your DNS settings or give an IP address", host, err)
	}
	if len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("unknown host %q: no addresses%s", host, famHint(v4, v6))
	}
	// Prefer IPv4 when both exist and no family was asked for, as mtr does.
	for _, a := range addrs {
		if a.Unmap().Is4() {
			return a.Unmap(), nil
		}
	}
	return addrs[0].Unmap(), nil
}

func famHint(v4, v6 bool) string {
	switch {
	case v4:
		return " to an IPv4 address"
	case v6:
		return " to an IPv6 address"
	}
	return ""
}

func secs(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
