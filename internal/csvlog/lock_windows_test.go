package csvlog

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// lockChildEnv names the log that TestLockWindows's child process tries
// to open, as "probe:PATH" or "event:PATH"; the child exits 3 when it is
// refused as in use, 0 when it got the log.
const lockChildEnv = "PINGERPLOT_CSVLOG_LOCK_CHILD"

func TestMain(m *testing.M) {
	if kind, path, ok := strings.Cut(os.Getenv(lockChildEnv), ":"); ok {
		var l interface{ Close() error }
		var err error
		if kind == "event" {
			l, err = OpenEvents(Config{Path: path})
		} else {
			l, err = Open(Config{Path: path})
		}
		if err != nil {
			os.Stderr.WriteString(err.Error())
			if strings.Contains(err.Error(), "already open") {
				os.Exit(3)
			}
			os.Exit(1)
		}
		l.Close()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// tempDir is a fresh directory that is removed if Windows (or Wine, whose
// removal of a test's directory can fail) lets it be.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "csvlog-lock-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// TestLockWindows: a log held open refuses a second writer in this
// process and in another one, stays readable by others meanwhile, and is
// free again once closed.
func TestLockWindows(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	child := func(kind, path string) (int, string) {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), lockChildEnv+"="+kind+":"+path)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatalf("run the child process: %v", err)
		}
		return 0, string(out)
	}
	dir := tempDir(t)
	for _, tc := range []struct {
		name, kind string
		open       func(Config) (interface{ Close() error }, error)
	}{
		{"probe log", "probe", func(c Config) (interface{ Close() error }, error) { return Open(c) }},
		{"event log", "event", func(c Config) (interface{ Close() error }, error) { return OpenEvents(c) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".csv")
			first, err := tc.open(Config{Path: path})
			if err != nil {
				t.Fatalf("first open: %v", err)
			}
			if _, err := tc.open(Config{Path: path}); err == nil || !strings.Contains(err.Error(), "already open") {
				t.Errorf("second open in this process = %v; want an \"already open\" error", err)
			}
			if code, out := child(tc.kind, path); code != 3 {
				t.Errorf("open in another process while held: exit %d (%s); want 3, refused as already open", code, out)
			}
			// The lock lies beyond the data: a reader is not refused.
			if data, err := os.ReadFile(path); err != nil || !strings.HasSuffix(string(data), "\n") || len(data) < 10 {
				t.Errorf("reading the locked log = %q, %v; want its header", data, err)
			}
			if err := first.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			if code, out := child(tc.kind, path); code != 0 {
				t.Errorf("open in another process after close: exit %d (%s); want 0", code, out)
			}
			again, err := tc.open(Config{Path: path})
			if err != nil {
				t.Fatalf("open after close: %v", err)
			}
			again.Close()
		})
	}
}
