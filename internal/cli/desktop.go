package cli

import (
	"context"
	"fmt"
	"sync"

	"github.com/pingerplot/pingerplot/internal/desktop"
)

const trayHelp = "show a notification-area icon (Open dashboard, Quit) on Windows; on by itself when pingerplot.exe is\n" +
	"                         started from Explorer, which also hides its console window"

// shell is the dashboard's place on the desktop for one run of ui: the
// notification-area icon and the hidden console of a double-click
// (desktop.Decide), or nothing from a terminal.
type shell struct {
	env    Env
	cancel context.CancelFunc
	tray   *desktop.Tray // nil without an icon
	hidden bool          // the console window was hidden

	mu  sync.Mutex
	url string // the dashboard's URL, once it listens
}

// startShell decides how ui presents itself (args are ui's arguments,
// trayFlag is --tray) and shows the icon if it should. The returned
// context ends when ctx does or the icon's Quit is chosen; the shell's
// close must be called when ui ends. The console is hidden only once
// the icon is there, so a program that could not show one stays
// stoppable with Ctrl-C or by closing its window.
func startShell(ctx context.Context, args []string, trayFlag bool, env Env) (context.Context, *shell) {
	ctx, cancel := context.WithCancel(ctx)
	s := &shell{env: env, cancel: cancel}
	launch := desktop.Decide(desktop.ConsoleProcesses(), args, trayFlag)
	if !launch.Tray {
		return ctx, s
	}
	tray, err := desktop.Start(desktop.Config{Tooltip: "PingerPlot dashboard", Open: s.open, Quit: cancel})
	if err != nil {
		fmt.Fprintf(env.Stderr, "pingerplot: no notification-area icon: %v; Ctrl-C or closing this window stops the dashboard\n", err)
		return ctx, s
	}
	s.tray = tray
	if launch.HideConsole {
		s.hidden = desktop.HideConsole() == nil
	}
	return ctx, s
}

// ready gives the shell the dashboard's URL, which Open dashboard opens.
func (s *shell) ready(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.url = url
}

// open is the icon's Open dashboard. It runs on the icon's thread, so
// the browser is started from another goroutine.
func (s *shell) open() {
	s.mu.Lock()
	url := s.url
	s.mu.Unlock()
	if url == "" {
		return // still starting: the browser opens by itself when it listens
	}
	go func() {
		if err := openBrowser(url); err != nil {
			s.report(fmt.Errorf("could not open a browser (%v); open %s yourself", err, url))
		}
	}()
}

// report shows err where the user can see it: a message box once the
// console is hidden, the console otherwise.
func (s *shell) report(err error) {
	if s.hidden {
		desktop.ShowError("PingerPlot", err.Error())
		return
	}
	fmt.Fprintf(s.env.Stderr, "pingerplot: %v\n", err)
}

// close removes the icon once ui has stopped; err is ui's result, shown
// in a message box if the console it would be printed to is hidden.
func (s *shell) close(err error) {
	if err != nil && s.hidden {
		desktop.ShowError("PingerPlot", "The dashboard stopped: "+err.Error())
	}
	if s.tray != nil {
		s.tray.Close()
	}
	s.cancel()
}
