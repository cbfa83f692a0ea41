//go:build linux

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/history/historytest"
	"github.com/pingerplot/pingerplot/internal/lab"
)

// TestUIRemembersYesterday: the dashboard keeps every round in its
// history file across restarts. A first run probes the lab with 20 % loss
// on the last link; the file is then aged by a day (as if that run had
// been yesterday) and a second run probes the clean path. `report --from`
// finds yesterday's rounds with their loss and the lab's hops, and today's
// without it: two windows of one target, told apart by time alone.
func TestUIRemembersYesterday(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3, CableLinks: []int{3}})
	_, hops := labTarget(l, families[0])
	dir := workDir(t)
	settings := fmt.Sprintf(`{"version": 1, "resume_on_launch": true,
		"targets": [{"target": %q, "name": "lab", "interval": 0.1}]}`, l.TargetAddr4)
	if err := os.WriteFile(filepath.Join(dir, "settings.json"), []byte(settings), 0o666); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "data", "pingerplot", "history.db")
	env := "XDG_DATA_HOME=" + filepath.Join(dir, "data")
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "data"), 0o777); err != nil {
		t.Fatal(err)
	}

	// runUI runs the dashboard until its target has done n rounds, and
	// returns how many it did by the stop.
	runUI := func(n int) int {
		u := startUI(t, l, dir, env)
		c, base, token := apiClient(l, u.url)
		var targets []struct {
			ID     string `json:"id"`
			Rounds int    `json:"rounds"`
		}
		waitFor(t, 60*time.Second, fmt.Sprintf("%d rounds", n), func() bool {
			getJSON(t, c, base, token, "/api/targets", &targets)
			return len(targets) == 1 && targets[0].Rounds >= n
		})
		u.stop(t)
		return targets[0].Rounds
	}
	last := len(hops) - 1 // the link into the target
	if err := l.SetLink(last, lab.LinkParams{Loss: 0.2}, lab.LinkParams{}); err != nil {
		t.Fatal(err)
	}
	first := runUI(150)
	if err := l.SetLink(last, lab.LinkParams{}, lab.LinkParams{}); err != nil {
		t.Fatal(err)
	}
	if err := historytest.Age(db, 24*time.Hour); err != nil {
		t.Fatalf("age the history by a day: %v", err)
	}
	runUI(100)

	yesterday := reportJSON(t, l, true, "--history", db, "--from", "26h ago", "--to", "22h ago", "lab")
	today := reportJSON(t, l, true, "--history", db, "--from", "1h ago", "lab")
	checkPath(t, yesterday, hops)
	checkPath(t, today, hops)
	// Every round of the first run is there, even the last ones before
	// the stop: the store flushes on close.
	if yesterday.Rounds < first {
		t.Errorf("yesterday's window holds %d rounds; the first run made at least %d", yesterday.Rounds, first)
	}
	if today.Rounds < 100 {
		t.Errorf("today's window holds %d rounds; want at least the second run's 100", today.Rounds)
	}
	yd, td := yesterday.Hops[len(yesterday.Hops)-1], today.Hops[len(today.Hops)-1]
	t.Logf("yesterday: %d rounds (first run %d), destination loss %.1f%% of %d; today: %d rounds, loss %.1f%% of %d",
		yesterday.Rounds, first, yd.LossPct, yd.Sent, today.Rounds, td.LossPct, td.Sent)
	// 20 % on ~150 probes: the binomial's 3-sigma band is about ±10 points.
	if yd.LossPct < 9 || yd.LossPct > 32 {
		t.Errorf("yesterday's destination loss %.1f%% over %d probes; want about the injected 20%%", yd.LossPct, yd.Sent)
	}
	if td.LossPct > 3 {
		t.Errorf("today's destination loss %.1f%% over %d probes; want about 0 (the clean path)", td.LossPct, td.Sent)
	}
	for _, h := range yesterday.Hops[:len(yesterday.Hops)-1] {
		if h.LossPct > 3 {
			t.Errorf("yesterday's hop %d loss %.1f%%; want about 0 (the loss was on the last link)", h.TTL, h.LossPct)
		}
	}
}
