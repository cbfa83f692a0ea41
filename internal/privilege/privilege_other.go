//go:build !linux && !windows

package privilege

import (
	"errors"
	"os"
	"runtime"
)

var errUnsupported = errors.New("not supported on this operating system yet")

// Check reports that nothing is supported yet on this platform.
func Check() Report {
	return Report{OS: runtime.GOOS, UID: os.Geteuid(), GID: os.Getegid(),
		PingSocket4: errUnsupported, PingSocket6: errUnsupported,
		RawSocket4: errUnsupported, RawSocket6: errUnsupported}
}
