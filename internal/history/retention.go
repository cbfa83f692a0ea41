package history

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// rollupRowBytes is a hop_minutes row's size on disk besides its sketch,
// its index entry and the B-tree's slack included (measured: 110 bytes
// with a 22-byte sketch).
const rollupRowBytes = 88

const rollupCutoffQuery = `SELECT minute, count(*) * 88 + sum(length(sketch)) FROM hop_minutes GROUP BY minute ORDER BY minute`

// rawCutoffQuery estimates a chunk's size on disk as the whole pages its
// blob spans (a 6.6 KB chunk takes two 4 KiB pages).
const rawCutoffQuery = `SELECT minute, sum(((length(data) + 96) / 4000 + 1) * 4096) FROM chunks GROUP BY minute ORDER BY minute`

// retainEvery is how often (on the store's clock) retention by age runs
// while writing; the size is checked at every flush (two stats).
const retainEvery = 5 * time.Minute

// highWater is the size that starts a trim; a trim goes down to lowWater,
// so the next one is a while away.
func (s *Store) highWater() int64 { return s.opts.MaxBytes - s.walBytes() }
func (s *Store) lowWater() int64  { return s.opts.MaxBytes * 8 / 10 }

func (s *Store) retain(ctx context.Context, byAge bool) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.retainLocked(ctx, byAge)
}

// retainLocked deletes raw rounds older than MaxAge and rollups and
// events older than RollupMaxAge, then, while the file is over its cap,
// the oldest raw chunks, then the oldest rollups and events, and gives
// the space back (incremental vacuum, WAL checkpoint). s.wmu is held.
func (s *Store) retainLocked(ctx context.Context, byAge bool) error {
	now := s.opts.Now()
	if byAge {
		s.mu.Lock()
		s.w.lastRetain = now
		s.mu.Unlock()
		raw := now.Add(-s.opts.MaxAge).UnixMilli()
		roll := now.Add(-s.opts.RollupMaxAge).UnixMilli()
		if err := s.deleteBefore(ctx, raw, roll); err != nil {
			return err
		}
	}
	for try := 0; try < 8; try++ {
		size := s.fileBytes()
		if size <= s.highWater() && try == 0 {
			break
		}
		used, err := s.usedBytes(ctx)
		if err != nil {
			return err
		}
		if used <= s.lowWater() {
			// Deleted enough: give the free pages back.
			if err := s.shrink(ctx); err != nil {
				return err
			}
			if s.fileBytes() <= s.highWater() {
				break
			}
			continue
		}
		need := used - s.lowWater()
		// The rollups may take half the cap: past that their oldest go
		// too, or they would leave no room for raw rounds at all.
		var rollRows, rollSketch int64
		if err := s.db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(length(sketch)), 0) FROM hop_minutes`).Scan(&rollRows, &rollSketch); err != nil {
			return err
		}
		rollBytes := rollRows*rollupRowBytes + rollSketch
		var cut, rollCut int64
		if over := rollBytes - s.opts.MaxBytes*4/10; rollBytes > s.opts.MaxBytes/2 {
			if rollCut, err = s.cutoff(ctx, rollupCutoffQuery, over); err != nil {
				return err
			}
			need -= over
		}
		if need > 0 {
			if cut, err = s.cutoff(ctx, rawCutoffQuery, need); err != nil {
				return err
			}
			if cut == 0 && rollCut == 0 {
				// No raw rounds left to delete: the oldest rollups go.
				if rollCut, err = s.cutoff(ctx, rollupCutoffQuery, need); err != nil {
					return err
				}
			}
		}
		if cut == 0 && rollCut == 0 {
			break // nothing left to delete
		}
		if err := s.deleteBefore(ctx, cut, rollCut); err != nil {
			return err
		}
		if err := s.shrink(ctx); err != nil {
			return err
		}
	}
	var oldest sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT min(first_ms) FROM chunks`).Scan(&oldest); err != nil {
		return err
	}
	s.mu.Lock()
	s.st.Oldest = time.Time{}
	if oldest.Valid {
		s.st.Oldest = time.UnixMilli(oldest.Int64).UTC()
	}
	s.st.Bytes = s.fileBytes()
	s.mu.Unlock()
	return nil
}

// cutoff returns the minute up to which (inclusive) deleting rows frees
// about need bytes, by the query's running sum; 0 when there are none.
func (s *Store) cutoff(ctx context.Context, query string, need int64) (int64, error) {
	rows, err := s.db.QueryContext(ctx, query)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var cut, freed int64
	for rows.Next() {
		var minute, n int64
		if err := rows.Scan(&minute, &n); err != nil {
			return 0, err
		}
		cut = minute + 1
		if freed += n; freed >= need {
			break
		}
	}
	return cut, rows.Err()
}

// deleteBefore deletes raw chunks before raw (ms) and rollups and events
// before roll; 0 leaves that kind alone.
func (s *Store) deleteBefore(ctx context.Context, raw, roll int64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if raw > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE targets SET rounds = rounds -
			coalesce((SELECT sum(count) FROM chunks WHERE chunks.target_id = targets.id AND minute < ?), 0)`, raw); err != nil {
			return fmt.Errorf("counting old rounds: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM chunks WHERE minute < ?`, raw); err != nil {
			return fmt.Errorf("deleting old rounds: %w", err)
		}
	}
	if roll > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM hop_minutes WHERE minute < ?`, roll); err != nil {
			return fmt.Errorf("deleting old rollups: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM events WHERE time_ms < ?`, roll); err != nil {
			return fmt.Errorf("deleting old events: %w", err)
		}
	}
	return tx.Commit()
}

// usedBytes is the database's pages in use.
func (s *Store) usedBytes(ctx context.Context) (int64, error) {
	var pages, free, size int64
	if err := s.db.QueryRowContext(ctx, `SELECT * FROM pragma_page_count, pragma_freelist_count, pragma_page_size`).Scan(&pages, &free, &size); err != nil {
		return 0, err
	}
	return (pages - free) * size, nil
}

// shrink returns free pages to the file system and truncates the WAL.
// A reader holding an old snapshot can keep the WAL from being reset;
// the next trim tries again.
func (s *Store) shrink(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `PRAGMA incremental_vacuum`); err != nil {
		return fmt.Errorf("incremental vacuum: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

func containsAny(s string, subs ...string) bool {
	for _, x := range subs {
		if strings.Contains(s, x) {
			return true
		}
	}
	return false
}
