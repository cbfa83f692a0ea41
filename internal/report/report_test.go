package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/hopstat"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// sample builds a report from a small path folded through hopstat: hop 2
// never answers, hop 3 has two responders (ECMP).
func sample() Report {
	a1 := netip.MustParseAddr("10.0.1.1")
	a3, a3b := netip.MustParseAddr("10.0.3.1"), netip.MustParseAddr("10.0.33.1")
	dst := netip.MustParseAddr("192.0.2.7")
	p := hopstat.Path{Window: 10}
	for i := 0; i < 4; i++ {
		r3 := a3
		if i == 3 {
			r3 = a3b
		}
		p.AddRound([]hopstat.Sample{
			{TTL: 1, From: a1, RTT: ms(1 + 0.1*float64(i))},
			{TTL: 2, Lost: true},
			{TTL: 3, From: r3, RTT: ms(5 + float64(i))},
			{TTL: 4, From: dst, RTT: ms(10 + 0.5*float64(i)), Reached: true, Lost: i == 1},
		})
	}
	names := map[netip.Addr]string{a1: "gw.example", dst: "dst.example"}
	start := time.Date(2026, 11, 29, 5, 0, 0, 0, time.UTC)
	return Report{
		FormatVersion: FormatVersion, Target: "dst.example", Addr: dst.String(), Mode: "icmp",
		Settings: Settings{Count: 4, IntervalS: 1, TimeoutS: 1, Size: 36, FirstTTL: 1, MaxHops: 30, DNS: true, AddressFam: "ipv4"},
		Start:    start, End: start.Add(4 * time.Second), Rounds: 4, Reached: true,
		Hops: Hops(p.Hops(), func(a netip.Addr) string { return names[a] }),
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestFormats(t *testing.T) {
	r := sample()
	for _, f := range []struct {
		name  string
		write func(*bytes.Buffer, Report) error
	}{
		{"report.txt", func(b *bytes.Buffer, r Report) error { return WriteText(b, r) }},
		{"report.json", func(b *bytes.Buffer, r Report) error { return WriteJSON(b, r) }},
		{"report.csv", func(b *bytes.Buffer, r Report) error { return WriteCSV(b, r) }},
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

// sampleAS is sample with -z: the first hop and one of the ECMP responders
// have a known AS, the others not.
func sampleAS() Report {
	r := sample()
	r.Settings.ASLookup = true
	known := map[netip.Addr]struct {
		asn  uint32
		name string
	}{
		netip.MustParseAddr("10.0.1.1"):  {64512, "Lab WAN"},
		netip.MustParseAddr("10.0.33.1"): {64513, "Lab, \"Backup\""},
	}
	AddAS(r.Hops, func(a netip.Addr) (uint32, string) { k := known[a]; return k.asn, k.name })
	return r
}

func TestFormatsAS(t *testing.T) {
	r := sampleAS()
	for _, f := range []struct {
		name  string
		write func(*bytes.Buffer, Report) error
	}{
		{"report-z.txt", func(b *bytes.Buffer, r Report) error { return WriteText(b, r) }},
		{"report-z.json", func(b *bytes.Buffer, r Report) error { return WriteJSON(b, r) }},
		{"report-z.csv", func(b *bytes.Buffer, r Report) error { return WriteCSV(b, r) }},
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

// TestCSVColumnsKeepPositions: columns are only added at the end.
func TestCSVColumnsKeepPositions(t *testing.T) {
	v1 := []string{"format_version", "target", "addr", "mode", "start", "end", "ttl", "hop_addr", "host",
		"sent", "recv", "loss_pct", "last_ms", "avg_ms", "min_ms", "max_ms", "stdev_ms", "jitter_ms", "median_ms", "p95_ms", "destination", "others"}
	for i, c := range v1 {
		if csvHeader[i] != c {
			t.Errorf("column %d is %q; want %q (a column moved)", i, csvHeader[i], c)
		}
	}
	rows, err := csv.NewReader(bytes.NewReader(mustCSV(t, sampleAS()))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) int {
		for i, c := range rows[0] {
			if c == name {
				return i
			}
		}
		t.Fatalf("no column %q", name)
		return -1
	}
	if got := rows[1][col("asn")] + "|" + rows[1][col("as_name")]; got != "64512|Lab WAN" {
		t.Errorf("hop 1 asn|as_name = %q; want 64512|Lab WAN", got)
	}
	if got := rows[2][col("asn")]; got != "" {
		t.Errorf("silent hop asn = %q; want empty", got)
	}
	if got := rows[3][col("others_asn")]; got != "10.0.33.1:64513" {
		t.Errorf("ECMP hop others_asn = %q; want 10.0.33.1:64513", got)
	}
}

func mustCSV(t *testing.T, r Report) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := WriteCSV(&b, r); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestJSONAS(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, sampleAS()); err != nil {
		t.Fatal(err)
	}
	var m struct {
		Settings map[string]any   `json:"settings"`
		Hops     []map[string]any `json:"hops"`
	}
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m.Settings["aslookup"] != true {
		t.Errorf("settings.aslookup = %v; want true", m.Settings["aslookup"])
	}
	if h := m.Hops[0]; h["asn"] != float64(64512) || h["as_name"] != "Lab WAN" {
		t.Errorf("hop 1 asn, as_name = %v, %v; want 64512, Lab WAN", h["asn"], h["as_name"])
	}
	if _, ok := m.Hops[3]["asn"]; ok {
		t.Errorf("a hop with no known AS has an asn field: %v", m.Hops[3])
	}
	others := m.Hops[2]["others"].([]any)
	if o := others[0].(map[string]any); o["asn"] != float64(64513) {
		t.Errorf("other responder asn = %v; want 64513", o["asn"])
	}
}

func TestHops(t *testing.T) {
	hops := sample().Hops
	if len(hops) != 4 {
		t.Fatalf("got %d hops; want 4", len(hops))
	}
	if h := hops[1]; h.Addr != "" || h.LossPct != 100 || h.AvgMs != nil || h.Recv != 0 {
		t.Errorf("silent hop = %+v; want no address, 100%% loss, null RTTs", h)
	}
	if h := hops[2]; h.Addr != "10.0.3.1" || len(h.Others) != 1 || h.Others[0].Addr != "10.0.33.1" || h.Others[0].Recv != 1 {
		t.Errorf("ECMP hop = %+v; want 10.0.3.1 with 10.0.33.1 (1 reply) among others", h)
	}
	if h := hops[3]; !h.Dest || h.LossPct != 25 || h.Host != "dst.example" || *h.MinMs != 10 {
		t.Errorf("destination = %+v; want destination, 25%% loss, named, best 10 ms", h)
	}
}

func TestJSONFieldNames(t *testing.T) {
	var b bytes.Buffer
	if err := WriteJSON(&b, sample()); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"format_version", "target", "addr", "mode", "settings", "start", "end", "hops"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	hop := m["hops"].([]any)[0].(map[string]any)
	for _, k := range []string{"ttl", "addr", "host", "sent", "recv", "loss_pct", "last_ms", "avg_ms", "min_ms", "max_ms", "stdev_ms", "jitter_ms"} {
		if _, ok := hop[k]; !ok {
			t.Errorf("hop JSON lacks %q", k)
		}
	}
}

func TestCSVParses(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, sample()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("got %d rows; want a header and 4 hops", len(rows))
	}
	want := len(csvHeader) + len(DetailColumns())
	for i, r := range rows {
		if len(r) != want {
			t.Errorf("row %d has %d columns; want %d", i, len(r), want)
		}
	}
}

// sampleTCP is a final-hop-only TCP check: the destination as hop 1, each
// round's answer an accepted or refused connection as refused says.
func sampleTCP(refused ...bool) Report {
	dst := netip.MustParseAddr("192.0.2.7")
	var p hopstat.Path
	for i, ref := range refused {
		p.AddRound([]hopstat.Sample{{TTL: 1, From: dst, RTT: ms(2 + 0.5*float64(i)), Reached: true, Refused: ref}})
	}
	start := time.Date(2026, 11, 29, 5, 0, 0, 0, time.UTC)
	r := Report{
		FormatVersion: FormatVersion, Target: "svc.example", Addr: dst.String(), Mode: "tcp",
		Settings: Settings{Count: len(refused), IntervalS: 1, TimeoutS: 1, Port: 8080, Size: 36, FirstTTL: 1, MaxHops: 30, AddressFam: "ipv4"},
		Start:    start, End: start.Add(time.Duration(len(refused)) * time.Second), Rounds: len(refused), Reached: true,
		Hops: Hops(p.Hops(), nil),
	}
	r.PortState = PortStateOf(r.Mode, r.Hops)
	return r
}

// TestFormatsPortState: report -T says whether the destination's port was
// open (SYN-ACK) or closed (RST), and counts refusals apart from loss.
func TestFormatsPortState(t *testing.T) {
	runs := []struct {
		name      string
		refused   []bool
		wantState string
	}{
		{"closed", []bool{true, true, true}, PortClosed},
		{"open", []bool{false, false, false}, PortOpen},
		{"mixed", []bool{false, true, false}, PortMixed},
	}
	for _, run := range runs {
		r := sampleTCP(run.refused...)
		if r.PortState != run.wantState || r.Hops[0].LossPct != 0 {
			t.Errorf("%s: port state %q, loss %v%%; want %q, 0%% (a refusal is an answer)", run.name, r.PortState, r.Hops[0].LossPct, run.wantState)
		}
		for _, f := range []struct {
			ext   string
			write func(*bytes.Buffer, Report) error
		}{
			{"txt", func(b *bytes.Buffer, r Report) error { return WriteText(b, r) }},
			{"json", func(b *bytes.Buffer, r Report) error { return WriteJSON(b, r) }},
			{"csv", func(b *bytes.Buffer, r Report) error { return WriteCSV(b, r) }},
		} {
			name := "report-tcp-" + run.name + "." + f.ext
			t.Run(name, func(t *testing.T) {
				var b bytes.Buffer
				if err := f.write(&b, r); err != nil {
					t.Fatal(err)
				}
				golden(t, name, b.Bytes())
			})
		}
	}
	if s := PortStateOf("icmp", sample().Hops); s != "" {
		t.Errorf("PortStateOf(icmp) = %q; want none", s)
	}
}
