package tui

import (
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// runeWidth is the number of terminal cells r takes: 2 for East Asian
// Wide and Fullwidth characters (CJK, Hangul syllables, fullwidth forms,
// most emoji), 0 for characters that join the one before them (combining
// marks, zero-width joiners and other format characters, Hangul medial
// vowels and final consonants) and for control characters, 1 otherwise.
// This is what terminals do (wcwidth), and what keeps the table's columns
// straight when a host name is not ASCII.
func runeWidth(r rune) int {
	switch {
	case r < 0x20 || (r >= 0x7f && r < 0xa0):
		return 0
	case r < 0x300:
		return 1 // Latin: the common case, no table lookups
	case r == 0xad:
		return 1 // soft hyphen: a format character that terminals show
	case r >= 0x1160 && r <= 0x11ff:
		return 0 // Hangul jungseong and jongseong: join the leading consonant
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// cells is the width of s in terminal cells (s has no escape sequences).
func cells(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// fit pads or cuts s to exactly w cells; a cut ends in "…" so a truncated
// name is not mistaken for a whole one. A wide character that would
// straddle the edge is left out and the cell filled with a space.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	n := cells(s)
	if n <= w {
		return s + strings.Repeat(" ", w-n)
	}
	keep := w - 1 // room for the ellipsis
	var b strings.Builder
	used := 0
	for _, r := range s {
		rw := runeWidth(r)
		if used+rw > keep {
			break
		}
		b.WriteRune(r)
		used += rw
	}
	b.WriteString("…")
	used++
	return b.String() + strings.Repeat(" ", w-used)
}
