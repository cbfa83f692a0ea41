package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText prints the table mtr users know, RTTs in milliseconds with
// microsecond resolution. Other responders at a TTL follow on their own lines.
func WriteText(w io.Writer, r Report) error {
	fmt.Fprintf(w, "PingerPlot report: %s (%s), %s, %d rounds, interval %gs, timeout %gs\n",
		r.Target, r.Addr, strings.ToUpper(r.Mode), r.Rounds, r.Settings.IntervalS, r.Settings.TimeoutS)
	fmt.Fprintf(w, "Start: %s  End: %s\n", r.Start.Format(time.RFC3339), r.End.Format(time.RFC3339))
	// With -e the table is drawn into a buffer first: the detail columns
	// are text, left-aligned after the right-aligned numbers (extTable).
	var cols []DetailColumn
	var cells [][]string // per table line, the detail columns' cells
	table := w
	var buf bytes.Buffer
	if r.Settings.Ext {
		cols = DetailColumns()
		table = &buf
		head := make([]string, len(cols))
		for i, c := range cols {
			head[i] = c.Head
		}
		cells = append(cells, head)
	}
	ext := func(h Hop, addr string) {
		if cols == nil {
			return
		}
		d := detailsFor(h, addr)
		row := make([]string, len(cols))
		for i, c := range cols {
			row[i] = "-"
			if d.Addr != "" {
				if s := c.Cell(d); s != "" {
					row[i] = s
				}
			}
		}
		cells = append(cells, row)
	}
	tw := tabwriter.NewWriter(table, 0, 0, 2, ' ', tabwriter.AlignRight)
	// With -z the AS column follows the hop number, as in mtr.
	as := func(asn uint32) string { return "" }
	asHead := ""
	if r.Settings.ASLookup {
		as = func(asn uint32) string { return asLabel(asn) + "\t" }
		asHead = "AS\t"
	}
	fmt.Fprintln(tw, "Hop\t"+asHead+"Address\tHost\tLoss%\tSent\tLast\tAvg\tBest\tWorst\tStDev\tJitter\t")
	for _, h := range r.Hops {
		addr, host, hopAS := h.Addr, h.Host, as(h.ASN)
		if addr == "" {
			addr = "???"
			if r.Settings.ASLookup {
				hopAS = "\t"
			}
		}
		fmt.Fprintf(tw, "%d\t%s%s\t%s\t%.1f%%\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", h.TTL, hopAS, addr, host, h.LossPct, h.Sent,
			f(h.LastMs), f(h.AvgMs), f(h.MinMs), f(h.MaxMs), f(h.StdevMs), f(h.JitterMs))
		ext(h, h.Addr)
		for _, o := range h.Others {
			fmt.Fprintf(tw, "\t%s%s\t%s\t\t%d\t\t%s\t%s\t%s\t\t\t\n", as(o.ASN), o.Addr, o.Host, o.Recv, f(o.AvgMs), f(o.MinMs), f(o.MaxMs))
			ext(h, o.Addr)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if cols != nil {
		if err := extTable(w, buf.String(), cells); err != nil {
			return err
		}
		if line := quoteNote(r); line != "" {
			fmt.Fprintln(w, line)
		}
	}
	for _, h := range r.Hops {
		// Direct pings (--ping-hops) are a line each, under the table:
		// another question to the hop than the table's probes.
		if d := h.Direct; d != nil {
			med := "no reply"
			if d.MedianMs != nil {
				med = "median " + f(d.MedianMs) + " ms"
			}
			fmt.Fprintf(w, "Direct ping hop %d (%s): %.1f%% lost (%d of %d), %s\n", h.TTL, d.Addr, d.LossPct, d.Lost, d.Sent, med)
		}
	}
	if r.Unsent > 0 {
		fmt.Fprintf(w, "%d probes could not be sent (counted as lost): %s\n", r.Unsent, r.SendError)
	}
	if !r.Reached {
		if _, err := fmt.Fprintf(w, "Destination %s did not answer %s probes.\n", r.Addr, strings.ToUpper(r.Mode)); err != nil {
			return err
		}
	} else if line := portLine(r); line != "" {
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	if line := PathMTULine(r.PathMTU); line != "" {
		if _, err := fmt.Fprintln(w, line); err != nil {
			return err
		}
	}
	return writeDiagnosis(w, r.Diagnosis)
}

// portLine says whether a TCP destination's port is open or closed: the
// loss column alone would show a closed port as a clean destination.
func portLine(r Report) string {
	var dest Hop
	for _, h := range r.Hops {
		if h.Dest {
			dest = h
		}
	}
	port := fmt.Sprintf("Port %d on %s", r.Settings.Port, r.Addr)
	switch r.PortState {
	case PortOpen:
		return port + " is open: the destination accepted every connection (SYN-ACK)."
	case PortClosed:
		return port + " is closed: the destination refused every connection (RST); the host answers, the service is down."
	case PortMixed:
		return fmt.Sprintf("%s is open and closed by turns: the destination refused %d of %d connections (RST), accepted the others (SYN-ACK).",
			port, dest.Refused, dest.Recv)
	}
	return ""
}

// extTable writes the table's lines, each followed by its detail cells
// in left-aligned columns: every line of a drawn table has the same
// width, so the details line up after it.
func extTable(w io.Writer, table string, cells [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	lines := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	for i, line := range lines {
		fmt.Fprint(tw, line)
		if i < len(cells) {
			for _, c := range cells[i] {
				fmt.Fprint(tw, "\t"+c)
			}
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

func f(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.3f", *v)
}
