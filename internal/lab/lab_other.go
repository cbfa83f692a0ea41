//go:build !linux

package lab

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os/exec"
	"testing"
)

// The lab needs Linux network namespaces. Elsewhere New skips (or fails under
// PINGERPLOT_LAB_REQUIRED=1), so these methods are never reached; they exist
// so that tests using the lab still build on every OS.

// Lab is a running network of namespaces; see the Linux implementation.
type Lab struct{ Topology }

var errUnsupported = errors.New("network lab needs Linux")

func unavailable() string { return "needs Linux network namespaces" }

// New skips the test: there is no lab on this OS.
func New(t testing.TB, o Options) *Lab {
	t.Helper()
	RequireRoot(t)
	t.Fatal(errUnsupported)
	return nil
}

func (l *Lab) Close() {}

func (l *Lab) Command(ctx context.Context, ns, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, name, args...)
}

func (l *Lab) CommandUnprivileged(ctx context.Context, ns, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, name, args...)
}

func (l *Lab) IP(ns string, args ...string) error                      { return errUnsupported }
func (l *Lab) Sysctl(ns, key, value string) error                      { return errUnsupported }
func (l *Lab) SetLink(i int, fwd, rev LinkParams) error                { return errUnsupported }
func (l *Lab) DropTimeExceeded(router int, on bool) error              { return errUnsupported }
func (l *Lab) SetICMPRateLimit(router int, on bool) error              { return errUnsupported }
func (l *Lab) ListenTCP(ns string, port int) (close func(), err error) { return nil, errUnsupported }
func (l *Lab) Reroute(alt bool) error                                  { return errUnsupported }
func (l *Lab) SetECMP(on bool) error                                   { return errUnsupported }
func (l *Lab) SetAltLink(j int, fwd, rev LinkParams) error             { return errUnsupported }
func (l *Lab) DropProbesAtTarget(proto string, on bool) error          { return errUnsupported }

func (l *Lab) AltLinkStats(j int) (fwd, rev CableStats, err error) {
	return CableStats{}, CableStats{}, errUnsupported
}

func (l *Lab) LinkStats(i int) (fwd, rev CableStats, err error) {
	return CableStats{}, CableStats{}, errUnsupported
}

func (l *Lab) DialTCP(ctx context.Context, ns string, dst netip.AddrPort) (net.Conn, error) {
	return nil, errUnsupported
}

func (l *Lab) Ping(ctx context.Context, ns string, dst netip.Addr, o PingOptions) (PingResult, error) {
	return PingResult{}, errUnsupported
}

func (l *Lab) RunTestInside(t testing.TB, ns, testName string, env map[string]string, args ...string) (string, error) {
	return "", errUnsupported
}

// Exclusive skips the test: there is no lab on this OS.
func Exclusive(t testing.TB) { t.Helper(); RequireRoot(t) }

// ExecutableCopy returns src unchanged: there is no lab on this OS.
func ExecutableCopy(t testing.TB, src string) string { return src }

// Listen is unavailable: there is no lab on this OS.
func (l *Lab) Listen(ns, network, address string) (net.Listener, error) { return nil, errUnsupported }
