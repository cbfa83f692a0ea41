package cli

import (
	"flag"
	"fmt"

	"github.com/pingerplot/pingerplot/internal/buildinfo"
)

// runVersion prints which build this is, the line a bug report should
// carry: version, commit, commit date, Go toolchain and platform.
func runVersion(args []string, env Env) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	pos, err := parse(fs, args)
	if err == errHelp {
		printUsage(env.Stdout, fs, "pingerplot version (or pingerplot --version)\n\nPrints the version, the commit it was built from and its date, the Go version and the platform.")
		return err
	}
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("version takes no arguments, got %q", pos)
	}
	fmt.Fprintln(env.Stdout, buildinfo.String())
	return nil
}
