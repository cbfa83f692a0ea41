// Package desktop is the dashboard's place on a Windows desktop: whether
// pingerplot.exe was started by a double-click (from Explorer, not a
// terminal), hiding the console window it then got, a notification-area
// (tray) icon with "Open dashboard" and "Quit", and a message box for an
// error nobody would otherwise see. On other systems Start returns
// ErrUnavailable and the console functions do nothing.
//
// The decisions (Decide, the menu's commands, the icon's clicks) are
// plain functions tested everywhere; the Windows calls are in
// desktop_windows.go. It imports nothing of PingerPlot's.
package desktop

import (
	"errors"
	"unicode/utf16"
)

// ErrUnavailable is returned by Start where there is no notification
// area to put an icon in (every system but Windows).
var ErrUnavailable = errors.New("the notification-area icon is available on Windows only")

// Launch is how the dashboard presents itself.
type Launch struct {
	Tray        bool // show the notification-area icon
	HideConsole bool // hide the console window
}

// Decide returns how the dashboard presents itself. consoleProcs is the
// number of processes attached to this process's console
// (ConsoleProcesses): 1 when the console is this process's own, which
// Windows creates for a console program started from Explorer, the Start
// menu, Run or a shortcut; more when it was started from a terminal,
// whose shell shares the console; 0 without a console or off Windows.
// args are the command line's arguments after the program name and
// "ui"; trayFlag is --tray.
//
// A double-click (own console, no arguments) shows the icon and hides
// the console, so no window is left that stops the dashboard when a user
// closes it; the icon's Quit stops it instead. --tray asks for the icon
// anywhere; the console is then hidden only if it is this process's own.
// From a terminal without --tray nothing changes: a console program.
func Decide(consoleProcs int, args []string, trayFlag bool) Launch {
	own := consoleProcs == 1
	tray := trayFlag || (own && len(args) == 0)
	return Launch{Tray: tray, HideConsole: tray && own}
}

// Command is what a menu item or a click on the icon asks for.
type Command int

const (
	None Command = iota
	OpenDashboard
	Quit
	ShowMenu // the menu, at the mouse
)

func (c Command) String() string {
	switch c {
	case OpenDashboard:
		return "open dashboard"
	case Quit:
		return "quit"
	case ShowMenu:
		return "show menu"
	}
	return "none"
}

// menuItem is one entry of the icon's menu; its id is what WM_COMMAND
// carries back.
type menuItem struct {
	id    uint16
	label string
	cmd   Command
}

// menu is the icon's menu, top to bottom. Ids start at 1: 0 is what
// TrackPopupMenu reports for a menu closed without a choice.
func menu() []menuItem {
	return []menuItem{
		{1, "Open dashboard", OpenDashboard},
		{2, "Quit", Quit},
	}
}

// menuCommand is the Command of the menu item with id; None for any other
// id (a WM_COMMAND not from our menu).
func menuCommand(id uint16) Command {
	for _, m := range menu() {
		if m.id == id {
			return m.cmd
		}
	}
	return None
}

// Mouse messages the icon's callback receives (winuser.h), as the
// notification area sends them without NOTIFYICON_VERSION_4: the
// message is the callback's lParam.
const (
	wmLButtonUp     = 0x0202
	wmLButtonDblClk = 0x0203
	wmRButtonUp     = 0x0205
	wmContextMenu   = 0x007B
)

// iconCommand is what a mouse message on the icon asks for: a left click
// or double-click opens the dashboard (the icon's one obvious action), a
// right click (or the keyboard's menu key) shows the menu. Moves and
// button presses do nothing.
func iconCommand(msg uint32) Command {
	switch msg {
	case wmLButtonUp, wmLButtonDblClk:
		return OpenDashboard
	case wmRButtonUp, wmContextMenu:
		return ShowMenu
	}
	return None
}

// Config configures the notification-area icon.
type Config struct {
	// Tooltip is shown when the mouse rests on the icon (up to 127
	// characters are kept).
	Tooltip string
	// Open opens the dashboard in the browser; Quit stops the program
	// as Ctrl-C does. Both are called on the icon's own thread and must
	// not block: start the work and return.
	Open, Quit func()
}

// do runs what c asks for; it reports whether c was a Config action.
func (c Config) do(cmd Command) bool {
	switch cmd {
	case OpenDashboard:
		if c.Open != nil {
			c.Open()
		}
		return true
	case Quit:
		if c.Quit != nil {
			c.Quit()
		}
		return true
	}
	return false
}

// tooltip is s cut to what NOTIFYICONDATA's szTip holds (127 UTF-16 units
// and the terminating zero), whole characters only.
func tooltip(s string) []uint16 {
	var out []uint16
	for _, r := range s {
		u := utf16.AppendRune(nil, r)
		if len(out)+len(u) > 127 {
			break
		}
		out = append(out, u...)
	}
	return out
}
