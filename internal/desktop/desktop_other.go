//go:build !windows

package desktop

// ConsoleProcesses is 0: only Windows gives a program started by a
// double-click a console of its own.
func ConsoleProcesses() int { return 0 }

// HideConsole does nothing: there is no console window to hide.
func HideConsole() error { return ErrUnavailable }

// ShowError does nothing: errors go to the terminal here.
func ShowError(title, msg string) {}

// Tray is never shown here.
type Tray struct{}

// Start returns ErrUnavailable.
func Start(Config) (*Tray, error) { return nil, ErrUnavailable }

// HWND is 0: there is no window.
func (*Tray) HWND() uintptr { return 0 }

// Close does nothing.
func (*Tray) Close() error { return nil }
