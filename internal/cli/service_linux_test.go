package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pingerplot/pingerplot/internal/service"
)

// fakeSystemctl answers --version and records every command line.
type fakeSystemctl struct {
	version string
	calls   [][]string
}

func (f *fakeSystemctl) run(_ context.Context, name string, args ...string) ([]byte, error) {
	f.calls = append(f.calls, append([]string{name}, args...))
	if len(args) == 1 && args[0] == "--version" {
		return []byte(f.version), nil
	}
	return nil, nil
}

// writeConfig writes a headless config with the given log_path into dir.
func writeConfig(t *testing.T, dir, name, logPath string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	cfg := `{"targets": [{"target": "192.0.2.1", "log_path": "` + logPath + `"}, {"target": "192.0.2.2", "name": "web", "mode": "tcp", "port": 443}]}`
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// newTestRoot is a root directory with the /proc file install reads.
func newTestRoot(t *testing.T, pingRange string) string {
	t.Helper()
	root := t.TempDir()
	p := filepath.Join(root, "proc/sys/net/ipv4/ping_group_range")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(pingRange), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func request(t *testing.T, verb, config string, raw bool) serviceRequest {
	t.Helper()
	abs, err := filepath.Abs(config)
	if err != nil {
		t.Fatal(err)
	}
	return serviceRequest{verb: verb, name: service.Name(abs), config: abs, binary: "/usr/local/bin/pingerplot", raw: raw}
}

// Not root: the exact unit and commands are printed, the run fails, and
// nothing but `systemctl --version` was run or written.
func TestServiceInstallNotRoot(t *testing.T) {
	cfg := writeConfig(t, t.TempDir(), "monitor.json", "/var/log/pingerplot-monitor/a.csv")
	root := newTestRoot(t, "0\t2147483647\n")
	f := &fakeSystemctl{version: "systemd 252 (252.38-1~deb12u1)\n"}
	var out, errb bytes.Buffer
	b := &systemdBackend{env: Env{Stdout: &out, Stderr: &errb}, sd: service.Systemd{Root: root, Run: f.run}, euid: 1000}
	r := request(t, "install", cfg, false)
	err := dispatchService(context.Background(), r, b)
	if !errors.Is(err, errNotRoot) {
		t.Fatalf("install as a user = %v; want errNotRoot", err)
	}
	u := service.Unit{Name: "pingerplot-monitor", Binary: "/usr/local/bin/pingerplot", Config: cfg}
	want := "Installing a system service needs root. Run:\n\n  sudo /usr/local/bin/pingerplot service install " + cfg +
		"\n\nor do it by hand:\n\n" +
		"sudo tee /etc/systemd/system/pingerplot-monitor.service >/dev/null <<'EOF'\n" + u.Text() + "EOF\n" +
		"sudo systemctl daemon-reload\nsudo systemctl enable --now pingerplot-monitor.service\n"
	if out.String() != want {
		t.Errorf("printed:\n%s\nwant:\n%s", out.String(), want)
	}
	if errb.Len() != 0 {
		t.Errorf("stderr %q; want nothing (ping sockets admit the service)", errb.String())
	}
	if wantCalls := [][]string{{"systemctl", "--version"}}; !reflect.DeepEqual(f.calls, wantCalls) {
		t.Errorf("ran %q; want only %q", f.calls, wantCalls)
	}
	if _, err := os.Stat(filepath.Join(root, "etc")); !os.IsNotExist(err) {
		t.Errorf("%s/etc exists (%v); want nothing written", root, err)
	}

	for _, verb := range []string{"remove", "start", "stop"} {
		out.Reset()
		f.calls = nil
		err := dispatchService(context.Background(), request(t, verb, cfg, false), b)
		if !errors.Is(err, errNotRoot) || len(f.calls) != 0 || !strings.Contains(out.String(), "sudo ") {
			t.Errorf("%s as a user = %v, ran %q, printed %q; want errNotRoot, nothing run, sudo commands printed", verb, err, f.calls, out.String())
		}
	}
}

// As root: the unit lands in the root directory and systemctl is told.
func TestServiceInstallRoot(t *testing.T) {
	cfg := writeConfig(t, t.TempDir(), "Branch Office.json", "/var/log/pingerplot-branch-office/dns.csv")
	root := newTestRoot(t, "1\t0\n")
	f := &fakeSystemctl{version: "systemd 252\n"}
	var out, errb bytes.Buffer
	b := &systemdBackend{env: Env{Stdout: &out, Stderr: &errb}, sd: service.Systemd{Root: root, Run: f.run}, euid: 0}
	if err := dispatchService(context.Background(), request(t, "install", cfg, false), b); err != nil {
		t.Fatalf("install: %v", err)
	}
	unit := filepath.Join(root, "etc/systemd/system/pingerplot-branch-office.service")
	got, err := os.ReadFile(unit)
	if err != nil {
		t.Fatalf("unit: %v", err)
	}
	u := service.Unit{Name: "pingerplot-branch-office", Binary: "/usr/local/bin/pingerplot", Config: cfg}
	if string(got) != u.Text() {
		t.Errorf("unit file:\n%s\nwant:\n%s", got, u.Text())
	}
	want := [][]string{{"systemctl", "--version"}, {"systemctl", "daemon-reload"}, {"systemctl", "enable", "--now", "pingerplot-branch-office.service"}}
	if !reflect.DeepEqual(f.calls, want) {
		t.Errorf("ran %q; want %q", f.calls, want)
	}
	// "1 0" admits nobody and the config has an ICMP target: say so.
	if !strings.Contains(errb.String(), "ping_group_range is \"1\\t0\"") || !strings.Contains(errb.String(), "--raw") {
		t.Errorf("stderr %q; want the ping_group_range warning with its fixes", errb.String())
	}

	f.calls = nil
	if err := dispatchService(context.Background(), request(t, "remove", cfg, false), b); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if _, err := os.Stat(unit); !os.IsNotExist(err) {
		t.Errorf("unit after remove: %v; want it gone", err)
	}
	want = [][]string{{"systemctl", "disable", "--now", "pingerplot-branch-office.service"}, {"systemctl", "daemon-reload"}}
	if !reflect.DeepEqual(f.calls, want) {
		t.Errorf("remove ran %q; want %q", f.calls, want)
	}
}

// What install refuses, before it runs or writes anything.
func TestServiceInstallRefuses(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		config  string
		binary  string
		version string
		want    string
	}{
		{"relative log path", writeConfig(t, dir, "a.json", "logs/a.csv"), "/usr/local/bin/pingerplot", "systemd 252", "can only write under /var/log/pingerplot-a/"},
		{"binary in a home", writeConfig(t, dir, "b.json", "/var/log/pingerplot-b/b.csv"), "/home/ann/go/bin/pingerplot", "systemd 252", "install the binary in /usr/local/bin"},
		{"old systemd", writeConfig(t, dir, "c.json", "/var/log/pingerplot-c/c.csv"), "/usr/local/bin/pingerplot", "systemd 239 (239-78.el8)", "systemd 239 is older than 248"},
		{"invalid config", writeConfig(t, dir, "d.json", ""), "/usr/local/bin/pingerplot", "systemd 252", "Fix the config first"},
	}
	if err := os.WriteFile(filepath.Join(dir, "d.json"), []byte(`{"targets": [{"target": "192.0.2.1", "intervall": 2}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		root := newTestRoot(t, "0 2147483647")
		f := &fakeSystemctl{version: tt.version}
		var out bytes.Buffer
		b := &systemdBackend{env: Env{Stdout: &out, Stderr: &out}, sd: service.Systemd{Root: root, Run: f.run}, euid: 0}
		r := request(t, "install", tt.config, false)
		r.binary = tt.binary
		err := dispatchService(context.Background(), r, b)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: install = %v; want an error containing %q", tt.name, err, tt.want)
		}
		for _, c := range f.calls {
			if c[1] != "--version" {
				t.Errorf("%s: ran %q; want no change made", tt.name, c)
			}
		}
		if _, err := os.Stat(filepath.Join(root, "etc")); !os.IsNotExist(err) {
			t.Errorf("%s: something was written under %s/etc", tt.name, root)
		}
	}
}

func TestServiceStatus(t *testing.T) {
	root := t.TempDir()
	var out bytes.Buffer
	b := &systemdBackend{env: Env{Stdout: &out, Stderr: &out}, sd: service.Systemd{Root: root, Run: (&fakeSystemctl{}).run}, euid: 1000}
	if err := dispatchService(context.Background(), request(t, "status", "/etc/pingerplot/m.json", false), b); err != nil {
		t.Fatalf("status: %v", err)
	}
	if want := "pingerplot-m.service: not installed (no " + root + "/etc/systemd/system/pingerplot-m.service)\n"; out.String() != want {
		t.Errorf("status printed %q; want %q", out.String(), want)
	}
}

func TestServiceUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"service"}, "want a verb"},
		{[]string{"service", "install"}, "want a verb"},
		{[]string{"service", "bogus", "m.json"}, `unknown verb "bogus"`},
		{[]string{"service", "start", "--raw", "m.json"}, "--raw is for install"},
		{[]string{"service", "run", "m.json"}, "what the Windows service manager starts"},
		{[]string{"autostart"}, "want one verb"},
		{[]string{"autostart", "bogus"}, `unknown verb "bogus"`},
		{[]string{"autostart", "remove", "--elevated"}, "are for install"},
		{[]string{"autostart", "install", "--elevated"}, "--elevated is for Windows"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := Run(context.Background(), tt.args, Env{Stdout: &out, Stderr: &errb})
		if code != 2 || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("Run(%q) = %d, stderr %q; want 2 and %q", tt.args, code, errb.String(), tt.want)
		}
	}
	for _, cmd := range []string{"service", "autostart"} {
		var out bytes.Buffer
		if code := Run(context.Background(), []string{"help", cmd}, Env{Stdout: &out, Stderr: &out}); code != 0 || !strings.Contains(out.String(), "pingerplot "+cmd+" install|remove|") {
			t.Errorf("help %s = %d, %q; want 0 and the usage", cmd, code, out.String())
		}
	}
}

func TestAutostartLinux(t *testing.T) {
	cfgHome := t.TempDir()
	var out bytes.Buffer
	a := xdgAutostart{
		env:    Env{Stdout: &out, Stderr: &out},
		getenv: func(k string) string { return map[string]string{"XDG_CONFIG_HOME": cfgHome, "HOME": "/nonexistent"}[k] },
		binary: func() (string, error) { return "/opt/Pinger Plot/pingerplot", nil },
	}
	ctx := context.Background()
	entry := filepath.Join(cfgHome, "autostart", "pingerplot.desktop")
	steps := []struct {
		do   func() error
		want string
	}{
		{func() error { return a.status(ctx) }, "autostart: off (no " + entry + ")\n"},
		{func() error { return a.install(ctx, []string{"ui", "--no-browser"}, false) }, "wrote " + entry + ": your desktop starts \"/opt/Pinger Plot/pingerplot ui --no-browser\" at your next login\n"},
		{func() error { return a.status(ctx) }, "autostart: on (" + entry + ")\nruns: \"/opt/Pinger Plot/pingerplot\" ui --no-browser\n"},
		{func() error { return a.remove(ctx) }, "removed " + entry + "\n"},
		{func() error { return a.status(ctx) }, "autostart: off (no " + entry + ")\n"},
	}
	for i, s := range steps {
		out.Reset()
		if err := s.do(); err != nil || out.String() != s.want {
			t.Errorf("step %d: %v, printed %q; want nil, %q", i, err, out.String(), s.want)
		}
	}
}
