// Package cli holds the subcommands of the pingerplot binary: flag parsing
// and wiring only. The work is done by the engine packages.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// Env is what a command may touch of the outside world.
type Env struct {
	Stdout, Stderr io.Writer
}

// usageError marks errors caused by how the command was called; they exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

const topUsage = `PingerPlot: a continuous-traceroute network path monitor.

Usage:
  pingerplot [ui] [--no-browser]       the live dashboard on 127.0.0.1 (the default)
  pingerplot report [flags] TARGET     probe the path N rounds and print the per-hop table (like mtr -r)
  pingerplot tui [flags] TARGET...     the live per-hop table in the terminal (like mtr)
  pingerplot trace [flags] TARGET      one-shot traceroute, each hop printed as it answers
  pingerplot evidence [flags] TARGET   one HTML file of a stored window, to send to an ISP (--from, --to, -o)
  pingerplot selftest [HOST]           what this machine allows, and a trace in every mode
  pingerplot headless [--init] CONFIG  monitor the targets of a config file without a UI (docs/config.md)
  pingerplot autostart VERB            start the dashboard at logon: install, remove, status
  pingerplot service VERB CONFIG       headless as a system service: install, remove, start, stop, status
  pingerplot help COMMAND              flags of a command
  pingerplot version                   this build's version, commit and Go version (also --version)

Every probe mode works without root on Linux: see README.md.
`

// Run runs the command named by args (without the program name) and
// returns the process exit status: 0 success, 1 failure, 2 bad usage.
func Run(ctx context.Context, args []string, env Env) int {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		// Before the dashboard's flags below would take it as an unknown ui flag.
		args = append([]string{"version"}, args[1:]...)
	}
	if len(args) == 0 || (len(args[0]) > 0 && args[0][0] == '-' && args[0] != "-h" && args[0] != "--help" && args[0] != "-help") {
		// No subcommand: the dashboard, with any flags given.
		return exitCode(runUI(ctx, args, env), "ui", env)
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "ui":
		err = runUI(ctx, rest, env)
	case "report":
		err = runReport(ctx, rest, env)
	case "tui":
		err = runTUI(ctx, rest, env)
	case "evidence":
		err = runEvidence(ctx, rest, env)
	case "trace":
		err = runTrace(ctx, rest, env)
	case "selftest":
		err = runSelftest(ctx, rest, env)
	case "headless":
		err = runHeadless(ctx, rest, env)
	case "autostart":
		err = runAutostart(ctx, rest, env)
	case "service":
		err = runService(ctx, rest, env)
	case "version":
		err = runVersion(rest, env)
	case "help", "-h", "--help", "-help":
		if len(rest) > 0 {
			return Run(ctx, []string{rest[0], "--help"}, env)
		}
		fmt.Fprint(env.Stdout, topUsage)
		return 0
	default:
		fmt.Fprintf(env.Stderr, "pingerplot: unknown command %q\n\n%s", cmd, topUsage)
		return 2
	}
	return exitCode(err, args[0], env)
}

func exitCode(err error, cmd string, env Env) int {
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "pingerplot %s: %v\nRun 'pingerplot %s --help' for the flags.\n", cmd, err, cmd)
		return 2
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(env.Stderr, "pingerplot %s: interrupted\n", cmd)
		return 130
	default:
		fmt.Fprintf(env.Stderr, "pingerplot %s: %v\n", cmd, err)
		return 1
	}
}
