package cli

import (
	"fmt"
	"os"
	"testing"
)

// TestMain keeps every test's history file (on by default in ui and
// headless) out of the user's data directory: the default file lives
// under XDG_DATA_HOME on Linux and %LocalAppData% on Windows, both
// pointed at a directory removed when the tests end.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pingerplot-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Setenv("XDG_DATA_HOME", dir)
	os.Setenv("LOCALAPPDATA", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
