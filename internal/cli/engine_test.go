package cli

import (
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
)

// TestHeadlessKeepsHistory: the history store is one more subscriber of
// headless's engine: every round the monitor made is in the file when
// headless stops, with its hops, and the target's events beside them. A
// config with history off leaves no file.
func TestHeadlessKeepsHistory(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(map[bool]string{true: "on", false: "off"}[on], func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "h.db")
			enabled := "true"
			if !on {
				enabled = "false"
			}
			path, h := loadHeadless(t, `{"version": 1, "status_interval": 0, "defaults": {"interval": 1},
				"history": {"enabled": `+enabled+`, "path": "`+filepath.ToSlash(db)+`"},
				"targets": [{"target": "10.0.3.1", "name": "lab", "log_path": "probes.csv"}]}`)
			var out syncBuffer
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(t.Context(), 30500*time.Millisecond)
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
			if !on {
				if _, err := history.Open(history.Options{Path: db, ReadOnly: true}); err == nil {
					t.Errorf("history off, yet %s opens", db)
				}
				return
			}
			if !strings.Contains(out.String(), "every round is kept in "+db) {
				t.Errorf("console does not say where history goes:\n%s", out.String())
			}
			st, err := history.Open(history.Options{Path: db, ReadOnly: true})
			if err != nil {
				t.Fatalf("open the history headless wrote: %v", err)
			}
			defer st.Close()
			ctx := context.Background()
			info, err := st.Target(ctx, "lab")
			if err != nil {
				t.Fatalf("history of lab: %v", err)
			}
			// The probe log, the recorder's record of the same run, says
			// how many rounds there were: about 30 in 30.5 s.
			logged := map[string]bool{}
			for _, row := range readCSV(t, filepath.Join(filepath.Dir(path), "probes.csv"))[1:] {
				logged[row[1]] = true
			}
			n := len(logged)
			if n < 29 || n > 32 {
				t.Fatalf("probe log has %d rounds; want about 30", n)
			}
			if info.Rounds != int64(n) || info.Host != "10.0.3.1" {
				t.Errorf("stored target %+v; want %d rounds of 10.0.3.1, as in the probe log", info, n)
			}
			sum, err := st.Summary(ctx, "lab", info.First, info.Last.Add(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			if sum.Rounds != n || len(sum.Hops) != 3 || sum.DestTTL != 3 || sum.Dest.Sent != n || sum.Dest.Lost != 0 {
				t.Errorf("stored window: %d rounds, %d hops, destination at %d, %d sent %d lost; want %d rounds, 3 hops, destination at 3, %d sent, none lost",
					sum.Rounds, len(sum.Hops), sum.DestTTL, sum.Dest.Sent, sum.Dest.Lost, n, n)
			}
			evs, err := st.Events(ctx, "lab", info.First.Add(-time.Minute), info.Last.Add(time.Minute))
			if err != nil || len(evs) == 0 || evs[0].Kind != "target_added" {
				t.Errorf("stored events %+v, %v; want target_added first", evs, err)
			}
		})
	}
}
