// Command icongen draws PingerPlot's icon, a latency graph with one spike
// on a rounded square, at every size Windows asks for, and writes it as
// assets/pingerplot.ico (the .exe's icon and the notification-area icon)
// and assets/pingerplot.png (256 px, for documents).
//
// It draws each size itself instead of scaling one picture down, so the
// 16 px tray icon keeps a line thick enough to read. Run it from the
// repository root after changing the drawing, then regenerate the .syso
// files (docs/release.md):
//
//	go run ./scripts/icongen
package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

// iconSizes are the pixel sizes Windows picks from: 16 and 24 for small
// icons and the tray at 100-150 % scaling, 32 and 48 for Explorer's lists
// and icons, 64 for high-DPI lists, 256 for large icon views.
func iconSizes() []int { return []int{16, 24, 32, 48, 64, 256} }

func main() {
	out := flag.String("out", "assets", "directory to write pingerplot.ico and pingerplot.png into")
	flag.Parse()
	ico, err := encodeICO(iconSizes())
	if err != nil {
		fmt.Fprintln(os.Stderr, "icongen:", err)
		os.Exit(1)
	}
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, render(256)); err != nil {
		fmt.Fprintln(os.Stderr, "icongen:", err)
		os.Exit(1)
	}
	for name, data := range map[string][]byte{"pingerplot.ico": ico, "pingerplot.png": pngBuf.Bytes()} {
		if err := os.WriteFile(filepath.Join(*out, name), data, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "icongen:", err)
			os.Exit(1)
		}
	}
}

// The drawing is in units of the icon's side (0..1, y down).

// graph is the latency line's corners; spikeAt indexes the peak the red
// dot marks.
func graph() (pts [][2]float64, spikeAt int) {
	return [][2]float64{{0.14, 0.68}, {0.28, 0.62}, {0.40, 0.70}, {0.52, 0.26}, {0.63, 0.64}, {0.75, 0.58}, {0.86, 0.66}}, 3
}

// render draws the icon at n×n pixels with 4×4 samples per pixel, so the
// edges are smooth without any drawing library beyond the standard one.
func render(n int) *image.NRGBA {
	const ss = 4
	fn := float64(n)
	// Thicknesses in pixels, with floors so small sizes stay legible.
	lineW := math.Max(2.0, fn*0.075)
	dotR := math.Max(2.0, fn*0.075)
	radius := fn * 0.18
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for py := 0; py < n; py++ {
		for px := 0; px < n; px++ {
			var r, g, b, a float64 // premultiplied sums
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					x := float64(px) + (float64(sx)+0.5)/ss
					y := float64(py) + (float64(sy)+0.5)/ss
					c, ok := sample(x, y, fn, lineW, dotR, radius)
					if !ok {
						continue
					}
					r, g, b, a = r+float64(c.R), g+float64(c.G), b+float64(c.B), a+1
				}
			}
			if a == 0 {
				continue
			}
			img.SetNRGBA(px, py, color.NRGBA{
				R: uint8(math.Round(r / a)), G: uint8(math.Round(g / a)), B: uint8(math.Round(b / a)),
				A: uint8(math.Round(a / (ss * ss) * 255)),
			})
		}
	}
	return img
}

// sample is the colour at one point, or false outside the rounded square.
func sample(x, y, n, lineW, dotR, radius float64) (color.NRGBA, bool) {
	if !inRoundedSquare(x, y, n, radius) {
		return color.NRGBA{}, false
	}
	var (
		background = color.NRGBA{0x14, 0x22, 0x3a, 0xff} // the dashboard's dark theme
		gridColor  = color.NRGBA{0x2c, 0x3f, 0x5e, 0xff}
		lineColor  = color.NRGBA{0x3d, 0xdc, 0x97, 0xff} // the "good" green of the latency graph
		spikeColor = color.NRGBA{0xff, 0x5c, 0x5c, 0xff} // where the latency jumped
	)
	pts, spikeAt := graph()
	sx, sy := pts[spikeAt][0]*n, pts[spikeAt][1]*n
	if math.Hypot(x-sx, y-sy) <= dotR {
		return spikeColor, true
	}
	for i := 1; i < len(pts); i++ {
		ax, ay := pts[i-1][0]*n, pts[i-1][1]*n
		bx, by := pts[i][0]*n, pts[i][1]*n
		if segmentDistance(x, y, ax, ay, bx, by) <= lineW/2 {
			return lineColor, true
		}
	}
	// Two faint grid lines from 32 px up; below that they would be noise.
	if n >= 32 {
		for _, gy := range []float64{0.40, 0.80} {
			if math.Abs(y-gy*n) <= math.Max(0.5, n*0.012) && x > 0.12*n && x < 0.88*n {
				return gridColor, true
			}
		}
	}
	return background, true
}

