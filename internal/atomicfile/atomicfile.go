// Package atomicfile replaces a file so that a reader, or the next start
// after a crash, sees the old content or the new, never a torn mix. It is a
// leaf: the config, session, recorder and geo packages write their files
// through it, and it imports nothing of the project's, so using it pulls in
// no probing, monitoring or config code.
package atomicfile

import (
	"bufio"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Write replaces the file at path with what write writes, so that
// a reader, or the next start after a crash or power cut, sees either the
// old file whole or the new one whole, never a mix or a torn end. It
// writes a temporary file in the same directory (a rename is atomic only
// within one file system), flushes it to disk, renames it over path and
// flushes the directory so the rename itself is durable. On any error the
// old file is untouched and the temporary file removed. Where another
// program may hold the file open for a moment and so block the rename
// (Windows), the rename is retried for a bounded time (replaceFile).
func Write(path string, perm fs.FileMode, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	w := bufio.NewWriterSize(f, 64<<10)
	if err = write(w); err != nil {
		return err
	}
	if err = w.Flush(); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = replaceFile(tmp, path); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// syncDir flushes a directory's entries to disk. Errors are ignored: some
// systems (Windows) cannot sync a directory, and the rename has happened
// either way; at worst a power cut right now brings back the old file.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}
