package main

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

type icoEntry struct {
	side int // 256 for the directory's 0
	data []byte
}

// parseICO reads an .ico's directory the way Windows' resource compilers
// do, failing on anything out of bounds.
func parseICO(t *testing.T, b []byte) []icoEntry {
	t.Helper()
	le := binary.LittleEndian
	if len(b) < 6 || le.Uint16(b) != 0 || le.Uint16(b[2:]) != 1 {
		t.Fatalf("not an icon file: header % x", b[:min(len(b), 6)])
	}
	n := int(le.Uint16(b[4:]))
	var es []icoEntry
	for i := range n {
		e := b[6+16*i:]
		size, off := int(le.Uint32(e[8:])), int(le.Uint32(e[12:]))
		if off+size > len(b) {
			t.Fatalf("entry %d: %d bytes at %d overrun the %d-byte file", i, size, off, len(b))
		}
		if planes, bits := le.Uint16(e[4:]), le.Uint16(e[6:]); planes != 1 || bits != 32 {
			t.Errorf("entry %d: %d planes, %d bits; want 1 and 32", i, planes, bits)
		}
		side := int(e[0])
		if side == 0 {
			side = 256
		}
		es = append(es, icoEntry{side, b[off : off+size]})
	}
	return es
}

// The committed icon is what the generator draws: the check that catches a
// drawing change committed without its output (or the reverse). PNG entries
// are compared as pixels, since the compressor may change between Go
// releases while the picture does not.
func TestCommittedIconIsCurrent(t *testing.T) {
	committed, err := os.ReadFile(filepath.Join("..", "..", "assets", "pingerplot.ico"))
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := encodeICO(iconSizes())
	if err != nil {
		t.Fatal(err)
	}
	got, want := parseICO(t, committed), parseICO(t, fresh)
	if len(got) != len(want) {
		t.Fatalf("assets/pingerplot.ico has %d images; want %d (run go run ./scripts/icongen)", len(got), len(want))
	}
	for i := range want {
		if got[i].side != want[i].side {
			t.Errorf("image %d is %d px; want %d", i, got[i].side, want[i].side)
			continue
		}
		if bytes.HasPrefix(want[i].data, []byte("\x89PNG")) {
			g, err1 := png.Decode(bytes.NewReader(got[i].data))
			w, err2 := png.Decode(bytes.NewReader(want[i].data))
			if err1 != nil || err2 != nil {
				t.Fatalf("image %d: decode: %v, %v", i, err1, err2)
			}
			if !bytes.Equal(g.(*image.NRGBA).Pix, w.(*image.NRGBA).Pix) {
				t.Errorf("%d px image differs from the generator's: run go run ./scripts/icongen", want[i].side)
			}
			continue
		}
		if !bytes.Equal(got[i].data, want[i].data) {
			t.Errorf("%d px image differs from the generator's: run go run ./scripts/icongen", want[i].side)
		}
	}
	pngFile, err := os.ReadFile(filepath.Join("..", "..", "assets", "pingerplot.png"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(pngFile))
	if err != nil {
		t.Fatal(err)
	}
	if nrgba, ok := img.(*image.NRGBA); !ok || !bytes.Equal(nrgba.Pix, render(256).Pix) {
		t.Errorf("assets/pingerplot.png differs from the generator's 256 px image: run go run ./scripts/icongen")
	}
}

// Each small image is a DIB as Windows reads it: a 40-byte header with
// twice the height (colour rows, then mask rows), bottom-up BGRA, and the
// AND mask set exactly where the pixel is transparent.
func TestDIBLayout(t *testing.T) {
	for _, n := range []int{16, 24, 48} {
		img := render(n)
		b := dib(img)
		le := binary.LittleEndian
		maskStride := (n + 31) / 32 * 4
		if want := 40 + n*n*4 + maskStride*n; len(b) != want {
			t.Fatalf("%d px: %d bytes; want %d", n, len(b), want)
		}
		if w, h := le.Uint32(b[4:]), le.Uint32(b[8:]); w != uint32(n) || h != uint32(2*n) {
			t.Errorf("%d px: header says %d×%d; want %d×%d", n, w, h, n, 2*n)
		}
		pixel := func(x, y int) []byte { o := 40 + ((n-1-y)*n+x)*4; return b[o : o+4] }
		maskBit := func(x, y int) bool { return b[40+n*n*4+(n-1-y)*maskStride+x/8]&(0x80>>(x%8)) != 0 }
		for y := range n {
			for x := range n {
				px, c := pixel(x, y), img.NRGBAAt(x, y)
				if px[0] != c.B || px[1] != c.G || px[2] != c.R || px[3] != c.A {
					t.Fatalf("%d px (%d,%d): BGRA % x; want the image's %v", n, x, y, px, c)
				}
				if got := maskBit(x, y); got != (c.A == 0) {
					t.Fatalf("%d px (%d,%d): mask bit %v with alpha %d; want it set exactly when alpha is 0", n, x, y, got, c.A)
				}
			}
		}
		// The rounded corner is (at least partly) see-through, the middle opaque.
		if a := img.NRGBAAt(0, 0).A; a >= 128 {
			t.Errorf("%d px: corner alpha %d; want under 128", n, a)
		}
		if a := img.NRGBAAt(n/2, n/2).A; a != 255 {
			t.Errorf("%d px: centre alpha %d; want 255", n, a)
		}
	}
}
