package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/netip"
	"testing"

	"github.com/pingerplot/pingerplot/internal/packet"
	"github.com/pingerplot/pingerplot/internal/probe/result"
)

// sampleExt is sample with -e: hop 1 sent an MPLS label stack of two
// entries and RFC 5837 interface objects; of hop 3's two responders only
// the less frequent one sent anything.
func sampleExt() Report {
	r := sample()
	r.Settings.Ext = true
	hop1 := DetailsOf(netip.MustParseAddr("10.0.1.1"), result.Details{
		MPLS: []packet.MPLSLabel{{Label: 24001, TC: 5, TTL: 1}, {Label: 16, S: true, TTL: 1}},
		Interfaces: []packet.InterfaceInfo{
			{Role: packet.RoleIncoming, IfIndex: 12, HasIfIndex: true, Addr: netip.MustParseAddr("10.0.0.2"), Name: "ge-0/0/1", MTU: 1500},
			{Role: packet.RoleOutgoing, Name: "ge-0/0/2"},
		},
	})
	SetDetails(&r.Hops[0], []Details{hop1})
	SetDetails(&r.Hops[2], []Details{DetailsOf(netip.MustParseAddr("10.0.33.1"), result.Details{
		MPLS: []packet.MPLSLabel{{Label: 300, S: true, TTL: 254}},
	})})
	return r
}

func TestFormatsExt(t *testing.T) {
	r := sampleExt()
	for _, f := range []struct {
		name  string
		write func(*bytes.Buffer, Report) error
	}{
		{"report-e.txt", func(b *bytes.Buffer, r Report) error { return WriteText(b, r) }},
		{"report-e.json", func(b *bytes.Buffer, r Report) error { return WriteJSON(b, r) }},
		{"report-e.csv", func(b *bytes.Buffer, r Report) error { return WriteCSV(b, r) }},
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

func TestDetailCells(t *testing.T) {
	idx := uint32(7)
	for _, tc := range []struct {
		name   string
		d      Details
		column string
		want   string
	}{
		{"no labels", Details{Addr: "10.0.0.1"}, "mpls", ""},
		{"one label", Details{MPLS: []MPLSLabel{{Label: 1048575, TC: 7, S: true, TTL: 255}}}, "mpls", "Lbl 1048575 TC 7 S 1 TTL 255"},
		{"stack", Details{MPLS: []MPLSLabel{{Label: 1, TTL: 2}, {Label: 3, S: true, TTL: 4}}}, "mpls", "Lbl 1 TC 0 S 0 TTL 2 / Lbl 3 TC 0 S 1 TTL 4"},
		{"no interfaces", Details{MPLS: []MPLSLabel{{Label: 1}}}, "interfaces", ""},
		{"role only", Details{Interfaces: []Interface{{Role: "next-hop"}}}, "interfaces", "next-hop:"},
		{"every field", Details{Interfaces: []Interface{{Role: "incoming", IfIndex: &idx, Addr: "2001:db8::1", Name: "eth0", MTU: 9000}}},
			"interfaces", "incoming: eth0 #7 2001:db8::1 mtu 9000"},
		{"two objects", Details{Interfaces: []Interface{{Role: "incoming", Name: "a"}, {Role: "outgoing", MTU: 1400}}},
			"interfaces", "incoming: a; outgoing: mtu 1400"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, c := range DetailColumns() {
				if c.CSV == tc.column {
					if got := c.Cell(tc.d); got != tc.want {
						t.Errorf("%s cell = %q; want %q", c.CSV, got, tc.want)
					}
					return
				}
			}
			t.Fatalf("no detail column %q", tc.column)
		})
	}
}

// TestDetailsOrder: details follow the hop's responders, primary first.
func TestDetailsOrder(t *testing.T) {
	h := Hop{Addr: "10.0.0.1", Others: []Responder{{Addr: "10.0.0.2"}, {Addr: "10.0.0.3"}}}
	SetDetails(&h, []Details{{Addr: "10.0.0.9"}, {Addr: "10.0.0.3"}, {Addr: "10.0.0.1"}, {Addr: "10.0.0.2"}})
	var got []string
	for _, d := range h.Details {
		got = append(got, d.Addr)
	}
	want := []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.9"}
	if len(got) != len(want) {
		t.Fatalf("order = %v; want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("order = %v; want %v", got, want)
		}
	}
}

// TestDetailsJSONAndCSV reads the values back from the JSON and the CSV.
func TestDetailsJSONAndCSV(t *testing.T) {
	r := sampleExt()
	var b bytes.Buffer
	if err := WriteJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	d := back.Hops[0].Details
	if len(d) != 1 || len(d[0].MPLS) != 2 || d[0].MPLS[0] != (MPLSLabel{Label: 24001, TC: 5, TTL: 1}) || d[0].MPLS[1] != (MPLSLabel{Label: 16, S: true, TTL: 1}) {
		t.Errorf("hop 1 details from JSON = %+v; want labels 24001 (TC 5, TTL 1) and 16 (S, TTL 1)", d)
	}
	if in := d[0].Interfaces[0]; in.IfIndex == nil || *in.IfIndex != 12 || in.Addr != "10.0.0.2" || in.Name != "ge-0/0/1" || in.MTU != 1500 || in.Role != "incoming" {
		t.Errorf("hop 1 incoming interface from JSON = %+v; want ifindex 12, 10.0.0.2, ge-0/0/1, mtu 1500", in)
	}
	if out := d[0].Interfaces[1]; out.IfIndex != nil || out.Addr != "" || out.Role != "outgoing" {
		t.Errorf("hop 1 outgoing interface from JSON = %+v; want only a role and a name", out)
	}
	if len(back.Hops[1].Details) != 0 {
		t.Errorf("silent hop details = %+v; want none", back.Hops[1].Details)
	}
	rows, err := csv.NewReader(bytes.NewReader(mustCSV(t, r))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	for _, tc := range []struct {
		row       int
		col, want string
	}{
		{1, "mpls", "10.0.1.1=Lbl 24001 TC 5 S 0 TTL 1 / Lbl 16 TC 0 S 1 TTL 1"},
		{1, "interfaces", "10.0.1.1=incoming: ge-0/0/1 #12 10.0.0.2 mtu 1500; outgoing: ge-0/0/2"},
		{2, "mpls", ""},
		{3, "mpls", "10.0.33.1=Lbl 300 TC 0 S 1 TTL 254"},
		{3, "interfaces", ""},
	} {
		i, ok := col[tc.col]
		if !ok {
			t.Fatalf("no CSV column %q", tc.col)
		}
		if got := rows[tc.row][i]; got != tc.want {
			t.Errorf("row %d %s = %q; want %q", tc.row, tc.col, got, tc.want)
		}
	}
}
