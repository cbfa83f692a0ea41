package desktop

import (
	"strings"
	"testing"
	"unicode/utf16"
)

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name  string
		procs int
		args  []string
		tray  bool
		want  Launch
	}{
		{"double-click in Explorer", 1, nil, false, Launch{Tray: true, HideConsole: true}},
		{"own console with flags", 1, []string{"--no-browser"}, false, Launch{}},
		{"own console, --tray", 1, []string{"--tray"}, true, Launch{Tray: true, HideConsole: true}},
		{"from a terminal", 2, nil, false, Launch{}},
		{"from a terminal, --tray", 2, []string{"--tray"}, true, Launch{Tray: true}},
		{"from a terminal with a parent tool", 3, nil, false, Launch{}},
		{"no console (service, redirected)", 0, nil, false, Launch{}},
		{"no console, --tray", 0, []string{"--tray"}, true, Launch{Tray: true}},
	} {
		if got := Decide(tc.procs, tc.args, tc.tray); got != tc.want {
			t.Errorf("%s: Decide(%d, %q, %v) = %+v; want %+v", tc.name, tc.procs, tc.args, tc.tray, got, tc.want)
		}
	}
}

func TestMenuCommand(t *testing.T) {
	for _, tc := range []struct {
		id   uint16
		want Command
	}{
		{0, None}, // the menu closed without a choice
		{1, OpenDashboard},
		{2, Quit},
		{3, None},
		{0xFFFF, None},
	} {
		if got := menuCommand(tc.id); got != tc.want {
			t.Errorf("menuCommand(%d) = %v; want %v", tc.id, got, tc.want)
		}
	}
	// Every item's id maps back to its command, and ids are unique.
	seen := map[uint16]bool{}
	for _, m := range menu() {
		if seen[m.id] || m.id == 0 {
			t.Errorf("menu item %q has id %d, taken or 0", m.label, m.id)
		}
		seen[m.id] = true
		if got := menuCommand(m.id); got != m.cmd {
			t.Errorf("menuCommand(%d) = %v; want %v (%q)", m.id, got, m.cmd, m.label)
		}
	}
}

func TestIconCommand(t *testing.T) {
	for _, tc := range []struct {
		msg  uint32
		want Command
	}{
		{wmLButtonUp, OpenDashboard},
		{wmLButtonDblClk, OpenDashboard},
		{wmRButtonUp, ShowMenu},
		{wmContextMenu, ShowMenu},
		{0x0200, None}, // WM_MOUSEMOVE
		{0x0201, None}, // WM_LBUTTONDOWN
		{0x0204, None}, // WM_RBUTTONDOWN
	} {
		if got := iconCommand(tc.msg); got != tc.want {
			t.Errorf("iconCommand(%#x) = %v; want %v", tc.msg, got, tc.want)
		}
	}
}

func TestConfigDo(t *testing.T) {
	for _, tc := range []struct {
		cmd              Command
		wantOK           bool
		wantOpen, wantQu int
	}{
		{OpenDashboard, true, 1, 0},
		{Quit, true, 0, 1},
		{ShowMenu, false, 0, 0},
		{None, false, 0, 0},
	} {
		var opens, quits int
		c := Config{Open: func() { opens++ }, Quit: func() { quits++ }}
		if ok := c.do(tc.cmd); ok != tc.wantOK || opens != tc.wantOpen || quits != tc.wantQu {
			t.Errorf("do(%v) = %v with %d opens, %d quits; want %v, %d, %d", tc.cmd, ok, opens, quits, tc.wantOK, tc.wantOpen, tc.wantQu)
		}
	}
	if !(Config{}).do(Quit) {
		t.Error("do(Quit) without functions = false; want true and no panic")
	}
}

func TestTooltip(t *testing.T) {
	for _, tc := range []struct {
		in      string
		wantLen int
	}{
		{"PingerPlot: http://127.0.0.1:5000", 33},
		{strings.Repeat("a", 200), 127},
		// 63 two-unit characters fill 126 units; the 64th does not fit
		// whole and is left out, never cut in half.
		{strings.Repeat("😀", 70), 126},
		{"a" + strings.Repeat("😀", 70), 127},
	} {
		got := tooltip(tc.in)
		if len(got) != tc.wantLen {
			t.Errorf("len(tooltip(%.20q…)) = %d; want %d", tc.in, len(got), tc.wantLen)
		}
		if back := string(utf16.Decode(got)); !strings.HasPrefix(tc.in, back) {
			t.Errorf("tooltip(%.20q…) decodes to %.20q…; want a prefix of the input", tc.in, back)
		}
	}
}
