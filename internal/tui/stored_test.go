package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
)

func storedFixture(cells ...StoredCell) Stored {
	to := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	return Stored{From: to.Add(-StoredWindow), To: to, Step: StoredWindow / time.Duration(len(cells)), Cells: cells}
}

func TestStoredLines(t *testing.T) {
	ms := time.Millisecond
	ok := func(l time.Duration) StoredCell { return StoredCell{Sent: 60, Latency: l} }
	cells := []StoredCell{
		ok(10 * ms), ok(20 * ms), ok(80 * ms), {}, {Sent: 60, Lost: 1, Latency: 10 * ms},
		{Sent: 60, Lost: 6, Latency: 10 * ms}, {Sent: 60, Lost: 60}, ok(40 * ms),
	}
	tests := []struct {
		name  string
		st    Stored
		color bool
		want  []string
	}{
		{
			name: "latency blocks, loss marks, a gap",
			st:   storedFixture(cells...),
			want: []string{
				"Stored 24 h (3 h/cell): ▁<10.00 … █≤80.00 ms  ! loss  ? all lost  . none",
				"dest ▂▃█.!!?▅",
				"     ^10:00",
			},
		},
		{
			name:  "colour: a little loss yellow, 5 % and more red, all lost red",
			st:    storedFixture(cells...),
			color: true,
			want: []string{
				"Stored 24 h (3 h/cell): ▁<10.00 … █≤80.00 ms  ! loss  ? all lost  . none",
				"dest ▂▃█.\x1b[33m!\x1b[0m\x1b[31m!\x1b[0m\x1b[31m?\x1b[0m▅",
				"     ^10:00",
			},
		},
		{
			name: "nothing answered: no scale",
			st:   storedFixture(StoredCell{Sent: 5, Lost: 5}, StoredCell{}),
			want: []string{
				"Stored 24 h (12 h/cell): ! loss  ? all lost  . none",
				"dest ?.",
				"", // too narrow for any time

			},
		},
		{
			name: "no cells: the note",
			st:   Stored{Note: "no stored rounds of dst.example"},
			want: []string{"Last 24 h (stored): no stored rounds of dst.example"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := storedLines(painter{color: tt.color}, tt.st, 80)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("storedLines =\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestStoredAxisWide(t *testing.T) {
	cells := make([]StoredCell, 60)
	st := storedFixture(cells...)
	got := storedAxis(st, ttlWidth)
	want := "     ^10:00" + strings.Repeat(" ", 24) + "^22:00" + strings.Repeat(" ", 20) + "now^"
	if got != want {
		t.Errorf("storedAxis =\n%q\nwant\n%q", got, want)
	}
	if n := len([]rune(got)); n != ttlWidth+len(cells) {
		t.Errorf("axis is %d cells wide; want %d, as the strip", n, ttlWidth+len(cells))
	}
}

// TestRenderStored: s puts the strip under the table, as wide as the
// terminal allows, and takes it away again.
func TestRenderStored(t *testing.T) {
	f := Frame{Snapshots: []monitor.Snapshot{{Target: monitor.Target{Host: "dst.example"}}}, Now: time.Unix(0, 0)}
	width := 40
	cells := make([]StoredCell, storedCells(width))
	for i := range cells {
		cells[i] = StoredCell{Sent: 10, Latency: time.Duration(i+1) * time.Millisecond}
	}
	f.Stored = storedFixture(cells...)
	without := Render(f, width, 24)
	f.View = f.View.Apply(StoredStrip, 1)
	with := Render(f, width, 24)
	if len(with) != len(without)+4 {
		t.Fatalf("with the strip %d lines, without %d; want 4 more (title, row, axis, blank):\n%s", len(with), len(without), strings.Join(with, "\n"))
	}
	var row string
	for _, l := range with {
		if strings.HasPrefix(l, "dest ") {
			row = l
		}
	}
	if visibleLen(row) != width {
		t.Errorf("strip row %q is %d cells wide; want %d", row, visibleLen(row), width)
	}
	if !strings.HasSuffix(row, "█") || !strings.HasPrefix(row, "dest ▁") {
		t.Errorf("strip row %q; want rising latency from ▁ to █", row)
	}
	f.View = f.View.Apply(StoredStrip, 1)
	if again := Render(f, width, 24); strings.Join(again, "\n") != strings.Join(without, "\n") {
		t.Errorf("s twice does not give back the screen without the strip")
	}
}

// TestStoredRefresh: the history is read when the strip is shown, again
// for another target, another width or a minute later, not at every
// redraw.
func TestStoredRefresh(t *testing.T) {
	var calls []string
	l := &loop{cfg: Config{Stored: func(_ context.Context, tg monitor.Target, now time.Time, cells int) Stored {
		calls = append(calls, string(tg.ID))
		return Stored{Note: tg.Host}
	}}}
	a := monitor.Target{ID: "a", Host: "a.example"}
	b := monitor.Target{ID: "b", Host: "b.example"}
	t0 := time.Unix(1000, 0)
	steps := []struct {
		t     monitor.Target
		after time.Duration
		cells int
		reads int
	}{
		{a, 0, 70, 1},
		{a, time.Second, 70, 1},
		{a, 59 * time.Second, 70, 1},
		{a, 60 * time.Second, 70, 2},
		{a, 61 * time.Second, 90, 3},
		{b, 62 * time.Second, 90, 4},
		{b, 63 * time.Second, 90, 4},
		{a, 64 * time.Second, 90, 5},
	}
	for i, s := range steps {
		got := l.storedStrip(context.Background(), s.t, t0.Add(s.after), s.cells)
		if len(calls) != s.reads {
			t.Errorf("step %d: %d reads of the history; want %d", i, len(calls), s.reads)
		}
		if got.Note != s.t.Host {
			t.Errorf("step %d: strip of %q; want %q's", i, got.Note, s.t.Host)
		}
	}
	none := (&loop{}).storedStrip(context.Background(), a, t0, 70)
	if !strings.Contains(none.Note, "no history") {
		t.Errorf("without Config.Stored the note is %q; want it to say there is no history", none.Note)
	}
}
