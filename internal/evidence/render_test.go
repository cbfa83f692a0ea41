package evidence

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func render(t *testing.T, d Data) string {
	t.Helper()
	var b bytes.Buffer
	if err := Render(&b, d); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return b.String()
}

// TestRenderGolden compares the whole file with testdata: any change to
// what a reader sees shows in review. Refresh with -update.
func TestRenderGolden(t *testing.T) {
	got := render(t, fixture())
	path := filepath.Join("testdata", "evidence.html")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("Render differs from %s (run with -update after checking the change); first difference near %q", path, firstDiff(got, string(want)))
	}
}

func firstDiff(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return a[max(i-40, 0):min(i+40, len(a))]
}

// TestRenderSelfContained: the file must open offline and ask nothing of
// the network, whatever the data says.
func TestRenderSelfContained(t *testing.T) {
	out := render(t, fixture())
	// Case matters for "url(": the export script's toDataURL( is no fetch.
	for _, bad := range []string{"http://", "https://", "HTTP", "//fonts", "<link", "<img", "<iframe", "<object", "@import", "url(", "src=\""} {
		if strings.Contains(out, bad) {
			t.Errorf("output contains %q; want no external reference", bad)
		}
	}
	doc, err := html.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatalf("html.Parse: %v", err)
	}
	var csp string
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "meta" && attr(n, "http-equiv") == "Content-Security-Policy" {
			csp = attr(n, "content")
		}
	})
	for _, want := range []string{"default-src 'none'", "connect-src 'none'", "img-src data: blob:"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy = %q; want it to contain %q", csp, want)
		}
	}
}

// TestRenderSections: every section by its id, a chart with an export
// button in the chart sections, the table's rows.
func TestRenderSections(t *testing.T) {
	doc, err := html.Parse(strings.NewReader(render(t, fixture())))
	if err != nil {
		t.Fatalf("html.Parse: %v", err)
	}
	ids := map[string]*html.Node{}
	walk(doc, func(n *html.Node) {
		if id := attr(n, "id"); id != "" {
			if ids[id] != nil {
				t.Errorf("id %q appears twice", id)
			}
			ids[id] = n
		}
	})
	for _, id := range Sections {
		if n := ids[id]; n == nil || n.Data != "section" {
			t.Errorf("section #%s missing", id)
		}
	}
	charts := []string{"chart-destination", "timeline-first-hop", "timeline-where-the-loss-starts", "timeline-destination"}
	for _, id := range charts {
		if ids[id+"-svg"] == nil {
			t.Errorf("chart #%s-svg missing", id)
		}
		found := false
		walk(ids[id], func(n *html.Node) {
			if n.Data == "button" && attr(n, "data-chart") == id+"-svg" && strings.HasSuffix(attr(n, "data-name"), ".png") {
				found = true
			}
		})
		if !found {
			t.Errorf("no Export PNG button for #%s", id)
		}
	}
	var rows []string
	walk(ids[IDHops], func(n *html.Node) {
		if n.Data == "tr" && n.Parent.Data == "tbody" {
			rows = append(rows, text(n))
		}
	})
	if len(rows) != 6 {
		t.Fatalf("hop table has %d rows; want 6", len(rows))
	}
}

