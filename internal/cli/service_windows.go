package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pingerplot/pingerplot/internal/service"
)

// winServiceBackend installs services with the Windows service manager.
type winServiceBackend struct{ env Env }

func newServiceBackend(env Env) serviceBackend { return winServiceBackend{env: env} }

// adminErr turns the service package's ErrNeedAdmin into what to do.
func adminErr(err error, r serviceRequest) error {
	if errors.Is(err, service.ErrNeedAdmin) {
		return errors.New(service.AdminHint(r.verb, r.config))
	}
	return err
}

func (b winServiceBackend) install(ctx context.Context, r serviceRequest) error {
	if !service.Elevated() {
		return adminErr(service.ErrNeedAdmin, r)
	}
	w := service.WinService{Name: r.name, Binary: r.binary, Config: r.config, Raw: r.raw}
	warnWritableFolder(b.env.Stderr, r.binary, "the service runs it as "+w.Account())
	if prof := os.Getenv("USERPROFILE"); prof != "" && !r.raw && underDir(r.config, prof) {
		fmt.Fprintf(b.env.Stderr, "warning: %s is in your user profile, which %s cannot read: the service would fail to start.\n"+
			"  Move the config (and its logs) to %s and install from there.\n", r.config, w.Account(), filepath.Join(programData(), "PingerPlot"))
	}
	notes, err := w.Install(ctx)
	for _, n := range notes {
		fmt.Fprintf(b.env.Stderr, "note: %s\n", n)
	}
	if err != nil {
		return adminErr(err, r)
	}
	fmt.Fprintf(b.env.Stdout, "installed and started the service %s (%s, automatic start, restarts on failure)\nevents: Event Viewer, Windows Logs, Application, source %s\n", r.name, w.Account(), r.name)
	return nil
}

func programData() string {
	if p := os.Getenv("ProgramData"); p != "" {
		return p
	}
	return `C:\ProgramData`
}

// underDir reports whether p is inside dir, ignoring case as Windows does.
func underDir(p, dir string) bool {
	rel, err := filepath.Rel(strings.ToLower(dir), strings.ToLower(p))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, `..\`) && !filepath.IsAbs(rel)
}

func (b winServiceBackend) remove(ctx context.Context, r serviceRequest) error {
	if !service.Elevated() {
		return adminErr(service.ErrNeedAdmin, r)
	}
	if err := service.RemoveWin(ctx, r.name); err != nil {
		return adminErr(err, r)
	}
	fmt.Fprintf(b.env.Stdout, "stopped and removed the service %s and its event source\n", r.name)
	return nil
}

func (b winServiceBackend) control(ctx context.Context, r serviceRequest) error {
	if !service.Elevated() {
		return adminErr(service.ErrNeedAdmin, r)
	}
	if err := service.ControlWin(ctx, r.verb, r.name); err != nil {
		return adminErr(err, r)
	}
	fmt.Fprintf(b.env.Stdout, "%s: %s done\n", r.name, r.verb)
	return nil
}

func (b winServiceBackend) status(_ context.Context, r serviceRequest) error {
	st, err := service.StatusWin(r.name)
	if err != nil {
		return err
	}
	if !st.Installed {
		fmt.Fprintf(b.env.Stdout, "%s: not installed\n", r.name)
		return nil
	}
	fmt.Fprintf(b.env.Stdout, "%s: installed, %s, start %s, runs as %s\nruns: %s\n", r.name, st.State, st.StartType, st.Account, st.Command)
	if st.PID != 0 {
		fmt.Fprintf(b.env.Stdout, "process id: %d\n", st.PID)
	}
	fmt.Fprintf(b.env.Stdout, "events: Event Viewer, Windows Logs, Application, source %s\n", r.name)
	return nil
}

func (b winServiceBackend) run(_ context.Context, r serviceRequest) error {
	err := service.RunWin(r.name, func(ctx context.Context, stdout, stderr io.Writer) error {
		return runHeadless(ctx, []string{r.config}, Env{Stdout: stdout, Stderr: stderr})
	})
	if errors.Is(err, service.ErrNotService) {
		return usagef("service run is what the service manager starts; to run the monitor in this console: pingerplot headless %s", r.config)
	}
	return err
}
