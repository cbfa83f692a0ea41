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

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/probe/result"
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
	port        portFlag
	maxHops     int
	firstTTL    int
	size        int
	timeout     float64
	v4, v6      bool
	json, csv   bool
	verbose     bool
	raw, unpriv bool
	pingHops    bool
	tos         string
	ext         bool
	flows       int  // report --flows: ECMP flow enumeration (report_flows.go)
	pmtu        bool // report --pmtu: path MTU discovery (pmtu.go)
}

// pingHopsHelp is --ping-hops' usage line (report, ui, headless).
const pingHopsHelp = "also send each round one ICMP echo request to every answering hop's own address, so the diagnosis tells a router that rate-limits its replies from loss (docs/diagnosis.md)"

func (pf *probeFlags) register(fs *flag.FlagSet, withCount bool) {
	if withCount {
		fs.IntVar(&pf.count, "c", 10, "")
		fs.IntVar(&pf.count, "count", 10, "number of rounds")
		fs.Float64Var(&pf.interval, "i", 1, "")
		fs.Float64Var(&pf.interval, "interval", 1, "seconds between the starts of rounds"+rangeNote("interval"))
		fs.BoolVar(&pf.json, "json", false, "print one JSON object (docs/report-format.md)")
		fs.BoolVar(&pf.csv, "csv", false, "print CSV, one row per hop")
		fs.BoolVar(&pf.pingHops, "ping-hops", false, pingHopsHelp)
		fs.BoolVar(&pf.ext, "e", false, "")
		fs.BoolVar(&pf.ext, "ext", false, "show what each hop's replies said beyond its address, as mtr -e: MPLS labels, RFC 5837 interfaces")
		fs.BoolVar(&pf.pmtu, "pmtu", false, "after the rounds, discover the path MTU with don't-fragment probes and the hop where larger packets stop (docs/probing.md)")
		fs.IntVar(&pf.flows, "flows", 0, flowsHelp)
	}
	fs.BoolVar(&pf.noDNS, "n", false, "")
	fs.BoolVar(&pf.noDNS, "no-dns", false, "do not resolve hop addresses to names")
	fs.BoolVar(&pf.udp, "u", false, "")
	fs.BoolVar(&pf.udp, "udp", false, "probe with UDP datagrams (destination answers port unreachable)")
	fs.BoolVar(&pf.tcp, "T", false, "")
	fs.BoolVar(&pf.tcp, "tcp", false, "probe with TCP SYNs (destination answers SYN-ACK or RST)")
	fs.Var(&pf.port, "P", "")
	fs.Var(&pf.port, "port", portUsage())
	fs.IntVar(&pf.maxHops, "m", trace.DefaultMaxHops, "")
	fs.IntVar(&pf.maxHops, "max-hops", trace.DefaultMaxHops, "largest TTL to probe"+rangeNote("max_hops"))
	fs.IntVar(&pf.firstTTL, "f", 1, "")
	fs.IntVar(&pf.firstTTL, "first-ttl", 1, "first TTL to probe"+rangeNote("first_ttl"))
	fs.IntVar(&pf.size, "s", trace.DefaultSize, "")
	fs.IntVar(&pf.size, "size", trace.DefaultSize, "payload bytes per probe"+rangeNote("size"))
	fs.Float64Var(&pf.timeout, "timeout", trace.DefaultTimeout.Seconds(), "seconds to wait for each reply (TCP probes wait at most 1)"+rangeNote("timeout"))
	fs.BoolVar(&pf.v4, "4", false, "use IPv4 only")
	fs.BoolVar(&pf.v6, "6", false, "use IPv6 only")
	fs.BoolVar(&pf.verbose, "verbose", false, "say which probe backend was chosen and why")
	fs.BoolVar(&pf.raw, "raw", false, "require raw sockets (CAP_NET_RAW or root)")
	fs.BoolVar(&pf.unpriv, "unprivileged", false, "never use raw sockets, even when allowed")
	fs.StringVar(&pf.tos, "Q", "", "")
	fs.StringVar(&pf.tos, "tos", "", "DSCP and ECN to send probes with: a TOS byte (184, 0xba) or names such as EF or AF41+ECT(0); "+
		"with raw sockets report -e shows the DSCP and ECN each hop received")
}

// rangeNote is " (RANGE)" for a flag's usage line, the range taken from
// the option table so that help and checks cannot disagree.
func rangeNote(key string) string {
	op, ok := config.Lookup(key)
	if !ok || op.RangeText() == "" {
		return ""
	}
	return " (" + op.RangeText() + ")"
}

// portUsage is -P/--port's usage line: the modes that use a port and
// their default ports, from the option table.
func portUsage() string {
	op := config.PortOption()
	var defs []string
	for _, m := range op.Modes {
		if d, ok := op.ModeDefault(m); ok {
			defs = append(defs, fmt.Sprintf("%s %s", secs(d), strings.ToUpper(m)))
		}
	}
	return "destination port for -u/-T" + rangeNote("port") + " (default " + strings.Join(defs, ", ") + ")"
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
	"port": "P", "max-hops": "m", "first-ttl": "f", "size": "s", "aslookup": "z", "tos": "Q", "ext": "e"}

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