// TestRenderNumbers checks the figures as a reader sees them.
func TestRenderNumbers(t *testing.T) {
	out := render(t, fixture())
	row := func(ttl string) string {
		m := regexp.MustCompile(`(?s)<tr[^>]*><td>` + ttl + `</td>(.*?)</tr>`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no row for hop %s", ttl)
		}
		return regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], "|")
	}
	tests := []struct {
		ttl  string
		want string
	}{
		{"1", "|192.168.1.1||||1000||0 %||0.90||0.72||0.95||2.7||0.09||0.90||1.4||0.05|||"},
		{"2", "|100.64.0.1||cgnat.isp.example||1000||30 %||8.2||6.6||8.6||24.6||0.82||8.2||12.3||0.41||rate-limiting its own replies: the loss does not carry on|"},
		{"3", "|203.0.113.9||||1000||0 %||9.1||7.3||9.6||27.3||0.91||9.1||13.6||0.46|||"},
		{"4", "|198.51.100.4||||1000||10 %||12.5||10.0||13.1||37.5||1.2||12.5||18.8||0.62||the loss that reaches the destination is first seen here; also answered: 198.51.100.5 (12 replies)|"},
		{"6", "|192.0.2.80||||1000||10 %||14.0||11.2||14.7||42.0||1.4||14.0||21.0||0.70||destination|"},
	}
	for _, tt := range tests {
		if got := row(tt.ttl); got != tt.want {
			t.Errorf("row of hop %s = %q; want %q", tt.ttl, got, tt.want)
		}
	}
	doc, err := html.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatalf("html.Parse: %v", err)
	}
	all := strings.Join(strings.Fields(text(doc)), " ")
	for _, want := range []string{
		"Window: 2026-12-03 20:00:00 to 2026-12-03 22:00:00 (CET, UTC+01:00)",
		"lost 690 of 6900 probes (10 %)",
		"Its latency averaged 14.7 ms (median 14.0 ms, 95th percentile 21.0 ms, best 11.2 ms, worst 42.0 ms); jitter 0.70 ms.",
		"Hop 3 (203.0.113.9) loses 0 %; from hop 4 (198.51.100.4) on, every hop that answers loses at least 10 %, and the destination 10 %.",
		"Hop 2 (cgnat.isp.example 100.64.0.1) shows 30 % loss, but later hops show as little as 0 %: that router is rate-limiting its own replies",
		"The destination lost probes in 75 of 287 time steps with rounds (24 s each): the first at 2026-12-03 21:00:00, the last at 2026-12-03 21:29:36; the worst, at 2026-12-03 21:00:00, lost 37.5 %.",
		"13 of the 300 time steps (24 s each) have no round recorded",
		"Alert raised at 2026-12-03 21:01:00: loss 12 % over 60 probes (threshold 5 %) <b>",
		"Route change at 2026-12-03 20:55:00, hop 4: hop 4 changed from 198.51.100.5 to 198.51.100.4",
		"Vantage point (this machine's address toward the target) 192.168.1.23",
		"Made 2026-12-04 09:15:00",
		"Tool PingerPlot 1.4.0 (abc1234)",
		"Interval 1 s Timeout 2 s Max hops 30 Payload 56 bytes Rounds in the window 6900",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("text lacks %q", want)
		}
	}
}

func walk(n *html.Node, fn func(*html.Node)) {
	if n == nil {
		return
	}
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data + " ")
		}
	})
	return b.String()
}

// TestTimelinePicks: the timelines show the first hop, the hop where the
// trouble starts and the destination, each once.
func TestTimelinePicks(t *testing.T) {
	withHops := func(hs []hop) Data {
		d := fixture()
		d.Hops = reportHops(hs)
		return d
	}
	tests := []struct {
		name string
		d    Data
		ids  []string
		note string
	}{
		{"loss from hop 4", fixture(), []string{"timeline-first-hop", "timeline-where-the-loss-starts", "timeline-destination"}, ""},
		{"loss from the first hop", withHops([]hop{{1, "10.0.0.1", 10, 1, false}, {2, "10.0.0.2", 10, 2, false}, {3, "10.0.0.3", 10, 3, false},
			{4, "10.0.0.4", 10, 4, false}, {5, "10.0.0.5", 10, 5, false}, {6, "192.0.2.80", 10, 6, true}}),
			[]string{"timeline-first-hop", "timeline-destination"}, "The trouble is first seen at hop 1, shown here as the first hop."},
		{"clean path", withHops([]hop{{1, "10.0.0.1", 0, 1, false}, {2, "10.0.0.2", 0, 2, false}, {3, "10.0.0.3", 0, 3, false},
			{4, "10.0.0.4", 0, 4, false}, {5, "10.0.0.5", 0, 5, false}, {6, "192.0.2.80", 0, 6, true}}),
			[]string{"timeline-first-hop", "timeline-destination"}, "The summary places no trouble at an intermediate hop"},
		{"latency rises at hop 3", withHops([]hop{{1, "10.0.0.1", 0, 1, false}, {2, "10.0.0.2", 0, 2, false}, {3, "10.0.0.3", 0, 60, false},
			{4, "10.0.0.4", 0, 61, false}, {5, "10.0.0.5", 0, 62, false}, {6, "192.0.2.80", 0, 63, true}}),
			[]string{"timeline-first-hop", "timeline-where-the-latency-rises", "timeline-destination"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := prepare(tt.d)
			var ids []string
			for _, f := range v.Timelines {
				ids = append(ids, f.ID)
			}
			if strings.Join(ids, " ") != strings.Join(tt.ids, " ") {
				t.Errorf("timelines %v; want %v", ids, tt.ids)
			}
			if !strings.HasPrefix(v.TimelineNote, tt.note) || (tt.note == "" && v.TimelineNote != "") {
				t.Errorf("note %q; want %q", v.TimelineNote, tt.note)
			}
		})
	}
}
