//go:build !windows && !darwin

package history

import (
	"path/filepath"
	"testing"
)

func TestDefaultPath(t *testing.T) {
	cases := []struct {
		name, xdg, home, want string
	}{
		{"XDG data home", "/data/me", "/home/me", "/data/me/pingerplot/history.db"},
		{"no XDG: ~/.local/share", "", "/home/me", "/home/me/.local/share/pingerplot/history.db"},
		{"a relative XDG is ignored (the spec says so)", "rel/dir", "/home/me", "/home/me/.local/share/pingerplot/history.db"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("XDG_DATA_HOME", c.xdg)
			t.Setenv("HOME", c.home)
			got, err := DefaultPath()
			if err != nil || got != filepath.FromSlash(c.want) {
				t.Errorf("DefaultPath() = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}
