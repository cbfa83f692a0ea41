//go:build linux

package lab

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
)

// init turns a re-executed test binary into a cable (see cable_linux.go)
// before any test code runs, so lab-using packages need no TestMain.
func init() {
	if os.Getenv(roleEnv) == "cable" {
		os.Exit(runCable())
	}
}

// cableProc is the lab's handle on one running cable process.
type cableProc struct {
	name string // cable namespace
	cmd  *exec.Cmd
	log  *lockedBuffer // the cable's stderr, for error messages

	mu    sync.Mutex // one command at a time
	ctl   *os.File   // cable's stdin; closing it stops the cable
	reply *os.File   // cable's stdout
	rd    *bufio.Reader
}

// controlTimeout bounds a control exchange; a cable answers within
// microseconds unless the VM stalls, which lasts well under a second.
const controlTimeout = 10 * time.Second

func (l *Lab) startCables() error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find test binary for cables: %w", err)
	}
	start := func(ns, a, b string, stream uint64) (*cableProc, error) {
		c := &cableProc{name: ns, log: &lockedBuffer{}}
		seed := l.opts.Seed + stream*0x9e3779b97f4a7c15
		rt := 0
		if l.opts.RealTime {
			rt = 1
		}
		env := fmt.Sprintf("%s %s %d %d", a, b, seed, rt)
		return c, c.start(self, env)
	}
	l.cables = make([]*cableProc, len(l.Cables))
	for k, ns := range l.Cables {
		if ns == "" {
			continue
		}
		if l.cables[k], err = start(ns, l.ifName(k, 'x'), l.ifName(k, 'y'), uint64(k)); err != nil {
			l.cables[k] = nil
			return err
		}
	}
	// Alt links draw streams far from the main links', so adding an alt
	// branch leaves a seeded main-path pattern as it was.
	l.altCables = make([]*cableProc, len(l.AltCables))
	for j, ns := range l.AltCables {
		if ns == "" {
			continue
		}
		if l.altCables[j], err = start(ns, l.altIfName(j, 'x'), l.altIfName(j, 'y'), uint64(1<<20+j)); err != nil {
			l.altCables[j] = nil
			return err
		}
	}
	// Start all, then wait for all: the processes start in parallel.
	for _, c := range append(slices.Clone(l.cables), l.altCables...) {
		if c == nil {
			continue
		}
		if err := c.waitReady(); err != nil {
			return err
		}
	}
	return nil
}

func (c *cableProc) start(self, env string) error {
	inR, inW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("cable %s: %w", c.name, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return fmt.Errorf("cable %s: %w", c.name, err)
	}
	c.cmd = exec.Command("ip", "netns", "exec", c.name, self)
	c.cmd.Env = append(cleanEnv(), roleEnv+"=cable", cableEnv+"="+env)
	c.cmd.Stdin, c.cmd.Stdout, c.cmd.Stderr = inR, outW, c.log
	err = c.cmd.Start()
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return fmt.Errorf("start cable %s: %w", c.name, err)
	}
	c.ctl, c.reply, c.rd = inW, outR, bufio.NewReader(outR)
	return nil
}

// cleanEnv is this process's environment for a re-executed test binary:
// without the lab's role variables, which belong to the child being started,
// and without the race detector's one-second sleep at exit, which would make
// every teardown wait a second per cable.
func cleanEnv() []string {
	var env []string
	gorace := "atexit_sleep_ms=0"
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case roleEnv, cableEnv, insideEnv:
		case "GORACE":
			gorace = v + " " + gorace
		default:
			env = append(env, kv)
		}
	}
	return append(env, "GORACE="+gorace)
}

func (c *cableProc) waitReady() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	line, err := c.readLine()
	if err != nil {
		return err
	}
	if line != "ready" {
		return fmt.Errorf("cable %s: started with %q, want ready", c.name, line)
	}
	return nil
}

func (c *cableProc) readLine() (string, error) {
	_ = c.reply.SetReadDeadline(time.Now().Add(controlTimeout))
	line, err := c.rd.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("cable %s: no reply: %v; its log: %q", c.name, err, c.log.String())
	}
	return strings.TrimSuffix(line, "\n"), nil
}

func (c *cableProc) call(cmd string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctl == nil {
		return "", fmt.Errorf("cable %s: stopped", c.name)
	}
	if _, err := c.ctl.WriteString(cmd + "\n"); err != nil {
		return "", fmt.Errorf("cable %s: send %q: %v; its log: %q", c.name, cmd, err, c.log.String())
	}
	line, err := c.readLine()
	if err != nil {
		return "", err
	}
	if msg, ok := strings.CutPrefix(line, "err "); ok {
		return "", fmt.Errorf("cable %s: %s", c.name, msg)
	}
	return line, nil
}

func (c *cableProc) set(fwd, rev LinkParams) error {
	line, err := c.call(formatSet(fwd, rev))
	if err == nil && line != "ok" {
		err = fmt.Errorf("cable %s: set answered %q", c.name, line)
	}
	return err
}

func (c *cableProc) stats() (fwd, rev CableStats, err error) {
	line, err := c.call("stats")
	if err != nil {
		return fwd, rev, err
	}
	return parseStats(line)
}

// stop closes the cable's stdin, which ends it, and kills it by PID if it
// does not exit promptly.
func (c *cableProc) stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ctl == nil {
		return nil
	}
	c.ctl.Close()
	c.ctl = nil
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		_ = c.cmd.Process.Kill()
		err = <-done
	}
	c.reply.Close()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("cable %s: %v; its log: %q", c.name, err, c.log.String())
		}
		return fmt.Errorf("cable %s: %w", c.name, err)
	}
	return nil
}

// lockedBuffer collects a child's stderr, written by exec's copying goroutine
// and read by the lab.
type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.b) < 64<<10 { // keep the start, where the cause is
		b.b = append(b.b, p...)
	}
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.b)
}
