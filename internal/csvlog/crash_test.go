package csvlog

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashChildEnv carries the log path to the re-executed test binary.
const crashChildEnv = "PINGERPLOT_CSVLOG_CRASH_CHILD"

// crashConfig is the child's log: small caps, so kills also land during
// rotations.
func crashConfig(path string) Config {
	return Config{Path: path, MaxBytes: 512 << 10, MaxFiles: 3}
}

// TestKillDuringWrites re-executes the test binary as a child that writes
// big rounds in a loop, kills it with SIGKILL at a different point each
// time, reopens the log as the next start would, and parses every line
// of every file with encoding/csv: all must parse, every row complete.
func TestKillDuringWrites(t *testing.T) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "log.csv")
	torn := 0
	for kill := range 12 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillDuringWrites$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill after the child reports one to three batches of rounds written.
		sc := bufio.NewScanner(out)
		for seen := 0; seen <= kill%3 && sc.Scan(); {
			if strings.HasPrefix(sc.Text(), "batch ") {
				seen++
			}
		}
		// Not a wait for anything: a different delay each time moves the
		// kill to a different point of the child's write loop.
		time.Sleep(time.Duration(kill) * 173 * time.Microsecond)
		sigErr := cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if sigErr != nil {
			t.Fatalf("kill %d: the child ended by itself: %v\n%s", kill, sigErr, stderr.String())
		}

		b, _ := os.ReadFile(path) // missing if the kill hit a rotation
		if len(b) > 0 && b[len(b)-1] != '\n' {
			torn++
		}
		l, err := Open(crashConfig(path))
		if err != nil {
			t.Fatalf("kill %d: reopening after SIGKILL: %v", kill, err)
		}
		if err := l.WriteRound("after", round(0, 3), nil); err != nil {
			t.Fatalf("kill %d: writing after the restart: %v", kill, err)
		}
		l.Close()
		rows := 0
		for _, name := range []string{path, filepath.Join(dir, "log.1.csv"), filepath.Join(dir, "log.2.csv")} {
			if _, err := os.Stat(name); err != nil {
				continue
			}
			for i, row := range readRows(t, name, ProbeHeader) {
				checkProbeRow(t, fmt.Sprintf("kill %d: %s row %d", kill, filepath.Base(name), i+1), row)
				rows++
			}
		}
		t.Logf("kill %d: %d rows parse", kill, rows)
	}
	t.Logf("%d of 12 kills left a torn last line, repaired on reopening", torn)
	if entries, _ := os.ReadDir(dir); len(entries) > 3 {
		t.Errorf("%d files; want at most MaxFiles = 3", len(entries))
	}
}

// crashChild writes 200-hop rounds (about 19 KB each, so a kill can land
// inside the write) until it is killed, saying "batch N" after every 20.
func crashChild(path string) {
	l, err := Open(crashConfig(path))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 1; ; i++ {
		if err := l.WriteRound("crash", round(i, 200), names); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if i%20 == 0 {
			fmt.Printf("batch %d\n", i/20)
		}
	}
}
