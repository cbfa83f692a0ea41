package history

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the pure Go SQLite: static cross-builds keep working
)

// busyTimeout is how long a statement waits for another connection's lock
// (a reader beside the writer, a checkpoint) before it fails.
const busyTimeout = 5 * time.Second

func open(o Options) (*Store, error) {
	if o.MaxAge <= 0 {
		o.MaxAge = DefaultMaxAge
	}
	if o.RollupMaxAge <= 0 {
		o.RollupMaxAge = DefaultRollupMaxAge
	}
	o.RollupMaxAge = max(o.RollupMaxAge, o.MaxAge)
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Flush <= 0 {
		o.Flush = DefaultFlush
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Path == "" {
		p, err := defaultPath()
		if err != nil {
			return nil, err
		}
		o.Path = p
	}
	abs, err := filepath.Abs(o.Path)
	if err != nil {
		return nil, fmt.Errorf("history file %s: %w", o.Path, err)
	}
	o.Path = abs
	ctx := context.Background()
	s := &Store{opts: o, dict: newDict(), log: o.Logger}
	s.st.Path = o.Path
	s.w.init()
	if o.ReadOnly {
		if _, err := os.Stat(o.Path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no history file at %s yet: pingerplot ui or headless writes it while monitoring", o.Path)
		}
		s.db, err = sql.Open("sqlite", dsn(o.Path, true))
		if err != nil {
			return nil, fmt.Errorf("opening the history file %s: %w", o.Path, err)
		}
		v, err := schemaVersion(ctx, s.db)
		if err != nil {
			s.db.Close()
			return nil, fmt.Errorf("reading the history file %s: %w", o.Path, err)
		}
		if v > SchemaVersion {
			s.db.Close()
			return nil, fmt.Errorf("the history file %s has schema version %d, newer than this pingerplot knows (%d): run a newer pingerplot", o.Path, v, SchemaVersion)
		}
		if v < SchemaVersion {
			// A reader never writes: the writer migrates when it opens it.
			s.db.Close()
			return nil, fmt.Errorf("the history file %s has schema version %d, older than this pingerplot reads (%d): open it once with pingerplot ui or headless to upgrade it", o.Path, v, SchemaVersion)
		}
		return s, nil
	}
	if err := os.MkdirAll(filepath.Dir(o.Path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the history directory: %w", err)
	}
	s.db, err = sql.Open("sqlite", dsn(o.Path, false))
	if err != nil {
		return nil, fmt.Errorf("opening the history file %s: %w", o.Path, err)
	}
	if err := s.setup(ctx); err != nil {
		s.db.Close()
		return nil, fmt.Errorf("history file %s: %w", o.Path, err)
	}
	return s, nil
}

// dsn is the file's SQLite URI. Every connection of the pool gets the
// pragmas; a reader's is read-only (mode=ro), so it can never write nor
// create the file.
func dsn(path string, readOnly bool) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive: file:///C:/...
	}
	q := fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds())
	if readOnly {
		q = "mode=ro&" + q
	} else {
		// auto_vacuum first: switching to WAL writes the new file's
		// header, after which its vacuum mode is fixed. On a file that
		// has tables already it changes nothing.
		q += "&_auto_vacuum=INCREMENTAL&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)"
	}
	return (&url.URL{Scheme: "file", Path: p}).String() + "?" + q
}

// setup migrates the file, loads the address dictionary, rolls up what a
// crash left unrolled and applies retention.
func (s *Store) setup(ctx context.Context) error {
	v, err := schemaVersion(ctx, s.db)
	if err != nil {
		return fmt.Errorf("reading its schema version: %w", err)
	}
	if v > SchemaVersion {
		return fmt.Errorf("schema version %d is newer than this pingerplot knows (%d): run a newer pingerplot, or choose another file", v, SchemaVersion)
	}
	if err := migrate(ctx, s.db, v); err != nil {
		return err
	}
	// The WAL is checkpointed into the file after walBytes of writes and
	// truncated back to that much: its size counts against MaxBytes.
	wal := s.walBytes()
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf(`PRAGMA wal_autocheckpoint = %d`, max(wal/4096, 16))); err != nil {
		return err
	}
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf(`PRAGMA journal_size_limit = %d`, wal)); err != nil {
		return err
	}
	if err := s.loadDict(ctx); err != nil {
		return err
	}
	if err := s.rollupLeftovers(ctx); err != nil {
		return fmt.Errorf("rolling up the minutes left by a crash: %w", err)
	}
	if err := s.retain(ctx, true); err != nil {
		return fmt.Errorf("applying retention: %w", err)
	}
	return nil
}

// walBytes is the WAL's allowance within MaxBytes.
func (s *Store) walBytes() int64 { return min(4<<20, s.opts.MaxBytes/16) }

func (s *Store) loadDict(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, addr FROM addrs`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id uint64
		var text string
		if err := rows.Scan(&id, &text); err != nil {
			return err
		}
		a, err := netip.ParseAddr(text)
		if err != nil {
			return fmt.Errorf("address %d %q: %w", id, text, err)
		}
		s.dict.set(id, a)
	}
	return rows.Err()
}

// addrOf returns an id's address, loading the dictionary again when a
// reader meets an id another process wrote since.
func (s *Store) addrOf(ctx context.Context, id uint64) netip.Addr {
	if a, ok := s.dict.addr(id); ok {
		return a
	}
	if err := s.loadDict(ctx); err != nil {
		s.log.Warn("history: loading addresses", "err", err)
	}
	a, _ := s.dict.addr(id)
	return a
}

func (s *Store) close() error {
	if s == nil || s.db == nil {
		return nil
	}
	var err error
	if !s.opts.ReadOnly {
		s.mu.Lock()
		s.w.sealAll()
		s.mu.Unlock()
		err = s.flush()
		if err == nil {
			s.wmu.Lock()
			_, _ = s.db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
			s.wmu.Unlock()
		}
	}
	return errors.Join(err, s.db.Close())
}

func (s *Store) status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	st.Pending = s.w.pendingRounds()
	if s.opts.ReadOnly {
		st.Bytes = s.fileBytes()
	}
	return st
}

// fileBytes is the size on disk: the database and its WAL.
func (s *Store) fileBytes() int64 {
	var n int64
	for _, p := range []string{s.opts.Path, s.opts.Path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			n += fi.Size()
		}
	}
	return n
}
