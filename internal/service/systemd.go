package service

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pingerplot/pingerplot/internal/atomicfile"
)

// UnitDir is where systemd looks for units an administrator installs.
const UnitDir = "/etc/systemd/system"

// MinSystemd is the oldest systemd the unit runs on: it hands the config
// to the service with LoadCredential= and names it with the %d specifier
// (systemd 248).
const MinSystemd = 248

// Unit is one headless monitor as a systemd service.
type Unit struct {
	Name   string // from Name(Config): the unit is Name+".service"
	Binary string // absolute path of the pingerplot binary
	Config string // absolute path of the headless config
	// Raw grants the service CAP_NET_RAW (raw sockets: Paris-traceroute
	// flows, full TCP/UDP traces without Linux 5.8 features). Not needed
	// for ICMP through ping sockets, nor for UDP or TCP traces.
	Raw bool
}

// File is the unit's file name.
func (u Unit) File() string { return u.Name + ".service" }

// LogsDir is the one directory the service may write: systemd creates
// /var/log/NAME and hands it to the service's dynamic user.
func (u Unit) LogsDir() string { return "/var/log/" + u.Name }

// credential is the name the config has inside the service's credentials
// directory.
const credential = "config.json"

// Text is the unit file. Why each line is there:
//
//   - DynamicUser: the monitor runs as a user that exists only while it
//     runs, with no home and nothing else on the system it may write.
//   - LoadCredential: systemd (as root) copies the config into a directory
//     only the service can read, at every start. The config may stay 0600
//     and owned by root, so webhook tokens in it are not shown to every
//     local user, and the dynamic user can still read it.
//   - LogsDirectory: /var/log/NAME, the only writable place; log paths in
//     the config must be absolute paths inside it (install checks this).
//   - AmbientCapabilities only with Raw: NoNewPrivileges makes a setcap on
//     the binary ineffective, so the unit is the one place to grant it.
func (u Unit) Text() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# Written by: pingerplot service install %s", u.Config)
	w("# Remove with: pingerplot service remove %s (editing this file by hand is undone by a reinstall)", u.Config)
	w("[Unit]")
	w("Description=PingerPlot network path monitor (%s)", u.Name)
	w("Wants=network-online.target")
	w("After=network-online.target")
	w("")
	w("[Service]")
	w("ExecStart=%s headless %%d/%s", execQuote(u.Binary), credential)
	w("# The config is copied in at every start: edit %s, then restart.", u.Config)
	w("LoadCredential=%s:%s", credential, specifierEscape(u.Config))
	w("DynamicUser=yes")
	w("# Log paths in the config must be absolute paths under %s/.", u.LogsDir())
	w("LogsDirectory=%s", u.Name)
	if u.Raw {
		w("# Raw sockets (installed with --raw).")
		w("AmbientCapabilities=CAP_NET_RAW")
		w("CapabilityBoundingSet=CAP_NET_RAW")
	} else {
		w("# No capabilities: ICMP through ping sockets, UDP and TCP traces need none.")
		w("# Reinstall with --raw to grant CAP_NET_RAW for raw sockets.")
		w("CapabilityBoundingSet=")
	}
	w("NoNewPrivileges=yes")
	w("ProtectSystem=strict")
	w("ProtectHome=yes")
	w("PrivateTmp=yes")
	w("Restart=on-failure")
	w("RestartSec=5s")
	w("")
	w("[Install]")
	w("WantedBy=multi-user.target")
	return b.String()
}

