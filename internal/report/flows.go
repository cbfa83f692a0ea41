package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/pingerplot/pingerplot/internal/flows"
	"github.com/pingerplot/pingerplot/internal/hopstat"
)

// Flows is what ECMP flow enumeration (report --flows N) found: each
// distinct path the flows took, with its share of the flows and its own
// per-hop statistics (docs/flows.md).
type Flows struct {
	// Count is how many flows were probed; Paths share them.
	Count int `json:"count"`
	// Varies names the header field the flows differ in ("source port",
	// "echo identifier").
	Varies string     `json:"varies"`
	Paths  []FlowPath `json:"paths"`
}

// FlowPath is one distinct path.
type FlowPath struct {
	// SharePct is the percentage of the flows that took this path.
	SharePct float64 `json:"share_pct"`
	// Flows are the flow numbers on it (0 is the target's ordinary flow).
	Flows   []int `json:"flows"`
	Reached bool  `json:"reached"`
	// DestLossPct is the loss at the destination, 100 if never reached.
	DestLossPct float64 `json:"dest_loss_pct"`
	// Lossy: the destination loss stands out above the other paths'
	// (flows.LossyMargin percentage points or more above the least lossy).
	Lossy bool `json:"lossy"`
	// Hops are the path's hops, each the address its flows saw there and
	// the flows' statistics merged (no percentiles).
	Hops []Hop `json:"hops"`
}

// FlowsOf converts the distinct paths of n flows into the report's form.
func FlowsOf(n int, varies string, ps []flows.Path, name Namer) *Flows {
	f := &Flows{Count: n, Varies: varies, Paths: make([]FlowPath, 0, len(ps))}
	for _, p := range ps {
		hs := make([]hopstat.Hop, len(p.Hops))
		for i, h := range p.Hops {
			hs[i] = hopstat.Hop{TTL: h.TTL, Stats: h.Stats, Reached: h.Reached}
			if h.Addr.IsValid() {
				hs[i].Responders = []hopstat.Responder{{Addr: h.Addr, Stats: h.Stats}}
			}
		}
		f.Paths = append(f.Paths, FlowPath{
			SharePct: round3(100 * p.Share), Flows: p.Flows, Reached: p.Reached,
			DestLossPct: round3(p.DestLossPct), Lossy: p.Lossy, Hops: Hops(hs, name),
		})
	}
	return f
}

// WriteFlowsText writes the distinct paths, one table each, after the
// report's own table.
func WriteFlowsText(w io.Writer, f *Flows) error {
	fmt.Fprintf(w, "\nFlows: %d (differing in the %s), %d distinct path%s\n", f.Count, f.Varies, len(f.Paths), plural(len(f.Paths)))
	for i, p := range f.Paths {
		nums := make([]string, len(p.Flows))
		for j, n := range p.Flows {
			nums[j] = fmt.Sprint(n)
		}
		mark := ""
		if p.Lossy {
			mark = "  LOSSY"
		}
		dest := fmt.Sprintf("destination loss %.1f%%", p.DestLossPct)
		if !p.Reached {
			dest = "destination not reached"
		}
		fmt.Fprintf(w, "Path %d: %.1f%% of flows (%d: %s), %s%s\n", i+1, p.SharePct, len(p.Flows), strings.Join(nums, " "), dest, mark)
		fmt.Fprintf(w, "  %3s  %-40s %6s %5s %8s %8s %8s %8s\n", "TTL", "Host", "Loss%", "Snt", "Last", "Avg", "Best", "Wrst")
		for _, h := range p.Hops {
			host := h.Addr
			if host == "" {
				host = "???"
			} else if h.Host != "" && h.Host != h.Addr {
				host = h.Host + " (" + h.Addr + ")"
			}
			fmt.Fprintf(w, "  %3d  %-40s %5.1f%% %5d %8s %8s %8s %8s\n", h.TTL, host, h.LossPct, h.Sent,
				msText(h.LastMs), msText(h.AvgMs), msText(h.MinMs), msText(h.MaxMs))
		}
	}
	return nil
}

func msText(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.3f", *v)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
