package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unsafe"

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
	}
}

// setRefinements sets what Windows has had since Vista but a service
// manager may lack (Wine's answers ERROR_INVALID_LEVEL): a delayed
// automatic start, after the boot rush, when the network is more likely
// up (recovery restarts it if a name still does not resolve); and a
// service SID ("NT SERVICE\NAME") an administrator can grant a log folder
// to. Levels the manager does not know are skipped and named in the
// returned notes; any other failure is an error.
func setRefinements(h windows.Handle) ([]string, error) {
	var notes []string
	delayed := windows.SERVICE_DELAYED_AUTO_START_INFO{IsDelayedAutoStartUp: 1}
	sidType := uint32(windows.SERVICE_SID_TYPE_UNRESTRICTED)
	for _, c := range []struct {
		level uint32
		info  *byte
		what  string
	}{
		{windows.SERVICE_CONFIG_DELAYED_AUTO_START_INFO, (*byte)(unsafe.Pointer(&delayed)), "a delayed automatic start"},
		{windows.SERVICE_CONFIG_SERVICE_SID_INFO, (*byte)(unsafe.Pointer(&sidType)), "a service SID"},
	} {
		err := windows.ChangeServiceConfig2(h, c.level, c.info)
		if errors.Is(err, windows.ERROR_INVALID_LEVEL) {
			notes = append(notes, "this service manager does not support "+c.what+"; left out")
			continue
		}
		if err != nil {
			return notes, fmt.Errorf("set %s: %w", c.what, err)
		}
	}
	return notes, nil
}

// update rewrites an existing service's configuration. Not through
// mgr.Service.UpdateConfig, which also sets the SID type and would fail
// where setRefinements only notes it.
func (w WinService) update(s *mgr.Service) error {
	c := w.config()
	ptr := func(v string) *uint16 { p, _ := windows.UTF16PtrFromString(v); return p } // our strings hold no NUL
	err := windows.ChangeServiceConfig(s.Handle, c.ServiceType, c.StartType, c.ErrorControl,
		ptr(commandLine(w.Binary, w.Args())), nil, nil, nil, ptr(c.ServiceStartName), ptr(""), ptr(c.DisplayName))
	if err != nil {
		return fmt.Errorf("update the service %s: %w", w.Name, err)
	}
	d := windows.SERVICE_DESCRIPTION{Description: ptr(c.Description)}
	if err := windows.ChangeServiceConfig2(s.Handle, windows.SERVICE_CONFIG_DESCRIPTION, (*byte)(unsafe.Pointer(&d))); err != nil {
		return fmt.Errorf("update the service %s's description: %w", w.Name, err)
	}
	return nil
}

// Install creates the service, or updates the one of the same name,
// registers its event source, and starts it. The notes say what this
// service manager could not do (see setRefinements).
func (w WinService) Install(ctx context.Context) (notes []string, err error) {
	m, err := connect()
	if err != nil {
		return nil, err
	}
	defer m.Disconnect()
	s, err := m.OpenService(w.Name)
	if err == nil {
		// Reinstalling: stop, rewrite the configuration, start again.
		err = stopAndWait(ctx, s)
		if err == nil {
			err = w.update(s)
		}
		if err != nil {
			s.Close()
			return nil, err
		}
	} else {
		s, err = m.CreateService(w.Name, w.Binary, w.config(), w.Args()...)
		if err != nil {
			return nil, fmt.Errorf("create the service %s: %w", w.Name, err)
		}
	}
	defer s.Close()
	if notes, err = setRefinements(s.Handle); err != nil {
		return notes, fmt.Errorf("configure the service %s: %w", w.Name, err)
	}
	var actions []mgr.RecoveryAction
	for _, d := range RecoveryDelays() {
		actions = append(actions, mgr.RecoveryAction{Type: mgr.ServiceRestart, Delay: d})
	}
	if err := s.SetRecoveryActions(actions, uint32(RecoveryReset/time.Second)); err != nil {
		return notes, fmt.Errorf("set the service's restart on failure: %w", err)
	}
	if err := s.SetRecoveryActionsOnNonCrashFailures(true); err != nil {
		if !errors.Is(err, windows.ERROR_INVALID_LEVEL) {
			return notes, fmt.Errorf("set the service's restart on failure: %w", err)
		}
		notes = append(notes, "this service manager does not support restarting after a non-zero exit code, only after a crash")
	}
	if err := eventlog.InstallAsEventCreate(w.Name, eventlog.Error|eventlog.Warning|eventlog.Info); err != nil &&
		!strings.Contains(err.Error(), "registry key already exists") {
		return notes, fmt.Errorf("register the event source %s: %w", w.Name, err)
	}
	return notes, startAndWait(ctx, s)
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
	c, delayed, err := queryConfig(sh)
	if err != nil {
		return WinStatus{}, fmt.Errorf("read the service %s's configuration: %w", name, err)
	}
	ws := WinStatus{Installed: true, State: stateName(st.State), PID: st.ProcessId,
		Command: windows.UTF16PtrToString(c.BinaryPathName), Account: windows.UTF16PtrToString(c.ServiceStartName)}
	switch c.StartType {
	case mgr.StartAutomatic:
		ws.StartType = "automatic"
		if delayed {
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

// Monitor is the work a service does: it runs until ctx is cancelled,
// writing what it has to say to stdout and stderr, and returns nil then.
type Monitor func(ctx context.Context, stdout, stderr io.Writer) error

// RunWin hands this process to the service manager as the named service
// and runs m until the service is stopped. Its output goes to the
// Application event log, one event per line. Run from anywhere but the
// service manager, it returns ErrNotService at once.
//
// Whether the service manager started us is learnt from the dispatcher
// itself (ERROR_FAILED_SERVICE_CONTROLLER_CONNECT), not guessed from the
// parent process's name and session as svc.IsWindowsService does.
func RunWin(name string, m Monitor) error {
	var log eventLog = discardLog{}
	if elog, err := eventlog.Open(name); err == nil {
		defer elog.Close()
		log = elog
	}
	// Without its event source (removed by hand), the monitor still runs:
	// its logs and webhooks are what matter.
	err := svc.Run(name, &handler{run: m, log: log})
	if errors.Is(err, windows.ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
		return ErrNotService
	}
	return err
}

// ErrNotService is RunWin's error outside the service manager.
var ErrNotService = errors.New("not started by the service manager")

type discardLog struct{}

func (discardLog) Info(uint32, string) error    { return nil }
func (discardLog) Warning(uint32, string) error { return nil }
func (discardLog) Error(uint32, string) error   { return nil }

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

// queryConfig reads a service's configuration and whether its automatic
// start is delayed. Not through mgr.Service.Config, which fails as a whole
// where the service manager lacks one of the optional levels it asks for.
func queryConfig(h windows.Handle) (*windows.QUERY_SERVICE_CONFIG, bool, error) {
	n := uint32(1024)
	for {
		b := make([]byte, n)
		c := (*windows.QUERY_SERVICE_CONFIG)(unsafe.Pointer(&b[0]))
		err := windows.QueryServiceConfig(h, c, n, &n)
		if errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) && n > uint32(len(b)) {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		var d windows.SERVICE_DELAYED_AUTO_START_INFO
		var need uint32
		err = windows.QueryServiceConfig2(h, windows.SERVICE_CONFIG_DELAYED_AUTO_START_INFO,
			(*byte)(unsafe.Pointer(&d)), uint32(unsafe.Sizeof(d)), &need)
		return c, err == nil && d.IsDelayedAutoStartUp != 0, nil
	}
}
