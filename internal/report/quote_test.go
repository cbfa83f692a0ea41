package report

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/pingerplot/pingerplot/internal/probe/result"
)

// sampleQuoted is sample traced with raw UDP probes sent EF+ECT(0) with -e:
// hop 1 quotes them as sent, a translator between hops 1 and 3 shows at
// hop 3 (where also the DSCP was re-marked to CS1 and ECN bleached), and
// the destination's port unreachable shows both.
func sampleQuoted() Report {
	r := sample()
	r.Mode, r.Settings.Ext, r.Settings.Port = "udp", true, 33434
	r.Backend = "UDP/IPv4: raw socket (CAP_NET_RAW)"
	q := func(tos uint8, nat bool) result.Details {
		return result.Details{Quoted: true, TOS: tos, NAT: nat, NATChecked: true}
	}
	SetDetails(&r.Hops[0], []Details{DetailsOf(netip.MustParseAddr("10.0.1.1"), q(0xba, false))})
	SetDetails(&r.Hops[2], []Details{
		DetailsOf(netip.MustParseAddr("10.0.3.1"), q(0x20, true)),
		DetailsOf(netip.MustParseAddr("10.0.33.1"), q(0x20, true)),
	})
	SetDetails(&r.Hops[3], []Details{DetailsOf(netip.MustParseAddr("192.0.2.7"), q(0x20, true))})
	return r
}

func TestFormatsQuoted(t *testing.T) {
	r := sampleQuoted()
	for _, f := range []struct {
		name  string
		write func(*bytes.Buffer, Report) error
	}{
		{"report-quote.txt", func(b *bytes.Buffer, r Report) error { return WriteText(b, r) }},
		{"report-quote.json", func(b *bytes.Buffer, r Report) error { return WriteJSON(b, r) }},
		{"report-quote.csv", func(b *bytes.Buffer, r Report) error { return WriteCSV(b, r) }},
	} {
		t.Run(f.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := f.write(&b, r); err != nil {
				t.Fatal(err)
			}
			golden(t, f.name, b.Bytes())
		})
	}
}

func TestQuoteCells(t *testing.T) {
	a := netip.MustParseAddr("10.0.1.1")
	cell := func(d Details, head string) string {
		for _, c := range DetailColumns() {
			if c.Head == head {
				return c.Cell(d)
			}
		}
		t.Fatalf("no detail column %q", head)
		return ""
	}
	for _, tc := range []struct {
		name           string
		d              result.Details
		nat, dscp, ecn string
	}{
		{"no quote (unprivileged)", result.Details{}, "", "", ""},
		{"ICMP quote: NAT not judged", result.Details{Quoted: true, TOS: 0xb8}, "", "EF", "Not-ECT"},
		{"UDP quote, no NAT", result.Details{Quoted: true, TOS: 0x8b, NATChecked: true}, "no", "AF41", "CE"},
		{"UDP quote, NAT", result.Details{Quoted: true, TOS: 0x01, NAT: true, NATChecked: true}, "yes", "CS0", "ECT(1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := DetailsOf(a, tc.d)
			for _, c := range []struct{ head, want string }{{"NAT", tc.nat}, {"DSCP", tc.dscp}, {"ECN", tc.ecn}} {
				if got := cell(d, c.head); got != c.want {
					t.Errorf("%s cell = %q; want %q", c.head, got, c.want)
				}
			}
		})
	}
}

func TestQuoteNote(t *testing.T) {
	unpriv := sample()
	unpriv.Settings.Ext, unpriv.Mode, unpriv.Backend = true, "udp", "UDP/IPv4: unprivileged UDP socket"
	tcp := sample()
	tcp.Settings.Ext, tcp.Mode, tcp.Backend = true, "tcp", "TCP/IPv4: non-blocking connect() per probe"
	rawNone := sample()
	rawNone.Settings.Ext, rawNone.Mode, rawNone.Backend = true, "udp", "UDP/IPv4: raw socket (CAP_NET_RAW)"
	rawICMP := sample()
	rawICMP.Settings.Ext, rawICMP.Backend = true, "ICMP/IPv4: raw socket (CAP_NET_RAW)"
	SetDetails(&rawICMP.Hops[0], []Details{DetailsOf(netip.MustParseAddr("10.0.1.1"), result.Details{Quoted: true, TOS: 0})})
	for _, tc := range []struct {
		name string
		r    Report
		want string // a part of the note; "" for no note
	}{
		{"unprivileged: no quotes", unpriv, "--raw"},
		{"TCP: own sockets", tcp, "TCP probes"},
		{"raw, but no answer quotes", rawNone, "no answer quoted"},
		{"raw ICMP: quotes, NAT not judged", rawICMP, "only raw IPv4 UDP probes"},
		{"raw UDP: everything judged", sampleQuoted(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := quoteNote(tc.r)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Errorf("quoteNote = %q; want one containing %q", got, tc.want)
			}
		})
	}
}
