package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"
)

// connect opens the service manager with full rights, which only an
// administrator has.
func connect() (*mgr.Mgr, error) {
	m, err := mgr.Connect()
	if errors.Is(err, windows.ERROR_ACCESS_DENIED) {
		return nil, ErrNeedAdmin
	}
	if err != nil {
		return nil, fmt.Errorf("connect to the service manager: %w", err)
	}
	return m, nil
}

func (w WinService) config() mgr.Config {
	return mgr.Config{
		ServiceType:      windows.SERVICE_WIN32_OWN_PROCESS,
		StartType:        mgr.StartAutomatic,
		ErrorControl:     mgr.ErrorNormal,
		DisplayName:      w.DisplayName(),
		Description:      w.Description(),
		ServiceStartName: w.Account(),
		// Started after the boot rush, when the network is more likely up;
		// recovery restarts it if a name still does not resolve.
		DelayedAutoStart: true,
		// A service SID ("NT SERVICE\NAME") an administrator can grant a
		// log folder to.
		SidType: windows.SERVICE_SID_TYPE_UNRESTRICTED,
	}
}

// Install creates the service, or updates the one of the same name,
// registers its event source, and starts it.
func (w WinService) Install(ctx context.Context) error {
	m, err := connect()
	if err != nil {
		return err
	}
	defer m.Disconnect()
	s, err := m.OpenService(w.Name)
	if err == nil {
		// Reinstalling: stop, rewrite the configuration, start again.
		if err := stopAndWait(ctx, s); err != nil {
			s.Close()
			return err
		}
		c := w.config()
		c.BinaryPathName = commandLine(w.Binary, w.Args())
		err = s.UpdateConfig(c)
		if err != nil {
			s.Close()
			return fmt.Errorf("update the service %s: %w", w.Name, err)
		}
	} else {
		s, err = m.CreateService(w.Name, w.Binary, w.config(), w.Args()...)
		if err != nil {
			return fmt.Errorf("create the service %s: %w", w.Name, err)
		}
	}
	defer s.Close()
	var actions []mgr.RecoveryAction
	for _, d := range RecoveryDelays() {
		actions = append(actions, mgr.RecoveryAction{Type: mgr.ServiceRestart, Delay: d})
	}
	if err := s.SetRecoveryActions(actions, uint32(RecoveryReset/time.Second)); err != nil {
		return fmt.Errorf("set the service's restart on failure: %w", err)
	}
	if err := s.SetRecoveryActionsOnNonCrashFailures(true); err != nil {
		return fmt.Errorf("set the service's restart on failure: %w", err)
	}
	if err := eventlog.InstallAsEventCreate(w.Name, eventlog.Error|eventlog.Warning|eventlog.Info); err != nil &&
		!strings.Contains(err.Error(), "registry key already exists") {
		return fmt.Errorf("register the event source %s: %w", w.Name, err)
	}
	return startAndWait(ctx, s)
}

// commandLine is what CreateService makes of a binary and its arguments.
func commandLine(bin string, args []string) string {
	s := windows.EscapeArg(bin)
	for _, a := range args {
		s += " " + windows.EscapeArg(a)
	}
	return s
}

// RemoveWin stops and deletes the named service and its event source.
func RemoveWin(ctx context.Context, name string) error {
	m, err := connect()
	if err != nil {
		return err
	}
	defer m.Disconnect()
	s, err := m.OpenService(name)
	if err != nil {
		return fmt.Errorf("there is no service %s to remove: %w", name, err)
	}
	defer s.Close()
	if err := stopAndWait(ctx, s); err != nil {
		return err
	}
	if err := s.Delete(); err != nil {
		return fmt.Errorf("delete the service %s: %w", name, err)
	}
	if err := eventlog.Remove(name); err != nil {
		return fmt.Errorf("the service is deleted, but its event source %s is not: %w", name, err)
	}
	return nil
}

// ControlWin starts or stops the named service ("start" or "stop") and
// waits until it has.
func ControlWin(ctx context.Context, verb, name string) error {
	m, err := connect()
	if err != nil {
		return err
	}
	defer m.Disconnect()
	s, err := m.OpenService(name)
	if err != nil {
		return fmt.Errorf("there is no service %s; install it first (pingerplot service install CONFIG): %w", name, err)
	}
	defer s.Close()
	if verb == "start" {
		return startAndWait(ctx, s)
	}
	return stopAndWait(ctx, s)
}

