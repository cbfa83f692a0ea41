//go:build linux

package lab

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// RunTestInside runs this test binary again inside namespace ns, limited to
// the test testName (or, for a name starting with "Benchmark", to that
// benchmark with -test.benchmem), with -test.v, the extra args, and env added
// to the environment. It returns the run's combined output and fails when the
// run fails or matches nothing.
//
// The inner run sees Inside() true and can read the lab's names and
// addresses from InsideTopology, so one test function holds both halves:
//
//	func TestEngineInside(t *testing.T) {
//		if lab.Inside() {
//			tp, _ := lab.InsideTopology()
//			… measure against tp.TargetAddr4 …
//			return
//		}
//		l := lab.New(t, lab.Options{})
//		out, err := l.RunTestInside(t, l.Client, "TestEngineInside", nil)
//		…
//	}
func (l *Lab) RunTestInside(t testing.TB, ns, testName string, env map[string]string, args ...string) (string, error) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find test binary: %w", err)
	}
	topo, err := json.Marshal(l.Topology)
	if err != nil {
		return "", fmt.Errorf("encode topology: %w", err)
	}
	runArgs := []string{"-test.run=^" + testName + "$", "-test.count=1", "-test.v"}
	if strings.HasPrefix(testName, "Benchmark") {
		runArgs = []string{"-test.run=^$", "-test.bench=^" + testName + "$", "-test.benchmem", "-test.v"}
	}
	ctx := context.Background()
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := d.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, dl)
			defer cancel()
		}
	}
	cmd := l.Command(ctx, ns, self, append(runArgs, args...)...)
	cmd.Env = append(cleanEnv(), insideEnv+"="+string(topo))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s inside %s: %w", testName, ns, err)
	}
	if strings.Contains(string(out), "no tests to run") {
		return string(out), fmt.Errorf("%s inside %s: no test matched", testName, ns)
	}
	return string(out), nil
}

// ExecutableCopy copies the executable src to a fresh directory that uid
// 65534 can reach (go test and t.TempDir make 0700 directories) and returns
// the copy's path, for CommandUnprivileged. The copy carries no file
// capabilities. It is removed when the test ends.
func ExecutableCopy(t testing.TB, src string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pplab-exec-")
	if err != nil {
		t.Fatalf("executable copy: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("executable copy: %v", err)
	}
	dst := filepath.Join(dir, filepath.Base(src))
	if err := copyFile(dst, src); err != nil {
		t.Fatalf("executable copy of %s: %v", src, err)
	}
	return dst
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
