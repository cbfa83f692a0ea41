package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/pingerplot/pingerplot/internal/service"
)

// xdgAutostart writes an XDG autostart entry, which GNOME, KDE, Xfce and
// other desktops run at login.
type xdgAutostart struct {
	env    Env
	getenv func(string) string
	binary func() (string, error)
}

func newAutostartBackend(env Env) autostartBackend {
	return xdgAutostart{env: env, getenv: os.Getenv, binary: executable}
}

func (a xdgAutostart) entry() (service.Autostart, error) {
	dir, err := service.AutostartDir(a.getenv)
	return service.Autostart{Dir: dir}, err
}

func (a xdgAutostart) install(_ context.Context, args []string, elevated bool) error {
	if elevated {
		return usagef("--elevated is for Windows; on Linux, let the binary open raw sockets once: sudo setcap cap_net_raw+ep BINARY")
	}
	e, err := a.entry()
	if err != nil {
		return err
	}
	bin, err := a.binary()
	if err != nil {
		return err
	}
	if err := e.Install(bin, args); err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "wrote %s: your desktop starts \"%s %s\" at your next login\n", e.Path(), bin, strings.Join(args, " "))
	return nil
}

func (a xdgAutostart) remove(context.Context) error {
	e, err := a.entry()
	if err != nil {
		return err
	}
	if err := e.Remove(); err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "removed %s\n", e.Path())
	return nil
}

func (a xdgAutostart) status(context.Context) error {
	e, err := a.entry()
	if err != nil {
		return err
	}
	exec, err := e.Status()
	if err != nil {
		return err
	}
	if exec == "" {
		fmt.Fprintf(a.env.Stdout, "autostart: off (no %s)\n", e.Path())
		return nil
	}
	fmt.Fprintf(a.env.Stdout, "autostart: on (%s)\nruns: %s\n", e.Path(), exec)
	return nil
}
