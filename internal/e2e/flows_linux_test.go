//go:build linux

package e2e

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"testing"

	"github.com/pingerplot/pingerplot/internal/lab"
	"github.com/pingerplot/pingerplot/internal/report"
)

// flowsCount is how many flows the ECMP runs probe. Router1 hashes each
// flow's source port onto one of two branches, so all flows land on one
// branch with probability 2^(1-n): 16 flows make that 1 in 32,768 runs,
// where 8 would make it 1 in 128.
const flowsCount = 16

// flowsLoss is the loss injected on the alt branch's first link, forward.
const flowsLoss = 0.3

// TestFlowsECMP4 and TestFlowsECMP6: router1 balances per flow (L4 hash)
// over the main branch and a one-router alt branch whose first link loses
// 30 % of what goes towards the target. `report -u --flows 16 --json`, raw
// (as root) and unprivileged (uid 65534, no capabilities: a UDP socket per
// flow), must show exactly two paths, the main path's addresses and the
// alt path's (lab.AltPath4/AltPath6) then the target, their shares summing
// to 100 %, the alt path's destination loss near 30 % and marked lossy, the
// main path's near none.
func TestFlowsECMP4(t *testing.T) { testFlowsECMP(t, "-4") }
func TestFlowsECMP6(t *testing.T) { testFlowsECMP(t, "-6") }

func testFlowsECMP(t *testing.T, fam string) {
	l := lab.New(t, lab.Options{Routers: 3, AltRouters: 1, AltCableLinks: []int{0}})
	if err := l.SetECMP(true); err != nil {
		t.Fatal(err)
	}
	if err := l.SetAltLink(0, lab.LinkParams{Loss: flowsLoss}, lab.LinkParams{}); err != nil {
		t.Fatal(err)
	}
	mainPath, altPath, target := l.Hops4, l.AltPath4(), l.TargetAddr4
	if fam == "-6" {
		mainPath, altPath, target = l.Hops6, l.AltPath6(), l.TargetAddr6
	}
	want := map[string]bool{ // path addresses, target included → is the lossy one
		fmt.Sprint(append(slices.Clone(mainPath), target)): false,
		fmt.Sprint(append(slices.Clone(altPath), target)):  true,
	}
	for _, priv := range []struct {
		name   string
		unpriv bool
		flag   string
	}{{"raw", false, "--raw"}, {"unprivileged", true, "--unprivileged"}} {
		t.Run(priv.name, func(t *testing.T) {
			rep := reportJSON(t, l, priv.unpriv, fam, "-u", priv.flag, "--flows", fmt.Sprint(flowsCount),
				"-c", "20", "-i", "0.2", "--timeout", "0.5", target.String())
			checkFlows(t, rep.Flows, want)
		})
	}
}

func checkFlows(t *testing.T, f *report.Flows, want map[string]bool) {
	t.Helper()
	if f == nil {
		t.Fatal("report has no flows; want them with --flows")
	}
	if f.Count != flowsCount || f.Varies != "source port" {
		t.Errorf("flows count %d varying %q; want %d, \"source port\"", f.Count, f.Varies, flowsCount)
	}
	if len(f.Paths) != len(want) {
		for _, p := range f.Paths {
			t.Logf("path %v: %.1f %% of flows %v", flowPathAddrs(p), p.SharePct, p.Flows)
		}
		t.Fatalf("got %d paths; want %d", len(f.Paths), len(want))
	}
	share, nflows := 0.0, 0
	seen := map[string]bool{}
	for _, p := range f.Paths {
		key := fmt.Sprint(flowPathAddrs(p))
		lossy, ok := want[key]
		if !ok || seen[key] {
			t.Errorf("path %s; want one of %v, each once", key, want)
			continue
		}
		seen[key] = true
		share += p.SharePct
		nflows += len(p.Flows)
		if !p.Reached {
			t.Errorf("path %s: reached false; want true", key)
		}
		if p.Lossy != lossy {
			t.Errorf("path %s: lossy %v (destination loss %.1f %%); want %v", key, p.Lossy, p.DestLossPct, lossy)
		}
		// Loss on the alt branch's first link: the alt path's hops from 2
		// on and its destination lose about flowsLoss; the main path
		// nothing, but a frame lost to a VM stall now and then.
		lo, hi := 0.0, 5.0
		if lossy {
			// Two flows of 20 rounds are 40 probes: ±15 points is over two
			// standard deviations.
			lo, hi = 100*flowsLoss-15, 100*flowsLoss+15
		}
		if p.DestLossPct < lo || p.DestLossPct > hi {
			t.Errorf("path %s: destination loss %.1f %%; want within [%.0f, %.0f]", key, p.DestLossPct, lo, hi)
		}
	}
	if math.Abs(share-100) > 0.01 || nflows != flowsCount {
		t.Errorf("shares sum to %.3f %% over %d flows; want 100 %% over %d", share, nflows, flowsCount)
	}
}

func flowPathAddrs(p report.FlowPath) []netip.Addr {
	var out []netip.Addr
	for _, h := range p.Hops {
		a, _ := netip.ParseAddr(h.Addr)
		out = append(out, a)
	}
	return out
}
