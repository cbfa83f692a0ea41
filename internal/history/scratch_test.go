package history

import (
	"os"
	"testing"
)

// ScratchDir is t.TempDir for this package's tests, whose Windows
// programs also run under Wine in the lab: there os.RemoveAll cannot
// delete a file (Wine lacks the call Go uses), which t.TempDir's cleanup
// reports as a failure of a test that passed. A directory left behind
// under Wine lives in the test's throwaway prefix.
func ScratchDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "pingerplot-history-test-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}
