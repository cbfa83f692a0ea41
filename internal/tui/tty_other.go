//go:build !unix && !windows

package tui

import "os"

// openKeys reads keys from stdin: there is no controlling terminal file to
// open here.
func openKeys(stdin *os.File) (*os.File, bool) { return stdin, false }

// enableVT assumes a terminal that reads control sequences.
func enableVT(*os.File) (func() error, error) { return func() error { return nil }, nil }

// notifyResize: no SIGWINCH here; the next update redraws at the new size.
func notifyResize(*os.File) (<-chan os.Signal, func()) { return nil, func() {} }
