package tui

import (
	"fmt"
	"os"

	"golang.org/x/sys/windows"
	"golang.org/x/term"
)

// openKeys reads keys from stdin. term.MakeRaw turns on
// ENABLE_VIRTUAL_TERMINAL_INPUT there, so arrow keys, Tab and Shift-Tab
// arrive as the same byte sequences as on Unix, and clears
// ENABLE_PROCESSED_INPUT, so Ctrl-C arrives as a key (q's clean exit)
// rather than as a console control event. A pending console read cannot
// be interrupted by closing the handle; tui.Run leaves that goroutine to
// end with the process.
func openKeys(stdin *os.File) (*os.File, bool) { return stdin, false }

// enableVT makes the console draw the table's control sequences: Windows
// Terminal does by default, the classic console (conhost) only with
// ENABLE_VIRTUAL_TERMINAL_PROCESSING (Windows 10 1511 and later).
// DISABLE_NEWLINE_AUTO_RETURN gives a VT terminal's delayed wrap, so
// writing the bottom row's last cell does not scroll the screen. The
// returned function puts the mode back as it was, for the shell after us.
func enableVT(out *os.File) (func() error, error) {
	h := windows.Handle(out.Fd())
	var old uint32
	if err := windows.GetConsoleMode(h, &old); err != nil {
		return nil, fmt.Errorf("read the console's output mode: %w", err)
	}
	mode := old | windows.ENABLE_PROCESSED_OUTPUT | windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING
	if err := windows.SetConsoleMode(h, mode|windows.DISABLE_NEWLINE_AUTO_RETURN); err != nil {
		// Some consoles take VT processing but not this flag.
		if err := windows.SetConsoleMode(h, mode); err != nil {
			return nil, fmt.Errorf("this console cannot draw the live table (it needs virtual-terminal mode, Windows 10 or later: %v); use Windows Terminal, or 'pingerplot report' for a table once", err)
		}
	}
	return func() error {
		if err := windows.SetConsoleMode(h, old); err != nil {
			return fmt.Errorf("restore the console's output mode: %w", err)
		}
		return nil
	}, nil
}

// notifyResize polls the console's size: Windows has no SIGWINCH, and the
// console's resize records arrive on the input only in a mode that
// would no longer give keys as VT sequences.
func notifyResize(out *os.File) (<-chan os.Signal, func()) {
	fd := int(out.Fd())
	return pollResize(func() (int, int, error) { return term.GetSize(fd) }, ResizePoll)
}
