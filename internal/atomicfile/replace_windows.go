package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// replaceFile renames tmp over path. os.Rename is MoveFileEx with
// MOVEFILE_REPLACE_EXISTING, which replaces an existing file atomically,
// but fails while another program has path open without FILE_SHARE_DELETE
// (most do, Go's own os.Open included): ERROR_ACCESS_DENIED or
// ERROR_SHARING_VIOLATION, or ERROR_LOCK_VIOLATION for a byte-range lock.
// Such a reader is usually gone within moments, so these are retried for
// a bounded time before the error is returned.
func replaceFile(tmp, path string) error {
	err := retryRename(func() error { return os.Rename(tmp, path) }, sharingError, time.Sleep)
	if err != nil && sharingError(err) {
		return fmt.Errorf("%w; another program kept %s open for %v (an editor, a backup or antivirus scan?): close it and try again", err, path, renameBudget)
	}
	return err
}

// sharingError reports whether err is the kind another process's open
// handle causes.
func sharingError(err error) bool {
	return errors.Is(err, windows.ERROR_SHARING_VIOLATION) ||
		errors.Is(err, windows.ERROR_ACCESS_DENIED) ||
		errors.Is(err, windows.ERROR_LOCK_VIOLATION)
}
