package csvlog

import (
	"errors"
	"syscall"

	"golang.org/x/sys/windows"
)

// lockOffset is where the log's lock byte lies: far past any size a log
// reaches. Windows byte-range locks are mandatory, so a lock over the
// rows would make every other reader of the log (a spreadsheet, a tail
// tool, a backup) fail with a lock violation; one byte beyond the end
// excludes a second writer and leaves the data readable. Locking beyond
// the end of a file is allowed (LockFileEx documentation).
const lockOffset = 1<<62 - 1

// lockFile takes an exclusive lock with LockFileEx that fails at once if
// another handle holds it, so that two logs (in one process or two) never
// append to and rotate the same file. Windows releases it when the handle
// is closed or the process ends, so a killed process leaves no stale
// lock. Files without a handle (test fakes) are not locked.
func lockFile(f file) error {
	sc, ok := f.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var lockErr error
	ctl := func(h uintptr) {
		off := uint64(lockOffset)
		ol := windows.Overlapped{Offset: uint32(off), OffsetHigh: uint32(off >> 32)}
		lockErr = windows.LockFileEx(windows.Handle(h),
			windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ol)
	}
	if err := rc.Control(ctl); err != nil {
		return err
	}
	if errors.Is(lockErr, windows.ERROR_LOCK_VIOLATION) {
		return errors.New("it is locked")
	}
	// Any other failure is a file system without byte-range locks (some
	// network shares): log unguarded rather than not at all, as flock's
	// absence is handled on Unix.
	return nil
}
