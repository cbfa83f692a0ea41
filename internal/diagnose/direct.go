package diagnose

import "fmt"

// Direct hop pings (Round.Direct) are echo requests sent to each hop's own
// address beside the TTL-limited probes. A router answers them from a
// different queue, and usually under a different limit, than the
// time-exceeded messages a traceroute reads, so comparing the two loss
// proportions of one hop tells its reply policy from loss on the way to
// it:
//
//   - TTL-limited loss significantly above the direct loss (two-proportion
//     z >= zSig, at least minDirect of each and minLost TTL-limited
//     losses): the router rate-limits its time-exceeded replies; the path
//     to it is as clean as its echo replies say.
//   - Direct loss as high as the loss that carries on to the destination
//     (neither significantly lower nor higher) and significantly above
//     the clean hop before: the echo requests are lost on the way to the
//     hop, so a loss placed on the link into it is confirmed even when its
//     TTL-limited figure is inflated by rate limiting.
//   - Direct loss significantly below the destination's: the hop is
//     clean, whatever its TTL-limited figure, so the loss starts after it.

// minDirect is the fewest direct pings (and TTL-limited probes) of a hop
// the direct rules compare: as for a diagnosis, 20 probes are the fewest
// whose loss interval can tell 0 % from 15 %.
const minDirect = 20

// foldDirect sorts the window's direct pings by hop (TTL 1 .. last).
func (a *analysis) foldDirect(last int) {
	for i, r := range a.rounds {
		for _, p := range r.Direct {
			if p.TTL < 1 || p.TTL > last {
				continue // the destination (its own probes are direct) or beyond the path
			}
			o := obs{round: i, lost: p.Lost || !p.Addr.IsValid(), rtt: p.RTT, from: p.Addr}
			a.hops[p.TTL-1].direct = append(a.hops[p.TTL-1].direct, o)
		}
	}
}

// directLost counts the hop's direct pings from round from on.
func (h *hopData) directLost(from int) (lost, sent int) {
	for _, o := range h.direct {
		if o.round >= from {
			sent++
			if o.lost {
				lost++
			}
		}
	}
	return lost, sent
}

// directClean reports whether hop ttl's direct pings lose significantly
// less (at level z) than lost of sent, the destination's loss: the loss
// lies beyond the hop.
func (a *analysis) directClean(ttl, from, lost, sent int, z float64) (dl, ds int, ok bool) {
	dl, ds = a.hops[ttl-1].directLost(from)
	return dl, ds, ds >= minDirect && twoPropZ(dl, ds, lost, sent) >= z
}

// directCorroborates reports whether hop ttl's direct pings confirm a loss
// of lost of sent that starts on the link into it: they lose about as much
// (neither significantly less nor more) and, when there is a clean hop
// before it (bs > 0), significantly more than that hop's bl of bs.
func (a *analysis) directCorroborates(ttl, from, lost, sent, bl, bs int) (dl, ds int, ok bool) {
	dl, ds = a.hops[ttl-1].directLost(from)
	if ds < minDirect || dl < minLost {
		return dl, ds, false
	}
	if twoPropZ(dl, ds, lost, sent) >= zSig || twoPropZ(lost, sent, dl, ds) >= zSig {
		return dl, ds, false
	}
	return dl, ds, bs == 0 || twoPropZ(bl, bs, dl, ds) >= zSig
}

// directRateLimited reports whether the hop's TTL-limited loss (lost of
// sent, over the whole window) is significantly above its direct loss, and
// words the direct side for the hint's evidence.
func (h *hopData) directRateLimited(lost, sent int) (words string, ok bool) {
	dl, ds := h.directLost(0)
	if ds < minDirect {
		return "", false
	}
	if sent >= minDirect && lost >= minLost && twoPropZ(dl, ds, lost, sent) >= zSig {
		if lo, _ := wilson(dl, ds, 1.96); lo < lossFloor {
			return fmt.Sprintf("its echo replies are clean: %d of %d lost", dl, ds), true
		}
		return fmt.Sprintf("its echo replies lose less: %d of %d lost (%s)", dl, ds, pct(dl, ds)), true
	}
	return fmt.Sprintf("echo requests to its own address lost %d of %d (%s), about as many", dl, ds, pct(dl, ds)), false
}

// directWords is the hop's direct figures for a hint's evidence, "" when
// it has none.
func (h *hopData) directWords() string {
	dl, ds := h.directLost(0)
	if ds == 0 {
		return ""
	}
	return fmt.Sprintf("echo requests to its own address lost %d of %d (%s)", dl, ds, pct(dl, ds))
}
