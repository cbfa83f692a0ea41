package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// dirNames lists the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestWrite: a write that succeeds replaces the file (or creates it); one
// whose writer fails leaves the old file whole; neither leaves a temporary
// file behind.
func TestWrite(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name    string
		old     string // "" means no file before the write
		write   func(io.Writer) error
		wantErr error
		want    string
	}{
		{"creates", "", func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }, nil, "new"},
		{"replaces", "old", func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }, nil, "new"},
		{"a failed write keeps the old", "old", func(w io.Writer) error {
			io.WriteString(w, "half of the new")
			return boom
		}, boom, "old"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			if tc.old != "" {
				if err := os.WriteFile(path, []byte(tc.old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := Write(path, 0o600, tc.write)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("Write = %v; want %v", err, tc.wantErr)
			}
			if b, err := os.ReadFile(path); err != nil || string(b) != tc.want {
				t.Errorf("file = %q, %v; want %q", b, err, tc.want)
			}
			if names := dirNames(t, dir); !slices.Equal(names, []string{"f"}) {
				t.Errorf("files = %v; want [f] (no temporary file left)", names)
			}
		})
	}
}
