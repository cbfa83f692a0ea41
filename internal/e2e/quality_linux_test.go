//go:build linux

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/lab"
)

// TestDashboardKeyboardContrastHiDPI runs web/test/quality.mjs against
// `pingerplot ui` (unprivileged, in the lab): the main scenario's actions
// with the keyboard alone (Tab order, focus rings, Enter, arrows, Home,
// Shift+F10 menus, Escape), WCAG AA contrast of every visible text in both
// themes and on three tabs, and the graphs drawn for device pixel ratios 2
// and 1.5.
func TestDashboardKeyboardContrastHiDPI(t *testing.T) {
	lab.Exclusive(t) // timing: rounds every 200 ms while a browser renders
	node, script := browserPrereqs(t)
	script = filepath.Join(filepath.Dir(script), "quality.mjs")
	l := lab.New(t, lab.Options{Routers: 3})
	withNames(t, l) // host names in the hop table: more text to check
	ui := startUI(t, l, workDir(t))
	var hops []string
	for _, a := range append(l.Hops4, l.TargetAddr4) {
		hops = append(hops, a.String())
	}
	artifacts, err := os.MkdirTemp("", "pp-quality-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the failed step's screenshot is kept in %s", artifacts)
		} else {
			os.RemoveAll(artifacts)
		}
	})
	env := []string{
		"PP_TARGET=" + l.TargetAddr4.String(),
		"PP_HOPS=" + strings.Join(hops, ","),
		"PP_ARTIFACTS=" + artifacts,
		"PP_CHROMIUM=" + chromiumPath,
	}
	runBrowserScenario(t, l, ui, node, script, env, 5*time.Minute, func(need string) error {
		t.Errorf("quality.mjs asked for a lab change (%q); it needs none", need)
		return nil
	})
	ui.stop(t)
}
