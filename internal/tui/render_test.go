package tui

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/packet"
	"github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/trace"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

var (
	a1   = netip.MustParseAddr("10.0.1.1")
	a3   = netip.MustParseAddr("10.0.3.1")
	a3b  = netip.MustParseAddr("10.0.33.1")
	dst  = netip.MustParseAddr("192.0.2.7")
	t0   = time.Date(2026, 11, 29, 5, 0, 0, 0, time.UTC)
	long = "a-very-long-router-name.core.backbone.example.net"
)

// names knows hop 1 (a name too long for any column) and the destination.
func names(a netip.Addr) string {
	return map[netip.Addr]string{a1: long, dst: "dst.example"}[a]
}

// sample is a 4-round path folded through hopstat, as the monitor does:
// hop 2 never answers, hop 3 has two responders (ECMP), the destination
// lost one probe of four. Its history strip has RTTs 1…8 ms at hop 3.
func sample() monitor.Snapshot {
	p := hopstat.Path{Window: 10}
	var hist [4][]monitor.Sample
	for i := range 4 {
		round := i + 1
		r3 := a3
		if i == 3 {
			r3 = a3b
		}
		smp := []hopstat.Sample{
			{TTL: 1, From: a1, RTT: ms(1 + 0.1*float64(i))},
			{TTL: 2, Lost: true},
			{TTL: 3, From: r3, RTT: ms(2 * float64(i+1))},
			{TTL: 4, From: dst, RTT: ms(10 + 0.5*float64(i)), Reached: true, Lost: i == 1},
		}
		if i == 1 {
			smp[3].From = netip.Addr{}
		}
		p.AddRound(smp)
		for j, s := range smp {
			hist[j] = append(hist[j], monitor.Sample{Round: round, Time: t0.Add(time.Duration(i) * time.Second),
				From: s.From, RTT: s.RTT, Lost: s.Lost, Reached: s.Reached && !s.Lost})
		}
	}
	var hops []monitor.Hop
	for i, h := range p.Hops() {
		hops = append(hops, monitor.Hop{Hop: h, History: hist[i]})
	}
	return monitor.Snapshot{
		Target: monitor.Target{ID: "dst.example", Host: "dst.example", Addr: dst,
			Settings: monitor.Settings{Trace: trace.Config{Mode: result.ICMP}, Interval: time.Second}},
		State: monitor.Running, Rounds: 4, Started: t0, Last: t0.Add(4 * time.Second), Hops: hops,
		Dest: monitor.Destination{TTL: 4, Sent: 4, LossPct: 25, Latency: ms(10.833), Jitter: ms(0.75), R: 30.1, MOS: 1.6},
	}
}

func sampleFrame() Frame {
	return Frame{
		Snapshots: []monitor.Snapshot{sample()},
		Events: []monitor.Event{{Time: t0.Add(3 * time.Second), Target: "dst.example", Kind: monitor.RouteChange, TTL: 3,
			Message: "hop 3: 10.0.3.1 → 10.0.33.1"}},
		View:  View{Names: true},
		Now:   t0.Add(4 * time.Second),
		Names: names,
	}
}

func golden(t *testing.T, name string, lines []string) {
	t.Helper()
	got := []byte(strings.Join(lines, "\n") + "\n")
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

// checkSize fails when lines do not fit width × height.
func checkSize(t *testing.T, lines []string, width, height int) {
	t.Helper()
	if len(lines) > height {
		t.Errorf("%d lines; want at most %d", len(lines), height)
	}
	for i, l := range lines {
		if n := visibleLen(l); n > width {
			t.Errorf("line %d is %d wide; want at most %d: %q", i, n, width, l)
		}
	}
}

func TestRenderGolden(t *testing.T) {
	withAS := sampleFrame()
	withAS.AS = func(a netip.Addr) (uint32, string) {
		if a == a1 {
			return 64512, "Lab WAN"
		}
		return 0, ""
	}
	addrs := sampleFrame()
	addrs.View.Names = false
	strip := sampleFrame()
	strip.View.Mode = Strip
	help := sampleFrame()
	help.View.Help = true
	ext := extFrame()
	tests := []struct {
		name          string
		f             Frame
		width, height int
	}{
		{"stats-100x24.txt", sampleFrame(), 100, 24},
		{"stats-80x24-addresses.txt", addrs, 80, 24},
		{"stats-60x24-narrow.txt", sampleFrame(), 60, 24},
		{"stats-100x10-short.txt", sampleFrame(), 100, 10},
		{"stats-100x24-as.txt", withAS, 100, 24},
		{"stats-100x24-help.txt", help, 100, 24},
		{"strip-80x24.txt", strip, 80, 24},
		{"stats-100x24-ext.txt", ext, 100, 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := Render(tt.f, tt.width, tt.height)
			checkSize(t, lines, tt.width, tt.height)
			golden(t, tt.name, lines)
		})
	}
}

