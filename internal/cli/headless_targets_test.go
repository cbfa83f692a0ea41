package cli

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe/probetest"
)

// TestHeadlessChecksTargetsFirst: a target that can never run is reported
// before anything starts (no "monitoring" line, no log), together with
// every other such problem.
func TestHeadlessChecksTargetsFirst(t *testing.T) {
	path, h := loadHeadless(t, `{"version": 1, "status_interval": 0, "defaults": {"log_path": "probes.csv"},
		"targets": [{"target": "10.0.3.1"}, {"target": "10.0.0.255"}, {"target": "10.0.9.255"}]}`)
	refuse := func(ctx context.Context, host string) (netip.Addr, error) {
		if strings.HasSuffix(host, ".255") {
			return netip.Addr{}, errors.New(host + " is the broadcast address of an attached network")
		}
		return parseAddr(ctx, host)
	}
	var out syncBuffer
	err := runHeadlessConfig(context.Background(), path, h, headlessWiring{
		Prober: probetest.Path(time.Millisecond), Names: func(netip.Addr) string { return "" }, Lookup: refuse,
		Stdout: &out, Stderr: &out,
	})
	if err == nil {
		t.Fatal("runHeadlessConfig with two broadcast targets returned nil; want an error")
	}
	for _, w := range []string{"2 problems", "targets[1] (10.0.0.255): 10.0.0.255 is the broadcast", "targets[2] (10.0.9.255)"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q; want it to contain %q", err, w)
		}
	}
	if strings.Contains(out.String(), "monitoring") {
		t.Errorf("console = %q; want nothing started", out.String())
	}
	if m, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "probes*.csv")); len(m) != 0 {
		t.Errorf("logs %v were created; want none before the checks pass", m)
	}
}

// TestHeadlessUnresolvedTargetRetries: one name that does not resolve
// stops nothing: the other target runs from the start, the console and
// the target's event log say why the name is not monitored, and the name
// is retried with growing delays until it resolves, then monitored.
func TestHeadlessUnresolvedTargetRetries(t *testing.T) {
	path, h := loadHeadless(t, `{"version": 1, "status_interval": 0, "defaults": {"interval": 1}, "history": {"enabled": false},
		"targets": [{"target": "late.example", "name": "late", "log_path": "late.csv"}, {"target": "10.0.3.1", "name": "now"}]}`)
	var out syncBuffer
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var mu sync.Mutex
		var tries []time.Duration
		lookup := func(ctx context.Context, host string) (netip.Addr, error) {
			if host != "late.example" {
				return parseAddr(ctx, host)
			}
			mu.Lock()
			defer mu.Unlock()
			tries = append(tries, time.Since(start))
			if len(tries) < 4 {
				return netip.Addr{}, errors.New(`unknown host "late.example": the name does not resolve`)
			}
			return netip.MustParseAddr("10.0.3.1"), nil
		}
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		defer cancel()
		err := runHeadlessConfig(ctx, path, h, headlessWiring{
			Prober: probetest.Path(time.Millisecond, 2*time.Millisecond, 3*time.Millisecond),
			Names:  func(netip.Addr) string { return "" }, Lookup: lookup,
			Stdout: &out, Stderr: &out,
		})
		if err != nil {
			t.Fatalf("runHeadlessConfig: %v", err)
		}
		want := []time.Duration{0, resolveRetryFirst, 3 * resolveRetryFirst, 7 * resolveRetryFirst}
		if len(tries) != len(want) {
			t.Fatalf("lookups at %v; want %v", tries, want)
		}
		for i := range want {
			if tries[i] != want[i] {
				t.Errorf("lookup %d at %v; want %v (backoff doubling from %v)", i+1, tries[i], want[i], resolveRetryFirst)
			}
		}
	})
	console := out.String()
	for _, w := range []string{
		`resolve_error    unknown host "late.example": the name does not resolve; not monitored yet, the other targets run; retrying in 5s`,
		"retrying in 10s", "retrying in 20s",
		"resolved         late.example is 10.0.3.1 after 4 attempts",
	} {
		if !strings.Contains(console, w) {
			t.Errorf("console lacks %q:\n%s", w, console)
		}
	}
	events, err := os.ReadFile(filepath.Join(filepath.Dir(path), "late.events.csv"))
	if err != nil {
		t.Fatalf("the late target's event log: %v", err)
	}
	for _, w := range []string{",late,resolve_error,", "retrying in 20s", ",late,resolved,", ",late,target_added,"} {
		if !strings.Contains(string(events), w) {
			t.Errorf("event log lacks %q:\n%s", w, events)
		}
	}
	// The resolvable target was added at once, the late one at its fourth
	// lookup (35 s in).
	if n := strings.Count(console, "target_added"); n != 2 {
		t.Errorf("console has %d target_added lines; want 2:\n%s", n, console)
	}
	if i, j := strings.Index(console, "now              target_added"), strings.Index(console, "late             target_added"); i < 0 || j < 0 || i > j {
		t.Errorf("want \"now\" added before \"late\" resolved:\n%s", console)
	}
}
