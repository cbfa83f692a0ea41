package history

import (
	"context"
	"database/sql"
	"fmt"
)

// SchemaVersion is the newest schema this build knows. A file written by
// a newer build is opened by no older one (it may hold what this one
// cannot read); an older file is migrated on a writable Open.
const SchemaVersion = 2

// migrations[i] takes a file from version i to version i+1, in one
// transaction. Steps are only ever appended: a released step never
// changes, so every file ever written can be brought forward.
var migrations = []func(ctx context.Context, tx *sql.Tx) error{
	execAll(schemaV1...),
	execAll(viewsV2...),
}

// schemaV1 is the first schema: the tables. Times are Unix milliseconds
// (UTC), RTTs microseconds. The comments of docs/history.md describe
// every column.
var schemaV1 = []string{
	`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID`,
	`CREATE TABLE targets (
		id INTEGER PRIMARY KEY,
		key TEXT NOT NULL UNIQUE,
		host TEXT NOT NULL,
		addr TEXT NOT NULL,
		probe TEXT NOT NULL,
		first_ms INTEGER NOT NULL,
		last_ms INTEGER NOT NULL,
		rounds INTEGER NOT NULL DEFAULT 0)`,
	`CREATE TABLE addrs (id INTEGER PRIMARY KEY, addr TEXT NOT NULL UNIQUE)`,
	// One row per target, minute and part: a minute's rounds packed in a
	// blob (a rowid table: its rows are large, a WITHOUT ROWID table
	// suits small ones). A minute is split into parts when it grows past chunkBytes,
	// so the open part rewritten at each flush stays small.
	`CREATE TABLE chunks (
		id INTEGER PRIMARY KEY,
		target_id INTEGER NOT NULL,
		minute INTEGER NOT NULL,
		part INTEGER NOT NULL,
		first_ms INTEGER NOT NULL,
		last_ms INTEGER NOT NULL,
		first_round INTEGER NOT NULL,
		last_round INTEGER NOT NULL,
		count INTEGER NOT NULL,
		probes INTEGER NOT NULL,
		data BLOB NOT NULL,
		UNIQUE (target_id, minute, part))`,
	`CREATE INDEX chunks_minute ON chunks (minute)`,
	`CREATE TABLE hop_minutes (
		target_id INTEGER NOT NULL,
		minute INTEGER NOT NULL,
		ttl INTEGER NOT NULL,
		sent INTEGER NOT NULL,
		lost INTEGER NOT NULL,
		refused INTEGER NOT NULL,
		reached INTEGER NOT NULL,
		last_reach INTEGER NOT NULL,
		addr_id INTEGER NOT NULL,
		addr_n INTEGER NOT NULL,
		addr_count INTEGER NOT NULL,
		min_us INTEGER NOT NULL,
		max_us INTEGER NOT NULL,
		sum_us INTEGER NOT NULL,
		sumsq INTEGER NOT NULL,
		first_us INTEGER NOT NULL,
		last_us INTEGER NOT NULL,
		jitter_sum_us INTEGER NOT NULL,
		jitter_n INTEGER NOT NULL,
		jitter_max_us INTEGER NOT NULL,
		sketch BLOB NOT NULL,
		PRIMARY KEY (target_id, minute, ttl)) WITHOUT ROWID`,
	`CREATE INDEX hop_minutes_minute ON hop_minutes (minute)`,
	`CREATE TABLE events (
		id INTEGER PRIMARY KEY,
		target_id INTEGER NOT NULL,
		time_ms INTEGER NOT NULL,
		seq INTEGER NOT NULL,
		kind TEXT NOT NULL,
		ttl INTEGER NOT NULL,
		message TEXT NOT NULL,
		condition TEXT NOT NULL,
		value REAL NOT NULL,
		threshold REAL NOT NULL)`,
	`CREATE INDEX events_target_time ON events (target_id, time_ms)`,
	`CREATE INDEX events_time ON events (time_ms)`,
}

// viewsV2 are the views meant for people reading the file with sqlite3.
var viewsV2 = []string{
	`CREATE VIEW targets_v AS
	SELECT t.key, t.host, t.addr, t.probe,
		strftime('%Y-%m-%d %H:%M:%f', t.first_ms / 1000.0, 'unixepoch') AS first_utc,
		strftime('%Y-%m-%d %H:%M:%f', t.last_ms / 1000.0, 'unixepoch') AS last_utc,
		t.rounds
	FROM targets t`,
	`CREATE VIEW hop_minutes_v AS
	SELECT t.key AS target, t.host,
		strftime('%Y-%m-%d %H:%M:%S', h.minute / 1000, 'unixepoch') AS minute_utc,
		h.ttl, a.addr, h.sent, h.lost,
		round(100.0 * h.lost / h.sent, 2) AS loss_pct,
		CASE WHEN h.sent > h.lost THEN round(h.sum_us / 1000.0 / (h.sent - h.lost), 3) END AS avg_ms,
		CASE WHEN h.sent > h.lost THEN round(h.min_us / 1000.0, 3) END AS min_ms,
		CASE WHEN h.sent > h.lost THEN round(h.max_us / 1000.0, 3) END AS max_ms,
		h.refused, h.reached > 0 AS destination
	FROM hop_minutes h JOIN targets t ON t.id = h.target_id LEFT JOIN addrs a ON a.id = h.addr_id`,
	`CREATE VIEW events_v AS
	SELECT t.key AS target, t.host,
		strftime('%Y-%m-%d %H:%M:%f', e.time_ms / 1000.0, 'unixepoch') AS time_utc,
		e.kind, e.ttl, e.message, e.condition, e.value, e.threshold
	FROM events e JOIN targets t ON t.id = e.target_id`,
	`CREATE VIEW chunks_v AS
	SELECT t.key AS target,
		strftime('%Y-%m-%d %H:%M:%S', c.minute / 1000, 'unixepoch') AS minute_utc,
		c.part, c.count AS rounds, c.probes, c.first_round, c.last_round, length(c.data) AS bytes
	FROM chunks c JOIN targets t ON t.id = c.target_id`,
}

func execAll(stmts ...string) func(context.Context, *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s); err != nil {
				return fmt.Errorf("%.40s...: %w", s, err)
			}
		}
		return nil
	}
}

// schemaVersion reads the file's version: 0 for a new, empty file.
func schemaVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).Scan(&n); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	var v int
	err := q.QueryRowContext(ctx, `SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'schema_version'`).Scan(&v)
	if err == sql.ErrNoRows {
		return 0, fmt.Errorf("the file has a meta table but no schema_version: it is not a pingerplot history file")
	}
	return v, err
}

// migrate brings the file from version from up to SchemaVersion, one step
// per transaction, so a step that fails leaves the file at the last
// version it completed.
func migrate(ctx context.Context, db *sql.DB, from int) error {
	for v := from; v < len(migrations); v++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if err := migrations[v](ctx, tx); err != nil {
			tx.Rollback()
			return fmt.Errorf("schema %d to %d: %w", v, v+1, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)`, v+1); err != nil {
			tx.Rollback()
			return fmt.Errorf("schema %d to %d: %w", v, v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("schema %d to %d: %w", v, v+1, err)
		}
	}
	return nil
}
