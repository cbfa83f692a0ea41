package tui

// DisplayMode is what the table shows per hop; d cycles through them.
type DisplayMode int

const (
	// Stats is the statistics table: loss, sent and RTT figures.
	Stats DisplayMode = iota
	// Strip is the latency history: one character per recent round.
	Strip
	displayModes
)

// View is what the user chose to look at. The zero View shows the first
// target's statistics with addresses and no help line.
type View struct {
	Target  int // index of the target shown
	Mode    DisplayMode
	Names   bool   // host names where known, rather than addresses
	Help    bool   // the key help line
	Paused  bool   // the user paused probing (p)
	Stored  bool   // the last 24 h from the history under the table (s)
	Ext     bool   // each hop's details under its row (e): MPLS labels, interfaces
	Message string // a note about the last action, until the next key
}

// Apply returns v after action a, given the number of targets. Actions
// that touch the monitor (Pause, Reset, Quit) are done by Run; here they
// only change what is shown.
func (v View) Apply(a Action, targets int) View {
	v.Message = ""
	switch {
	case a == Names:
		v.Names = !v.Names
	case a == Display:
		v.Mode = (v.Mode + 1) % displayModes
	case a == Help:
		v.Help = !v.Help
	case a == StoredStrip:
		v.Stored = !v.Stored
	case a == Ext:
		v.Ext = !v.Ext
	case a == Pause:
		v.Paused = !v.Paused
	case a == Next && targets > 0:
		v.Target = (v.Target + 1) % targets
	case a == Prev && targets > 0:
		v.Target = (v.Target + targets - 1) % targets
	case a >= Select1 && int(a-Select1) < targets:
		v.Target = int(a - Select1)
	}
	return v
}
