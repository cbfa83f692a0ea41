package cli

import (
	"runtime"
	"strings"
	"testing"
)

// TestValidateMonitorFlows: ui's and headless' --flows takes 0 or 2 to
// config.MaxFlows, and on Windows, whose probes cannot vary their flow,
// refuses any flows with the reason.
func TestValidateMonitorFlows(t *testing.T) {
	windows := runtime.GOOS == "windows"
	tests := []struct {
		n    int
		want string // part of the error; "" for none
	}{
		{0, ""},
		{1, "out of range"},
		{-3, "out of range"},
		{65, "out of range"},
		{16, map[bool]string{true: "does not work on Windows"}[windows]},
		{64, map[bool]string{true: "does not work on Windows"}[windows]},
	}
	for _, tt := range tests {
		err := validateMonitorFlows(tt.n)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("validateMonitorFlows(%d) = %v; want nil", tt.n, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("validateMonitorFlows(%d) = %v; want an error naming %q", tt.n, err, tt.want)
		}
	}
	if got := flowsUnsupported() != ""; got != windows {
		t.Errorf("flowsUnsupported() set = %v; want %v on %s", got, windows, runtime.GOOS)
	}
}
