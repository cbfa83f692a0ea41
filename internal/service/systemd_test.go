package service

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestUnitTextGolden(t *testing.T) {
	tests := []struct {
		file string
		u    Unit
	}{
		{"monitor.service", Unit{Name: "pingerplot-monitor", Binary: "/usr/local/bin/pingerplot", Config: "/etc/pingerplot/monitor.json"}},
		{"raw.service", Unit{Name: "pingerplot-dc1", Binary: "/usr/local/bin/pingerplot", Config: "/etc/pingerplot/dc1.json", Raw: true}},
		{"quoted.service", Unit{Name: "pingerplot-odd", Binary: "/opt/Pinger Plot/100%/pingerplot$x", Config: "/etc/pingerplot/50%.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) { golden(t, tt.file, []byte(tt.u.Text())) })
	}
}

func TestExecQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/usr/local/bin/pingerplot", "/usr/local/bin/pingerplot"},
		{"/opt/a b/pingerplot", `"/opt/a b/pingerplot"`},
		{"/opt/100%/p", "/opt/100%%/p"},
		{"/opt/$HOME/p", "/opt/$$HOME/p"},
		{`/opt/a"b\c`, `"/opt/a\"b\\c"`},
	}
	for _, tt := range tests {
		if got := execQuote(tt.in); got != tt.want {
			t.Errorf("execQuote(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestUnitCheck(t *testing.T) {
	ok := Unit{Name: "pingerplot-m", Binary: "/usr/local/bin/pingerplot", Config: "/home/ann/m.json"}
	tests := []struct {
		name string
		edit func(*Unit)
		want string // "" = no error
	}{
		{"fine, config in a home is copied in by systemd", func(*Unit) {}, ""},
		{"binary in a home", func(u *Unit) { u.Binary = "/home/ann/go/bin/pingerplot" }, "under /home"},
		{"binary in /root", func(u *Unit) { u.Binary = "/root/pingerplot" }, "under /root"},
		{"binary in /tmp", func(u *Unit) { u.Binary = "/tmp/x/pingerplot" }, "under /tmp"},
		{"/homework is not /home", func(u *Unit) { u.Binary = "/homework/pingerplot" }, ""},
		{"relative config", func(u *Unit) { u.Config = "m.json" }, "not an absolute path"},
		{"newline", func(u *Unit) { u.Config = "/etc/a\nb.json" }, "line break"},
	}
	for _, tt := range tests {
		u := ok
		tt.edit(&u)
		err := u.Check()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: Check() = %v; want %q", tt.name, err, tt.want)
		}
	}
}

func TestCheckLogPaths(t *testing.T) {
	u := Unit{Name: "pingerplot-m"}
	tests := []struct {
		paths []string
		bad   []string // paths named in the error
	}{
		{nil, nil},
		{[]string{"", "/var/log/pingerplot-m/a.csv", "/var/log/pingerplot-m/sub/b.events.csv"}, nil},
		{[]string{"/etc/pingerplot/logs/a.csv"}, []string{"/etc/pingerplot/logs/a.csv"}},
		{[]string{"/var/log/pingerplot-m"}, []string{"/var/log/pingerplot-m"}},         // the directory itself is no file
		{[]string{"/var/log/pingerplot-mx/a.csv"}, []string{"/var/log/pingerplot-mx"}}, // a sibling is not inside
		{[]string{"/var/log/pingerplot-m/../x.csv"}, []string{"/var/log/pingerplot-m/../x.csv"}},
	}
	for _, tt := range tests {
		err := u.CheckLogPaths(tt.paths)
		if len(tt.bad) == 0 {
			if err != nil {
				t.Errorf("CheckLogPaths(%q) = %v; want nil", tt.paths, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("CheckLogPaths(%q) = nil; want an error naming %q", tt.paths, tt.bad)
			continue
		}
		for _, b := range tt.bad {
			if !strings.Contains(err.Error(), b) || !strings.Contains(err.Error(), "/var/log/pingerplot-m/") {
				t.Errorf("CheckLogPaths(%q) = %v; want it to name %q and /var/log/pingerplot-m/", tt.paths, err, b)
			}
		}
	}
}

func TestParseSystemdVersion(t *testing.T) {
	tests := []struct {
		out  string
		want int
		err  bool
	}{
		{"systemd 252 (252.30-1~deb12u2)\n+PAM +AUDIT\n", 252, false},
		{"systemd 239 (239-78.el8)\n", 239, false},
		{"systemd 256.7\n", 0, true},
		{"", 0, true},
		{"upstart 1.0\n", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSystemdVersion([]byte(tt.out))
		if got != tt.want || (err != nil) != tt.err {
			t.Errorf("ParseSystemdVersion(%q) = %d, %v; want %d, error %v", tt.out, got, err, tt.want, tt.err)
		}
	}
}

func TestPingGroupAdmitsDynamic(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"1\t0\n", false},
		{"0\t2147483647\n", true},
		{"100 65519", true},
		{"100 65000", false},
		{"61185 70000", false},
		{"junk", false},
	}
	for _, tt := range tests {
		if got := PingGroupAdmitsDynamic(tt.in); got != tt.want {
			t.Errorf("PingGroupAdmitsDynamic(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
}

// fakeSystemctl records command lines and answers is-enabled/is-active.
type fakeSystemctl struct {
	calls  [][]string
	fail   string // a verb that fails
	answer map[string]string
}

func (f *fakeSystemctl) run(_ context.Context, name string, args ...string) ([]byte, error) {
	f.calls = append(f.calls, append([]string{name}, args...))
	if len(args) > 0 && args[0] == f.fail {
		return []byte("Failed to " + f.fail), fmt.Errorf("exit status 1")
	}
	if len(args) > 0 {
		if a, ok := f.answer[args[0]]; ok {
			return []byte(a + "\n"), nil
		}
	}
	return nil, nil
}

// Install, status, reinstall, start, stop and remove into a temporary
// root: the file written and every systemctl command line, in order.
func TestSystemdInstallRemove(t *testing.T) {
	root := t.TempDir()
	f := &fakeSystemctl{answer: map[string]string{"is-enabled": "enabled", "is-active": "active"}}
	s := Systemd{Root: root, Run: f.run}
	u := Unit{Name: "pingerplot-monitor", Binary: "/usr/local/bin/pingerplot", Config: "/etc/pingerplot/monitor.json"}
	ctx := context.Background()
	unitPath := filepath.Join(root, "etc/systemd/system/pingerplot-monitor.service")

	st, err := s.Status(ctx, u.Name)
	if err != nil || st.Installed || len(f.calls) != 0 {
		t.Fatalf("Status before install = %+v, %v, calls %q; want not installed, no error, no calls", st, err, f.calls)
	}
	if err := s.Install(ctx, u); err != nil {
		t.Fatalf("Install: %v", err)
	}
	b, err := os.ReadFile(unitPath)
	if err != nil {
		t.Fatalf("unit file: %v", err)
	}
	if string(b) != u.Text() {
		t.Errorf("unit file = %q; want Unit.Text()", b)
	}
	if fi, _ := os.Stat(unitPath); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o644 { // Windows has no mode bits
		t.Errorf("unit file mode = %v; want 0644", fi.Mode().Perm())
	}
	want := [][]string{{"systemctl", "daemon-reload"}, {"systemctl", "enable", "--now", "pingerplot-monitor.service"}}
	if !reflect.DeepEqual(f.calls, want) {
		t.Errorf("install ran %q; want %q", f.calls, want)
	}

	f.calls = nil
	st, err = s.Status(ctx, u.Name)
	wantSt := UnitStatus{Path: unitPath, Installed: true, ExecStart: "/usr/local/bin/pingerplot headless %d/config.json", Enabled: "enabled", Active: "active"}
	if err != nil || st != wantSt {
		t.Errorf("Status = %+v, %v; want %+v", st, err, wantSt)
	}

	f.calls = nil
	u.Raw = true
	if err := s.Install(ctx, u); err != nil {
		t.Fatalf("reinstall: %v", err)
	}
	want = append(want, []string{"systemctl", "restart", "pingerplot-monitor.service"})
	if !reflect.DeepEqual(f.calls, want) {
		t.Errorf("reinstall ran %q; want %q", f.calls, want)
	}
	if b, _ := os.ReadFile(unitPath); !strings.Contains(string(b), "AmbientCapabilities=CAP_NET_RAW") {
		t.Errorf("reinstalled unit lacks the capability:\n%s", b)
	}

	for _, verb := range []string{"stop", "start"} {
		f.calls = nil
		if err := s.Control(ctx, verb, u.Name); err != nil {
			t.Errorf("Control(%s): %v", verb, err)
		}
		if want := [][]string{{"systemctl", verb, "pingerplot-monitor.service"}}; !reflect.DeepEqual(f.calls, want) {
			t.Errorf("%s ran %q; want %q", verb, f.calls, want)
		}
	}

	f.calls = nil
	if err := s.Remove(ctx, u.Name); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	want = [][]string{{"systemctl", "disable", "--now", "pingerplot-monitor.service"}, {"systemctl", "daemon-reload"}}
	if !reflect.DeepEqual(f.calls, want) {
		t.Errorf("remove ran %q; want %q", f.calls, want)
	}
	if _, err := os.Stat(unitPath); !os.IsNotExist(err) {
		t.Errorf("unit file after remove: %v; want it gone", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(unitPath))
	if len(entries) != 0 {
		t.Errorf("unit directory holds %d entries after remove; want none (no temporary files left)", len(entries))
	}

	f.calls = nil
	if err := s.Remove(ctx, u.Name); err == nil || !strings.Contains(err.Error(), "no service pingerplot-monitor is installed") {
		t.Errorf("second Remove = %v; want \"no service ... is installed\"", err)
	}
	if err := s.Control(ctx, "start", u.Name); err == nil || !strings.Contains(err.Error(), "install it first") {
		t.Errorf("start after remove = %v; want \"install it first\"", err)
	}
	if len(f.calls) != 0 {
		t.Errorf("remove/start of a missing unit ran %q; want nothing", f.calls)
	}
}

// A failing systemctl is reported with its words and the unit's place.
func TestSystemdInstallFailure(t *testing.T) {
	root := t.TempDir()
	f := &fakeSystemctl{fail: "enable"}
	s := Systemd{Root: root, Run: f.run}
	u := Unit{Name: "pingerplot-m", Binary: "/usr/local/bin/pingerplot", Config: "/etc/pingerplot/m.json"}
	err := s.Install(context.Background(), u)
	if err == nil || !strings.Contains(err.Error(), "pingerplot-m.service") || !strings.Contains(err.Error(), "install again") {
		t.Errorf("Install with a failing enable = %v; want the unit path and what to do", err)
	}
	bad := u
	bad.Binary = "/home/x/pingerplot"
	f.calls = nil
	if err := s.Install(context.Background(), bad); err == nil || len(f.calls) != 0 {
		t.Errorf("Install of a binary in /home = %v, ran %q; want an error and no commands", err, f.calls)
	}
	if _, err := os.Stat(s.UnitPath("pingerplot-m")); err != nil {
		t.Errorf("unit of the failed install: %v; want it left in place for inspection", err)
	}
}

func TestManualInstall(t *testing.T) {
	u := Unit{Name: "pingerplot-monitor", Binary: "/usr/local/bin/pingerplot", Config: "/etc/pingerplot/monitor.json"}
	got := ManualInstall(u)
	want := "sudo tee /etc/systemd/system/pingerplot-monitor.service >/dev/null <<'EOF'\n" + u.Text() +
		"EOF\nsudo systemctl daemon-reload\nsudo systemctl enable --now pingerplot-monitor.service\n"
	if got != want {
		t.Errorf("ManualInstall =\n%s\nwant\n%s", got, want)
	}
	gotRm := ManualRemove("pingerplot-monitor")
	wantRm := "sudo systemctl disable --now pingerplot-monitor.service\nsudo rm /etc/systemd/system/pingerplot-monitor.service\nsudo systemctl daemon-reload\n"
	if gotRm != wantRm {
		t.Errorf("ManualRemove =\n%s\nwant\n%s", gotRm, wantRm)
	}
}

// systemd's own parser accepts the unit (where systemd-analyze exists).
func TestUnitVerifiesWithSystemd(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed; the golden files still pin the text")
	}
	dir := t.TempDir()
	bin, err := os.Executable() // any existing executable will do for ExecStart
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "monitor.json")
	if err := os.WriteFile(cfg, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, raw := range []bool{false, true} {
		u := Unit{Name: "pingerplot-monitor", Binary: bin, Config: cfg, Raw: raw}
		p := filepath.Join(dir, u.File())
		if err := os.WriteFile(p, []byte(u.Text()), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(analyze, "verify", p).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) != 0 {
			t.Errorf("systemd-analyze verify (raw %v) = %v, %q; want success and no complaints", raw, err, out)
		}
	}
}

// docs/service.md shows the unit the code writes, word for word.
func TestDocsShowTheUnit(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "service.md"))
	if err != nil {
		t.Fatalf("read docs/service.md: %v", err)
	}
	u := Unit{Name: "pingerplot-monitor", Binary: "/usr/local/bin/pingerplot", Config: "/etc/pingerplot/monitor.json"}
	if !strings.Contains(string(doc), "```ini\n"+u.Text()+"```\n") {
		t.Errorf("docs/service.md does not show the unit Unit.Text() writes for monitor.json; paste this in:\n%s", u.Text())
	}
}
