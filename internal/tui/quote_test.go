package tui

import (
	"net/netip"
	"slices"
	"testing"

	"github.com/pingerplot/pingerplot/internal/packet"
	"github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/report"
)

// TestDetailLinesQuoted: NAT, DSCP and ECN share one line under the hop;
// a label stack keeps a line of its own; a hop without a quote adds none.
func TestDetailLinesQuoted(t *testing.T) {
	a := netip.MustParseAddr("10.0.2.2")
	quoted := result.Details{Quoted: true, TOS: 0x20, NAT: true, NATChecked: true}
	withMPLS := quoted
	withMPLS.MPLS = []packet.MPLSLabel{{Label: 300, S: true, TTL: 254}}
	for _, tc := range []struct {
		name string
		d    result.Details
		want []string
	}{
		{"quote", quoted, []string{"       [NAT: yes] [DSCP: CS1] [ECN: Not-ECT]"}},
		{"quote and labels", withMPLS, []string{
			"       [MPLS: Lbl 300 TC 0 S 1 TTL 254]",
			"       [NAT: yes] [DSCP: CS1] [ECN: Not-ECT]",
		}},
		{"ICMP quote: no NAT judged", result.Details{Quoted: true, TOS: 0xba}, []string{"       [DSCP: EF] [ECN: ECT(0)]"}},
		{"no quote", result.Details{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := report.Hop{TTL: 3, Addr: a.String()}
			report.SetDetails(&h, []report.Details{report.DetailsOf(a, tc.d)})
			if got := detailLines(h, a.String()); !slices.Equal(got, tc.want) {
				t.Errorf("detailLines = %q; want %q", got, tc.want)
			}
		})
	}
}
