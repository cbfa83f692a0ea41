package history

import (
	"context"
	"database/sql"
	"errors"
)

// txStmts runs a transaction's statements, each prepared once per
// transaction. Why: database/sql prepares a query given as text anew on
// every call, and SQLite's parser then cost more than the writing itself
// (a flush of 5,000 targets ran a dozen statements per target: 15 % of a
// busy monitor's CPU went to sqlite3_prepare).
type txStmts struct {
	ctx   context.Context
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func newTxStmts(ctx context.Context, tx *sql.Tx) *txStmts {
	return &txStmts{ctx: ctx, tx: tx, stmts: map[string]*sql.Stmt{}}
}

func (t *txStmts) stmt(query string) (*sql.Stmt, error) {
	if s, ok := t.stmts[query]; ok {
		return s, nil
	}
	s, err := t.tx.PrepareContext(t.ctx, query)
	if err != nil {
		return nil, err
	}
	t.stmts[query] = s
	return s, nil
}

func (t *txStmts) exec(query string, args ...any) (sql.Result, error) {
	s, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(t.ctx, args...)
}

func (t *txStmts) query(query string, args ...any) (*sql.Rows, error) {
	s, err := t.stmt(query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(t.ctx, args...)
}

// queryRow scans the first row of query into dest (sql.ErrNoRows if none).
func (t *txStmts) queryRow(query string, args []any, dest ...any) error {
	s, err := t.stmt(query)
	if err != nil {
		return err
	}
	return s.QueryRowContext(t.ctx, args...).Scan(dest...)
}

// close releases the prepared statements (the transaction's end would
// too; closing them first keeps their errors apart).
func (t *txStmts) close() error {
	var errs []error
	for _, s := range t.stmts {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}
