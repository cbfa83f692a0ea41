package history

// This file holds the store's not-yet-written bodies so that its readers
// can build against the API above; the store's implementation replaces
// it whole.

import (
	"context"
	"errors"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/trace"
)

var errPending = errors.New("history store: not built yet")

func defaultPath() (string, error)                                  { return "", errPending }
func open(Options) (*Store, error)                                  { return nil, errPending }
func (s *Store) close() error                                       { return nil }
func (s *Store) run(context.Context, <-chan monitor.Update, Source) {}
func (s *Store) flush() error                                       { return errPending }
func (s *Store) status() Status                                     { return Status{} }
func (s *Store) targets(context.Context) ([]TargetInfo, error)      { return nil, errPending }
func (s *Store) target(context.Context, string) (TargetInfo, error) {
	return TargetInfo{}, errPending
}
func (s *Store) summary(context.Context, string, time.Time, time.Time) (Summary, error) {
	return Summary{}, errPending
}
func (s *Store) series(context.Context, string, time.Time, time.Time, time.Duration) ([]HopSeries, error) {
	return nil, errPending
}
func (s *Store) events(context.Context, string, time.Time, time.Time) ([]monitor.Event, error) {
	return nil, errPending
}
func (s *Store) rounds(context.Context, string, time.Time, time.Time, func(trace.Round) error) error {
	return errPending
}
