package tui

import (
	"os"
	"testing"

	"golang.org/x/sys/windows"
)

// TestOpenTTYConsoleModes: OpenTTY turns on virtual-terminal output (and
// term.MakeRaw VT input), and Close puts both modes back as they were.
// It needs the test to run in a console.
func TestOpenTTYConsoleModes(t *testing.T) {
	in, out := windows.Handle(os.Stdin.Fd()), windows.Handle(os.Stdout.Fd())
	var inMode, outMode uint32
	if windows.GetConsoleMode(in, &inMode) != nil || windows.GetConsoleMode(out, &outMode) != nil {
		t.Skip("standard input and output are not a console; run the test binary in one")
	}
	tty, err := OpenTTY(os.Stdin, os.Stdout)
	if err != nil {
		t.Fatalf("OpenTTY: %v", err)
	}
	var rawIn, vtOut uint32
	windows.GetConsoleMode(in, &rawIn)
	windows.GetConsoleMode(out, &vtOut)
	if err := tty.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if vtOut&windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING == 0 {
		t.Errorf("output mode while open = %#x; want ENABLE_VIRTUAL_TERMINAL_PROCESSING (%#x) set", vtOut, windows.ENABLE_VIRTUAL_TERMINAL_PROCESSING)
	}
	if rawIn&windows.ENABLE_VIRTUAL_TERMINAL_INPUT == 0 || rawIn&(windows.ENABLE_LINE_INPUT|windows.ENABLE_ECHO_INPUT|windows.ENABLE_PROCESSED_INPUT) != 0 {
		t.Errorf("input mode while open = %#x; want VT input on, line, echo and processed input off", rawIn)
	}
	var afterIn, afterOut uint32
	windows.GetConsoleMode(in, &afterIn)
	windows.GetConsoleMode(out, &afterOut)
	if afterIn != inMode || afterOut != outMode {
		t.Errorf("modes after Close = in %#x, out %#x; want in %#x, out %#x as before", afterIn, afterOut, inMode, outMode)
	}
	if _, _, err := tty.Size(); err != nil {
		t.Errorf("Size: %v", err)
	}
}
