//go:build linux

package e2e

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/lab"
	"github.com/pingerplot/pingerplot/internal/report"
)

// extStamp is what the simulated MPLS router at hop 2 attaches to its
// time-exceeded messages: a two-label stack and an incoming and an
// outgoing RFC 5837 interface object.
var extStamp = lab.Stamp{
	MPLS: []lab.MPLSLabel{{Label: 24001, TC: 5, TTL: 1}, {Label: 16, S: true, TTL: 255}},
	Interfaces: []lab.InterfaceInfo{
		{Role: lab.RoleIncoming, IfIndex: 12, HasIfIndex: true, Addr: netip.MustParseAddr("192.0.2.1"), Name: "ge-0/0/1", MTU: 1500},
		{Role: lab.RoleOutgoing, Addr: netip.MustParseAddr("2001:db8::9"), Name: "xe-1/0/0.100"},
	},
}

// The report's view of extStamp: JSON and the text cells.
var (
	extWantMPLS = []report.MPLSLabel{{Label: 24001, TC: 5, TTL: 1}, {Label: 16, S: true, TTL: 255}}
	extWantText = []string{
		"Lbl 24001 TC 5 S 0 TTL 1 / Lbl 16 TC 0 S 1 TTL 255",
		"incoming: ge-0/0/1 #12 192.0.2.1 mtu 1500; outgoing: xe-1/0/0.100 2001:db8::9",
	}
)

// TestExtensions: report -e shows the MPLS labels and interface
// information hop 2's answers carry, exactly, at hop 2 and nowhere else,
// in text and JSON, with raw sockets (root) and unprivileged sockets (the
// error queue, IP_RECVERR_RFC4884), in both families, for ICMP, UDP and
// TCP probes (the destination refuses the TCP port: an answer all the same).
func TestExtensions(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3, CableLinks: []int{1}})
	if err := l.SetStamp(1, extStamp); err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range modes {
			for _, who := range []string{"unprivileged", "root-raw"} {
				if who == "root-raw" && m.name == "tcp" {
					continue // TCP uses connect() sockets at every privilege
				}
				t.Run(fmt.Sprintf("%s/%s/%s", f.name, m.name, who), func(t *testing.T) {
					dst, want := labTarget(l, f)
					args := append([]string{"-e", "-c", "2", "-i", "0.1", f.flag, "--verbose"}, m.flags...)
					if who == "root-raw" {
						args = append(args, "--raw")
					}
					rep := reportJSON(t, l, who == "unprivileged", append(args, dst.String())...)
					checkPath(t, rep, want)
					wantBackend := map[string]string{"unprivileged": "unprivileged", "root-raw": "raw socket"}[who]
					if m.name == "tcp" {
						wantBackend = "connect()"
					}
					if !strings.Contains(rep.Backend, wantBackend) {
						t.Errorf("backend %q; want one mentioning %q", rep.Backend, wantBackend)
					}
					if !rep.Settings.Ext {
						t.Errorf("settings.ext = false; want true with -e")
					}
					for _, h := range rep.Hops {
						checkHopExt(t, h, h.TTL == 2)
					}
					text := run(t, l, who == "unprivileged", append(append([]string{"report", "-n"}, args...), dst.String())...)
					if text.code != 0 {
						t.Fatalf("report -e (text): exit %d\n%s", text.code, text.stderr)
					}
					checkTextExt(t, text.stdout)
				})
			}
		}
	}
	if n, err := l.Stamped(1); err != nil || n == 0 {
		t.Errorf("Stamped(1) = %d, %v; want the cable to have stamped messages", n, err)
	}
}

