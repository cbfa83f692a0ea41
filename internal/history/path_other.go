//go:build !windows && !darwin

package history

import (
	"fmt"
	"os"
	"path/filepath"
)

// defaultPath follows the XDG base directories: $XDG_DATA_HOME, else
// ~/.local/share.
func defaultPath() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "pingerplot", FileName), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the home directory for the history file: %w; set XDG_DATA_HOME or give a path with --history", err)
	}
	return filepath.Join(home, ".local", "share", "pingerplot", FileName), nil
}
