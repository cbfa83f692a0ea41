package history

import (
	"context"
	"database/sql"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// writeV1 makes a file of the first schema, as the first release wrote
// it, with one target and one minute of rounds.
func writeV1(t *testing.T, path string, version int) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.Exec(`PRAGMA auto_vacuum = INCREMENTAL`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := migrations[0](ctx, tx); err != nil {
		t.Fatal(err)
	}
	d := newDict()
	c := newChunk(minuteOf(time.Date(2026, 3, 4, 21, 0, 0, 0, time.UTC).UnixMilli()))
	a := netipMust("192.0.2.9")
	for i := 1; i <= 10; i++ {
		r := trace.Round{Index: i, Start: time.UnixMilli(c.minute).Add(time.Duration(i) * time.Second), EndTTL: 1, Reached: true,
			Hops: []trace.Hop{{TTL: 1, Reply: probe.Reply{Kind: probe.Reached, From: a, RTT: time.Duration(i) * time.Millisecond}}}}
		c.add(&r, d)
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO meta VALUES ('schema_version', ?)`, []any{version}},
		{`INSERT INTO targets (id, key, host, addr, probe, first_ms, last_ms, rounds) VALUES (1, 'web', 'example.net', '192.0.2.9', '{}', ?, ?, 10)`, []any{c.firstMs, c.lastMs}},
		{`INSERT INTO addrs VALUES (1, '192.0.2.9')`, nil},
		{`INSERT INTO chunks (target_id, minute, part, first_ms, last_ms, first_round, last_round, count, probes, data) VALUES (1, ?, 0, ?, ?, 1, 10, 10, 10, ?)`,
			[]any{c.minute, c.firstMs, c.lastMs, c.buf}},
	} {
		if _, err := tx.Exec(q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateFromV1(t *testing.T) {
	cases := []struct {
		name     string
		version  int
		readOnly bool
		wantErr  string // "" for success
	}{
		{"writer migrates", 1, false, ""},
		{"reader does not", 1, true, "open it once with pingerplot ui or headless"},
		{"newer file, writer", SchemaVersion + 1, false, "run a newer pingerplot"},
		{"newer file, reader", SchemaVersion + 1, true, "run a newer pingerplot"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(ScratchDir(t), "history.db")
			writeV1(t, path, c.version)
			now := time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)
			st, err := Open(Options{Path: path, ReadOnly: c.readOnly, Now: func() time.Time { return now }})
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("Open: %v; want an error saying %q", err, c.wantErr)
				}
				db, _ := sql.Open("sqlite", path)
				defer db.Close()
				if v, err := schemaVersion(context.Background(), db); err != nil || v != c.version {
					t.Errorf("schema version after a refused Open: %d (%v); want %d, untouched", v, err, c.version)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer st.Close()
			if v, err := schemaVersion(context.Background(), st.db); err != nil || v != SchemaVersion {
				t.Errorf("schema version %d (%v); want %d", v, err, SchemaVersion)
			}
			// The v1 rows read back, and the views of v2 see them (the
			// minute was rolled up on open: a crash left it unrolled).
			var n int
			if err := st.db.QueryRow(`SELECT sent FROM hop_minutes_v WHERE target = 'web'`).Scan(&n); err != nil || n != 10 {
				t.Errorf("hop_minutes_v: sent %d (%v); want 10", n, err)
			}
			var rounds []trace.Round
			if err := st.Rounds(context.Background(), "web", now.Add(-24*time.Hour), now, func(r trace.Round) error {
				rounds = append(rounds, r)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(rounds) != 10 || rounds[9].Hops[0].Reply.RTT != 10*time.Millisecond {
				t.Errorf("%d rounds; want the 10 of the v1 file", len(rounds))
			}
		})
	}
}

func netipMust(s string) netip.Addr { return netip.MustParseAddr(s) }

// TestNewFilePragmas: a new file is in WAL mode with incremental
// auto-vacuum (which only takes before the first table) at the newest
// schema.
func TestNewFilePragmas(t *testing.T) {
	s, err := Open(Options{Path: filepath.Join(ScratchDir(t), "sub", "history.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, c := range []struct {
		pragma string
		want   string
	}{
		{"auto_vacuum", "2"}, {"journal_mode", "wal"}, {"synchronous", "1"}, {"busy_timeout", "5000"},
	} {
		var got string
		if err := s.db.QueryRow("PRAGMA " + c.pragma).Scan(&got); err != nil || got != c.want {
			t.Errorf("PRAGMA %s = %q (%v); want %q", c.pragma, got, err, c.want)
		}
	}
	if v, err := schemaVersion(context.Background(), s.db); err != nil || v != SchemaVersion {
		t.Errorf("schema version %d (%v); want %d", v, err, SchemaVersion)
	}
}
