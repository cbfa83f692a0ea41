//go:build !linux && !windows

package cli

import (
	"context"
	"fmt"
	"runtime"
)

// unsupportedAutostart says so: on macOS a LaunchAgent would start a
// dashboard whose probe backend does not exist yet, so nothing is written
// until it does.
type unsupportedAutostart struct{}

func newAutostartBackend(Env) autostartBackend { return unsupportedAutostart{} }

func (unsupportedAutostart) err() error {
	return fmt.Errorf("pingerplot autostart is not supported on %s yet (Linux and Windows only)", runtime.GOOS)
}

func (u unsupportedAutostart) install(context.Context, []string, bool) error { return u.err() }
func (u unsupportedAutostart) remove(context.Context) error                  { return u.err() }
func (u unsupportedAutostart) status(context.Context) error                  { return u.err() }
