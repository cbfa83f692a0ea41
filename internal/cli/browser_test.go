package cli

import (
	"path/filepath"
	"slices"
	"testing"
)

func TestBrowserCommand(t *testing.T) {
	const url = "http://127.0.0.1:8080/?token=abc&x=1"
	sysDir := filepath.Join(`C:\Windows`, "System32")
	for _, tc := range []struct {
		goos, root string
		wantName   string
		wantArgs   []string
	}{
		// The whole URL, & included, is one argument: nothing that parses
		// & as a command separator (cmd.exe) is in between.
		{"windows", `C:\Windows`, filepath.Join(sysDir, "rundll32.exe"), []string{"url.dll,FileProtocolHandler", url}},
		{"windows", "", "rundll32.exe", []string{"url.dll,FileProtocolHandler", url}},
		{"darwin", "", "open", []string{url}},
		{"linux", "", "xdg-open", []string{url}},
		{"freebsd", `C:\Windows`, "xdg-open", []string{url}},
	} {
		name, args := browserCommand(tc.goos, url, tc.root)
		if name != tc.wantName || !slices.Equal(args, tc.wantArgs) {
			t.Errorf("browserCommand(%q, url, %q) = %q %q; want %q %q", tc.goos, tc.root, name, args, tc.wantName, tc.wantArgs)
		}
		if name == "cmd" || name == "cmd.exe" {
			t.Errorf("browserCommand(%q) uses cmd.exe, which splits the URL at &", tc.goos)
		}
	}
}
