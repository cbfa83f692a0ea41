package tui

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"
)

// ErrNotTerminal is returned by OpenTTY when the output is not a terminal.
var ErrNotTerminal = errors.New("not a terminal")

// TTY is the process's terminal in raw mode: keys arrive as bytes (Ctrl-C
// too, so q and Ctrl-C quit the same clean way), output is drawn as is.
// It implements Terminal. Close restores the terminal.
type TTY struct {
	in, out *os.File
	ownIn   bool // in was opened by OpenTTY and is closed by Close
	state   *term.State
	outMode func() error // restores the output's mode (enableVT)
	resize  <-chan os.Signal
	stop    func()
}

// OpenTTY puts the terminal of out into raw mode, reading keys from the
// controlling terminal where the OS has one to open (so Close can end a
// pending read) and from in otherwise. It returns ErrNotTerminal when out
// or the input is not a terminal.
func OpenTTY(in, out *os.File) (*TTY, error) {
	if !term.IsTerminal(int(out.Fd())) {
		return nil, fmt.Errorf("standard output: %w", ErrNotTerminal)
	}
	keys, own := openKeys(in)
	if !term.IsTerminal(int(keys.Fd())) {
		if own {
			keys.Close()
		}
		return nil, fmt.Errorf("standard input: %w", ErrNotTerminal)
	}
	st, err := term.MakeRaw(int(keys.Fd()))
	if err != nil {
		if own {
			keys.Close()
		}
		return nil, fmt.Errorf("put the terminal in raw mode: %w", err)
	}
	outMode, err := enableVT(out)
	if err != nil {
		term.Restore(int(keys.Fd()), st)
		if own {
			keys.Close()
		}
		return nil, err
	}
	t := &TTY{in: keys, out: out, ownIn: own, state: st, outMode: outMode}
	t.resize, t.stop = notifyResize(out)
	return t, nil
}

func (t *TTY) Read(p []byte) (int, error)  { return t.in.Read(p) }
func (t *TTY) Write(p []byte) (int, error) { return t.out.Write(p) }

// Size is the window's size in characters, read anew at each call.
func (t *TTY) Size() (int, int, error) { return term.GetSize(int(t.out.Fd())) }

// Resized delivers a value when the window changes size; nil where the OS
// does not signal it.
func (t *TTY) Resized() <-chan os.Signal { return t.resize }

// Close restores the terminal's mode and ends a pending key read where
// the OS allows.
func (t *TTY) Close() error {
	t.stop()
	err := errors.Join(term.Restore(int(t.in.Fd()), t.state), t.outMode())
	if t.ownIn {
		t.in.Close()
	}
	if err != nil {
		return fmt.Errorf("restore the terminal: %w", err)
	}
	return nil
}
