package history

import (
	"fmt"
	"os"
	"path/filepath"
)

// defaultPath is ~/Library/Application Support/pingerplot/history.db.
func defaultPath() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("finding the home directory for the history file: %w; give a path with --history", err)
	}
	return filepath.Join(home, "Library", "Application Support", "pingerplot", FileName), nil
}
