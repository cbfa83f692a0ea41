package csvlog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Config configures a probe log (Open) or an event log (OpenEvents). The
// zero value of each field but Path means the default documented on it.
type Config struct {
	// Path is the current file. Rotated files get a number before the
	// extension: log.csv, log.1.csv (the newest old one), log.2.csv, ...
	// A missing directory is created (mode 0755).
	Path string
	// MaxBytes caps each file; 0 means DefaultMaxBytes. A file is rotated
	// before a write that would take it past the cap, so files stay under
	// it unless a single round is larger than the cap on its own.
	MaxBytes int64
	// MaxFiles is how many files are kept, the current one included, so
	// the log never takes more than MaxFiles*MaxBytes; 0 means
	// DefaultMaxFiles. With 1, rotation starts the file afresh.
	MaxFiles int
	// RetryAfter is how long a log that failed (full disk, no permission)
	// waits before it tries the file again; rows written meanwhile are
	// dropped. It also paces the check that the open file is still at
	// Path: a file or directory deleted or moved away (by hand, by
	// logrotate) is recreated within RetryAfter. 0 means DefaultRetry.
	RetryAfter time.Duration
	// TimeNow is the clock that paces retries; nil means time.Now. Row
	// times come from the rounds and events themselves.
	TimeNow func() time.Time
}

// Defaults of Config.
const (
	DefaultMaxBytes = 10 << 20
	DefaultMaxFiles = 5
	DefaultRetry    = 10 * time.Second
	// MinMaxBytes is the smallest MaxBytes accepted: a header and a few rows.
	MinMaxBytes = 1 << 10
)

// ErrForeign is wrapped by the error for a file at the log's path that
// is not a PingerPlot log of the expected kind. The file is left alone.
var ErrForeign = errors.New("not a PingerPlot log")

// ErrSuspended is wrapped by the errors of writes made while a failed log
// waits for its next retry: the rows were dropped, and the failure itself
// was reported by an earlier call. Callers that turn errors into events
// can skip these to report each failure once.
var ErrSuspended = errors.New("log suspended until its next retry")

// file is what a writer needs of an open log file: *os.File, or in tests
// a wrapper that fails on demand.
type file interface {
	io.Writer
	io.ReaderAt
	Truncate(size int64) error
	Stat() (os.FileInfo, error)
	Close() error
}

func openOSFile(path string) (file, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o644)
}

// writer is the crash-safe, size-capped, line-oriented file that both
// logs use. Every row is one line (fields never hold a line break), each
// call of write is one write(2) on an O_APPEND file, and opening repairs
// a torn last line, so a kill -9 loses at most the write in flight.
type writer struct {
	path     string
	what     string // "probe log" or "event log", for messages
	header   []byte // the first line of every file, newline included
	maxBytes int64
	maxFiles int
	retry    time.Duration
	now      func() time.Time
	openFile func(path string) (file, error)

	mu      sync.Mutex
	f       file // nil while failed or closed
	size    int64
	closed  bool
	retryAt time.Time // when a failed writer may try the file again
	checkAt time.Time // when to check that f is still the file at path
	pending error     // a failure of Open not yet returned to anyone
}

