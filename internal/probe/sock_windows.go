//go:build windows

package probe

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// sockProber is the Windows backend's TCP and UDP half. The windowsProber
// routes ICMP to its own code and TCP/UDP here.
type sockProber struct {
	cfg   Config
	admin bool

	mu     sync.Mutex
	closed bool
}

// newSockProber returns a prober for TCP and UDP; admin says whether this
// process runs elevated (raw ICMP sockets are allowed).
func newSockProber(cfg Config, admin bool) *sockProber {
	if cfg.TimeNow == nil {
		cfg.TimeNow = time.Now
	}
	return &sockProber{cfg: cfg, admin: admin}
}

// prepare checks that mode can be probed for the family now.
func (s *sockProber) prepare(mode Mode, v6, finalHopOnly bool) error {
	if mode != TCP && mode != UDP {
		return fmt.Errorf("windows socket prober: mode %v is not TCP or UDP", mode)
	}
	return errors.New("TCP and UDP probing on Windows is not finished yet: use ICMP (the default)")
}

// probeAll sends ps gap apart and reports each answer through onReply.
func (s *sockProber) probeAll(ctx context.Context, ps []Probe, gap time.Duration, onReply func(int, Reply) bool) error {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	for i := range ps {
		if !onReply(i, Reply{Kind: Failed, Sent: s.cfg.TimeNow(), Err: errors.New("TCP and UDP probing on Windows is not finished yet")}) {
			break
		}
	}
	return ctx.Err()
}

// notes describes the backend's decisions for Backend() and --verbose.
func (s *sockProber) notes() []string { return nil }

// close releases the prober's sockets.
func (s *sockProber) close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}
