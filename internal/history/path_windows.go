package history

import (
	"fmt"
	"os"
	"path/filepath"
)

// defaultPath is under %LocalAppData%, which os.UserCacheDir returns on
// Windows: the history belongs to this machine, not to a roaming profile.
func defaultPath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding %%LocalAppData%% for the history file: %w; give a path with --history", err)
	}
	return filepath.Join(dir, "pingerplot", FileName), nil
}
