package tui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/report"
)

// Monitor is what the UI uses of *monitor.Monitor.
type Monitor interface {
	Subscribe(buf int) (<-chan monitor.Update, func())
	Add(monitor.Target) (monitor.ID, error)
	Remove(monitor.ID) error
	Pause(monitor.ID) error
	Resume(monitor.ID) error
	Update(monitor.ID, monitor.Settings) error
	Snapshot(id monitor.ID, withHistory bool) (monitor.Snapshot, bool)
	Events(monitor.ID) []monitor.Event
}

// Terminal is where the UI reads keys and draws. Reads are raw key bytes
// (the terminal in raw mode); Size is asked before every redraw, so a
// resized window is picked up by the next one.
type Terminal interface {
	io.Reader
	io.Writer
	Size() (width, height int, err error)
}

// History is the per-hop history the UI asks the monitor to keep for its
// targets: more rounds than any terminal is wide, and a small copy per
// redraw in Strip mode (the monitor's default keeps an hour).
const History = 512

// Config configures Run. Monitor, Terminal and Targets are required; the
// zero value of the others is documented on them.
type Config struct {
	// Monitor runs the targets; its owner runs and closes it. Run adds
	// Targets to it and leaves them there when it returns.
	Monitor Monitor
	// Targets are added in this order; the tabs follow it. Their NoNames
	// is set from ShowNames so event messages agree with the table.
	Targets  []monitor.Target
	Terminal Terminal
	// Names returns a host name or "" (a non-blocking cache); nil shows
	// addresses only.
	Names func(netip.Addr) string
	// ShowNames starts with names rather than addresses (n toggles).
	ShowNames bool
	// AS, if set, adds an AS column (mtr's -z).
	AS report.ASLookup
	// Color allows ANSI colours; the caller decides (NO_COLOR, TERM=dumb).
	Color bool
	// Resize, if set, delivers window size changes (SIGWINCH) for an
	// immediate redraw; without it the next update redraws at the new size.
	Resize <-chan os.Signal
	// TimeNow is the clock of the header; nil means time.Now.
	TimeNow func() time.Time
	// Stored reads a target's destination over the last StoredWindow from
	// the history, in cells steps ending at now (key s). nil: no history,
	// and s says so. It is called from the drawing loop, at most once a
	// minute per target shown, so it should answer within a second.
	Stored func(ctx context.Context, t monitor.Target, now time.Time, cells int) Stored
	// Diagnosis returns a target's current diagnosis for the footer;
	// false (or nil) shows none. It is called at each redraw, so it must
	// not block.
	Diagnosis func(monitor.ID) (Diagnosis, bool)
	// PathMTU returns a target's path MTU in words for the footer
	// (Frame.PathMTU); false (or nil) shows none. It is called at each
	// redraw, so it must not block.
	PathMTU func(monitor.ID) (string, bool)
}

// Control sequences: the alternate screen keeps the user's scrollback
// intact, as mtr and less do.
const (
	enterScreen = "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J"
	leaveScreen = "\x1b[0m\x1b[?25h\x1b[?1049l"
	clearScreen = "\x1b[H\x1b[2J"
	clearEOL    = "\x1b[K"
)