// serviceWait bounds how long start and stop wait for the service.
const serviceWait = 30 * time.Second

func startAndWait(ctx context.Context, s *mgr.Service) error {
	if err := s.Start(); err != nil && !errors.Is(err, windows.ERROR_SERVICE_ALREADY_RUNNING) {
		return fmt.Errorf("start the service %s: %w", s.Name, err)
	}
	st, err := waitState(ctx, s, func(st svc.State) bool { return st == svc.Running || st == svc.Stopped })
	if err != nil {
		return err
	}
	if st.State == svc.Stopped {
		return fmt.Errorf("the service %s stopped as soon as it started (exit code %d, service code %d): the Application event log, source %s, says why",
			s.Name, st.Win32ExitCode, st.ServiceSpecificExitCode, s.Name)
	}
	return nil
}

func stopAndWait(ctx context.Context, s *mgr.Service) error {
	st, err := s.Query()
	if err != nil {
		return fmt.Errorf("ask the service %s its state: %w", s.Name, err)
	}
	if st.State == svc.Stopped {
		return nil
	}
	if _, err := s.Control(svc.Stop); err != nil && !errors.Is(err, windows.ERROR_SERVICE_NOT_ACTIVE) {
		return fmt.Errorf("stop the service %s: %w", s.Name, err)
	}
	_, err = waitState(ctx, s, func(st svc.State) bool { return st == svc.Stopped })
	return err
}

func waitState(ctx context.Context, s *mgr.Service, done func(svc.State) bool) (svc.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, serviceWait)
	defer cancel()
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		st, err := s.Query()
		if err != nil {
			return st, fmt.Errorf("ask the service %s its state: %w", s.Name, err)
		}
		if done(st.State) {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return st, fmt.Errorf("the service %s is still %s after %v", s.Name, stateName(st.State), serviceWait)
		case <-t.C:
		}
	}
}

func stateName(s svc.State) string {
	switch s {
	case svc.Stopped:
		return "stopped"
	case svc.StartPending:
		return "starting"
	case svc.StopPending:
		return "stopping"
	case svc.Running:
		return "running"
	case svc.ContinuePending:
		return "resuming"
	case svc.PausePending:
		return "pausing"
	case svc.Paused:
		return "paused"
	}
	return fmt.Sprintf("in state %d", s)
}

// WinStatus is what StatusWin found.
type WinStatus struct {
	Installed bool
	State     string // "running", "stopped", ...
	PID       uint32
	Command   string // the command line the service manager runs
	Account   string
	StartType string // "automatic (delayed)", "manual", "disabled"
}

// StatusWin reads the named service's state and configuration. It needs
// no administrator: it asks only for the rights to query.
func StatusWin(name string) (WinStatus, error) {
	h, err := windows.OpenSCManager(nil, nil, windows.SC_MANAGER_CONNECT)
	if err != nil {
		return WinStatus{}, fmt.Errorf("connect to the service manager: %w", err)
	}
	m := &mgr.Mgr{Handle: h}
	defer m.Disconnect()
	n, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return WinStatus{}, err
	}
	sh, err := windows.OpenService(h, n, windows.SERVICE_QUERY_STATUS|windows.SERVICE_QUERY_CONFIG)
	if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
		return WinStatus{}, nil
	}
	if err != nil {
		return WinStatus{}, fmt.Errorf("open the service %s: %w", name, err)
	}
	s := &mgr.Service{Name: name, Handle: sh}
	defer s.Close()
	st, err := s.Query()
	if err != nil {
		return WinStatus{}, fmt.Errorf("ask the service %s its state: %w", name, err)
	}
	c, err := s.Config()
	if err != nil {
		return WinStatus{}, fmt.Errorf("read the service %s's configuration: %w", name, err)
	}
	ws := WinStatus{Installed: true, State: stateName(st.State), PID: st.ProcessId, Command: c.BinaryPathName, Account: c.ServiceStartName}
	switch c.StartType {
	case mgr.StartAutomatic:
		ws.StartType = "automatic"
		if c.DelayedAutoStart {
			ws.StartType += " (delayed)"
		}
	case mgr.StartManual:
		ws.StartType = "manual"
	case mgr.StartDisabled:
		ws.StartType = "disabled"
	default:
		ws.StartType = fmt.Sprintf("start type %d", c.StartType)
	}
	return ws, nil
}

