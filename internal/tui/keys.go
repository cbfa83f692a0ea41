package tui

// Action is what a key asks for.
type Action int

const (
	None        Action = iota
	Quit               // q, Q, Ctrl-C
	Pause              // p: pause or resume every target
	Reset              // r: start every target's statistics over
	Names              // n: host names or addresses
	Display            // d: the next display mode
	Help               // ?: show or hide the key help
	Next               // Tab: the next target
	Prev               // Shift-Tab: the previous target
	Redraw             // Ctrl-L: repaint the whole screen
	StoredStrip        // s: show or hide the last 24 h from the history
	Ext                // e: show or hide each hop's details (MPLS labels, interfaces), as mtr's e
	Select1            // 1 … 9: target 1 … 9; Select1+i selects target i+1
)

// Decoder turns the bytes a terminal in raw mode sends into actions. It
// is a small state machine because escape sequences (Shift-Tab is
// ESC [ Z) may be split across reads. The zero Decoder is ready.
type Decoder struct {
	state decState
}

type decState uint8

const (
	ground decState = iota
	escape          // after ESC
	csi             // after ESC [ or ESC O: parameters until a final byte
)

// Decode returns the actions of p, in order; bytes that mean nothing
// (other letters, arrow keys) give none.
func (d *Decoder) Decode(p []byte) []Action {
	var out []Action
	for _, b := range p {
		if a := d.feed(b); a != None {
			out = append(out, a)
		}
	}
	return out
}

func (d *Decoder) feed(b byte) Action {
	switch d.state {
	case escape:
		if b == '[' || b == 'O' {
			d.state = csi
			return None
		}
		// A lone ESC (or Alt+key) means nothing; the key after it still
		// counts, so a stray ESC does not swallow the q that follows.
		d.state = ground
	case csi:
		if b >= 0x40 && b <= 0x7e { // the final byte ends the sequence
			d.state = ground
			if b == 'Z' {
				return Prev
			}
		}
		return None
	}
	switch {
	case b == 0x1b:
		d.state = escape
	case b == 'q' || b == 'Q' || b == 0x03:
		return Quit
	case b == 'p' || b == 'P':
		return Pause
	case b == 'r' || b == 'R':
		return Reset
	case b == 'n' || b == 'N':
		return Names
	case b == 'd' || b == 'D':
		return Display
	case b == '?' || b == 'h' || b == 'H':
		return Help
	case b == '\t':
		return Next
	case b == 0x0c:
		return Redraw
	case b == 's' || b == 'S':
		return StoredStrip
	case b == 'e' || b == 'E':
		return Ext
	case b >= '1' && b <= '9':
		return Select1 + Action(b-'1')
	}
	return None
}
