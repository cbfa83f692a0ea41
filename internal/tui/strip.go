package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/report"
)

// blocks are the latency levels of the strip, lowest first.
var blocks = [...]rune{'▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'}

const (
	lostMark = '?' // the probe got no reply
	noMark   = '.' // nothing was probed at this TTL in that round
	// stripHost is the widest the host column gets in Strip mode: the
	// history, not the name, is what this mode is for.
	stripHost = 24
)

// stripTable is the history display: per hop, one character per recent
// round, newest on the right, all hops on one latency scale (0 to the
// largest RTT in view) so a step that persists from one hop on stands out
// as it does in the statistics.
func stripTable(p painter, s monitor.Snapshot, hops []report.Hop, withAS bool, width int) []string {
	hw := min(stripHost, hostWidth(width, withAS, 1+10))
	sw := width - ttlWidth - hw - 1
	if withAS {
		sw -= asWidth
	}
	sw = max(sw, 1)
	last := s.Rounds
	first := max(last-sw+1, 1)

	byTTL := make(map[int][]monitor.Sample, len(s.Hops))
	var top time.Duration
	for _, h := range s.Hops {
		byTTL[h.TTL] = h.History
		for _, smp := range h.History {
			if smp.Round >= first && !smp.Lost {
				top = max(top, smp.RTT)
			}
		}
	}
	asHead := ""
	if withAS {
		asHead = fmt.Sprintf("%-*s", asWidth, "AS")
	}
	out := []string{fmt.Sprintf("%-*s%s%-*s %s", ttlWidth, "Hop", asHead, hw, "Host", legend(top))}
	for _, h := range hops {
		out = append(out, fmt.Sprintf("%3d. %s%s %s", h.TTL, asCell(withAS, h.Addr, h.ASN),
			fit(hostText(h.Addr, h.Host), hw), strip(p, byTTL[h.TTL], first, last, top)))
	}
	return out
}

// legend says what the scale's ends mean and the marks.
func legend(top time.Duration) string {
	if top <= 0 {
		return fmt.Sprintf("history, newest right  %c lost  %c not probed", lostMark, noMark)
	}
	step := top / time.Duration(len(blocks))
	return fmt.Sprintf("%c <%s ms … %c ≤%s ms  %c lost  %c not probed", blocks[0], trim(step), blocks[len(blocks)-1], trim(top), lostMark, noMark)
}

func trim(d time.Duration) string { return strings.TrimSpace(msText(msp(d))) }

// strip renders rounds first…last of one hop's history.
func strip(p painter, hist []monitor.Sample, first, last int, top time.Duration) string {
	if last < first {
		return ""
	}
	cells := make([]rune, last-first+1)
	for i := range cells {
		cells[i] = noMark
	}
	for _, smp := range hist {
		if smp.Round < first || smp.Round > last {
			continue
		}
		cells[smp.Round-first] = level(smp, top)
	}
	if !p.color {
		return string(cells)
	}
	// Lost probes in red; runs of them share one escape.
	var b strings.Builder
	red := false
	for _, c := range cells {
		if (c == lostMark) != red {
			red = !red
			if red {
				b.WriteString(sgrRed)
			} else {
				b.WriteString(sgrReset)
			}
		}
		b.WriteRune(c)
	}
	if red {
		b.WriteString(sgrReset)
	}
	return b.String()
}

// level maps a sample to its mark: the block of its RTT's eighth of
// (0, top], '?' when lost.
func level(smp monitor.Sample, top time.Duration) rune {
	if smp.Lost {
		return lostMark
	}
	if top <= 0 {
		return blocks[0]
	}
	i := int(int64(smp.RTT) * int64(len(blocks)) / int64(top))
	return blocks[min(max(i, 0), len(blocks)-1)]
}
