package history_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/history/historytest"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// childEnv names the history file a re-executed test binary writes into
// until it is killed (TestKillChild).
const childEnv = "PINGERPLOT_HISTORY_KILL_CHILD"

// TestKillChild is the child of TestKill9: it writes rounds of 5 targets
// × 30 hops every 100 ms, stamped with the real time, into the file named
// by childEnv, until it is killed. Alone it does nothing.
func TestKillChild(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("the child of TestKill9; runs only when it re-executes the test binary")
	}
	st, err := history.Open(history.Options{Path: path})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(3)
	}
	var tgs []monitor.Target
	gens := make([]*historytest.Gen, 5)
	for i := range gens {
		gens[i] = &historytest.Gen{Hops: historytest.Path(30, nil), Start: time.Now(), Interval: 100 * time.Millisecond, Seed: uint64(i)}
		tgs = append(tgs, monitor.Target{ID: monitor.ID(fmt.Sprintf("target-%d", i)), Host: "example.net"})
	}
	updates := make(chan monitor.Update, 1000)
	go st.Run(context.Background(), updates, historytest.NewSource(tgs...))
	fmt.Println("writing")
	for {
		for i, g := range gens {
			r := g.Next()
			r.Start = time.Now() // the real time: the parent measures what is missing by it
			updates <- monitor.Update{Round: &monitor.RoundDone{Target: tgs[i].ID, Round: r}}
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestKill9 kills a writing process with SIGKILL (TerminateProcess on
// Windows) and opens its file: it opens cleanly, passes SQLite's
// integrity check, and lacks at most the last 2 s of rounds.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a writer for a few seconds; not in -short")
	}
	for run := range 3 {
		t.Run(fmt.Sprint("run ", run), func(t *testing.T) {
			path := filepath.Join(history.ScratchDir(t), "history.db")
			cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), childEnv+"="+path)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil || strings.TrimSpace(line) != "writing" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("child said %q (%v); want writing", line, err)
			}
			time.Sleep(time.Duration(2500+700*run) * time.Millisecond)
			killed := time.Now()
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			cmd.Wait()

			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			var check string
			if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
				t.Errorf("integrity_check: %q (%v); want ok", check, err)
			}
			db.Close()
			st, err := history.Open(history.Options{Path: path})
			if err != nil {
				t.Fatalf("Open after kill -9: %v", err)
			}
			defer st.Close()
			for i := range 5 {
				key := fmt.Sprintf("target-%d", i)
				var last time.Time
				next := 1
				if err := st.Rounds(context.Background(), key, killed.Add(-time.Hour), killed.Add(time.Hour), func(r trace.Round) error {
					if r.Index != next {
						return fmt.Errorf("round %d after %d: a hole", r.Index, next-1)
					}
					next++
					last = r.Start
					return nil
				}); err != nil {
					t.Fatalf("%s: %v", key, err)
				}
				if missing := killed.Sub(last); missing > 2*time.Second {
					t.Errorf("%s: the last round kept started %v before the kill; want at most 2s", key, missing.Round(time.Millisecond))
				} else if i == 0 {
					t.Logf("%d rounds kept; the last started %v before the kill", next-1, missing.Round(time.Millisecond))
				}
			}
		})
	}
}
