package cli

import (
	"context"
	"flag"
)

const autostartUsage = `pingerplot autostart install|remove|status [--elevated] [--no-browser]

Starts the dashboard ("pingerplot ui") when you log on (docs/service.md):
  Windows  a Task Scheduler logon task for your account, "PingerPlot dashboard (USER)";
           --elevated runs it with highest privileges and no UAC prompt (full
           TCP/UDP traces need that), and must be installed from an elevated terminal
  Linux    an XDG autostart entry, ~/.config/autostart/pingerplot.desktop
macOS is not supported yet.

  install   create it (again: replace it)
  remove    delete it
  status    whether it exists and what it runs`

// autostartBackend is the OS's way to start a program at logon. One
// constructor per OS (newAutostartBackend) in autostart_*.go.
type autostartBackend interface {
	install(ctx context.Context, args []string, elevated bool) error
	remove(ctx context.Context) error
	status(ctx context.Context) error
}

func runAutostart(ctx context.Context, args []string, env Env) error {
	fs := flag.NewFlagSet("autostart", flag.ContinueOnError)
	elevated := fs.Bool("elevated", false, "Windows: run with highest privileges, without a UAC prompt (install from an elevated terminal)")
	noBrowser := fs.Bool("no-browser", false, "start the dashboard without opening the browser")
	pos, err := parse(fs, args)
	if err == errHelp {
		printUsage(env.Stdout, fs, autostartUsage)
		return err
	}
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want one verb (install, remove, status), got %d arguments", len(pos))
	}
	if pos[0] != "install" && (*elevated || *noBrowser) {
		return usagef("--elevated and --no-browser are for install")
	}
	b := newAutostartBackend(env)
	switch pos[0] {
	case "install":
		uiArgs := []string{"ui"}
		if *noBrowser {
			uiArgs = append(uiArgs, "--no-browser")
		}
		return b.install(ctx, uiArgs, *elevated)
	case "remove":
		return b.remove(ctx)
	case "status":
		return b.status(ctx)
	}
	return usagef("unknown verb %q: want install, remove or status", pos[0])
}
