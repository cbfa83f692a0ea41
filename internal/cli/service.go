package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/service"
)

const serviceUsage = `pingerplot service install|remove|start|stop|status [--raw] CONFIG

Runs "pingerplot headless CONFIG" as a system service that starts at boot
and restarts after a failure (docs/service.md):
  Linux    a systemd unit, /etc/systemd/system/pingerplot-NAME.service, run as
           a dynamic unprivileged user; logs must go under /var/log/pingerplot-NAME/
  Windows  a Windows service, pingerplot-NAME, run as LocalService; its output
           goes to the Application event log, source pingerplot-NAME
NAME comes from the config file's name, so each config is its own service.

  install   write, enable and start the service (again: update and restart it)
  remove    stop it and delete it
  start, stop
  status    whether it is installed, what it runs, whether it runs

install, remove, start and stop need root (Linux) or an elevated terminal
(Windows); without, they change nothing and say what to run.`

// serviceRequest is one service command, checked and made absolute.
type serviceRequest struct {
	verb   string
	name   string // service.Name(config)
	config string // absolute
	binary string // absolute, symlinks resolved
	raw    bool
	// Filled for install from the loaded config:
	logPaths []string // every probe and event log path
	icmp     bool     // some target probes with ICMP
}

// serviceBackend is the OS's service manager. One constructor per OS
// (newServiceBackend) in service_*.go.
type serviceBackend interface {
	install(ctx context.Context, r serviceRequest) error
	remove(ctx context.Context, r serviceRequest) error
	control(ctx context.Context, r serviceRequest) error // r.verb is start or stop
	status(ctx context.Context, r serviceRequest) error
	// run is the hidden verb the service manager starts ("service run
	// CONFIG"): it hands the process to the manager and runs headless.
	run(ctx context.Context, r serviceRequest) error
}

func runService(ctx context.Context, args []string, env Env) error {
	r, err := parseService(args, env)
	if err != nil {
		return err
	}
	return dispatchService(ctx, r, newServiceBackend(env))
}

func parseService(args []string, env Env) (serviceRequest, error) {
	fs := flag.NewFlagSet("service", flag.ContinueOnError)
	raw := fs.Bool("raw", false, "install: allow raw sockets (Linux: CAP_NET_RAW; Windows: run as LocalSystem), which full TCP/UDP traces on Windows and Paris-traceroute flows need")
	pos, err := parse(fs, args)
	if err == errHelp {
		printUsage(env.Stdout, fs, serviceUsage)
		return serviceRequest{}, err
	}
	if err != nil {
		return serviceRequest{}, err
	}
	if len(pos) != 2 {
		return serviceRequest{}, usagef("want a verb (install, remove, start, stop, status) and one CONFIG file, got %d arguments", len(pos))
	}
	r := serviceRequest{verb: pos[0], raw: *raw}
	switch r.verb {
	case "install", "remove", "start", "stop", "status", "run":
	default:
		return serviceRequest{}, usagef("unknown verb %q: want install, remove, start, stop or status", r.verb)
	}
	if *raw && r.verb != "install" {
		return serviceRequest{}, usagef("--raw is for install")
	}
	if r.config, err = filepath.Abs(pos[1]); err != nil {
		return serviceRequest{}, fmt.Errorf("find %s: %w", pos[1], err)
	}
	r.name = service.Name(r.config)
	if r.binary, err = executable(); err != nil {
		return serviceRequest{}, err
	}
	return r, nil
}

func dispatchService(ctx context.Context, r serviceRequest, b serviceBackend) error {
	switch r.verb {
	case "install":
		h, err := config.Load(r.config)
		if err != nil {
			return fmt.Errorf("%w\nFix the config first: the service would fail to start with it", err)
		}
		if len(h.Targets) == 0 {
			return fmt.Errorf("%s: no targets: add at least one entry to \"targets\"", r.config)
		}
		for _, t := range h.Targets {
			r.logPaths = append(r.logPaths, t.Settings.LogPath, t.EventLogPath)
			if t.Settings.Trace.Mode == probe.ICMP {
				r.icmp = true
			}
		}
		return b.install(ctx, r)
	case "remove":
		return b.remove(ctx, r)
	case "start", "stop":
		return b.control(ctx, r)
	case "status":
		return b.status(ctx, r)
	default: // "run"
		return b.run(ctx, r)
	}
}

// executable is this binary's absolute path with symlinks resolved, as a
// service manager must be given it.
func executable() (string, error) {
	p, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find this program's path: %w", err)
	}
	if q, err := filepath.EvalSymlinks(p); err == nil {
		p = q
	}
	return p, nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`*?[]{}()<>|&;#~!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