// checkHopExt judges one hop of a report -e: hop 2 carries exactly
// extStamp from its one responder, the others no labels or interfaces.
func checkHopExt(t *testing.T, h report.Hop, stamped bool) {
	t.Helper()
	var labels, ifaces int
	for _, d := range h.Details {
		labels += len(d.MPLS)
		ifaces += len(d.Interfaces)
	}
	if !stamped {
		if labels+ifaces != 0 {
			t.Errorf("hop %d details = %+v; want no labels or interfaces", h.TTL, h.Details)
		}
		return
	}
	if len(h.Details) != 1 || h.Details[0].Addr != h.Addr {
		t.Fatalf("hop %d details = %+v; want one responder's, %s's", h.TTL, h.Details, h.Addr)
	}
	d := h.Details[0]
	if fmt.Sprint(d.MPLS) != fmt.Sprint(extWantMPLS) {
		t.Errorf("hop %d labels = %+v; want %+v", h.TTL, d.MPLS, extWantMPLS)
	}
	if len(d.Interfaces) != 2 {
		t.Fatalf("hop %d interfaces = %+v; want 2", h.TTL, d.Interfaces)
	}
	in, out := d.Interfaces[0], d.Interfaces[1]
	if in.Role != "incoming" || in.IfIndex == nil || *in.IfIndex != 12 || in.Addr != "192.0.2.1" || in.Name != "ge-0/0/1" || in.MTU != 1500 {
		t.Errorf("hop %d incoming interface = %+v; want ifindex 12, 192.0.2.1, ge-0/0/1, mtu 1500", h.TTL, in)
	}
	if out.Role != "outgoing" || out.IfIndex != nil || out.Addr != "2001:db8::9" || out.Name != "xe-1/0/0.100" || out.MTU != 0 {
		t.Errorf("hop %d outgoing interface = %+v; want 2001:db8::9, xe-1/0/0.100, no ifindex or mtu", h.TTL, out)
	}
}

// checkTextExt judges the text table: the MPLS and Interfaces columns,
// hop 2's row with extStamp's cells, every other row with none.
func checkTextExt(t *testing.T, out string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	head := -1
	for i, ln := range lines {
		if strings.Contains(ln, "Hop") && strings.Contains(ln, "MPLS") && strings.Contains(ln, "Interfaces") {
			head = i
			break
		}
	}
	if head < 0 {
		t.Fatalf("no table heading with MPLS and Interfaces columns:\n%s", out)
	}
	rows := 0
	for _, ln := range lines[head+1:] {
		f := strings.Fields(ln)
		if len(f) == 0 || f[0] < "1" || f[0] > "9" || len(f[0]) > 2 {
			continue
		}
		rows++
		hasAll := strings.Contains(ln, extWantText[0]) && strings.Contains(ln, extWantText[1])
		if f[0] == "2" && !hasAll {
			t.Errorf("hop 2 row %q; want the cells %q", ln, extWantText)
		}
		if f[0] != "2" && (strings.Contains(ln, "Lbl") || strings.Contains(ln, "incoming:")) {
			t.Errorf("hop %s row %q; want no labels or interfaces", f[0], ln)
		}
	}
	if rows != 4 {
		t.Errorf("%d hop rows; want 4 (three routers and the target):\n%s", rows, out)
	}
}

// TestDashboardDetails: the dashboard's hop table shows hop 2's details
// as a compact badge ("MPLS 24001+": the top label of a deeper stack) with
// every detail line on hover, and no badge on the other hops
// (web/test/details.mjs drives headless Chromium).
func TestDashboardDetails(t *testing.T) {
	node, script := browserPrereqs(t)
	script = filepath.Join(filepath.Dir(script), "details.mjs")
	l := lab.New(t, lab.Options{Routers: 3, CableLinks: []int{1}})
	if err := l.SetStamp(1, extStamp); err != nil {
		t.Fatal(err)
	}
	ui := startUI(t, l, workDir(t))
	artifacts := t.TempDir()
	var hops []string
	for _, a := range append(l.Hops4, l.TargetAddr4) {
		hops = append(hops, a.String())
	}
	env := []string{
		"PP_TARGET=" + l.TargetAddr4.String(),
		"PP_HOPS=" + strings.Join(hops, ","),
		"PP_EXT_TTL=2",
		"PP_BADGE=MPLS 24001+",
		"PP_LINES=MPLS: " + extWantText[0] + "|Interfaces: " + extWantText[1],
		"PP_ARTIFACTS=" + artifacts,
		"PP_CHROMIUM=" + chromiumPath,
	}
	if runBrowserScenario(t, l, ui, node, script, env, 2*time.Minute, func(need string) error {
		return fmt.Errorf("unknown request %q", need)
	}) == nil && !t.Failed() {
		t.Errorf("the browser scenario did not finish")
	}
}