// TestRenderTable pins the parts the golden files hold, so a careless
// -update is caught: the silent hop, the ECMP continuation line, the long
// name cut to the column, microsecond precision.
func TestRenderTable(t *testing.T) {
	lines := Render(sampleFrame(), 100, 24)
	screen := strings.Join(lines, "\n")
	for _, want := range []string{
		"  2. ???",           // silent hop
		"100.0%    4      -", // with full loss and no RTTs
		"       10.0.33.1 ",  // the other responder at hop 3, indented
		"  3. 10.0.3.1 ",     // the primary responder (3 replies of 4)
		"  4. dst.example ",  // a name where one is known
		" 25.0%    4  11.50  10.83  10.00  11.50  0.764  0.750", // µs below 10 ms, 10 µs from 10 ms
		"dst.example (192.0.2.7)  ICMP  every 1s  4 rounds",
		"MOS 1.60",
		"route change: hop 3: 10.0.3.1 → 10.0.33.1",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("screen lacks %q:\n%s", want, screen)
		}
	}
	if !strings.HasSuffix(lines[0], "  2026-11-29 05:00:04") || visibleLen(lines[0]) != 100 {
		t.Errorf("header = %q; want the time at the right edge", lines[0])
	}
	// The 50-character name fits a 100-column screen only cut, with "…".
	var hop1 string
	for _, l := range lines {
		if strings.HasPrefix(l, "  1. ") {
			hop1 = l
		}
	}
	host := strings.TrimSpace(hop1[5:strings.Index(hop1, "  0.0%")])
	if !strings.HasSuffix(host, "…") || !strings.HasPrefix(long, strings.TrimSuffix(host, "…")) {
		t.Errorf("hop 1 host = %q; want a cut prefix of %q ending in …", host, long)
	}
	if n := visibleLen(hop1); n != 100 {
		t.Errorf("hop 1 line is %d wide; want the full 100", n)
	}
}

// extFrame is sampleFrame with e on: hop 1 sent a label stack and an
// interface object, hop 3's second responder a label, hop 3's first
// nothing.
func extFrame() Frame {
	f := sampleFrame()
	f.View.Ext = true
	s := &f.Snapshots[0]
	s.Hops[0].Details = []monitor.ResponderDetails{{Addr: a1, Details: result.Details{
		MPLS:       []packet.MPLSLabel{{Label: 24001, TC: 5, TTL: 1}, {Label: 16, S: true, TTL: 255}},
		Interfaces: []packet.InterfaceInfo{{Role: packet.RoleIncoming, IfIndex: 12, HasIfIndex: true, Name: "ge-0/0/1", MTU: 1500}},
	}}}
	s.Hops[2].Details = []monitor.ResponderDetails{{Addr: a3b, Details: result.Details{
		MPLS: []packet.MPLSLabel{{Label: 300, S: true, TTL: 254}},
	}}}
	return f
}

// TestRenderDetails: with e each responder's details follow its own row,
// and without it none show.
func TestRenderDetails(t *testing.T) {
	lines := Render(extFrame(), 100, 24)
	want := []struct{ after, line string }{
		{"  1. ", "       [MPLS: Lbl 24001 TC 5 S 0 TTL 1 / Lbl 16 TC 0 S 1 TTL 255]"},
		{"[MPLS: Lbl 24001", "       [Interfaces: incoming: ge-0/0/1 #12 mtu 1500]"},
		{"       10.0.33.1 ", "       [MPLS: Lbl 300 TC 0 S 1 TTL 254]"},
	}
	for _, w := range want {
		i := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, w.after) })
		if i < 0 || i+1 >= len(lines) || lines[i+1] != w.line {
			t.Errorf("the line after %q = %q; want %q\n%s", w.after, at(lines, i+1), w.line, strings.Join(lines, "\n"))
		}
	}
	if i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "  3. ") }); strings.Contains(at(lines, i+1), "[") {
		t.Errorf("hop 3's primary responder, which said nothing, is followed by %q; want its other responder", at(lines, i+1))
	}
	off := extFrame()
	off.View.Ext = false
	if screen := strings.Join(Render(off, 100, 24), "\n"); strings.Contains(screen, "[MPLS") || strings.Contains(screen, "[Interfaces") {
		t.Errorf("details shown with e off:\n%s", screen)
	}
}

