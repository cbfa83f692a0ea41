//go:build linux

package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pingerplot/pingerplot/internal/lab"
)

// Path MTU discovery against a lab whose link between router 2 and router 3
// carries 1400 bytes: router 2 answers larger don't-fragment probes with
// "fragmentation needed" (IPv4) or "packet too big" (IPv6), so report --pmtu
// must find 1400 at hop 2 and router 2's address, with raw sockets (root)
// and unprivileged ones, ICMP and UDP, both families; and 1500 with no hop
// on a lab without the narrow link. Text and CSV show the same result.
func TestPathMTU(t *testing.T) {
	narrow := lab.New(t, lab.Options{Routers: 3})
	if err := narrow.SetLinkMTU(2, 1400); err != nil {
		t.Fatal(err)
	}
	clear := lab.New(t, lab.Options{Routers: 3})
	for _, f := range families {
		for _, m := range modes[:2] { // a TCP target's discovery sends ICMP
			for _, who := range []string{"unprivileged", "root-raw"} {
				t.Run(fmt.Sprintf("%s/%s/%s", f.name, m.name, who), func(t *testing.T) {
					args := append([]string{"--pmtu", "-c", "1", f.flag}, m.flags...)
					if who == "root-raw" {
						args = append(args, "--raw")
					}
					unpriv := who == "unprivileged"
					dst, _ := labTarget(narrow, f)
					hop := narrow.Hops4[1]
					if f.name == "ipv6" {
						hop = narrow.Hops6[1]
					}
					rep := reportJSON(t, narrow, unpriv, append(args, dst.String())...)
					p := rep.PathMTU
					if p == nil {
						t.Fatalf("report has no path_mtu; want one with --pmtu")
					}
					if p.MTU != 1400 || p.HopTTL != 2 || p.HopAddr != hop || !p.Reported || p.Local {
						t.Errorf("path MTU = %d at hop %d (%v), reported %v, local %v (%s); want 1400 at hop 2 (%v), reported",
							p.MTU, p.HopTTL, p.HopAddr, p.Reported, p.Local, p.Err, hop)
					}

					dst, _ = labTarget(clear, f)
					rep = reportJSON(t, clear, unpriv, append(args, dst.String())...)
					if p := rep.PathMTU; p == nil || p.MTU != 1500 || p.HopTTL != 0 || p.HopAddr.IsValid() {
						t.Errorf("clear lab: path MTU %+v; want 1500 and no hop", p)
					}
				})
			}
		}
	}
	t.Run("text-and-csv", func(t *testing.T) {
		dst := narrow.TargetAddr4.String()
		r := run(t, narrow, true, "report", "--pmtu", "-n", "-c", "1", dst)
		want := fmt.Sprintf("Path MTU: 1400 bytes; larger packets stop at hop 2 (%s)", narrow.Hops4[1])
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("text report (exit %d) lacks %q:\n%s%s", r.code, want, r.stdout, r.stderr)
		}
		r = run(t, narrow, true, "report", "--pmtu", "--csv", "-n", "-c", "1", dst)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if r.code != 0 || len(lines) < 2 {
			t.Fatalf("CSV report (exit %d):\n%s%s", r.code, r.stdout, r.stderr)
		}
		head, row := strings.Split(lines[0], ","), strings.Split(lines[1], ",")
		got := map[string]string{}
		for i, h := range head {
			if i < len(row) {
				got[h] = row[i]
			}
		}
		wantCols := map[string]string{"path_mtu": "1400", "path_mtu_hop_ttl": "2", "path_mtu_hop_addr": narrow.Hops4[1].String(), "path_mtu_source": "reported"}
		for k, v := range wantCols {
			if got[k] != v {
				t.Errorf("CSV %s = %q; want %q", k, got[k], v)
			}
		}
	})
}
