package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
)

// syncBuffer is an io.Writer safe for the goroutines that print to the
// console at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// loadHeadless writes cfg as a headless config in a new directory and
// loads it.
func loadHeadless(t *testing.T, cfg string) (string, config.Headless) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "headless.json")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	h, err := config.Load(path)
	if err != nil {
		t.Fatalf("config.Load: %v", err)
	}
	return path, h
}

// parseAddr is the host lookup of headless tests: addresses only, no DNS.
func parseAddr(_ context.Context, host string) (netip.Addr, error) { return netip.ParseAddr(host) }

// readCSV returns the rows of a CSV file, header first.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// TestHeadlessEventLogRouting runs the headless wiring with several
// targets, each with its own event log. The recorder starts before the
// targets are added (so it logs their target_added events); the routing it
// reads must be complete and safely published by then. Under -race a
// routing table filled while the recorder reads it fails this test; without
// -race the symptom is an event written to no log or to the wrong one.
func TestHeadlessEventLogRouting(t *testing.T) {
	const n = 6
	var targets []string
	for i := range n {
		targets = append(targets, fmt.Sprintf(`{"target": "10.0.3.1", "name": "t%d", "event_log_path": "ev%d.csv"}`, i, i))
	}
	path, h := loadHeadless(t, `{"version": 1, "status_interval": 0, "defaults": {"interval": 1},
		"targets": [`+strings.Join(targets, ",")+`]}`)
	var out syncBuffer
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 3500*time.Millisecond)
		defer cancel()
		err := runHeadlessConfig(ctx, path, h, headlessWiring{
			Prober: probetest.Path(time.Millisecond, 2*time.Millisecond, 3*time.Millisecond),
			Names:  func(netip.Addr) string { return "" }, Lookup: parseAddr,
			Stdout: &out, Stderr: &out,
		})
		if err != nil {
			t.Fatalf("runHeadlessConfig: %v", err)
		}
	})
	for i := range n {
		evPath := filepath.Join(filepath.Dir(path), fmt.Sprintf("ev%d.csv", i))
		rows := readCSV(t, evPath)
		var added []string
		for _, r := range rows[1:] {
			if r[2] == "target_added" {
				added = append(added, r[1])
			}
		}
		if want := fmt.Sprintf("t%d", i); len(added) != 1 || added[0] != want {
			t.Errorf("%s: target_added rows for %v; want one for %s", filepath.Base(evPath), added, want)
		}
	}
}
