package cli

import (
	"bytes"
	"context"
	"runtime"
	"strings"
	"testing"
)

// --version must be caught before a leading "-..." argument is taken as a
// dashboard flag; the stamped values themselves are checked on a built
// binary by internal/buildinfo's tests.
func TestVersion(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"--version"}, 0, "pingerplot ", ""},
		{[]string{"-version"}, 0, "pingerplot ", ""},
		{[]string{"version"}, 0, "pingerplot ", ""},
		{[]string{"version", "--help"}, 0, "Usage: pingerplot version", ""},
		{[]string{"help", "version"}, 0, "Usage: pingerplot version", ""},
		{[]string{"version", "extra"}, 2, "", "version takes no arguments"},
		{[]string{"--version", "extra"}, 2, "", "version takes no arguments"},
		{[]string{"version", "--bogus"}, 2, "", "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(context.Background(), tt.args, Env{Stdout: &out, Stderr: &errb})
			if code != tt.code || !strings.HasPrefix(out.String(), tt.out) || !strings.Contains(errb.String(), tt.err) {
				t.Errorf("Run(%q) = %d, stdout %q, stderr %q; want %d, stdout starting %q, stderr with %q",
					tt.args, code, out.String(), errb.String(), tt.code, tt.out, tt.err)
			}
			if tt.code == 0 && tt.args[len(tt.args)-1] != "--help" && tt.args[0] != "help" {
				if want := runtime.GOOS + "/" + runtime.GOARCH + ")\n"; !strings.HasSuffix(out.String(), want) || strings.Count(out.String(), "\n") != 1 {
					t.Errorf("Run(%q) printed %q; want one line ending %q", tt.args, out.String(), want)
				}
			}
		})
	}
}
