//go:build !unix

package tui

import "os"

// openKeys reads keys from stdin: there is no controlling terminal file to
// open here.
func openKeys(stdin *os.File) (*os.File, bool) { return stdin, false }

// notifyResize: no SIGWINCH here; the next update redraws at the new size.
func notifyResize() (<-chan os.Signal, func()) { return nil, func() {} }
