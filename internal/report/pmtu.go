package report

import (
	"fmt"
	"strconv"

	"github.com/pingerplot/pingerplot/internal/probe/result"
)

// PathMTU is the path MTU discovery's result (report --pmtu): in JSON the
// object "path_mtu" {mtu, max, hop_ttl, hop_addr, local, reported, probes,
// at, error}, in CSV the columns of pathMTUCSV on every row, and under the
// text table one line (PathMTULine).
type PathMTU = result.PathMTU

// pathMTUCSV are the columns --pmtu adds at the end of each CSV row, after
// the detail columns: the run's path MTU (empty if the discovery failed),
// the TTL and address of the hop where larger packets stop (empty when
// none do or the local interface is the limit), and how it was learnt.
var pathMTUCSV = []string{"path_mtu", "path_mtu_hop_ttl", "path_mtu_hop_addr", "path_mtu_source"}

func appendPathMTUCSV(row []string, p *PathMTU) []string {
	if p == nil {
		return row
	}
	mtu, ttl, addr := "", "", ""
	if p.Valid() {
		mtu = strconv.Itoa(p.MTU)
	}
	if p.HopTTL > 0 {
		ttl = strconv.Itoa(p.HopTTL)
	}
	if p.HopAddr.IsValid() {
		addr = p.HopAddr.String()
	}
	return append(row, mtu, ttl, addr, PathMTUSource(*p))
}

// PathMTUSource names how the path MTU was learnt: "reported" (a router
// or the local stack said the next-hop MTU), "silence" (larger packets
// went unanswered: an ICMP black hole), "clear" (the largest size tried
// passed), "local" (this host's interface is the limit) or "failed".
func PathMTUSource(p PathMTU) string {
	switch {
	case !p.Valid():
		return "failed"
	case p.MTU >= p.Max:
		return "clear"
	case p.Local:
		return "local"
	case p.Reported:
		return "reported"
	}
	return "silence"
}

// PathMTULine is the text report's line for p, "" for nil.
func PathMTULine(p *PathMTU) string {
	if p == nil {
		return ""
	}
	if !p.Valid() {
		return "Path MTU: not found: " + p.Err
	}
	switch PathMTUSource(*p) {
	case "clear":
		return fmt.Sprintf("Path MTU: %d bytes (the largest size tried; nothing on the path is smaller)", p.MTU)
	case "local":
		return fmt.Sprintf("Path MTU: %d bytes, limited by this host's own interface", p.MTU)
	}
	where := "at an unknown hop"
	if p.HopTTL > 0 {
		where = fmt.Sprintf("at hop %d", p.HopTTL)
		if p.HopAddr.IsValid() {
			where += fmt.Sprintf(" (%s)", p.HopAddr)
		}
	} else if p.HopAddr.IsValid() {
		where = fmt.Sprintf("at %s", p.HopAddr)
	}
	how := "it reported fragmentation needed / packet too big"
	if !p.Reported {
		how = "larger packets met silence there (an ICMP black hole)"
	}
	return fmt.Sprintf("Path MTU: %d bytes; larger packets stop %s: %s", p.MTU, where, how)
}