// execQuote quotes a path for ExecStart=: specifiers (%) and variable
// references ($) escaped, and double quotes when it holds a space, a
// quote or a backslash (systemd.service(5), "Command lines").
func execQuote(p string) string {
	p = strings.ReplaceAll(specifierEscape(p), "$", "$$")
	if !strings.ContainsAny(p, " \t\"'\\") {
		return p
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(p) + `"`
}

// specifierEscape escapes % so systemd reads it literally.
func specifierEscape(s string) string { return strings.ReplaceAll(s, "%", "%%") }

// Check reports why the unit cannot work as written: relative paths, a
// line break in a path, or a binary where the service cannot see it
// (ProtectHome hides home directories, PrivateTmp hides /tmp).
func (u Unit) Check() error {
	var errs []error
	for _, p := range []struct{ what, path string }{{"binary", u.Binary}, {"config", u.Config}} {
		if !path.IsAbs(p.path) {
			errs = append(errs, fmt.Errorf("%s %q is not an absolute path", p.what, p.path))
		}
		if strings.ContainsAny(p.path, "\n\r\x00") {
			errs = append(errs, fmt.Errorf("%s %q holds a line break; rename it", p.what, p.path))
		}
	}
	for _, hidden := range []string{"/home", "/root", "/run/user", "/tmp", "/var/tmp"} {
		if under(u.Binary, hidden) {
			errs = append(errs, fmt.Errorf("the service cannot run %s: it is under %s, which the service's sandbox hides; install the binary in /usr/local/bin (sudo install -m 0755 %s /usr/local/bin/pingerplot) and run install from there", u.Binary, hidden, u.Binary))
		}
	}
	return errors.Join(errs...)
}

// CheckLogPaths returns one error per log path the service could not
// write: with ProtectSystem=strict only LogsDir is writable.
func (u Unit) CheckLogPaths(paths []string) error {
	var errs []error
	for _, p := range paths {
		if p == "" || under(p, u.LogsDir()) && p != u.LogsDir() {
			continue
		}
		errs = append(errs, fmt.Errorf("log file %s: the service can only write under %s/; give an absolute path there instead, such as %s", p, u.LogsDir(), u.LogsDir()+"/"+path.Base(p)))
	}
	return errors.Join(errs...)
}

// under reports whether p is dir or inside it.
func under(p, dir string) bool {
	p, dir = path.Clean(p), path.Clean(dir)
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// ParseSystemdVersion reads the version number from the first line of
// `systemctl --version` ("systemd 252 (252.30-1~deb12u2)").
func ParseSystemdVersion(out []byte) (int, error) {
	line, _, _ := strings.Cut(string(out), "\n")
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "systemd" {
		return 0, fmt.Errorf("systemctl --version printed %q; want \"systemd N ...\"", line)
	}
	v, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, fmt.Errorf("systemctl --version printed %q; want \"systemd N ...\"", line)
	}
	return v, nil
}

// Dynamic users and groups get IDs from this range (systemd.exec(5),
// DynamicUser=).
const dynamicGIDFirst, dynamicGIDLast = 61184, 65519

// PingGroupAdmitsDynamic reports whether net.ipv4.ping_group_range (as read
// from /proc, "1 0" admits nobody) admits every group a DynamicUser
// service may get, so its ICMP probes can use ping sockets.
func PingGroupAdmitsDynamic(rangeText string) bool {
	f := strings.Fields(rangeText)
	if len(f) != 2 {
		return false
	}
	lo, err1 := strconv.ParseInt(f[0], 10, 64)
	hi, err2 := strconv.ParseInt(f[1], 10, 64)
	return err1 == nil && err2 == nil && lo <= dynamicGIDFirst && hi >= dynamicGIDLast
}

// Systemd installs units into Root and drives them with systemctl.
type Systemd struct {
	// Root is prepended to every file path; "" is the real root. Tests
	// point it at a temporary directory.
	Root string
	// Run runs systemctl; nil means Exec.
	Run Runner
}

func (s Systemd) run(ctx context.Context, args ...string) ([]byte, error) {
	run := s.Run
	if run == nil {
		run = Exec
	}
	return run(ctx, "systemctl", args...)
}

// UnitPath is where the unit file of the named service is (under Root).
func (s Systemd) UnitPath(name string) string {
	return filepath.Join(s.Root, UnitDir, name+".service")
}

// Version asks systemctl for systemd's version.
func (s Systemd) Version(ctx context.Context) (int, error) {
	out, err := s.run(ctx, "--version")
	if err != nil {
		return 0, fmt.Errorf("ask systemd its version: %w", err)
	}
	return ParseSystemdVersion(out)
}

// InstallCommands are the systemctl command lines Install runs after
// writing the unit, for a unit that was not installed before. A unit
// that was is restarted too, so the new text takes effect.
func InstallCommands(u Unit, replaced bool) [][]string {
	cmds := [][]string{{"systemctl", "daemon-reload"}, {"systemctl", "enable", "--now", u.File()}}
	if replaced {
		cmds = append(cmds, []string{"systemctl", "restart", u.File()})
	}
	return cmds
}

// RemoveCommands are the command lines Remove runs around deleting the
// unit file: stop and disable first, reload after.
func RemoveCommands(name string) (before, after [][]string) {
	return [][]string{{"systemctl", "disable", "--now", name + ".service"}},
		[][]string{{"systemctl", "daemon-reload"}}
}

// Install writes the unit (replacing one of the same name) and enables
// and starts it.
func (s Systemd) Install(ctx context.Context, u Unit) error {
	if err := u.Check(); err != nil {
		return err
	}
	p := s.UnitPath(u.Name)
	_, statErr := os.Stat(p)
	replaced := statErr == nil
	if err := writeFileAtomic(p, []byte(u.Text()), 0o644); err != nil {
		return fmt.Errorf("write the unit: %w", err)
	}
	for _, c := range InstallCommands(u, replaced) {
		if _, err := s.run(ctx, c[1:]...); err != nil {
			return fmt.Errorf("%w; the unit is in %s: fix the cause, then run pingerplot service install again", err, p)
		}
	}
	return nil
}

// Remove stops and disables the service and deletes its unit.
func (s Systemd) Remove(ctx context.Context, name string) error {
	p := s.UnitPath(name)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no service %s is installed (no %s)", name, p)
	}
	before, after := RemoveCommands(name)
	for _, c := range before {
		if _, err := s.run(ctx, c[1:]...); err != nil {
			return err
		}
	}
	if err := os.Remove(p); err != nil {
		return fmt.Errorf("delete the unit: %w", err)
	}
	for _, c := range after {
		if _, err := s.run(ctx, c[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// Control runs `systemctl VERB NAME.service` (start, stop) for an
// installed service.
func (s Systemd) Control(ctx context.Context, verb, name string) error {
	p := s.UnitPath(name)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no service %s is installed (no %s); install it first: pingerplot service install CONFIG", name, p)
	}
	_, err := s.run(ctx, verb, name+".service")
	return err
}

// UnitStatus is what Status found.
type UnitStatus struct {
	Path      string // the unit file
	Installed bool
	ExecStart string // the command it runs, as written in the unit
	Enabled   string // systemctl is-enabled: "enabled", "disabled", ...
	Active    string // systemctl is-active: "active", "inactive", "failed", ...
}

// Status says whether the unit is installed, what it runs, and what
// systemd says of it.
func (s Systemd) Status(ctx context.Context, name string) (UnitStatus, error) {
	st := UnitStatus{Path: s.UnitPath(name)}
	b, err := os.ReadFile(st.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read the unit: %w", err)
	}
	st.Installed = true
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "ExecStart="); ok {
			st.ExecStart = v
		}
	}
	// is-enabled and is-active exit non-zero for "disabled" and
	// "inactive"; their output is the answer either way.
	out, _ := s.run(ctx, "is-enabled", name+".service")
	st.Enabled = firstLine(out)
	out, _ = s.run(ctx, "is-active", name+".service")
	st.Active = firstLine(out)
	return st, nil
}

func firstLine(b []byte) string {
	l, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if l == "" {
		return "unknown"
	}
	return l
}

// ManualInstall is what to run by hand to install u: the unit written
// with tee, then the commands, each through sudo.
func ManualInstall(u Unit) string {
	var b strings.Builder
	fmt.Fprintf(&b, "sudo tee %s >/dev/null <<'EOF'\n%sEOF\n", path.Join(UnitDir, u.File()), u.Text())
	for _, c := range InstallCommands(u, false) {
		fmt.Fprintf(&b, "sudo %s\n", strings.Join(c, " "))
	}
	return b.String()
}

// ManualRemove is what to run by hand to remove the named service.
func ManualRemove(name string) string {
	before, after := RemoveCommands(name)
	var b strings.Builder
	for _, c := range before {
		fmt.Fprintf(&b, "sudo %s\n", strings.Join(c, " "))
	}
	fmt.Fprintf(&b, "sudo rm %s\n", path.Join(UnitDir, name+".service"))
	for _, c := range after {
		fmt.Fprintf(&b, "sudo %s\n", strings.Join(c, " "))
	}
	return b.String()
}

// writeFileAtomic replaces p with data, creating its directory, so a
// crash leaves the old file or the new one, never half.
func writeFileAtomic(p string, data []byte, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return atomicfile.Write(p, mode, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
