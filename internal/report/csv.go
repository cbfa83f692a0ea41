package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// csvHeader is the first part of WriteCSV's column row; the columns of
// DetailColumns follow it (empty without -e). Columns are only ever added
// at the end of the row, so a column keeps its position across versions
// of PingerPlot (docs/report-format.md): a new column that is not a
// detail goes after the detail columns, in a group of its own.
var csvHeader = []string{"format_version", "target", "addr", "mode", "start", "end", "ttl", "hop_addr", "host",
	"sent", "recv", "loss_pct", "last_ms", "avg_ms", "min_ms", "max_ms", "stdev_ms", "jitter_ms", "median_ms", "p95_ms", "destination", "others",
	"asn", "as_name", "others_asn", "refused", "port_state"}

// WriteCSV prints one row per hop, each carrying the run's identity so rows
// of many runs can be concatenated and still be told apart.
func WriteCSV(w io.Writer, r Report) error {
	cw := csv.NewWriter(w)
	cols := DetailColumns()
	header := slices.Clone(csvHeader)
	for _, c := range cols {
		header = append(header, c.CSV)
	}
	if r.PathMTU != nil {
		header = append(header, pathMTUCSV...)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, h := range r.Hops {
		others, othersAS := "", ""
		for i, o := range h.Others {
			if i > 0 {
				others += " "
			}
			others += fmt.Sprintf("%s:%d", o.Addr, o.Recv)
			if o.ASN != 0 {
				if othersAS != "" {
					othersAS += " "
				}
				othersAS += fmt.Sprintf("%s:%d", o.Addr, o.ASN)
			}
		}
		asn := ""
		if h.ASN != 0 {
			asn = strconv.FormatUint(uint64(h.ASN), 10)
		}
		row := []string{strconv.Itoa(FormatVersion), r.Target, r.Addr, r.Mode,
			r.Start.Format(time.RFC3339Nano), r.End.Format(time.RFC3339Nano),
			strconv.Itoa(h.TTL), h.Addr, h.Host, strconv.Itoa(h.Sent), strconv.Itoa(h.Recv),
			strconv.FormatFloat(h.LossPct, 'f', 1, 64), c(h.LastMs), c(h.AvgMs), c(h.MinMs), c(h.MaxMs),
			c(h.StdevMs), c(h.JitterMs), c(h.MedianMs), c(h.P95Ms), strconv.FormatBool(h.Dest), others,
			asn, h.ASName, othersAS, strconv.Itoa(h.Refused), r.PortState}
		for _, c := range cols {
			row = append(row, detailCSV(h, c))
		}
		row = appendPathMTUCSV(row, r.PathMTU)
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func c(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', 3, 64)
}