func at(lines []string, i int) string {
	if i < 0 || i >= len(lines) {
		return ""
	}
	return lines[i]
}

func TestMsPrecision(t *testing.T) {
	for _, tt := range []struct {
		in   float64
		want string
	}{{0.042, "0.042"}, {9.9994, "9.999"}, {9.9996, "10.00"}, {12.345, "12.35"}, {123.45, "123.5"}, {1234.6, "1235"}, {65432.1, "65432"}} {
		if got := msText(&tt.in); got != tt.want || len(got) > 6 {
			t.Errorf("msText(%v) = %q; want %q (at most 6 characters)", tt.in, got, tt.want)
		}
	}
	if got := msText(nil); got != "-" {
		t.Errorf("msText(nil) = %q; want -", got)
	}
}

func TestRenderStrip(t *testing.T) {
	f := sampleFrame()
	f.View.Mode = Strip
	lines := Render(f, 80, 24)
	// One scale for all hops, 0 to the largest RTT in view (the
	// destination's 11.5 ms) in eighths of 1.4375 ms: hop 3's 2, 4, 6,
	// 8 ms are eighths 1, 2, 4, 5; the destination's 10, lost, 11, 11.5 ms.
	want := map[string]string{
		"  1. ": "▁▁▁▁",
		"  2. ": "????",
		"  3. ": "▂▃▅▆",
		"  4. ": "▇?██",
	}
	for _, l := range lines {
		for prefix, strip := range want {
			if strings.HasPrefix(l, prefix) {
				if got := l[strings.LastIndex(l, " ")+1:]; got != strip {
					t.Errorf("%q: strip %q; want %q", l, got, strip)
				}
				delete(want, prefix)
			}
		}
	}
	for prefix := range want {
		t.Errorf("no line for hop %q", prefix)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "█ ≤11.50 ms") {
		t.Errorf("legend lacks the scale's top:\n%s", strings.Join(lines, "\n"))
	}
}

// TestStripScrolls: with more rounds than columns the newest are shown,
// and a TTL not probed in a round is '.'.
func TestStripScrolls(t *testing.T) {
	var hist []monitor.Sample
	for r := 1; r <= 100; r++ {
		if r == 99 {
			continue // not probed in round 99
		}
		hist = append(hist, monitor.Sample{Round: r, From: a1, RTT: ms(float64(r%8 + 1))})
	}
	// On a 0-8 ms scale, 4 ms (round 91) is in the fifth eighth.
	got := strip(painter{}, hist, 91, 100, ms(8))
	if want := "▅▆▇██▂▃▄.▆"; got != want {
		t.Errorf("strip(rounds 91-100) = %q; want %q", got, want)
	}
	s := sample()
	s.Rounds = 100
	s.Hops = s.Hops[:1]
	s.Hops[0].History = hist
	f := Frame{Snapshots: []monitor.Snapshot{s}, View: View{Mode: Strip}}
	for _, l := range Render(f, 60, 24) {
		if strings.HasPrefix(l, "  1. ") {
			if !strings.HasSuffix(l, ".▆") || visibleLen(l) != 60 {
				t.Errorf("hop 1 = %q; want 60 wide, ending in round 99's '.' and round 100", l)
			}
		}
	}
}

func TestLossColour(t *testing.T) {
	plain := sampleFrame()
	for _, l := range Render(plain, 100, 24) {
		if strings.Contains(l, "\x1b") {
			t.Errorf("colour off, yet %q has an escape", l)
		}
	}
	c := sampleFrame()
	c.Color = true
	screen := strings.Join(Render(c, 100, 24), "\n")
	for _, want := range []string{sgrRed + "100.0%" + sgrReset, sgrRed + " 25.0%" + sgrReset, sgrRed + "loss 25.0%" + sgrReset} {
		if !strings.Contains(screen, want) {
			t.Errorf("colour on: screen lacks %q", want)
		}
	}
	if strings.Contains(screen, sgrRed+"  0.0%") {
		t.Error("colour on: 0.0% loss is red")
	}
	c.View.Mode = Strip
	screen = strings.Join(Render(c, 100, 24), "\n")
	if !strings.Contains(screen, sgrRed+"????"+sgrReset) {
		t.Errorf("colour on: the silent hop's strip is not red:\n%q", screen)
	}
}

