//go:build linux

package lab

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// stateDir records which process owns which lab. A test binary killed by
// `go test -timeout` (or SIGKILL) runs no cleanup; its namespaces would stay
// until reboot. Each new lab sweeps the labs whose owner is gone. It lives on
// /run, a tmpfs that a reboot clears along with the namespaces themselves.
const stateDir = "/run/pingerplot-lab"

// claimState creates prefix's state file for this process, failing with
// fs.ErrExist when another lab holds the prefix.
func claimState(prefix string) error {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return fmt.Errorf("lab state: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(stateDir, prefix), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("lab state: %w", err)
	}
	return f.Close()
}

// writeState records that this process owns a lab made of namespaces.
func writeState(prefix string, namespaces []string) error {
	start, err := procStart(os.Getpid())
	if err != nil {
		return err
	}
	body := fmt.Sprintf("%d %s\n%s\n", os.Getpid(), start, strings.Join(namespaces, "\n"))
	if err := os.WriteFile(filepath.Join(stateDir, prefix), []byte(body), 0o644); err != nil {
		return fmt.Errorf("lab state: %w", err)
	}
	return nil
}

func stateExists(prefix string) bool {
	_, err := os.Stat(filepath.Join(stateDir, prefix))
	return err == nil
}

func removeState(prefix string) error {
	if prefix == "" {
		return nil
	}
	err := os.Remove(filepath.Join(stateDir, prefix))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("lab state: %w", err)
	}
	return nil
}

// procStart returns a process's start time in clock ticks since boot, which
// together with its PID names it uniquely (PIDs are reused).
func procStart(pid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", err
	}
	// The command name (field 2) may hold spaces; count fields after it.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return "", fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	const startField = 22 - 3 // field 22, counted from field 3
	if len(f) <= startField {
		return "", fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	if f[0] == "Z" || f[0] == "X" { // exited; a zombie still has its stat
		return "", fmt.Errorf("process %d has exited", pid)
	}
	return f[startField], nil
}

// parseState reads a state file: owner PID, its start time, namespaces.
func parseState(b []byte) (pid int, start string, namespaces []string, err error) {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	head := strings.Fields(lines[0])
	if len(head) != 2 {
		return 0, "", nil, fmt.Errorf("bad owner line %q", lines[0])
	}
	if pid, err = strconv.Atoi(head[0]); err != nil {
		return 0, "", nil, fmt.Errorf("bad owner line %q", lines[0])
	}
	for _, ns := range lines[1:] {
		if ns = strings.TrimSpace(ns); ns != "" {
			namespaces = append(namespaces, ns)
		}
	}
	return pid, head[1], namespaces, nil
}

// sweepStale removes the labs whose owning process has exited.
func sweepStale(t testing.TB) {
	t.Helper()
	entries, err := os.ReadDir(stateDir)
	if err != nil {
		return // no lab ever ran here
	}
	for _, e := range entries {
		path := filepath.Join(stateDir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			continue // another sweeper got there first
		}
		pid, start, namespaces, err := parseState(b)
		if err != nil {
			// Claimed but not yet written, by a lab being built now; or,
			// when old, by a process that died in between.
			if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > time.Minute {
				_ = os.Remove(path)
			}
			continue
		}
		if now, err := procStart(pid); err == nil && now == start {
			continue // owner alive: a lab of a concurrent test
		}
		if err := removeNamespaces(namespaces); err != nil {
			t.Logf("lab: removing stale lab %s of dead process %d: %v", e.Name(), pid, err)
			continue
		}
		_ = os.Remove(path)
		t.Logf("lab: removed stale lab %s left by dead process %d", e.Name(), pid)
	}
}

func execOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	return string(out), nil
}

// machineLock coordinates timing-sensitive tests across test processes
// (`go test ./...` runs packages in parallel): every lab holds it shared
// while it exists, Exclusive holds it exclusively. The file lock is per
// process, so the count of exclusive holders in this process is kept here:
// a lab built by a test that holds the exclusive lock must not wait for it.
var machineLock struct {
	mu        sync.Mutex
	exclusive int
}

const lockFile = "exclusive.lock"

func openLock() (*os.File, error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(stateDir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
}

// Exclusive waits until no lab of any other test (in any process) exists
// and no other Exclusive test runs, then keeps it so until t ends. Call it
// before New: a test that holds a lab and then asks for exclusivity would
// wait for itself.
func Exclusive(t testing.TB) {
	t.Helper()
	RequireRoot(t)
	f, err := openLock()
	if err != nil {
		t.Fatalf("lab: exclusive lock: %v", err)
	}
	start := time.Now()
	if err := flockRetry(f, unix.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("lab: exclusive lock: %v", err)
	}
	if waited := time.Since(start); waited > time.Second {
		t.Logf("lab: waited %v for other lab tests to finish", waited.Round(time.Millisecond))
	}
	machineLock.mu.Lock()
	machineLock.exclusive++
	machineLock.mu.Unlock()
	t.Cleanup(func() {
		machineLock.mu.Lock()
		machineLock.exclusive--
		machineLock.mu.Unlock()
		f.Close() // closing the last descriptor releases the lock
	})
}

// sharedLock takes the machine lock shared for a new lab, waiting while an
// Exclusive test of another process runs. It returns nil when this process
// holds the lock exclusively already.
func sharedLock() (*os.File, error) {
	machineLock.mu.Lock()
	mine := machineLock.exclusive > 0
	machineLock.mu.Unlock()
	if mine {
		return nil, nil
	}
	f, err := openLock()
	if err != nil {
		return nil, fmt.Errorf("shared lab lock: %w", err)
	}
	if err := flockRetry(f, unix.LOCK_SH); err != nil {
		f.Close()
		return nil, fmt.Errorf("shared lab lock: %w", err)
	}
	return f, nil
}

func flockRetry(f *os.File, how int) error {
	for {
		err := unix.Flock(int(f.Fd()), how)
		if err != unix.EINTR {
			return err
		}
	}
}
