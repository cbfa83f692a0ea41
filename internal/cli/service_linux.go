package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/pingerplot/pingerplot/internal/service"
)

// systemdBackend installs services as systemd units.
type systemdBackend struct {
	env  Env
	sd   service.Systemd // its Root is also where /proc is read
	euid int
}

func newServiceBackend(env Env) serviceBackend {
	return &systemdBackend{env: env, euid: os.Geteuid()}
}

// errNotRoot ends a command that printed what to run instead.
var errNotRoot = errors.New("not root, so nothing was changed: run the commands above, or the same pingerplot command with sudo")

func (b *systemdBackend) unit(r serviceRequest) service.Unit {
	return service.Unit{Name: r.name, Binary: r.binary, Config: r.config, Raw: r.raw}
}

func (b *systemdBackend) install(ctx context.Context, r serviceRequest) error {
	u := b.unit(r)
	if err := errors.Join(u.Check(), u.CheckLogPaths(r.logPaths)); err != nil {
		return fmt.Errorf("%s cannot run as a service as it is:\n%w", r.config, err)
	}
	v, err := b.sd.Version(ctx)
	if errors.Is(err, exec.ErrNotFound) {
		return errors.New("systemctl was not found: this system does not run systemd; start pingerplot headless CONFIG from your init system instead")
	}
	if err != nil {
		return err
	}
	if v < service.MinSystemd {
		return fmt.Errorf("systemd %d is older than %d, which the unit needs (LoadCredential and %%d); run pingerplot headless under a unit of your own, see docs/service.md", v, service.MinSystemd)
	}
	if r.icmp && !r.raw {
		pr, _ := os.ReadFile(filepath.Join(b.sd.Root, "/proc/sys/net/ipv4/ping_group_range"))
		if !service.PingGroupAdmitsDynamic(string(pr)) {
			fmt.Fprintf(b.env.Stderr, "warning: net.ipv4.ping_group_range is %q, which does not admit the service's dynamic group (61184-65519), so its ICMP probes will fail.\n"+
				"  Allow every group: echo 'net.ipv4.ping_group_range = 0 2147483647' | sudo tee /etc/sysctl.d/50-ping-group.conf && sudo sysctl --system\n"+
				"  or install with --raw, or probe with \"mode\": \"udp\" or \"tcp\".\n", trimNL(pr))
		}
	}
	if b.euid != 0 {
		fmt.Fprintf(b.env.Stdout, "Installing a system service needs root. Run:\n\n  sudo %s service install%s %s\n\nor do it by hand:\n\n%s",
			shellQuote(r.binary), rawFlag(r.raw), shellQuote(r.config), service.ManualInstall(u))
		return errNotRoot
	}
	if err := b.sd.Install(ctx, u); err != nil {
		return err
	}
	fmt.Fprintf(b.env.Stdout, "installed and started %s (%s)\nlogs: journalctl -u %s; CSV logs in %s/\n", u.File(), b.sd.UnitPath(u.Name), u.File(), u.LogsDir())
	return nil
}

func rawFlag(raw bool) string {
	if raw {
		return " --raw"
	}
	return ""
}

func trimNL(b []byte) string {
	s := string(b)
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

func (b *systemdBackend) remove(ctx context.Context, r serviceRequest) error {
	if b.euid != 0 {
		fmt.Fprintf(b.env.Stdout, "Removing a system service needs root. Run:\n\n  sudo %s service remove %s\n\nor do it by hand:\n\n%s", shellQuote(r.binary), shellQuote(r.config), service.ManualRemove(r.name))
		return errNotRoot
	}
	if err := b.sd.Remove(ctx, r.name); err != nil {
		return err
	}
	fmt.Fprintf(b.env.Stdout, "stopped and removed %s.service; its logs stay in /var/log/%s/\n", r.name, r.name)
	return nil
}

func (b *systemdBackend) control(ctx context.Context, r serviceRequest) error {
	if b.euid != 0 {
		fmt.Fprintf(b.env.Stdout, "Controlling a system service needs root. Run:\n\n  sudo systemctl %s %s.service\n", r.verb, r.name)
		return errNotRoot
	}
	if err := b.sd.Control(ctx, r.verb, r.name); err != nil {
		return err
	}
	fmt.Fprintf(b.env.Stdout, "%s.service: %s done\n", r.name, r.verb)
	return nil
}

func (b *systemdBackend) status(ctx context.Context, r serviceRequest) error {
	st, err := b.sd.Status(ctx, r.name)
	if err != nil {
		return err
	}
	if !st.Installed {
		fmt.Fprintf(b.env.Stdout, "%s.service: not installed (no %s)\n", r.name, st.Path)
		return nil
	}
	fmt.Fprintf(b.env.Stdout, "%s.service: installed (%s), %s, %s\nruns: %s\nlogs: journalctl -u %s.service\n", r.name, st.Path, st.Enabled, st.Active, st.ExecStart, r.name)
	return nil
}

func (b *systemdBackend) run(context.Context, serviceRequest) error {
	return usagef("service run is what the Windows service manager starts; under systemd the unit runs pingerplot headless")
}
