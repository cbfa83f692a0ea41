//go:build linux

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/lab"
	"github.com/pingerplot/pingerplot/internal/report"
)

// Direct hop pings in the lab: `report --json --ping-hops`, unprivileged
// ICMP at 50 ms, over client, router1 (hop 1), router2 (hop 2), router3
// (hop 3), the target (hop 4), with router2 under the kernel's own ICMP
// rate limit (one time-exceeded a second per source after a burst of six;
// echo replies are not rate-limited by default).

// pingHopsReport runs `report --json --ping-hops` for count rounds in the
// lab's client namespace, unprivileged, and returns the report.
func pingHopsReport(t *testing.T, l *lab.Lab, count int) report.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args := append([]string{"report", "--json", "--ping-hops", "-n", "-c", fmt.Sprint(count)}, diagnosisArgs...)
	cmd := l.CommandUnprivileged(ctx, l.Client, binary(t), append(args, l.TargetAddr4.String())...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		t.Fatalf("report: %v\nstderr: %s", err, se.String())
	}
	var rep report.Report
	if err := json.Unmarshal(so.Bytes(), &rep); err != nil {
		t.Fatalf("decode report JSON: %v\n%s", err, so.String())
	}
	if rep.Diagnosis == nil || !rep.Settings.PingHops {
		t.Fatalf("report JSON has no diagnosis or does not say ping_hops:\n%s", so.String())
	}
	d := rep.Diagnosis
	t.Logf("%d rounds: %s at hop %v (%s confidence): %s", rep.Rounds, d.What, where(d), d.Confidence, d.Text)
	for _, h := range rep.Hops {
		if h.Direct != nil {
			t.Logf("  hop %d %s: TTL-limited %.0f%% of %d lost; direct %d of %d lost", h.TTL, h.Addr, h.LossPct, h.Sent, h.Direct.Lost, h.Direct.Sent)
		}
	}
	for _, h := range d.Hints {
		t.Logf("  hop %d %s: %s", h.TTL, h.Hint, h.Evidence)
	}
	return rep
}

func TestPingHops(t *testing.T) {
	for _, tc := range []struct {
		name string
		// linkLoss, if set, is the forward loss on the link into router2.
		linkLoss float64
		what     string
		ttl      int
		// directLost: hop 2's direct pings must lose at least this share
		// (when > 0) or at most maxClean of them.
		directLost float64
		evidence   string // in hop 2's rate-limited hint
		text       string // in the diagnosis
	}{
		{name: "a rate-limited router answers echo requests cleanly", what: "healthy",
			evidence: "its echo replies are clean"},
		{name: "loss on the link into it shows in both", linkLoss: 0.3, what: "loss", ttl: 2, directLost: 0.15,
			text: "echo requests to hop 2's own address are lost as often"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := lab.Options{Routers: 3}
			if tc.linkLoss > 0 {
				opts.CableLinks = []int{1}
			}
			l := lab.New(t, opts)
			if err := l.SetICMPRateLimit(1, true); err != nil {
				t.Fatal(err)
			}
			if tc.linkLoss > 0 {
				if err := l.SetLink(1, lab.LinkParams{Loss: tc.linkLoss}, lab.LinkParams{}); err != nil {
					t.Fatal(err)
				}
			}
			rep := pingHopsReport(t, l, 80)
			d := rep.Diagnosis
			if tc.ttl == 0 {
				wantDiagnosis(t, d, tc.what, 0, -1)
			} else {
				wantDiagnosis(t, d, tc.what, tc.ttl, tc.ttl-1)
			}
			if !strings.Contains(d.Text, tc.text) {
				t.Errorf("diagnosis text %q; want it to contain %q", d.Text, tc.text)
			}
			hop := rep.Hops[1]
			if hop.LossPct < 50 {
				t.Errorf("hop 2 lost %.0f%% of its TTL-limited probes; want the rate limit to drop most replies", hop.LossPct)
			}
			dr := hop.Direct
			if dr == nil || dr.Sent < 40 {
				t.Fatalf("hop 2 direct pings %+v; want at least 40 of them", dr)
			}
			if dr.Addr != hop.Addr {
				t.Errorf("hop 2 direct pings went to %s; want the hop's address %s", dr.Addr, hop.Addr)
			}
			share := float64(dr.Lost) / float64(dr.Sent)
			if tc.directLost > 0 && share < tc.directLost {
				t.Errorf("hop 2 direct pings lost %d of %d; want at least %.0f%%: the link's loss shows in them too", dr.Lost, dr.Sent, 100*tc.directLost)
			}
			if tc.directLost == 0 && dr.Lost > 2 {
				t.Errorf("hop 2 direct pings lost %d of %d; want clean echo replies (at most 2)", dr.Lost, dr.Sent)
			}
			if tc.evidence != "" {
				found := false
				for _, h := range d.Hints {
					if h.TTL == 2 && h.Hint == "rate-limits replies" && strings.Contains(h.Evidence, tc.evidence) {
						found = true
					}
				}
				if !found {
					t.Errorf("no rate-limited hint at hop 2 naming %q; hints %+v", tc.evidence, d.Hints)
				}
			}
		})
	}
}
