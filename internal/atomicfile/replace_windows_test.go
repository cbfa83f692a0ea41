package atomicfile

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"
)

// atomicDir is a fresh directory, removed if Windows (or Wine, whose
// removal of a test's directory can fail) lets it be.
func atomicDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "atomicfile-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

// TestWriteWhileOpen: a file another handle holds open (Go's
// os.Open shares neither delete nor rename) is replaced once that handle
// closes within the retry budget; a handle held past it makes
// Write fail with the old file whole and no temporary file left.
func TestWriteWhileOpen(t *testing.T) {
	for _, tc := range []struct {
		name    string
		holdFor time.Duration // how long the reader keeps the file open
		wantErr bool
	}{
		{"released after 300 ms", 300 * time.Millisecond, false},
		{"held past the budget", renameBudget + 2*time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := atomicDir(t)
			path := filepath.Join(dir, "settings.json")
			if err := Write(path, 0o600, writeString("old")); err != nil {
				t.Fatalf("first write: %v", err)
			}
			r, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			released := make(chan struct{})
			go func() {
				defer close(released)
				time.Sleep(tc.holdFor)
				r.Close()
			}()
			defer func() { <-released }()
			start := time.Now()
			err = Write(path, 0o600, writeString("new"))
			took := time.Since(start)
			if tc.wantErr {
				if err == nil || !sharingError(err) {
					t.Errorf("Write while held = %v; want a sharing error", err)
				}
				if took < renameBudget {
					t.Errorf("Write gave up after %v; want at least %v of retries", took, renameBudget)
				}
			} else if err != nil {
				t.Errorf("Write with a reader that lets go after %v = %v; want success", tc.holdFor, err)
			}
			<-released
			want := "new"
			if tc.wantErr {
				want = "old"
			}
			if got, err := os.ReadFile(path); err != nil || string(got) != want {
				t.Errorf("file holds %q, %v; want %q", got, err, want)
			}
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				if strings.Contains(e.Name(), ".tmp-") {
					t.Errorf("temporary file %s left behind", e.Name())
				}
			}
		})
	}
}

func TestSharingError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&os.LinkError{Op: "rename", Err: windows.ERROR_SHARING_VIOLATION}, true},
		{&os.LinkError{Op: "rename", Err: windows.ERROR_ACCESS_DENIED}, true},
		{&os.LinkError{Op: "rename", Err: windows.ERROR_LOCK_VIOLATION}, true},
		{&os.LinkError{Op: "rename", Err: windows.ERROR_PATH_NOT_FOUND}, false},
		{&os.LinkError{Op: "rename", Err: windows.ERROR_DISK_FULL}, false},
	} {
		if got := sharingError(tc.err); got != tc.want {
			t.Errorf("sharingError(%v) = %v; want %v", tc.err, got, tc.want)
		}
	}
}