func inRoundedSquare(x, y, n, r float64) bool {
	if x < 0 || y < 0 || x > n || y > n {
		return false
	}
	cx := math.Min(math.Max(x, r), n-r)
	cy := math.Min(math.Max(y, r), n-r)
	return math.Hypot(x-cx, y-cy) <= r
}

func segmentDistance(x, y, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	t := ((x-ax)*dx + (y-ay)*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	return math.Hypot(x-(ax+t*dx), y-(ay+t*dy))
}

// encodeICO writes an .ico with one image per size: 32-bit DIBs below 256
// px, which every Windows version and resource tool reads, and PNG at
// 256 px, which the format requires to stay small.
func encodeICO(sizes []int) ([]byte, error) {
	images := make([][]byte, len(sizes))
	for i, n := range sizes {
		if n >= 256 {
			var b bytes.Buffer
			if err := png.Encode(&b, render(n)); err != nil {
				return nil, fmt.Errorf("encode %d px: %w", n, err)
			}
			images[i] = b.Bytes()
			continue
		}
		images[i] = dib(render(n))
	}
	var b bytes.Buffer
	le := binary.LittleEndian
	b.Write(le.AppendUint16(nil, 0))                  // reserved
	b.Write(le.AppendUint16(nil, 1))                  // type: icon
	b.Write(le.AppendUint16(nil, uint16(len(sizes)))) // count
	offset := 6 + 16*len(sizes)
	for i, n := range sizes {
		side := byte(n)
		if n >= 256 {
			side = 0 // 0 means 256
		}
		b.Write([]byte{side, side, 0, 0}) // width, height, palette size, reserved
		b.Write(le.AppendUint16(nil, 1))  // colour planes
		b.Write(le.AppendUint16(nil, 32)) // bits per pixel
		b.Write(le.AppendUint32(nil, uint32(len(images[i]))))
		b.Write(le.AppendUint32(nil, uint32(offset)))
		offset += len(images[i])
	}
	for _, im := range images {
		b.Write(im)
	}
	return b.Bytes(), nil
}

// dib is an icon image as a BITMAPINFOHEADER, bottom-up BGRA rows and the
// 1-bit AND mask (set where the pixel is fully transparent) that old
// renderers use instead of the alpha channel.
func dib(img *image.NRGBA) []byte {
	n := img.Bounds().Dx()
	maskStride := (n + 31) / 32 * 4
	le := binary.LittleEndian
	var b bytes.Buffer
	b.Write(le.AppendUint32(nil, 40))        // header size
	b.Write(le.AppendUint32(nil, uint32(n))) // width
	b.Write(le.AppendUint32(nil, uint32(2*n)))
	b.Write(le.AppendUint16(nil, 1))  // planes
	b.Write(le.AppendUint16(nil, 32)) // bits per pixel
	b.Write(le.AppendUint32(nil, 0))  // BI_RGB
	b.Write(le.AppendUint32(nil, uint32(n*n*4+maskStride*n)))
	b.Write(make([]byte, 16)) // resolution and palette: unused
	for y := n - 1; y >= 0; y-- {
		for x := 0; x < n; x++ {
			c := img.NRGBAAt(x, y)
			b.Write([]byte{c.B, c.G, c.R, c.A})
		}
	}
	for y := n - 1; y >= 0; y-- {
		row := make([]byte, maskStride)
		for x := 0; x < n; x++ {
			if img.NRGBAAt(x, y).A == 0 {
				row[x/8] |= 0x80 >> (x % 8)
			}
		}
		b.Write(row)
	}
	return b.Bytes()
}
