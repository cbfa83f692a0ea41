//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/lab"
	"github.com/pingerplot/pingerplot/internal/probe"
	pres "github.com/pingerplot/pingerplot/internal/probe/result"
)

// What routers' quotes show: a translator on the path (NAT) and routers that
// re-mark DSCP or bleach ECN, seen per hop by the raw backends. The probing
// half runs inside the lab's client namespace (RunTestInside), where it sends
// one probe per TTL with the backend itself and judges each hop's Details.

// quoteCaseEnv carries a quoteCase to the inner run, as JSON.
const quoteCaseEnv = "PP_E2E_QUOTE_CASE"

// quoteCase is one trace the inner run makes and what each hop must show.
type quoteCase struct {
	Mode string // "icmp" or "udp"
	V6   bool
	Priv probe.Privilege
	TOS  uint8
	// Hops are the wanted details per TTL, from 1; the last is the target.
	Hops []hopWant
}

// hopWant is what one hop's reply must carry.
type hopWant struct {
	Addr   netip.Addr
	Quoted bool
	TOS    uint8 // judged when Quoted
	NAT    bool
}

// runQuoteCase runs c inside the client namespace of l.
func runQuoteCase(t *testing.T, l *lab.Lab, c quoteCase) {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	out, err := l.RunTestInside(t, l.Client, "TestQuoteInside", map[string]string{quoteCaseEnv: string(b)})
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if testing.Verbose() {
		t.Log(out)
	}
}

// TestQuoteInside is the probing half: it does nothing unless started by
// runQuoteCase inside a lab namespace.
func TestQuoteInside(t *testing.T) {
	if !lab.Inside() || os.Getenv(quoteCaseEnv) == "" {
		t.Skip("the probing half of the quote tests; runs inside a lab namespace only")
	}
	var c quoteCase
	if err := json.Unmarshal([]byte(os.Getenv(quoteCaseEnv)), &c); err != nil {
		t.Fatal(err)
	}
	mode, err := pres.ParseMode(c.Mode)
	if err != nil {
		t.Fatal(err)
	}
	p, err := probe.New(probe.Config{Privilege: c.Priv})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	dst := c.Hops[len(c.Hops)-1].Addr
	ps := make([]probe.Probe, len(c.Hops))
	for i := range ps {
		ps[i] = probe.Probe{Dst: dst, TTL: i + 1, Mode: mode, Port: 33434, TOS: c.TOS, Timeout: 2 * time.Second}
	}
	// Three rounds: each must show the same, so one lucky answer cannot pass.
	for round := range 3 {
		got := make([]probe.Reply, len(ps))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := p.ProbeAll(ctx, ps, 0, func(i int, r probe.Reply) bool { got[i] = r; return true })
		cancel()
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for i, w := range c.Hops {
			r := got[i]
			t.Logf("round %d ttl %d: %v from %v quoted=%v tos=%#02x (%s) nat=%v", round, i+1, r.Kind, r.From,
				r.Quoted, r.TOS, pres.FormatTOS(r.TOS), r.NAT)
			if r.From != w.Addr {
				t.Errorf("round %d ttl %d: %v from %v (%v); want an answer from %v", round, i+1, r.Kind, r.From, r.Err, w.Addr)
				continue
			}
			if r.Quoted != w.Quoted {
				t.Errorf("round %d ttl %d: Quoted = %v; want %v", round, i+1, r.Quoted, w.Quoted)
			}
			if w.Quoted && r.TOS != w.TOS {
				t.Errorf("round %d ttl %d: quoted TOS %#02x (%s); want %#02x (%s)", round, i+1,
					r.TOS, pres.FormatTOS(r.TOS), w.TOS, pres.FormatTOS(w.TOS))
			}
			if r.NAT != w.NAT {
				t.Errorf("round %d ttl %d: NAT = %v; want %v", round, i+1, r.NAT, w.NAT)
			}
		}
	}
}

// path returns the addresses a trace of family v6 sees in lab l: the
// routers, then the target.
func path(l *lab.Lab, v6 bool) []netip.Addr {
	if v6 {
		return append(append([]netip.Addr(nil), l.Hops6...), l.TargetAddr6)
	}
	return append(append([]netip.Addr(nil), l.Hops4...), l.TargetAddr4)
}

