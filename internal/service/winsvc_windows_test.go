package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/windows/svc"
)

// fakeLog records events as "TYPE ID text".
type fakeLog struct {
	mu     sync.Mutex
	events []string
}

func (l *fakeLog) add(kind string, id uint32, msg string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, fmt.Sprintf("%s %d %s", kind, id, msg))
	return nil
}
func (l *fakeLog) Info(id uint32, m string) error    { return l.add("info", id, m) }
func (l *fakeLog) Warning(id uint32, m string) error { return l.add("warning", id, m) }
func (l *fakeLog) Error(id uint32, m string) error   { return l.add("error", id, m) }

// The handler's conversation with the service manager, driven through
// its channels as svc.Run would.
func TestHandler(t *testing.T) {
	tests := []struct {
		name     string
		run      Monitor
		stop     bool // send Stop once Running
		wantCode uint32
		wantSpec bool
		states   []svc.State // the distinct states reported, in order
		events   []string    // substrings of the events, in order
	}{
		{
			name: "stop flushes and reports",
			run: func(ctx context.Context, out, errw io.Writer) error {
				fmt.Fprintln(out, "monitoring 1 target(s)")
				fmt.Fprint(errw, "a warning\n")
				<-ctx.Done()
				fmt.Fprint(out, "stopped; logs flushed") // no newline: Flush emits it
				return nil
			},
			stop: true, wantCode: 0, wantSpec: false,
			states: []svc.State{svc.StartPending, svc.Running, svc.StopPending},
			events: []string{"info 1 monitoring 1 target(s)", "warning 2 a warning", "info 1 stopped; logs flushed", "info 11 stopped"},
		},
		{
			name:     "the monitor fails by itself",
			run:      func(context.Context, io.Writer, io.Writer) error { return errors.New("monitor.json: no targets") },
			wantCode: 1, wantSpec: true,
			states: []svc.State{svc.StartPending, svc.Running},
			events: []string{"error 3 stopped: monitor.json: no targets"},
		},
		{
			name: "the monitor hangs on stop",
			run: func(ctx context.Context, _, _ io.Writer) error {
				<-ctx.Done()
				time.Sleep(time.Hour) // never returns within the test; the handler must give up
				return nil
			},
			stop: true, wantCode: 2, wantSpec: true,
			states: []svc.State{svc.StartPending, svc.Running, svc.StopPending},
			events: []string{"error 3 the monitor did not stop within"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log := &fakeLog{}
			h := &handler{run: tt.run, log: log, stopWait: 300 * time.Millisecond}
			r := make(chan svc.ChangeRequest)
			s := make(chan svc.Status, 100)
			type result struct {
				spec bool
				code uint32
			}
			res := make(chan result, 1)
			go func() { spec, code := h.Execute(nil, r, s); res <- result{spec, code} }()
			var states []svc.State
			add := func(st svc.Status) {
				if len(states) == 0 || states[len(states)-1] != st.State {
					states = append(states, st.State)
				}
			}
			var got result
			stopped := false
		loop:
			for {
				select {
				case st := <-s:
					add(st)
					if st.State == svc.Running && tt.stop && !stopped {
						stopped = true // the answer to Interrogate is Running too
						if st.Accepts&svc.AcceptStop == 0 || st.Accepts&svc.AcceptShutdown == 0 {
							t.Errorf("Running accepts %v; want Stop and Shutdown", st.Accepts)
						}
						r <- svc.ChangeRequest{Cmd: svc.Interrogate, CurrentStatus: st}
						r <- svc.ChangeRequest{Cmd: svc.Stop}
					}
				case got = <-res:
					break loop
				case <-time.After(10 * time.Second):
					t.Fatal("Execute did not return within 10 s")
				}
			}
			for len(s) > 0 {
				add(<-s)
			}
			if got.code != tt.wantCode || got.spec != tt.wantSpec {
				t.Errorf("Execute = %v, %d; want %v, %d", got.spec, got.code, tt.wantSpec, tt.wantCode)
			}
			if fmt.Sprint(states) != fmt.Sprint(tt.states) {
				t.Errorf("states %v; want %v", states, tt.states)
			}
			log.mu.Lock()
			all := strings.Join(log.events, "\n")
			log.mu.Unlock()
			rest := all
			for _, e := range tt.events {
				i := strings.Index(rest, e)
				if i < 0 {
					t.Errorf("events:\n%s\nwant %q (in this order: %q)", all, e, tt.events)
					break
				}
				rest = rest[i+len(e):]
			}
		})
	}
}

func TestCommandLine(t *testing.T) {
	got := commandLine(`C:\Program Files\PingerPlot\pingerplot.exe`, []string{"service", "run", `C:\Data Dir\m.json`})
	want := `"C:\Program Files\PingerPlot\pingerplot.exe" service run "C:\Data Dir\m.json"`
	if got != want {
		t.Errorf("commandLine = %s; want %s", got, want)
	}
}
