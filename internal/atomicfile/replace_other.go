//go:build !windows

package atomicfile

import "os"

// replaceFile renames tmp over path: rename(2) replaces a file atomically
// even while others have it open, so there is nothing to retry.
func replaceFile(tmp, path string) error { return os.Rename(tmp, path) }