// TestNATDetection: raw UDP probes through a translator at router 2. A
// translator that leaves its mark in the quotes (stateless) shows at every
// hop after it, not at it or before it, and its probes still match; Linux's
// conntrack masquerade translates the quotes back exactly, so every hop
// answers and none can show it.
func TestNATDetection(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 4})
	const natRouter = 1 // 0-based: router 2, hop 2
	for _, tc := range []struct {
		name string
		mode lab.NATMode
		// natFrom is the first TTL whose quote shows the translation; 0 for none.
		natFrom int
	}{
		{"stateless translator", lab.NATStateless, natRouter + 2},
		{"conntrack masquerade", lab.NATMasquerade, 0},
		{"no translator", lab.NATOff, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := l.SetNAT(natRouter, tc.mode); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = l.SetNAT(natRouter, lab.NATOff) })
			var hops []hopWant
			for i, a := range path(l, false) {
				hops = append(hops, hopWant{Addr: a, Quoted: true, NAT: tc.natFrom > 0 && i+1 >= tc.natFrom})
			}
			runQuoteCase(t, l, quoteCase{Mode: "udp", Priv: probe.Raw, Hops: hops})
			// The same through the product: report -e's NAT column.
			rep := reportJSON(t, l, false, "-e", "-u", "--raw", "-4", "-c", "2", "-i", "0.1", l.TargetAddr4.String())
			checkPath(t, rep, path(l, false))
			for i, h := range rep.Hops {
				want := tc.natFrom > 0 && i+1 >= tc.natFrom
				var got *bool
				for _, d := range h.Details {
					if d.Addr == h.Addr {
						got = d.NAT
					}
				}
				if got == nil || *got != want {
					t.Errorf("report -e hop %d (%s): NAT %s; want %v (details %+v)", h.TTL, h.Addr, boolPtr(got), want, h.Details)
				}
			}
		})
	}
}

// boolPtr shows an optional bool: "absent", "true" or "false".
func boolPtr(b *bool) string {
	if b == nil {
		return "absent"
	}
	return fmt.Sprint(*b)
}

// TestDSCPAndECN: probes sent as EF with ECT(0) cross a router that re-marks
// the DSCP to CS1 (router 2) and then one that bleaches ECN (router 3). Each
// hop's quote shows what arrived there: EF+ECT(0) up to and including the
// re-marking router (its own quote is taken before it forwards), CS1+ECT(0)
// after it, CS1+Not-ECT after the bleaching one. Both families, raw ICMP
// and UDP; the unprivileged sockets see no quoted header at all.
func TestDSCPAndECN(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 4})
	if err := l.SetMarking(1, lab.Marking{SetDSCP: true, DSCP: 8}); err != nil {
		t.Fatal(err)
	}
	if err := l.SetMarking(2, lab.Marking{BleachECN: true}); err != nil {
		t.Fatal(err)
	}
	const (
		sent     = 46<<2 | pres.ECT0 // EF + ECT(0)
		remarked = 8<<2 | pres.ECT0  // CS1 + ECT(0)
		bleached = 8 << 2            // CS1 + Not-ECT
	)
	arrived := []uint8{sent, sent, remarked, bleached, bleached}
	for _, v6 := range []bool{false, true} {
		for _, mode := range []string{"icmp", "udp"} {
			for _, priv := range []probe.Privilege{probe.Raw, probe.Unprivileged} {
				name := fmt.Sprintf("%s/%s/%s", map[bool]string{false: "ipv4", true: "ipv6"}[v6], mode,
					map[probe.Privilege]string{probe.Raw: "raw", probe.Unprivileged: "unprivileged"}[priv])
				t.Run(name, func(t *testing.T) {
					var hops []hopWant
					addrs := path(l, v6)
					for i, a := range addrs {
						// An echo reply is the target's own packet, not a quote.
						quoted := priv == probe.Raw && !(mode == "icmp" && i == len(addrs)-1)
						hops = append(hops, hopWant{Addr: a, Quoted: quoted, TOS: arrived[i]})
					}
					runQuoteCase(t, l, quoteCase{Mode: mode, V6: v6, Priv: priv, TOS: sent, Hops: hops})
					if mode != "udp" {
						return
					}
					// The same through the product: report --tos -e.
					args := []string{"-e", "-u", "--tos", "EF+ECT(0)", "-c", "2", "-i", "0.1",
						map[bool]string{false: "-4", true: "-6"}[v6], map[probe.Privilege]string{probe.Raw: "--raw", probe.Unprivileged: "--unprivileged"}[priv],
						addrs[len(addrs)-1].String()}
					rep := reportJSON(t, l, priv == probe.Unprivileged, args...)
					checkPath(t, rep, addrs)
					for i, h := range rep.Hops {
						var got string
						for _, d := range h.Details {
							if d.Addr == h.Addr && d.TOS != nil {
								got = d.DSCP + "+" + d.ECN
							}
						}
						want := ""
						if priv == probe.Raw {
							want = pres.DSCPName(pres.DSCP(arrived[i])) + "+" + pres.ECNName(pres.ECN(arrived[i]))
						}
						if got != want {
							t.Errorf("report -e hop %d (%s): DSCP+ECN %q; want %q", h.TTL, h.Addr, got, want)
						}
					}
				})
			}
		}
	}
}

