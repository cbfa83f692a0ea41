// Package service installs PingerPlot to run unattended: the dashboard at
// the user's logon (Task Scheduler on Windows, an XDG autostart entry on
// Linux) and the headless monitor as a system service (the Windows service
// manager, or systemd).
//
// What is written and which commands are run are decided by pure functions
// (unit text, task XML, command lines, the "writable by non-administrators"
// rule), tested on any OS; the code that touches the system takes its
// command runner and root directory as struct fields, so tests run it
// against a temporary directory and a fake runner.
//
// It must not import the probe engine: the CLI wires the two together.
package service

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// Runner runs a program and returns what it printed (stdout and stderr
// together). A non-zero exit status is an error; the output is still
// returned, since tools such as systemctl and schtasks say why there.
type Runner func(ctx context.Context, name string, args ...string) ([]byte, error)

// Exec is the Runner that runs real programs.
func Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	var b bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	if err != nil {
		msg := strings.TrimSpace(b.String())
		if msg != "" {
			err = fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, msg)
		} else {
			err = fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
		}
	}
	return b.Bytes(), err
}
