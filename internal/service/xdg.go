package service

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// DesktopFile is the XDG autostart entry's file name.
const DesktopFile = "pingerplot.desktop"

// AutostartDir is where desktop sessions look for entries to start at
// login (XDG Autostart Specification): $XDG_CONFIG_HOME/autostart, or
// ~/.config/autostart. getenv is os.Getenv outside tests.
func AutostartDir(getenv func(string) string) (string, error) {
	if d := getenv("XDG_CONFIG_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "autostart"), nil
	}
	home := getenv("HOME")
	if !filepath.IsAbs(home) {
		return "", errors.New("neither XDG_CONFIG_HOME nor HOME is set to an absolute path: set HOME")
	}
	return filepath.Join(home, ".config", "autostart"), nil
}

// DesktopEntry is the text of the autostart entry that runs the binary
// with args at login.
func DesktopEntry(binary string, args []string) string {
	return "[Desktop Entry]\n" +
		"Type=Application\n" +
		"Name=PingerPlot\n" +
		"Comment=Network path monitor dashboard. Written by: pingerplot autostart install. Remove with: pingerplot autostart remove.\n" +
		"Exec=" + desktopExec(append([]string{binary}, args...)) + "\n" +
		"Terminal=false\n" +
		"X-GNOME-Autostart-enabled=true\n"
}

// desktopExec quotes a command line for an Exec= key (Desktop Entry
// Specification, "The Exec key"): an argument with a reserved character
// goes in double quotes with ", `, $ and \ escaped by a backslash; % is
// doubled, since %f and friends are field codes; and the value as a whole
// has its backslashes doubled, since string values are unescaped once
// before the command line is split.
func desktopExec(argv []string) string {
	var parts []string
	for _, a := range argv {
		a = strings.ReplaceAll(a, "%", "%%")
		if a != "" && !strings.ContainsAny(a, " \t\n\"'\\><~|&;$*?#()`") {
			parts = append(parts, a)
			continue
		}
		r := strings.NewReplacer(`"`, `\"`, "`", "\\`", `$`, `\$`, `\`, `\\`)
		parts = append(parts, `"`+r.Replace(a)+`"`)
	}
	return strings.ReplaceAll(strings.Join(parts, " "), `\`, `\\`)
}

// Autostart manages the XDG autostart entry in Dir.
type Autostart struct{ Dir string }

// Path is the entry's file.
func (a Autostart) Path() string { return filepath.Join(a.Dir, DesktopFile) }

// Install writes (or replaces) the entry.
func (a Autostart) Install(binary string, args []string) error {
	if err := writeFileAtomic(a.Path(), []byte(DesktopEntry(binary, args)), 0o644); err != nil {
		return fmt.Errorf("write the autostart entry: %w", err)
	}
	return nil
}

// Remove deletes the entry.
func (a Autostart) Remove() error {
	err := os.Remove(a.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("there is no autostart entry to remove (no %s)", a.Path())
	}
	return err
}

// Status returns the entry's Exec= line, or "" and no error when there is
// no entry.
func (a Autostart) Status() (exec string, err error) {
	f, err := os.Open(a.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Exec="); ok {
			return v, nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%s has no Exec= line; remove it and install again", a.Path())
}