// TestDashboardQuote: the dashboard, run as root so its UDP probes use raw
// sockets, shows each hop's quote as a badge in its row: probes sent
// EF+ECT(0) arrive so at hops 1 and 2; router 2 translates and re-marks
// them to CS1, so hop 3 on shows NAT and CS1; router 3 bleaches ECN, so
// hop 4 on shows Not-ECT (web/test/quote.mjs drives headless Chromium).
func TestDashboardQuote(t *testing.T) {
	node, script := browserPrereqs(t)
	script = filepath.Join(filepath.Dir(script), "quote.mjs")
	l := lab.New(t, lab.Options{Routers: 4})
	if err := l.SetNAT(1, lab.NATStateless); err != nil {
		t.Fatal(err)
	}
	if err := l.SetMarking(1, lab.Marking{SetDSCP: true, DSCP: 8}); err != nil {
		t.Fatal(err)
	}
	if err := l.SetMarking(2, lab.Marking{BleachECN: true}); err != nil {
		t.Fatal(err)
	}
	ui := startRootUI(t, l, workDir(t))
	var hops []string
	for _, a := range path(l, false) {
		hops = append(hops, a.String())
	}
	env := []string{
		"PP_TARGET=" + l.TargetAddr4.String(),
		`PP_SETTINGS={"interval": 0.2, "mode": "udp", "tos": "EF+ECT(0)"}`,
		"PP_HOPS=" + strings.Join(hops, ","),
		"PP_BADGES=" + strings.Join([]string{"EF ECT(0)", "EF ECT(0)", "NAT CS1 ECT(0)", "NAT CS1 Not-ECT", "NAT CS1 Not-ECT"}, "|"),
		"PP_ARTIFACTS=" + t.TempDir(),
		"PP_CHROMIUM=" + chromiumPath,
	}
	if runBrowserScenario(t, l, ui, node, script, env, 2*time.Minute, func(need string) error {
		return fmt.Errorf("unknown request %q", need)
	}) == nil && !t.Failed() {
		t.Errorf("the browser scenario did not finish")
	}
	ui.stop(t)
}

// startRootUI starts `pingerplot ui` as root in the client namespace, so
// that it probes with raw sockets (startUI runs it unprivileged).
func startRootUI(t *testing.T, l *lab.Lab, dir string) *uiProc {
	t.Helper()
	u := &uiProc{out: &syncBuffer{}}
	u.cmd = l.Command(context.Background(), l.Client, binary(t), "ui", "--no-browser", "--port", "0", "--config-dir", dir)
	u.cmd.Stdout, u.cmd.Stderr = u.out, u.out
	if err := u.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if u.cmd.ProcessState == nil {
			_ = u.cmd.Process.Kill()
			_ = u.cmd.Wait()
		}
	})
	waitFor(t, 20*time.Second, "the dashboard URL", func() bool {
		m := dashboardURL.FindStringSubmatch(u.out.String())
		if m != nil {
			u.url = m[1]
		}
		return m != nil
	})
	return u
}
