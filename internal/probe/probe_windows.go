//go:build windows

package probe

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/windows"
)

// New returns the Windows prober: ICMP through the ICMP helper API, which
// needs no administrator rights (icmp_windows.go), TCP and UDP through
// Winsock sockets (sock_windows.go), whose traces need them.
//
// Privilege on Windows is the process token's elevation: Auto uses raw
// sockets for TCP/UDP traces when the process runs as administrator;
// Unprivileged never does (TCP service checks and ICMP still work); Raw
// requires an elevated process and fails at once without one. ICMP always
// goes through the helper API: Windows has no better way to trace with it.
func New(cfg Config) (Prober, error) {
	admin := windows.GetCurrentProcessToken().IsElevated()
	if cfg.Privilege == Raw && !admin {
		return nil, errors.New("--raw needs administrator rights on Windows (raw sockets): run PingerPlot as administrator " +
			"(right-click, Run as administrator), or leave out --raw: ICMP traces and TCP service checks need no administrator rights")
	}
	p := &windowsProber{
		icmp:  newICMPProber(cfg),
		sock:  newSockProber(cfg, admin && cfg.Privilege != Unprivileged),
		admin: admin,
		priv:  cfg.Privilege,
	}
	return p, nil
}

type windowsProber struct {
	icmp  *icmpProber
	sock  *sockProber
	admin bool
	priv  Privilege
}

func (p *windowsProber) Prepare(mode Mode, v6, finalHopOnly bool) error {
	if mode == ICMP {
		return p.icmp.prepare(v6)
	}
	return p.sock.prepare(mode, v6, finalHopOnly)
}

func (p *windowsProber) Probe(ctx context.Context, pr Probe) (Reply, error) {
	var r Reply
	err := p.ProbeAll(ctx, []Probe{pr}, 0, func(_ int, rep Reply) bool { r = rep; return true })
	return r, err
}

// ProbeAll routes a batch by mode. The tracer sends one mode per round; a
// batch that mixes ICMP with TCP or UDP is sent as two batches, one after
// the other, with the answers under their original indices.
//
// Don't-fragment probes (path MTU discovery) always go as ICMP echo
// requests: only the ICMP helper API sets DF per request (IP_FLAG_DF), and
// the path MTU is the path's, whatever the protocol that measures it.
func (p *windowsProber) ProbeAll(ctx context.Context, ps []Probe, gap time.Duration, onReply func(i int, r Reply) bool) error {
	if slices.ContainsFunc(ps, func(pr Probe) bool { return pr.DontFragment && pr.Mode != ICMP }) {
		ps = slices.Clone(ps)
		for i := range ps {
			if ps[i].DontFragment {
				ps[i].Mode, ps[i].Port = ICMP, 0
			}
		}
	}
	var icmpIdx, sockIdx []int
	for i, pr := range ps {
		if pr.Mode == ICMP {
			icmpIdx = append(icmpIdx, i)
		} else {
			sockIdx = append(sockIdx, i)
		}
	}
	switch {
	case len(sockIdx) == 0:
		return p.icmp.probeAll(ctx, ps, gap, onReply)
	case len(icmpIdx) == 0:
		return p.sock.probeAll(ctx, ps, gap, onReply)
	}
	stopped := false
	sub := func(idx []int) ([]Probe, func(int, Reply) bool) {
		sp := make([]Probe, len(idx))
		for j, i := range idx {
			sp[j] = ps[i]
		}
		return sp, func(j int, r Reply) bool {
			if !onReply(idx[j], r) {
				stopped = true
				return false
			}
			return true
		}
	}
	sp, f := sub(icmpIdx)
	if err := p.icmp.probeAll(ctx, sp, gap, f); err != nil || stopped {
		return err
	}
	sp, f = sub(sockIdx)
	return p.sock.probeAll(ctx, sp, gap, f)
}

func (p *windowsProber) Backend() string {
	who := "not elevated: TCP/UDP traces refused, TCP service checks and ICMP allowed"
	switch {
	case p.admin && p.priv == Unprivileged:
		who = "administrator, but --unprivileged: no raw sockets"
	case p.admin:
		who = "administrator: raw sockets allowed"
	}
	notes := append(p.icmp.notes(), p.sock.notes()...)
	if len(notes) == 0 {
		return "windows (" + who + "; nothing opened yet)"
	}
	return "windows (" + who + "); " + strings.Join(notes, "; ")
}

func (p *windowsProber) Close() error {
	return errors.Join(p.icmp.close(), p.sock.close())
}