// IsWindowsService reports whether the service manager started this
// process.
func IsWindowsService() (bool, error) { return svc.IsWindowsService() }

// Monitor is the work a service does: it runs until ctx is cancelled,
// writing what it has to say to stdout and stderr, and returns nil then.
type Monitor func(ctx context.Context, stdout, stderr io.Writer) error

// RunWin hands this process to the service manager as the named service
// and runs m until the service is stopped. Its output goes to the
// Application event log, one event per line.
func RunWin(name string, m Monitor) error {
	elog, err := eventlog.Open(name)
	if err != nil {
		return fmt.Errorf("open the event log source %s (pingerplot service install registers it): %w", name, err)
	}
	defer elog.Close()
	return svc.Run(name, &handler{run: m, log: elog})
}

// eventLog is what the handler needs of *eventlog.Log.
type eventLog interface {
	Info(eid uint32, msg string) error
	Warning(eid uint32, msg string) error
	Error(eid uint32, msg string) error
}

// handler runs the monitor under the service manager.
type handler struct {
	run Monitor
	log eventLog
	// stopWait bounds how long a stop waits for the monitor to flush its
	// logs; 0 means 20 s.
	stopWait time.Duration
}

// Execute is called by svc.Run. It starts the monitor, reports Running,
// and on Stop or Shutdown cancels the monitor's context, reports
// StopPending (with a checkpoint every second so the service manager
// keeps waiting while logs are flushed) and returns; svc.Run then reports
// Stopped with the exit code returned here. A monitor that ends by itself
// has failed: a non-zero code makes the recovery actions restart it.
func (h *handler) Execute(_ []string, r <-chan svc.ChangeRequest, s chan<- svc.Status) (bool, uint32) {
	s <- svc.Status{State: svc.StartPending}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout := &LineWriter{Emit: func(l string) { _ = h.log.Info(EventOutput, l) }}
	stderr := &LineWriter{Emit: func(l string) { _ = h.log.Warning(EventWarning, l) }}
	done := make(chan error, 1)
	go func() {
		err := h.run(ctx, stdout, stderr)
		stdout.Flush()
		stderr.Flush()
		done <- err
	}()
	const accepts = svc.AcceptStop | svc.AcceptShutdown
	s <- svc.Status{State: svc.Running, Accepts: accepts}
	_ = h.log.Info(EventStarted, "started")
	for {
		select {
		case err := <-done:
			if err == nil {
				err = errors.New("the monitor ended without being asked to")
			}
			_ = h.log.Error(EventFailed, "stopped: "+err.Error())
			return true, 1
		case c := <-r:
			switch c.Cmd {
			case svc.Interrogate:
				s <- c.CurrentStatus
			case svc.Stop, svc.Shutdown:
				return h.stop(cancel, done, s)
			}
		}
	}
}

func (h *handler) stop(cancel context.CancelFunc, done <-chan error, s chan<- svc.Status) (bool, uint32) {
	wait := h.stopWait
	if wait == 0 {
		wait = 20 * time.Second
	}
	cp := uint32(1)
	s <- svc.Status{State: svc.StopPending, CheckPoint: cp, WaitHint: uint32(2 * time.Second / time.Millisecond)}
	cancel()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				_ = h.log.Error(EventFailed, "stopped with an error: "+err.Error())
				return true, 1
			}
			_ = h.log.Info(EventStopped, "stopped; logs flushed")
			return false, 0
		case <-tick.C:
			cp++
			s <- svc.Status{State: svc.StopPending, CheckPoint: cp, WaitHint: uint32(2 * time.Second / time.Millisecond)}
		case <-deadline.C:
			_ = h.log.Error(EventFailed, fmt.Sprintf("the monitor did not stop within %v; logs may be incomplete", wait))
			return true, 2
		}
	}
}