// validate checks flag values and returns the probe mode. withCount checks
// report's -c and output formats; withInterval checks -i.
func (pf *probeFlags) validate(withCount, withInterval bool) (probe.Mode, error) {
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
	// The ranges are the config's (one rule for files and flags); only
	// the names are the flags'.
	o := config.Options{
		Mode: new(mode.String()), Timeout: new(config.Seconds(secsDuration(pf.timeout))),
		Size: new(pf.size), MaxHops: new(pf.maxHops), FirstTTL: new(pf.firstTTL),
	}
	if pf.port.set {
		if !config.PortAllowed(mode.String()) {
			return 0, usagef("-P/--port applies to UDP (-u) and TCP (-T) probes only")
		}
		o.Port = new(pf.port.n)
	}
	if withInterval {
		o.Interval = new(config.Seconds(secsDuration(pf.interval)))
	}
	if pf.tos != "" {
		o.TOS = new(pf.tos)
	}
	if ps := o.Check(); len(ps) > 0 {
		msgs := make([]string, len(ps))
		for i, p := range ps {
			msgs[i] = flagName(p.Key) + ": " + p.Msg
		}
		return 0, usageError{strings.Join(msgs, "; ")}
	}
	if withCount {
		if pf.count < 1 {
			return 0, usagef("count %d out of range: use 1 or more rounds", pf.count)
		}
		if pf.json && pf.csv {
			return 0, usagef("--json and --csv cannot be used together")
		}
		if err := pf.validateFlows(mode); err != nil {
			return 0, err
		}
	}
	return mode, nil
}

// flagNames are the flags that set option keys of the config, for
// messages.
var flagNames = map[string]string{
	"interval": "-i/--interval", "port": "-P/--port", "timeout": "--timeout", "size": "-s/--size",
	"max_hops": "-m/--max-hops", "first_ttl": "-f/--first-ttl", "tos": "-Q/--tos",
}

func flagName(key string) string {
	if f, ok := flagNames[key]; ok {
		return f
	}
	return key
}

// secsDuration converts seconds from a flag; values beyond any range
// (NaN, infinities, centuries) become -1 ns, which every range refuses.
func secsDuration(f float64) time.Duration {
	if !(f >= -1e9 && f <= 1e9) {
		return -1
	}
	return time.Duration(math.Round(f * float64(time.Second)))
}

// portFlag is -P/--port: an int that knows whether it was given, so that
// "-P 0" is refused like "port": 0 in a file rather than read as "the
// default".
type portFlag struct {
	n   int
	set bool
}

func (p *portFlag) String() string {
	if p == nil || !p.set {
		return "0"
	}
	return strconv.Itoa(p.n)
}

func (p *portFlag) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return errors.New("not a whole number")
	}
	p.n, p.set = n, true
	return nil
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
	tos, _ := result.ParseTOS(pf.tos) // checked by validate
	return trace.Config{
		Target: dst, Mode: mode, Port: uint16(pf.port.n), Size: pf.size,
		Timeout: time.Duration(pf.timeout * float64(time.Second)), FirstTTL: pf.firstTTL, MaxHops: pf.maxHops,
		TOS: tos,
	}
}

// resolveTarget turns a host name or address literal into one address
// that a trace can have as its destination. Every entry point (report,
// trace, tui, selftest, headless, the dashboard's API) goes through it, so
// they refuse the same targets with the same words.
func resolveTarget(ctx context.Context, host string, v4, v6 bool) (netip.Addr, error) {
	if err := config.CheckHost(host); err != nil {
		return netip.Addr{}, usageError{err.Error()}
	}
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		if (v4 && !a.Is4()) || (v6 && !a.Is6()) {
			return netip.Addr{}, usagef("%s is not an %s address", host, map[bool]string{true: "IPv4", false: "IPv6"}[v4])
		}
		return checkDestination(a)
	}
	if strings.ContainsAny(host, " /\\") {
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
	pick := addrs[0].Unmap()
	for _, a := range addrs {
		if a.Unmap().Is4() {
			pick = a.Unmap()
			break
		}
	}
	a, err := checkDestination(pick)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%s resolves to %w", host, err)
	}
	return a, nil
}

// checkDestination applies config.CheckAddr with this machine's attached
// networks.
func checkDestination(a netip.Addr) (netip.Addr, error) {
	if err := config.CheckAddr(a, attachedPrefixes()); err != nil {
		return netip.Addr{}, usageError{err.Error()}
	}
	return a, nil
}

// attachedPrefixes lists the interfaces' addresses with their prefix
// lengths. An error reading them leaves the list empty: the subnet
// broadcast rule is then skipped, the other rules still apply.
func attachedPrefixes() []netip.Prefix {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok {
			continue
		}
		ones, bits := n.Mask.Size()
		if ip.Is4In6() && bits == 128 {
			ones -= 96 // an IPv4 address with a 16-byte mask
		}
		out = append(out, netip.PrefixFrom(ip.Unmap(), ones))
	}
	return out
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