// Run adds the targets to the monitor and shows them until q (or Ctrl-C
// in raw mode) is pressed, returning nil, or ctx ends, returning its
// error. It redraws when a round finishes, an event arrives, a key is
// pressed or the window is resized, and writes only the lines that
// changed. It leaves the alternate screen before it returns.
//
// Keys are read by a goroutine that ends when the Terminal's Read returns
// an error (closing the terminal does that) or, after Run returned, with
// the next read: a blocking terminal read cannot be interrupted portably.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Monitor == nil || cfg.Terminal == nil || len(cfg.Targets) == 0 {
		return errors.New("tui: a monitor, a terminal and at least one target are required")
	}
	now := cfg.TimeNow
	if now == nil {
		now = time.Now
	}
	updates, unsubscribe := cfg.Monitor.Subscribe(256)
	defer unsubscribe()
	l := &loop{cfg: cfg, scr: screen{w: cfg.Terminal}, view: View{Names: cfg.ShowNames}}
	for _, t := range cfg.Targets {
		t.NoNames = !cfg.ShowNames
		id, err := cfg.Monitor.Add(t)
		if err != nil {
			return fmt.Errorf("add target %s: %w", t.Host, err)
		}
		t.ID = id
		l.targets = append(l.targets, t)
		var last monitor.Event
		if evs := cfg.Monitor.Events(id); len(evs) > 0 {
			last = evs[len(evs)-1]
		}
		l.events = append(l.events, last)
	}

	keys := make(chan []byte)
	done := make(chan struct{})
	defer close(done)
	go readKeys(cfg.Terminal, keys, done)

	if _, err := io.WriteString(cfg.Terminal, enterScreen); err != nil {
		return fmt.Errorf("tui: write to the terminal: %w", err)
	}
	defer io.WriteString(cfg.Terminal, leaveScreen)

	var dec Decoder
	full := false
	for {
		if err := l.draw(ctx, now(), full); err != nil {
			return err
		}
		full = false
		select {
		case <-ctx.Done():
			return ctx.Err()
		case u, ok := <-updates:
			if !ok {
				return fmt.Errorf("tui: %w", monitor.ErrClosed)
			}
			l.handle(u)
			// A burst (many targets finishing together) is one redraw.
			for drained := false; !drained; {
				select {
				case u, ok := <-updates:
					if !ok {
						return fmt.Errorf("tui: %w", monitor.ErrClosed)
					}
					l.handle(u)
				default:
					drained = true
				}
			}
		case b, ok := <-keys:
			if !ok {
				keys = nil // input ended: keep showing until ctx ends
				continue
			}
			for _, a := range dec.Decode(b) {
				if a == Quit {
					return nil
				}
				if err := l.act(a); err != nil {
					return err
				}
				full = full || a == Redraw
			}
		case <-cfg.Resize:
			full = true
		}
	}
}

// loop is Run's state; only Run's goroutine touches it.
type loop struct {
	cfg     Config
	scr     screen
	view    View
	targets []monitor.Target // with the IDs the monitor gave
	events  []monitor.Event  // each target's latest shown event
	// stored is the stored strip last read, for storedFor's target at
	// storedAt with storedN cells.
	stored    Stored
	storedFor monitor.ID
	storedAt  time.Time
	storedN   int
}

func (l *loop) handle(u monitor.Update) {
	if u.Event == nil || u.Event.Kind == monitor.Removed {
		return // rounds are read from snapshots when drawing
	}
	for i, t := range l.targets {
		if t.ID == u.Event.Target {
			l.events[i] = *u.Event
		}
	}
}

// act applies a key's action to the view and, for p, r and n, to the
// monitor. Errors the user can do nothing about end Run; the others are
// shown.
func (l *loop) act(a Action) error {
	l.view = l.view.Apply(a, len(l.targets))
	var err error
	switch a {
	case Pause:
		err = l.pause(l.view.Paused)
	case Names:
		err = l.names(l.view.Names)
	case Reset:
		if err = l.reset(); err != nil {
			return err
		}
		l.view.Message = "statistics reset: every target was removed and added again (the monitor has no reset)"
	}
	if err != nil {
		l.view.Message = err.Error()
	}
	return nil
}

func (l *loop) pause(paused bool) error {
	for _, t := range l.targets {
		do := l.cfg.Monitor.Resume
		if paused {
			do = l.cfg.Monitor.Pause
		}
		if err := do(t.ID); err != nil {
			return fmt.Errorf("pause %s: %w", t.ID, err)
		}
	}
	return nil
}

// names switches the monitor's names too, so event messages agree with
// the table; it changes nothing that is probed and logs no event.
func (l *loop) names(on bool) error {
	for i := range l.targets {
		l.targets[i].NoNames = !on
		if err := l.cfg.Monitor.Update(l.targets[i].ID, l.targets[i].Settings); err != nil {
			return fmt.Errorf("names for %s: %w", l.targets[i].ID, err)
		}
	}
	return nil
}

