// Command pingerplot is a continuous-traceroute network path monitor.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/pingerplot/pingerplot/internal/cli"
)

func main() {
	// On Windows, Go delivers Ctrl-C and Ctrl-Break as os.Interrupt and a
	// closed console window, logoff and shutdown as SIGTERM; Windows ends
	// the process 5 s after such an event, so every command's stop
	// (ending ctx) must finish well within that.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}
