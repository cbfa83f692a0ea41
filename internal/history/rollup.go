package history

import (
	"context"
)

// rollupMinute (re)computes a target's minute from all its raw parts.
func rollupMinute(st *txStmts, targetID, minute int64) error {
	rows, err := st.query(`SELECT data FROM chunks WHERE target_id = ? AND minute = ? ORDER BY first_ms, part`, targetID, minute)
	if err != nil {
		return err
	}
	var m minuteAgg
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			rows.Close()
			return err
		}
		if err := decodeChunk(data, minute, func(r *rawRound) error { m.round(r); return nil }); err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if _, err := st.exec(`DELETE FROM hop_minutes WHERE target_id = ? AND minute = ?`, targetID, minute); err != nil {
		return err
	}
	for _, r := range m.rows(minute) {
		reach := 0
		if r.lastReach {
			reach = 1
		}
		if _, err := st.exec(`INSERT INTO hop_minutes (target_id, minute, ttl, sent, lost, refused, reached, last_reach,
			addr_id, addr_n, addr_count, min_us, max_us, sum_us, sumsq, first_us, last_us, jitter_sum_us, jitter_n, jitter_max_us, sketch)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			targetID, minute, r.ttl, r.sent, r.lost, r.refused, r.reached, reach, r.addrID, r.addrN, r.addrCount,
			r.minUS, r.maxUS, r.sumUS, r.sumsq, r.firstUS, r.lastUS, r.jsum, r.jn, r.jmax, r.sketch); err != nil {
			return err
		}
	}
	return nil
}

// rollupLeftovers rolls up the minutes after each target's last rollup:
// those a crash left unrolled (Close rolls up every minute it wrote).
func (s *Store) rollupLeftovers(ctx context.Context) error {
	type tm struct{ target, minute int64 }
	var todo []tm
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM targets`)
	if err != nil {
		return err
	}
	var targets []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		targets = append(targets, id)
	}
	rows.Close()
	for _, id := range targets {
		rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT minute FROM chunks WHERE target_id = ?1 AND minute >
			coalesce((SELECT max(minute) FROM hop_minutes WHERE target_id = ?1), -9223372036854775808) ORDER BY minute`, id)
		if err != nil {
			return err
		}
		for rows.Next() {
			var m int64
			if err := rows.Scan(&m); err != nil {
				rows.Close()
				return err
			}
			todo = append(todo, tm{id, m})
		}
		rows.Close()
	}
	if len(todo) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st := newTxStmts(ctx, tx)
	defer st.close()
	for _, x := range todo {
		if err := rollupMinute(st, x.target, x.minute); err != nil {
			return err
		}
	}
	return tx.Commit()
}
