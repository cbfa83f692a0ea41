package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// openBrowser opens url in the user's default browser without waiting for
// it: the browser may stay open long after this process ends.
func openBrowser(url string) error {
	name, args := browserCommand(runtime.GOOS, url, os.Getenv("SystemRoot"))
	cmd := exec.Command(name, args...)
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() // reap it; its exit status says nothing about the page
	return nil
}

// browserCommand is the program that hands url to the system's default
// handler for http URLs on goos.
//
// On Windows it is rundll32 with url.dll's FileProtocolHandler, the
// documented shell entry point that ShellExecute uses for a URL, and not
// "cmd /c start URL": cmd.exe reads & as the end of a command, so the
// dashboard URL (…/?token=…, and any later &key=value) would be cut at the
// first & and the rest run as a command. rundll32 takes its argument
// verbatim. It is named by its full path under systemRoot (%SystemRoot%)
// so that a rundll32.exe in the current folder is never the one started;
// without systemRoot the search path decides.
func browserCommand(goos, url, systemRoot string) (string, []string) {
	switch goos {
	case "windows":
		exe := "rundll32.exe"
		if systemRoot != "" {
			exe = filepath.Join(systemRoot, "System32", exe)
		}
		return exe, []string{"url.dll,FileProtocolHandler", url}
	case "darwin":
		return "open", []string{url}
	default:
		return "xdg-open", []string{url}
	}
}