func TestRenderTabsAndAlert(t *testing.T) {
	a, b := sample(), sample()
	b.ID, b.Host, b.State = "b.example", "b.example", monitor.Alerting
	b.Dest.Active = []alert.Condition{alert.Loss}
	f := sampleFrame()
	f.Snapshots = []monitor.Snapshot{a, b}
	f.View.Target = 1
	lines := Render(f, 100, 24)
	if want := " 1 dst.example  [2 b.example!]"; lines[1] != want {
		t.Errorf("tab line = %q; want %q", lines[1], want)
	}
	if !strings.Contains(lines[0], "b.example (192.0.2.7)") || !strings.Contains(lines[0], "[ALERT]") {
		t.Errorf("header = %q; want target 2 and [ALERT]", lines[0])
	}
	if got := strings.Join(lines, "\n"); !strings.Contains(got, "Destination hop 4: ALERT loss  MOS") {
		t.Errorf("destination line lacks the alert:\n%s", got)
	}
	if len(f.Events) != 1 || lines[len(lines)-1] != "No events yet" {
		t.Errorf("bottom line for a target without events = %q; want No events yet", lines[len(lines)-1])
	}
}

func TestClip(t *testing.T) {
	for _, tt := range []struct {
		in   string
		w    int
		want string
	}{
		{"abcdef", 3, "abc"},
		{"ab", 3, "ab"},
		{"a" + sgrRed + "bcd" + sgrReset + "e", 3, "a" + sgrRed + "bc" + sgrReset},
		{"▁▂▃▄", 2, "▁▂"},
	} {
		if got := clip(tt.in, tt.w); got != tt.want {
			t.Errorf("clip(%q, %d) = %q; want %q", tt.in, tt.w, got, tt.want)
		}
	}
	if got := fit("abcdef", 4); got != "abc…" || utf8.RuneCountInString(got) != 4 {
		t.Errorf("fit(abcdef, 4) = %q; want abc…", got)
	}
}

// TestRenderDiagnosis: the shown target's diagnosis is one footer line
// under the destination's, red when it names a problem, absent when there
// is none yet; a short terminal keeps it and gives up table lines.
func TestRenderDiagnosis(t *testing.T) {
	loss := Diagnosis{What: "loss", Confidence: "high", Text: "25.0 % of probes are lost on the way to the destination, since 05:00:01; the loss starts on the link from hop 3 into hop 4."}
	tests := []struct {
		name   string
		d      Diagnosis
		color  bool
		height int
		want   string // the line under the destination's; "" for none
	}{
		{"none yet", Diagnosis{}, false, 24, ""},
		{"loss", loss, false, 24, "Diagnosis (high confidence): " + loss.Text},
		{"loss in red", loss, true, 24, sgrRed + "Diagnosis (high confidence): " + loss.Text + sgrReset},
		{"healthy not red", Diagnosis{What: "healthy", Confidence: "high", Text: "Healthy: the destination lost 0 of 60 probes."}, true, 24,
			"Diagnosis (high confidence): Healthy: the destination lost 0 of 60 probes."},
		{"not enough data not red", Diagnosis{What: "not_enough_data", Confidence: "low", Text: "Not enough data yet: 4 of the 20 rounds a diagnosis needs."}, true, 24,
			"Diagnosis (low confidence): Not enough data yet: 4 of the 20 rounds a diagnosis needs."},
		{"short terminal keeps it", loss, false, 9, "Diagnosis (high confidence): " + loss.Text},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := sampleFrame()
			f.Color, f.Diagnosis = tt.color, tt.d
			lines := Render(f, 300, tt.height)
			at := -1
			for i, l := range lines {
				if strings.Contains(l, "Destination hop 4:") {
					at = i
				}
			}
			if at < 0 || at+1 >= len(lines) {
				t.Fatalf("no destination line, or nothing under it:\n%s", strings.Join(lines, "\n"))
			}
			got := lines[at+1]
			switch {
			case tt.want == "" && strings.Contains(got, "Diagnosis"):
				t.Errorf("line under the destination = %q; want no diagnosis", got)
			case tt.want != "" && got != tt.want:
				t.Errorf("line under the destination = %q; want %q", got, tt.want)
			}
			if len(lines) > tt.height {
				t.Errorf("%d lines; want at most %d", len(lines), tt.height)
			}
		})
	}
}
