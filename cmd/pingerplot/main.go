// Command pingerplot is a continuous-traceroute network path monitor.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/pingerplot/pingerplot/internal/cli"
)

func main() {
	// On Windows, Go delivers Ctrl-C and Ctrl-Break as os.Interrupt and a
	// closed console window, logoff and shutdown as SIGTERM; Windows ends
	// the process 5 s after such an event, so every command's stop
	// (ending ctx) must finish well within that.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	singleTarget(os.Args[1:])
	code := cli.Run(ctx, os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr})
	stop()
	os.Exit(code)
}

// singleTarget runs report and trace on one processor unless GOMAXPROCS
// says otherwise. They probe one target with a few goroutines that mostly
// wait; a second processor only adds the runtime's wake-ups (an idle
// thread woken to look for work at every reply, the system monitor's
// polling), which measured 25-30 % of their CPU per probe in the lab's
// benchmark (BenchmarkVersusMtr, docs/benchmarks.md) with the same RTT
// error per hop. The monitors (ui, headless) keep every processor: they
// probe thousands of targets at once.
func singleTarget(args []string) {
	if len(args) == 0 || os.Getenv("GOMAXPROCS") != "" {
		return
	}
	switch args[0] {
	case "report", "trace":
		runtime.GOMAXPROCS(1)
	}
}
