//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package csvlog

import (
	"errors"
	"syscall"
)

// lockFile takes an exclusive, non-blocking flock on f, so that two logs
// (in one process or two) never append to and rotate the same file. The
// kernel releases it when the file is closed or the process dies, so a kill -9 leaves no stale
// lock behind. Files without a descriptor (test fakes) are not locked.
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
	ctl := func(fd uintptr) { lockErr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB) }
	if err := rc.Control(ctl); err != nil {
		return err
	}
	if errors.Is(lockErr, syscall.EWOULDBLOCK) {
		return errors.New("it is locked")
	}
	// Any other failure is a file system without flock (some network
	// mounts): log unguarded rather than not at all. Closing the file
	// releases the lock.
	return nil
}
