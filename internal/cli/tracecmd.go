package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"net/netip"

	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/report"
	"github.com/pingerplot/pingerplot/internal/resolve"
	"github.com/pingerplot/pingerplot/internal/trace"
)

func runTrace(ctx context.Context, args []string, env Env) error {
	c, err := openTargetCommand(ctx, "trace", false, args, env)
	if err != nil {
		return err
	}
	defer c.prober.Close()
	as, err := c.gf.openAS(env)
	if err != nil {
		return err
	}
	defer as.close()
	return traceOnce(ctx, c.prober, c.pf, as, c.target, c.dst, c.mode, env)
}

// traceOnce runs one round and prints each hop as it becomes known.
func traceOnce(ctx context.Context, prober probe.Prober, pf probeFlags, as *asLookup, target string, dst netip.Addr, mode probe.Mode, env Env) error {
	tr, err := trace.New(prober, pf.traceConfig(dst, mode), nil)
	if err != nil {
		return usageError{err.Error()}
	}
	cfg := tr.Config()
	fmt.Fprintf(env.Stdout, "trace to %s (%s), %d hops max, %s", target, dst, cfg.MaxHops, strings.ToUpper(mode.String()))
	if mode != probe.ICMP {
		fmt.Fprintf(env.Stdout, " port %d", cfg.Port)
	}
	fmt.Fprintln(env.Stdout)
	var res *resolve.Resolver
	if !pf.noDNS {
		res = resolve.New(resolve.Config{})
		defer res.Close()
	}
	// A refusal of the local system usually repeats at every TTL (no
	// route is no route): it is printed once, with the TTLs it covers.
	var lastErr string
	sameFrom, sameTo := 0, 0
	flush := func() {
		if sameTo > sameFrom {
			fmt.Fprintf(env.Stdout, "%3d  to %d: the same error\n", sameFrom+1, sameTo)
		}
		sameFrom, sameTo, lastErr = 0, 0, ""
	}
	r, err := tr.Round(ctx, 1, func(h trace.Hop) {
		if h.Reply.Kind == probe.Failed && lastErr != "" && fmt.Sprint(h.Reply.Err) == lastErr {
			sameTo = h.TTL
			return
		}
		flush()
		fmt.Fprintln(env.Stdout, hopLine(ctx, h, mode, res, as))
		if h.Reply.Kind == probe.Failed {
			lastErr, sameFrom, sameTo = fmt.Sprint(h.Reply.Err), h.TTL, h.TTL
		}
	})
	flush()
	if err != nil {
		return err
	}
	if n, cause := r.Unsent(); r.NothingSent() {
		return nothingSentError{dst: dst, cause: cause}
	} else if n > 0 {
		fmt.Fprintf(env.Stdout, "%d of %d probes could not be sent: %v\n", n, len(r.Hops), cause)
	}
	if !r.Reached {
		fmt.Fprintf(env.Stdout, "destination %s not reached\n", dst)
		return nil
	}
	if mode == probe.TCP {
		for _, h := range r.Hops {
			if h.TTL != r.EndTTL {
				continue
			}
			if h.Reply.Closed {
				fmt.Fprintf(env.Stdout, "port %d on %s is closed: the destination refused the connection (RST); the host answers, the service is down\n", cfg.Port, dst)
			} else {
				fmt.Fprintf(env.Stdout, "port %d on %s is open: the destination accepted the connection (SYN-ACK)\n", cfg.Port, dst)
			}
		}
	}
	if pf.pmtu {
		p := discoverPathMTU(ctx, prober, cfg, mode, dst)
		fmt.Fprintln(env.Stdout, report.PathMTULine(&p))
	}
	return nil
}

// nothingSentError is a run in which the local system refused every
// probe: nothing was asked of the network, so there is no result, only
// the cause (no route, no permission) to fix. The command exits 1.
type nothingSentError struct {
	dst   netip.Addr
	cause error
}

func (e nothingSentError) Error() string {
	return fmt.Sprintf("no probe to %s could be sent, the local system refused them: %v", e.dst, e.cause)
}

func (e nothingSentError) Unwrap() error { return e.cause }

// hopLine prints one hop; for TCP the destination's mark says whether it
// accepted the connection (port open) or refused it (closed).
func hopLine(ctx context.Context, h trace.Hop, mode probe.Mode, res *resolve.Resolver, as *asLookup) string {
	rep := h.Reply
	switch rep.Kind {
	case probe.Timeout:
		return fmt.Sprintf("%3d  *", h.TTL)
	case probe.Failed:
		return fmt.Sprintf("%3d  not sent: %v", h.TTL, rep.Err)
	}
	name := ""
	if res != nil && rep.From.IsValid() {
		// trace prints as it goes, so it waits a moment for the name.
		if _, ok := res.Name(rep.From); !ok {
			wctx, cancel := context.WithTimeout(ctx, time.Second)
			res.Wait(wctx)
			cancel()
		}
		if n, ok := res.Name(rep.From); ok && n != "" {
			name = " (" + n + ")"
		}
	}
	from := "?"
	if rep.From.IsValid() {
		from = rep.From.String()
	}
	if as != nil && rep.From.IsValid() {
		// trace prints as it goes, so it waits a moment for the AS too.
		as.start(rep.From)
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		as.res.Wait(wctx)
		cancel()
		asText := "AS???"
		if info, ok := as.res.Info(rep.From); ok && info.ASN != 0 {
			asText = info.AS()
		}
		from = "[" + asText + "] " + from
	}
	mark := ""
	switch {
	case rep.Kind == probe.Reached && rep.Closed:
		mark = "  [destination: port closed, RST]"
	case rep.Kind == probe.Reached && mode == probe.TCP:
		mark = "  [destination: port open, SYN-ACK]"
	case rep.Kind == probe.Reached:
		mark = "  [destination]"
	case rep.Kind == probe.Unreachable:
		mark = fmt.Sprintf("  !unreachable (type %d code %d)", rep.ICMPType, rep.ICMPCode)
	}
	return fmt.Sprintf("%3d  %s%s  %.3f ms%s", h.TTL, from, name, float64(rep.RTT)/float64(time.Millisecond), mark)
}
