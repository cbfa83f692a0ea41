package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// childEnv holds the arguments, separated by newlines, with which the
// test binary runs main instead of the tests.
const childEnv = "PINGERPLOT_MAIN_CHILD"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		os.Args = append([]string{"pingerplot"}, strings.Split(args, "\n")...)
		main()
	}
	os.Exit(m.Run())
}

// TestConsoleCtrlStops sends the console control events a user causes
// with Ctrl-C and Ctrl-Break to a running dashboard and headless monitor
// and wants each to stop cleanly (its last line, exit status 0) within
// 2 s; Windows ends a console program 5 s after its window is closed
// (CTRL_CLOSE_EVENT, which Go delivers as SIGTERM to the same stop path;
// no API sends it to another process). The test needs a console.
func TestConsoleCtrlStops(t *testing.T) {
	var ids [4]uint32
	getList := windows.NewLazySystemDLL("kernel32.dll").NewProc("GetConsoleProcessList")
	if n, _, _ := getList.Call(uintptr(unsafe.Pointer(&ids[0])), uintptr(len(ids))); n == 0 {
		t.Skip("no console: run the test binary in a console window (Ctrl-C and Ctrl-Break need one)")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "pingerplot-ctrl-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	config := filepath.Join(dir, "headless.json")
	logPath := filepath.Join(dir, "loop.csv")
	if err := os.WriteFile(config, []byte(`{"targets": [{"target": "127.0.0.1", "interval": 1, "log_path": "loop.csv"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		args        []string
		event       uint32
		ready, last string
	}{
		{"ui, Ctrl-Break", []string{"ui", "--no-browser", "--config-dir", dir}, windows.CTRL_BREAK_EVENT, "PingerPlot dashboard:", "stopped"},
		{"ui, Ctrl-C", []string{"ui", "--no-browser", "--config-dir", dir}, windows.CTRL_C_EVENT, "PingerPlot dashboard:", "stopped"},
		{"headless, Ctrl-Break", []string{"headless", config}, windows.CTRL_BREAK_EVENT, "monitoring 1 target", "stopped; logs flushed"},
		{"headless, Ctrl-C", []string{"headless", config}, windows.CTRL_C_EVENT, "monitoring 1 target", "stopped; logs flushed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"="+strings.Join(tc.args, "\n"))
			// The event goes to every process on this console, as a key
			// pressed in it does; this test catches it. (Sending Ctrl-Break
			// to the child's own process group alone fails under Wine.)
			c := make(chan os.Signal, 1)
			signal.Notify(c, os.Interrupt)
			defer signal.Stop(c)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			lines := make(chan string, 64)
			go func() {
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					lines <- sc.Text()
				}
				close(lines)
				io.Copy(io.Discard, out)
			}()
			waitLine(t, lines, tc.ready, 30*time.Second)
			time.Sleep(1500 * time.Millisecond) // a round or two, so there is something to flush
			sent := time.Now()
			if err := windows.GenerateConsoleCtrlEvent(tc.event, 0); err != nil {
				if tc.event == windows.CTRL_BREAK_EVENT && err == windows.ERROR_INVALID_HANDLE && underWine() {
					// Go's handler treats both events alike (os.Interrupt);
					// the Ctrl-C cases cover that path here.
					t.Skip("Wine 8 does not generate CTRL_BREAK_EVENT (ERROR_INVALID_HANDLE); real Windows does")
				}
				t.Fatalf("GenerateConsoleCtrlEvent: %v", err)
			}
			waitLine(t, lines, tc.last, 10*time.Second)
			stoppedIn := time.Since(sent)
			if err := cmd.Wait(); err != nil {
				t.Errorf("exit: %v; want status 0", err)
			}
			if stoppedIn > 2*time.Second {
				t.Errorf("stopped %v after the event; want within 2 s (Windows allows 5 s on a console close)", stoppedIn)
			}
			if strings.HasPrefix(tc.args[0], "headless") {
				data, err := os.ReadFile(logPath)
				if err != nil || strings.Count(string(data), "\n") < 2 || !strings.HasSuffix(string(data), "\n") {
					t.Errorf("probe log after the stop = %q, %v; want the header and whole rows", data, err)
				}
			}
		})
	}
}

// waitLine reads lines until one starts with prefix.
func waitLine(t *testing.T, lines <-chan string, prefix string, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended before a line starting %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return
			}
		case <-deadline:
			t.Fatalf("no line starting %q within %v", prefix, within)
		}
	}
}

// underWine reports whether this runs under Wine, whose ntdll exports
// wine_get_version.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}
