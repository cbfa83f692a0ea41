package tui

import (
	"net/netip"
	"strings"
	"testing"
)

func TestRuneWidth(t *testing.T) {
	tests := []struct {
		r    rune
		want int
	}{
		{'a', 1}, {'é', 1}, {'…', 1}, {'▁', 1}, {'Ж', 1},
		{'東', 2}, {'京', 2}, {'한', 2}, {'Ａ', 2}, {'🙂', 2}, {'。', 2},
		{'\u0301', 0}, // combining acute accent
		{'\u200d', 0}, // zero-width joiner
		{'\ufe0f', 0}, // variation selector 16
		{'\u1161', 0}, // Hangul jungseong A
		{'\u00ad', 1}, // soft hyphen
		{'\t', 0}, {0x7f, 0}, {0x9b, 0},
	}
	for _, tt := range tests {
		if got := runeWidth(tt.r); got != tt.want {
			t.Errorf("runeWidth(%U %q) = %d; want %d", tt.r, tt.r, got, tt.want)
		}
	}
}

func TestFitCells(t *testing.T) {
	tests := []struct {
		s    string
		w    int
		want string
	}{
		{"abc", 5, "abc  "},
		{"東京", 5, "東京 "},
		{"東京", 4, "東京"},
		{"東京都", 5, "東京…"},
		{"東京都", 4, "東… "}, // 京 would straddle the edge: a space fills its first cell
		{"cafe\u0301.example", 11, "cafe\u0301.examp…"},
		{"e\u0301", 1, "e\u0301"},
		{"abcdef", 4, "abc…"},
		{"abc", 0, ""},
	}
	for _, tt := range tests {
		got := fit(tt.s, tt.w)
		if got != tt.want || cells(got) != max(tt.w, 0) {
			t.Errorf("fit(%q, %d) = %q (%d cells); want %q (%d cells)", tt.s, tt.w, got, cells(got), tt.want, tt.w)
		}
	}
	for _, tt := range []struct {
		in   string
		w    int
		want string
	}{
		{"東京都", 4, "東京"},
		{"東京都", 5, "東京"},
		{"a" + sgrRed + "東京" + sgrReset, 4, "a" + sgrRed + "東" + sgrReset},
	} {
		if got := clip(tt.in, tt.w); got != tt.want {
			t.Errorf("clip(%q, %d) = %q; want %q", tt.in, tt.w, got, tt.want)
		}
	}
}

// TestRenderWideNames: host names with wide characters (CJK, emoji) and
// combining marks keep the table's columns where they are: every hop row
// is as wide as the header, in cells, and no line passes the terminal's
// width.
func TestRenderWideNames(t *testing.T) {
	f := sampleFrame()
	wide := map[netip.Addr]string{
		a1:  "東京-大阪-バックボーン-ルータ.example.jp", // longer than the column: cut
		a3:  "café\u0301-🙂.example",
		a3b: "서울.example",
		dst: "目的地.example",
	}
	f.Names = func(a netip.Addr) string { return wide[a] }
	for _, w := range []int{100, 80, 60} {
		lines := Render(f, w, 24)
		checkSize(t, lines, w, 24)
		head := -1
		for i, l := range lines {
			if strings.HasPrefix(l, "Hop ") {
				head = i
				break
			}
		}
		if head < 0 {
			t.Fatalf("width %d: no table header in\n%s", w, strings.Join(lines, "\n"))
		}
		want := visibleLen(lines[head])
		for _, l := range lines[head+1:] {
			if len(l) < 4 || l[3] != '.' { // hop rows start "%3d."
				continue
			}
			if got := visibleLen(l); got != want {
				t.Errorf("width %d: row %q is %d cells; want %d, as the header", w, l, got, want)
			}
		}
		if w == 80 {
			golden(t, "stats-80x24-wide.txt", lines)
		}
	}
}
