//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// browserArtifacts is a directory for a browser script's failure
// artifacts (screenshot, page), kept and named when the test fails.
func browserArtifacts(t *testing.T, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the failed step's screenshot and page are kept in %s", dir)
		} else {
			os.RemoveAll(dir)
		}
	})
	return dir
}

// runLocalBrowserScript runs a step script of web/test against url, a
// dashboard served by this test process on loopback (no lab namespace:
// runBrowserScenario is for a `ui` in the lab), with env added to the
// environment. It logs each step, fails the test on a failed step or a
// script error (with the script's log), and returns the final line, nil
// when the script did not finish. other, if set, sees every line first and
// says whether it was one of the script's own reports (then it is not read
// as a step).
func runLocalBrowserScript(t *testing.T, node, script, url string, env []string, timeout time.Duration, other func(line []byte) bool) *browserStep {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	run := exec.CommandContext(ctx, node, script, url)
	run.Env = append(os.Environ(), env...)
	run.Cancel = func() error { return run.Process.Signal(os.Interrupt) }
	var stderr bytes.Buffer
	run.Stderr = &stderr
	stdout, err := run.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	var done *browserStep
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line browserStep
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Errorf("script printed %q: %v", sc.Text(), err)
			continue
		}
		switch {
		case other != nil && other(sc.Bytes()):
		case line.Done:
			done = &line
		case line.Step != "" && line.OK:
			t.Logf("ok   %-62s %6d ms  %s", line.Step, line.MS, line.Info)
		case line.Step != "":
			t.Errorf("FAIL %s: %s (screenshot %s)", line.Step, line.Error, line.Screenshot)
		}
	}
	name := filepath.Base(script)
	if err := run.Wait(); err != nil {
		t.Errorf("%s: %v", name, err)
	}
	if t.Failed() {
		t.Logf("%s log:\n%s", name, tail(stderr.String(), 4000))
	}
	return done
}
