package service

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAutostartDir(t *testing.T) {
	tests := []struct {
		env     map[string]string
		want    string
		wantErr bool
	}{
		{map[string]string{"HOME": "/home/ann"}, "/home/ann/.config/autostart", false},
		{map[string]string{"HOME": "/home/ann", "XDG_CONFIG_HOME": "/cfg"}, "/cfg/autostart", false},
		{map[string]string{"HOME": "/home/ann", "XDG_CONFIG_HOME": "rel"}, "/home/ann/.config/autostart", false}, // the spec ignores relative paths
		{map[string]string{}, "", true},
	}
	for _, tt := range tests {
		got, err := AutostartDir(func(k string) string { return tt.env[k] })
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("AutostartDir(%v) = %q, %v; want %q, error %v", tt.env, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestDesktopExec(t *testing.T) {
	tests := []struct {
		argv []string
		want string
	}{
		{[]string{"/usr/local/bin/pingerplot", "ui"}, "/usr/local/bin/pingerplot ui"},
		{[]string{"/opt/Pinger Plot/pingerplot", "ui", "--no-browser"}, `"/opt/Pinger Plot/pingerplot" ui --no-browser`},
		{[]string{"/opt/100%/pingerplot", "ui"}, "/opt/100%%/pingerplot ui"},
		{[]string{`/opt/a"b$c/p`, "ui"}, `"/opt/a\\"b\\$c/p" ui`},
		{[]string{`/opt/back\slash/p`}, `"/opt/back\\\\slash/p"`},
	}
	for _, tt := range tests {
		if got := desktopExec(tt.argv); got != tt.want {
			t.Errorf("desktopExec(%q) = %s; want %s", tt.argv, got, tt.want)
		}
	}
}

func TestAutostartInstallRemove(t *testing.T) {
	a := Autostart{Dir: filepath.Join(t.TempDir(), "autostart")} // not there yet: Install makes it
	if exec, err := a.Status(); exec != "" || err != nil {
		t.Fatalf("Status before install = %q, %v; want \"\", nil", exec, err)
	}
	if err := a.Install("/usr/local/bin/pingerplot", []string{"ui"}); err != nil {
		t.Fatalf("Install: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(a.Dir, "pingerplot.desktop"))
	if err != nil || string(b) != DesktopEntry("/usr/local/bin/pingerplot", []string{"ui"}) {
		t.Errorf("entry = %q, %v; want DesktopEntry's text", b, err)
	}
	if !strings.Contains(string(b), "\nType=Application\n") || !strings.HasPrefix(string(b), "[Desktop Entry]\n") {
		t.Errorf("entry lacks its group header or Type:\n%s", b)
	}
	if exec, err := a.Status(); exec != "/usr/local/bin/pingerplot ui" || err != nil {
		t.Errorf("Status = %q, %v; want the Exec line", exec, err)
	}
	if err := a.Remove(); err != nil {
		t.Errorf("Remove: %v", err)
	}
	if err := a.Remove(); err == nil || !strings.Contains(err.Error(), "no autostart entry") {
		t.Errorf("second Remove = %v; want \"no autostart entry\"", err)
	}
}
