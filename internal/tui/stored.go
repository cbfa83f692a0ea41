package tui

import (
	"fmt"
	"strings"
	"time"
)

// StoredWindow is how far back the stored strip (key s) looks.
const StoredWindow = 24 * time.Hour

// storedRefresh is how often a shown stored strip is read again: one
// cell of a 24 h strip is many minutes wide, so once a minute keeps it
// current without reading the history at every round.
const storedRefresh = time.Minute

// Stored is a target's destination over the stored window, read from the
// history by the caller (the tui package stores nothing): one cell per
// time step, oldest first, ending now.
type Stored struct {
	From, To time.Time
	Step     time.Duration
	Cells    []StoredCell
	// Note says why there are no cells (no history file, the target has
	// no stored rounds, a read error); shown instead of the strip.
	Note string
}

// StoredCell is one time step of the destination: probes sent, lost,
// and the typical (median) latency of the replies.
type StoredCell struct {
	Sent, Lost int
	Latency    time.Duration
}

// Marks of the stored strip besides the latency blocks.
const (
	sgrYellow = "\x1b[33m"

	storedLoss   = '!' // some probes of the step were lost
	storedAll    = '?' // every probe of the step was lost
	storedNoData = '.' // no round was recorded in the step
	// storedBad is the share of loss from which a step is red rather
	// than yellow.
	storedBad = 0.05
)

// storedCells is how many cells the stored strip has on a terminal
// width characters wide: what the caller should ask the history for.
func storedCells(width int) int { return max(width-ttlWidth, 1) }

// storedLines draws the stored strip: a title with the legend, the
// destination's row and a time axis.
func storedLines(p painter, st Stored, width int) []string {
	if len(st.Cells) == 0 {
		note := st.Note
		if note == "" {
			note = "nothing recorded"
		}
		return []string{"Last 24 h (stored): " + note}
	}
	var top time.Duration
	for _, c := range st.Cells {
		if c.Sent > c.Lost {
			top = max(top, c.Latency)
		}
	}
	// Short enough for 80 columns: the legend is what makes it readable.
	legend := fmt.Sprintf("%c loss  %c all lost  %c none", storedLoss, storedAll, storedNoData)
	if top > 0 {
		legend = fmt.Sprintf("%c<%s … %c≤%s ms  ", blocks[0], trim(top/time.Duration(len(blocks))), blocks[len(blocks)-1], trim(top)) + legend
	}
	title := fmt.Sprintf("Stored %s (%s/cell): %s", stepWords(st.To.Sub(st.From)), stepWords(st.Step), legend)

	var b strings.Builder
	for _, c := range st.Cells {
		mark, sgr := storedMark(c, top)
		if sgr == "" {
			b.WriteRune(mark)
			continue
		}
		b.WriteString(p.paint(sgr, string(mark)))
	}
	row := fmt.Sprintf("%-*s%s", ttlWidth, "dest", b.String())
	return []string{title, row, storedAxis(st, ttlWidth)}
}

// storedMark is a cell's character and colour (SGR, "" for none): the
// latency's block when nothing was lost, else the loss mark, yellow for
// a little loss and red from storedBad on.
func storedMark(c StoredCell, top time.Duration) (rune, string) {
	switch {
	case c.Sent == 0:
		return storedNoData, ""
	case c.Lost >= c.Sent:
		return storedAll, sgrRed
	case c.Lost > 0:
		if float64(c.Lost)/float64(c.Sent) >= storedBad {
			return storedLoss, sgrRed
		}
		return storedLoss, sgrYellow
	}
	if top <= 0 {
		return blocks[0], ""
	}
	i := int(int64(c.Latency) * int64(len(blocks)) / int64(top))
	return blocks[min(max(i, 0), len(blocks)-1)], ""
}

// storedAxis puts the clock time under the strip's start, middle and
// end ("now"), each where it fits without touching another.
func storedAxis(st Stored, indent int) string {
	n := len(st.Cells)
	line := []rune(strings.Repeat(" ", indent+n))
	free := indent // the first column a label may take
	put := func(at int, s string) {
		r := []rune(s)
		if at < free || at+len(r) > len(line) {
			return
		}
		copy(line[at:], r)
		free = at + len(r) + 1
	}
	put(indent, "^"+st.From.Format("15:04"))
	put(indent+n/2, "^"+st.From.Add(st.To.Sub(st.From)/2).Format("15:04"))
	put(indent+n-4, "now^")
	return strings.TrimRight(string(line), " ")
}

// stepWords writes a step as "18 min", "2 h", "24 h", "45 s".
func stepWords(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	case d >= time.Minute:
		return fmt.Sprintf("%d min", d.Round(time.Minute)/time.Minute)
	}
	return fmt.Sprintf("%d s", d.Round(time.Second)/time.Second)
}
