package cli

import (
	"context"
	"net/netip"

	"github.com/pingerplot/pingerplot/internal/pmtu"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// discoverPathMTU runs one path MTU discovery towards dst with the trace's
// settings (report --pmtu). A TCP trace's discovery sends ICMP: a SYN
// cannot carry a chosen size. A failure is in the result's Err.
func discoverPathMTU(ctx context.Context, prober probe.Prober, cfg trace.Config, mode probe.Mode, dst netip.Addr) result.PathMTU {
	if mode == probe.TCP {
		mode = probe.ICMP
	}
	r, _ := pmtu.Discover(ctx, prober, pmtu.Config{Dst: dst, Mode: mode, Port: cfg.Port, MaxTTL: cfg.MaxHops,
		Timeout: cfg.Timeout, TOS: cfg.TOS})
	return r
}

// pmtuHelp and pmtuIntervalHelp are the --pmtu and --pmtu-interval usage
// lines of ui and headless.
const (
	pmtuHelp         = "discover every target's path MTU and the hop where larger packets stop, at start, every --pmtu-interval and after a route change (docs/probing.md)"
	pmtuIntervalHelp = "time between a target's path MTU discoveries (with --pmtu or the pmtu setting), e.g. 10m"
)