// reset starts statistics over by removing and adding each target again:
// the monitor keeps no reset of its own, and a new target is exactly a
// clean one. The ID stays the same (it is free again once removed).
func (l *loop) reset() error {
	for i, t := range l.targets {
		if err := l.cfg.Monitor.Remove(t.ID); err != nil && !errors.Is(err, monitor.ErrUnknownTarget) {
			return fmt.Errorf("reset %s: %w", t.ID, err)
		}
		id, err := l.cfg.Monitor.Add(t)
		if err != nil {
			return fmt.Errorf("reset %s: add it again: %w", t.ID, err)
		}
		l.targets[i].ID = id
		if l.view.Paused {
			if err := l.cfg.Monitor.Pause(id); err != nil {
				return fmt.Errorf("reset %s: pause: %w", id, err)
			}
		}
	}
	return nil
}

func (l *loop) draw(ctx context.Context, now time.Time, full bool) error {
	f := Frame{View: l.view, Now: now, Names: l.cfg.Names, AS: l.cfg.AS, Color: l.cfg.Color, Events: l.events}
	sel := min(l.view.Target, len(l.targets)-1)
	w, h, err := l.cfg.Terminal.Size()
	if err != nil || w <= 0 || h <= 0 {
		w, h = 80, 24
	}
	if l.view.Stored {
		f.Stored = l.storedStrip(ctx, l.targets[sel], now, storedCells(w))
	}
	for i, t := range l.targets {
		s, ok := l.cfg.Monitor.Snapshot(t.ID, i == sel && l.view.Mode == Strip)
		if !ok {
			s = monitor.Snapshot{Target: t}
		}
		f.Snapshots = append(f.Snapshots, s)
	}
	if l.cfg.Diagnosis != nil {
		if d, ok := l.cfg.Diagnosis(l.targets[sel].ID); ok {
			f.Diagnosis = d
		}
	}
	if l.cfg.PathMTU != nil {
		if p, ok := l.cfg.PathMTU(l.targets[sel].ID); ok {
			f.PathMTU = p
		}
	}
	if err := l.scr.draw(Render(f, w, h), w, h, full); err != nil {
		return fmt.Errorf("tui: write to the terminal: %w", err)
	}
	return nil
}

// storedStrip returns t's stored strip, read again when the target or
// the width changed or storedRefresh has passed.
func (l *loop) storedStrip(ctx context.Context, t monitor.Target, now time.Time, cells int) Stored {
	if l.cfg.Stored == nil {
		return Stored{Note: "no history: it is off, or its file was not found (see --history)"}
	}
	if t.ID != l.storedFor || cells != l.storedN || now.Sub(l.storedAt) >= storedRefresh || now.Before(l.storedAt) {
		l.stored = l.cfg.Stored(ctx, t, now, cells)
		l.storedFor, l.storedN, l.storedAt = t.ID, cells, now
	}
	return l.stored
}

// readKeys copies r to out in chunks until r fails or Run is done.
func readKeys(r io.Reader, out chan<- []byte, done <-chan struct{}) {
	defer close(out)
	for {
		buf := make([]byte, 64)
		n, err := r.Read(buf)
		if n > 0 {
			select {
			case out <- buf[:n]:
			case <-done:
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// screen writes frames, sending only the lines that differ from the
// previous frame; a new size or full repaints everything.
type screen struct {
	w             io.Writer
	prev          []string
	width, height int
	buf           bytes.Buffer
}

func (s *screen) draw(lines []string, width, height int, full bool) error {
	s.buf.Reset()
	if full || width != s.width || height != s.height {
		s.buf.WriteString(clearScreen)
		s.prev = nil
		s.width, s.height = width, height
	}
	for i := range max(len(lines), len(s.prev)) {
		l := ""
		if i < len(lines) {
			l = lines[i]
		}
		if (i < len(s.prev) && s.prev[i] == l) || (i >= len(s.prev) && l == "") {
			continue
		}
		s.buf.WriteString("\x1b[" + strconv.Itoa(i+1) + ";1H")
		s.buf.WriteString(l)
		// At the last column the cursor waits to wrap, and erasing there
		// would take the last character with it.
		if visibleLen(l) < width {
			s.buf.WriteString(clearEOL)
		}
	}
	s.prev = lines
	if s.buf.Len() == 0 {
		return nil
	}
	_, err := s.w.Write(s.buf.Bytes())
	return err
}