func newWriter(cfg Config, what string, header []byte, openFile func(string) (file, error)) (*writer, error) {
	if cfg.Path == "" {
		return nil, fmt.Errorf("%s: no path given; set a log path", what)
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxBytes < MinMaxBytes {
		return nil, fmt.Errorf("%s %s: max bytes %d is too small; use at least %d (0 means %d)",
			what, cfg.Path, cfg.MaxBytes, MinMaxBytes, DefaultMaxBytes)
	}
	if cfg.MaxFiles == 0 {
		cfg.MaxFiles = DefaultMaxFiles
	}
	if cfg.MaxFiles < 1 {
		return nil, fmt.Errorf("%s %s: max files %d must be at least 1 (0 means %d)",
			what, cfg.Path, cfg.MaxFiles, DefaultMaxFiles)
	}
	if cfg.RetryAfter <= 0 {
		cfg.RetryAfter = DefaultRetry
	}
	if cfg.TimeNow == nil {
		cfg.TimeNow = time.Now
	}
	if openFile == nil {
		openFile = openOSFile
	}
	w := &writer{
		path: cfg.Path, what: what, header: header,
		maxBytes: cfg.MaxBytes, maxFiles: cfg.MaxFiles, retry: cfg.RetryAfter,
		now: cfg.TimeNow, openFile: openFile,
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.openLocked(); err != nil {
		// What retrying cannot fix is refused now; a path that cannot be
		// written yet is reported by the first write and retried.
		if errors.Is(err, ErrForeign) || errors.Is(err, errInUse) {
			return nil, err
		}
		w.pending = err
		w.retryAt = w.now().Add(w.retry)
	}
	return w, nil
}

// openLocked opens the current file, checks that it is ours and cuts off
// a torn last line, or starts it with the header.
func (w *writer) openLocked() error {
	if err := os.MkdirAll(filepath.Dir(w.path), 0o755); err != nil {
		return w.explain("create the directory of", err)
	}
	f, err := w.openFile(w.path)
	if err != nil {
		return w.explain("open", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		return fmt.Errorf("%s %s is already open in this or another PingerPlot process (%v); give each log its own path, or share one log between targets: %w",
			w.what, w.path, err, errInUse)
	}
	size, err := w.prepare(f)
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.size = f, size
	return nil
}

var errInUse = errors.New("log in use")

// prepare returns the size of f once it starts with the header and ends
// with a newline.
func (w *writer) prepare(f file) (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, w.explain("read", err)
	}
	size := st.Size()
	hl := int64(len(w.header))
	first := make([]byte, min(size, hl))
	if _, err := f.ReadAt(first, 0); err != nil && !errors.Is(err, io.EOF) {
		return 0, w.explain("read", err)
	}
	switch {
	case size < hl && bytes.HasPrefix(w.header, first):
		// Empty, or a header torn by a crash while the file was new.
		if size > 0 {
			if err := f.Truncate(0); err != nil {
				return 0, w.explain("repair", err)
			}
		}
		if _, err := f.Write(w.header); err != nil {
			f.Truncate(0)
			return 0, w.explain("write", err)
		}
		return hl, nil
	case !bytes.Equal(first, w.header):
		line, _, _ := bytes.Cut(first, []byte("\n"))
		return 0, fmt.Errorf("%s is %w: its first line %q is not the %s header %q; move the file away or choose another log path",
			w.path, ErrForeign, line, w.what, bytes.TrimSuffix(w.header, []byte("\n")))
	}
	end, err := lastLineEnd(f, size, hl)
	if err != nil {
		return 0, w.explain("read", err)
	}
	if end < size {
		// A torn last line: a kill mid-write or a partial write on a full
		// disk. Appending after it would glue two rows together.
		if err := f.Truncate(end); err != nil {
			return 0, w.explain("repair the torn last line of", err)
		}
	}
	return end, nil
}

// lastLineEnd returns the offset just past the last newline of f, which
// is at least floor (the header's own newline ends there).
func lastLineEnd(f io.ReaderAt, size, floor int64) (int64, error) {
	buf := make([]byte, 4096)
	for end := size; end > floor; {
		start := max(floor, end-int64(len(buf)))
		b := buf[:end-start]
		if _, err := f.ReadAt(b, start); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return floor, nil
}

// write appends b, whole lines only, with one write call, rotating first
// if b would take the file past its cap.
func (w *writer) write(b []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("%s %s is closed", w.what, w.path)
	}
	if w.f == nil {
		if err := w.pending; err != nil {
			w.pending = nil
			return err
		}
		if w.now().Before(w.retryAt) {
			return fmt.Errorf("%s %s: rows dropped, next try at %s: %w",
				w.what, w.path, w.retryAt.Format(time.TimeOnly), ErrSuspended)
		}
		if err := w.openLocked(); err != nil {
			return w.fail(err)
		}
	}
	if now := w.now(); !now.Before(w.checkAt) {
		w.checkAt = now.Add(w.retry)
		if !w.stillAtPath() {
			w.closeFile()
			if err := w.openLocked(); err != nil {
				return w.fail(err)
			}
		}
	}
	if w.size+int64(len(b)) > w.maxBytes && w.size > int64(len(w.header)) {
		if err := w.rotate(); err != nil {
			return w.fail(err)
		}
	}
	n, err := w.f.Write(b)
	if err != nil {
		if n > 0 {
			// Cut the partial rows off now rather than at the next open.
			w.f.Truncate(w.size)
		}
		return w.fail(w.explain("write", err))
	}
	w.size += int64(n)
	return nil
}

// stillAtPath reports whether the open file is the one at w.path: rows
// written to a file deleted or moved away would be lost unseen.
func (w *writer) stillAtPath() bool {
	at, err := os.Stat(w.path)
	if err != nil {
		return false
	}
	open, err := w.f.Stat()
	return err == nil && os.SameFile(at, open)
}

// fail closes the file and schedules the next try.
func (w *writer) fail(err error) error {
	w.closeFile()
	w.retryAt = w.now().Add(w.retry)
	return err
}

func (w *writer) closeFile() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

// rotate shifts log.csv to log.1.csv and so on, deleting the oldest, and
// opens a new current file. A crash between the renames loses nothing
// but the oldest file: each rename is atomic.
func (w *writer) rotate() error {
	if err := w.closeFile(); err != nil {
		return w.explain("close", err)
	}
	oldest := w.rotated(w.maxFiles - 1)
	if err := os.Remove(oldest); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return w.explain("delete the oldest file of", err)
	}
	for i := w.maxFiles - 2; i >= 0; i-- {
		if err := os.Rename(w.rotated(i), w.rotated(i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return w.explain("rotate", err)
		}
	}
	return w.openLocked()
}

// rotated names the i-th file: the current one for 0, else the path with
// i before its extension.
func (w *writer) rotated(i int) string {
	if i == 0 {
		return w.path
	}
	ext := filepath.Ext(w.path)
	return fmt.Sprintf("%s.%d%s", w.path[:len(w.path)-len(ext)], i, ext)
}

func (w *writer) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if err := w.closeFile(); err != nil {
		return w.explain("close", err)
	}
	return nil
}

// explain turns an I/O error into one that says what to do. The
// underlying error is wrapped so callers can test for syscall.ENOSPC
// or fs.ErrPermission.
func (w *writer) explain(doing string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("disk full writing %s %s: free space or lower the log caps; probing continues and the log is retried every %v (%w)",
			w.what, w.path, w.retry, err)
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		return fmt.Errorf("no permission to write %s %s: fix the permissions of the file and its directory or choose another log path; probing continues and the log is retried every %v (%w)",
			w.what, w.path, w.retry, err)
	}
	return fmt.Errorf("cannot %s %s %s: %w; probing continues and the log is retried every %v",
		doing, w.what, w.path, err, w.retry)
}
