package service

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// WinService is one headless monitor as a Windows service.
type WinService struct {
	Name   string // from Name(Config)
	Binary string // absolute path of pingerplot.exe
	Config string // absolute path of the headless config
	// Raw runs the service as LocalSystem, an administrator, which full
	// TCP and UDP traces need on Windows (raw sockets). Without it the
	// service runs as LocalService, which ICMP and TCP final-hop checks
	// need no more than.
	Raw bool
}

// Accounts the service runs as (learn.microsoft.com, "Service User
// Accounts").
const (
	LocalService = `NT AUTHORITY\LocalService`
	LocalSystem  = "LocalSystem"
)

// Account is the account the service runs as.
func (w WinService) Account() string {
	if w.Raw {
		return LocalSystem
	}
	return LocalService
}

// DisplayName is what services.msc lists.
func (w WinService) DisplayName() string { return "PingerPlot monitor (" + w.Name + ")" }

// Description is shown beside it.
func (w WinService) Description() string {
	return "Monitors the network paths to the targets of " + w.Config +
		" (pingerplot headless). Events go to the Application event log, source " + w.Name + "."
}

// Args are the arguments the service manager starts the binary with: the
// hidden verb that hands control to the service manager's dispatcher.
func (w WinService) Args() []string { return []string{"service", "run", w.Config} }

// RecoveryDelays are the restarts after the first, second and later
// failures; the count resets after RecoveryReset without one. A failure
// is a crash or a non-zero exit code (the handler returns one when the
// monitor ends by itself), so a transient DNS failure at boot retries.
func RecoveryDelays() []time.Duration {
	return []time.Duration{5 * time.Second, 10 * time.Second, time.Minute}
}

// RecoveryReset is the quiet time after which failures count from zero.
const RecoveryReset = 24 * time.Hour

// Event IDs in the Application log. The event source is registered with
// EventCreate.exe as its message file, which only knows IDs 1 to 1000.
const (
	EventOutput  = 1  // a line the monitor printed (status, events)
	EventWarning = 2  // a line it printed as a warning or error
	EventFailed  = 3  // the monitor ended by itself: the error
	EventStarted = 10 // the service started
	EventStopped = 11 // it stopped on request
)

// ErrNeedAdmin is wrapped by the errors of operations that need an
// administrator: installing, removing, starting and stopping a service.
var ErrNeedAdmin = errors.New("this needs administrator rights")

// AdminHint is the message for ErrNeedAdmin: what to do, with the command
// to run again.
func AdminHint(verb, config string) string {
	return fmt.Sprintf("pingerplot service %s needs administrator rights: open a terminal with \"Run as administrator\" "+
		"(right-click Windows Terminal, PowerShell or Command Prompt), then run: pingerplot service %s %s", verb, verb, quoteWin(config))
}

func quoteWin(s string) string {
	for _, r := range s {
		if r == ' ' || r == '\t' {
			return `"` + s + `"`
		}
	}
	return s
}

// LineWriter turns what is written to it into whole lines, each handed to
// Emit without its newline: the event log takes one event per line, and
// a line written in pieces must not become several events.
type LineWriter struct {
	Emit func(line string)
	mu   sync.Mutex
	buf  []byte
}

// maxLine bounds a line held while waiting for its newline.
const maxLine = 16 << 10

func (w *LineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := indexNL(w.buf)
		if i < 0 {
			break
		}
		line := string(trimCR(w.buf[:i]))
		w.buf = w.buf[i+1:]
		if line != "" {
			w.Emit(line)
		}
	}
	if len(w.buf) > maxLine {
		w.Emit(string(w.buf))
		w.buf = w.buf[:0]
	}
	return len(p), nil
}

// Flush emits a last line that had no newline.
func (w *LineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.Emit(string(trimCR(w.buf)))
		w.buf = w.buf[:0]
	}
}

func indexNL(b []byte) int {
	for i, c := range b {
		if c == '\n' {
			return i
		}
	}
	return -1
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}
