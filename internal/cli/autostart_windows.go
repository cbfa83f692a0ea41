package cli

import (
	"context"
	"fmt"
	"io"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/pingerplot/pingerplot/internal/service"
)

// taskAutostart registers a Task Scheduler logon task with schtasks.exe.
type taskAutostart struct {
	env Env
	ts  service.TaskScheduler
}

func newAutostartBackend(env Env) autostartBackend { return taskAutostart{env: env} }

func currentUser() (string, error) {
	u, err := user.Current()
	if err != nil {
		return "", fmt.Errorf("find who you are: %w", err)
	}
	return u.Username, nil
}

func (a taskAutostart) install(ctx context.Context, args []string, elevated bool) error {
	if elevated && !service.Elevated() {
		again := "pingerplot autostart install --elevated"
		if len(args) > 1 {
			again += " --no-browser"
		}
		return fmt.Errorf("a task that runs with highest privileges can only be created with them: open a terminal with \"Run as administrator\" (right-click Windows Terminal, PowerShell or Command Prompt), then run: %s", again)
	}
	who, err := currentUser()
	if err != nil {
		return err
	}
	bin, err := executable()
	if err != nil {
		return err
	}
	if elevated {
		warnWritableFolder(a.env.Stderr, bin, "the logon task runs it elevated, without a prompt")
	}
	t := service.Task{Name: service.TaskName(who), User: who, Command: bin, Arguments: strings.Join(args, " "), Elevated: elevated}
	if err := a.ts.Install(ctx, t); err != nil {
		return err
	}
	how := "with your normal rights"
	if elevated {
		how = "with highest privileges, without a UAC prompt"
	}
	fmt.Fprintf(a.env.Stdout, "created the logon task %q: at your next logon it runs %s %s, %s\n", t.Name, bin, t.Arguments, how)
	return nil
}

func (a taskAutostart) remove(ctx context.Context) error {
	who, err := currentUser()
	if err != nil {
		return err
	}
	name := service.TaskName(who)
	if err := a.ts.Remove(ctx, name); err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "removed the logon task %q\n", name)
	return nil
}

func (a taskAutostart) status(ctx context.Context) error {
	who, err := currentUser()
	if err != nil {
		return err
	}
	name := service.TaskName(who)
	ti, err := a.ts.Query(ctx, name)
	if err != nil {
		// schtasks says "not found" only in the system's language: show it.
		fmt.Fprintf(a.env.Stdout, "autostart: off (no task %q: %v)\n", name, err)
		return nil
	}
	state := "on"
	if !ti.Enabled {
		state = "disabled in Task Scheduler"
	}
	level := "normal rights"
	if ti.RunLevel == "HighestAvailable" {
		level = "highest privileges"
	}
	fmt.Fprintf(a.env.Stdout, "autostart: %s (task %q, at logon of %s, %s)\nruns: %s %s\n", state, name, ti.User, level, ti.Command, ti.Arguments)
	return nil
}

// warnWritableFolder warns when binary, or the folder it is in, can be
// changed without administrator rights, while it is about to be run with
// more rights than its user's (why says how). Like the original tool, it
// warns and does not refuse.
func warnWritableFolder(w io.Writer, binary, why string) {
	sid, err := service.CurrentUserSID()
	if err != nil {
		fmt.Fprintf(w, "warning: could not check who may change %s: %v\n", binary, err)
		return
	}
	dir := filepath.Dir(binary)
	for _, p := range []string{dir, binary} {
		sec, err := service.FileSecurity(p)
		if err != nil {
			fmt.Fprintf(w, "warning: could not check who may change %s: %v\n", p, err)
			continue
		}
		if who := service.NonAdminWriters(sec, sid); len(who) > 0 {
			fmt.Fprintf(w, "warning: %s can be changed without administrator rights by: %s.\n"+
				"  %s, so any program running as you could replace it and gain those rights.\n"+
				"  Move pingerplot.exe to a folder only administrators can change, such as C:\\Program Files\\PingerPlot, and install from there.\n",
				p, strings.Join(who, "; "), strings.ToUpper(why[:1])+why[1:])
			return
		}
	}
}
