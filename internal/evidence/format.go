package evidence

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// stampLayout writes times in full: evidence is read days later, by
// someone in another place, so a time never goes without its date.
const stampLayout = "2006-01-02 15:04:05"

// stamp writes t in ref's location (the file's time zone).
func stamp(t, ref time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.In(ref.Location()).Format(stampLayout)
}

// ms writes a latency as people read it: "0.42 ms", "12.3 ms", "250 ms".
func ms(d time.Duration) string { return msNum(float64(d)/float64(time.Millisecond)) + " ms" }

// msf is ms for a value shown beside a hop's name.
func msf(d time.Duration) string { return ms(d) }

// msNum is the number part of ms; the table prints it without the unit.
func msNum(v float64) string {
	switch a := max(v, -v); {
	case a < 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// msPtr is a table cell of the report's milliseconds; "-" for none.
func msPtr(v *float64) string {
	if v == nil {
		return "-"
	}
	return msNum(*v)
}

// pct writes a percentage with one decimal: "2.5 %", "0 %", "100 %".
func pct(v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + " %"
}

// seconds writes a duration in the unit a person would: "500 ms", "1 s",
// "2.5 s", "5 min", "1 h 30 min".
func seconds(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Minute:
		return strings.TrimSuffix(strconv.FormatFloat(d.Seconds(), 'f', 1, 64), ".0") + " s"
	case d < time.Hour && d%time.Minute == 0:
		return fmt.Sprintf("%d min", d/time.Minute)
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", d/time.Minute, d%time.Minute/time.Second)
	case d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	}
	return fmt.Sprintf("%d h %d min", d/time.Hour, d%time.Hour/time.Minute)
}
