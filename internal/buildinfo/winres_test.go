package buildinfo_test

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"unicode/utf16"
)

// Resource types (winuser.h).
const (
	rtIcon      = 3
	rtGroupIcon = 14
	rtVersion   = 16
	rtManifest  = 24
)

// resource is one leaf of a PE's resource tree: type / name / language.
type resource struct {
	typ  uint32
	name string // "APP", or "#1" for a numeric ID
	data []byte
}

// peResources walks the three-level resource directory of an executable's
// .rsrc section (IMAGE_RESOURCE_DIRECTORY, its entries and data entries).
func peResources(f *pe.File) ([]resource, error) {
	sec := f.Section(".rsrc")
	if sec == nil {
		return nil, fmt.Errorf("no .rsrc section")
	}
	raw, err := sec.Data()
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	at := func(off uint32, n uint32) ([]byte, error) {
		if uint64(off)+uint64(n) > uint64(len(raw)) {
			return nil, fmt.Errorf("%d bytes at %#x overrun the %d-byte .rsrc", n, off, len(raw))
		}
		return raw[off : off+n], nil
	}
	type entry struct {
		id    string
		num   uint32
		off   uint32
		isDir bool
	}
	dir := func(off uint32) ([]entry, error) {
		h, err := at(off, 16)
		if err != nil {
			return nil, err
		}
		n := uint32(le.Uint16(h[12:])) + uint32(le.Uint16(h[14:]))
		es, err := at(off+16, 8*n)
		if err != nil {
			return nil, err
		}
		var out []entry
		for i := range n {
			name, target := le.Uint32(es[8*i:]), le.Uint32(es[8*i+4:])
			e := entry{num: name & 0x7fffffff, off: target & 0x7fffffff, isDir: target&0x80000000 != 0}
			if name&0x80000000 != 0 { // a counted UTF-16 string
				l, err := at(e.num, 2)
				if err != nil {
					return nil, err
				}
				s, err := at(e.num+2, 2*uint32(le.Uint16(l)))
				if err != nil {
					return nil, err
				}
				u := make([]uint16, len(s)/2)
				for k := range u {
					u[k] = le.Uint16(s[2*k:])
				}
				e.id = string(utf16.Decode(u))
			} else {
				e.id = fmt.Sprintf("#%d", e.num)
			}
			out = append(out, e)
		}
		return out, nil
	}
	var res []resource
	types, err := dir(0)
	if err != nil {
		return nil, err
	}
	for _, t := range types {
		names, err := dir(t.off)
		if err != nil || !t.isDir {
			return nil, fmt.Errorf("type %s: not a directory (%v)", t.id, err)
		}
		for _, n := range names {
			langs, err := dir(n.off)
			if err != nil || !n.isDir {
				return nil, fmt.Errorf("type %s name %s: not a directory (%v)", t.id, n.id, err)
			}
			for _, l := range langs {
				d, err := at(l.off, 16)
				if err != nil || l.isDir {
					return nil, fmt.Errorf("type %s name %s: bad data entry (%v)", t.id, n.id, err)
				}
				rva, size := le.Uint32(d), le.Uint32(d[4:])
				data, err := at(rva-sec.VirtualAddress, size)
				if err != nil {
					return nil, fmt.Errorf("type %s name %s: %v", t.id, n.id, err)
				}
				res = append(res, resource{typ: t.num, name: n.id, data: data})
			}
		}
	}
	return res, nil
}

// versionInfo reads a VS_VERSIONINFO block: the fixed file and product
// versions and every String of its StringFileInfo tables.
func versionInfo(b []byte) (file, product [4]uint16, strs map[string]string, err error) {
	le := binary.LittleEndian
	sig := bytes.Index(b, []byte{0xbd, 0x04, 0xef, 0xfe})
	if sig < 0 || sig+52 > len(b) {
		return file, product, nil, fmt.Errorf("no VS_FIXEDFILEINFO signature")
	}
	ff := b[sig:]
	file = [4]uint16{le.Uint16(ff[10:]), le.Uint16(ff[8:]), le.Uint16(ff[14:]), le.Uint16(ff[12:])}
	product = [4]uint16{le.Uint16(ff[18:]), le.Uint16(ff[16:]), le.Uint16(ff[22:]), le.Uint16(ff[20:])}
	strs = map[string]string{}
	// Every block is wLength, wValueLength, wType, a NUL-terminated UTF-16
	// key padded to 32 bits, the value padded likewise, then children.
	var walk func(blk []byte, depth int) error
	walk = func(blk []byte, depth int) error {
		if len(blk) < 6 || depth > 4 {
			return fmt.Errorf("block too short or too deep")
		}
		length, valueLen, typ := int(le.Uint16(blk)), int(le.Uint16(blk[2:])), le.Uint16(blk[4:])
		if length > len(blk) || length < 6 {
			return fmt.Errorf("block length %d of %d", length, len(blk))
		}
		blk = blk[:length]
		var key []uint16
		p := 6
		for ; p+1 < len(blk); p += 2 {
			c := le.Uint16(blk[p:])
			if c == 0 {
				p += 2
				break
			}
			key = append(key, c)
		}
		p = (p + 3) &^ 3
		k := string(utf16.Decode(key))
		valueBytes := valueLen
		if typ == 1 { // text: wValueLength counts UTF-16 characters
			valueBytes = 2 * valueLen
		}
		if p+valueBytes > len(blk) {
			return fmt.Errorf("%q: value overruns its block", k)
		}
		if typ == 1 && depth == 3 {
			u := make([]uint16, 0, valueLen)
			for q := p; q+1 < p+valueBytes; q += 2 {
				if c := le.Uint16(blk[q:]); c != 0 {
					u = append(u, c)
				}
			}
			strs[k] = string(utf16.Decode(u))
		}
		p = (p + valueBytes + 3) &^ 3
		for p+6 <= len(blk) {
			cl := int(le.Uint16(blk[p:]))
			if cl == 0 {
				break
			}
			if err := walk(blk[p:], depth+1); err != nil {
				return err
			}
			p = (p + cl + 3) &^ 3
		}
		return nil
	}
	return file, product, strs, walk(b, 0)
}

// checkExeResources asserts what Windows and the tray icon rely on: an
// icon group named APP whose images all exist, version information naming
// the product and carrying version, and a manifest.
func checkExeResources(t *testing.T, f *pe.File, version string, fixed [4]uint16) {
	t.Helper()
	res, err := peResources(f)
	if err != nil {
		t.Fatalf("resources: %v", err)
	}
	icons := map[string]bool{}
	var group, vinfo, manifest []byte
	for _, r := range res {
		switch r.typ {
		case rtIcon:
			icons[r.name] = true
		case rtGroupIcon:
			if r.name == "APP" {
				group = r.data
			} else {
				t.Errorf("icon group named %q; want only \"APP\"", r.name)
			}
		case rtVersion:
			vinfo = r.data
		case rtManifest:
			manifest = r.data
		}
	}
	if len(group) < 6 {
		t.Fatalf("no RT_GROUP_ICON named APP (resources: %d)", len(res))
	}
	le := binary.LittleEndian
	n := int(le.Uint16(group[4:]))
	var sides []int
	for i := range n {
		e := group[6+14*i:]
		side := int(e[0])
		if side == 0 {
			side = 256
		}
		sides = append(sides, side)
		if id := fmt.Sprintf("#%d", le.Uint16(e[12:])); !icons[id] {
			t.Errorf("icon group APP refers to RT_ICON %s, which is missing", id)
		}
	}
	slices.Sort(sides) // resource compilers order them as they like
	if got, want := fmt.Sprint(sides), "[16 24 32 48 64 256]"; got != want {
		t.Errorf("icon APP sizes %s; want %s", got, want)
	}
	if vinfo == nil {
		t.Fatal("no RT_VERSION resource")
	}
	file, product, strs, err := versionInfo(vinfo)
	if err != nil {
		t.Fatalf("version information: %v", err)
	}
	if file != fixed || product != fixed {
		t.Errorf("fixed file version %v, product version %v; want %v", file, product, fixed)
	}
	for k, want := range map[string]string{
		"FileVersion": version, "ProductVersion": version, "ProductName": "PingerPlot",
		"OriginalFilename": "pingerplot.exe", "FileDescription": "PingerPlot network path monitor",
	} {
		if strs[k] != want {
			t.Errorf("version string %s = %q; want %q", k, strs[k], want)
		}
	}
	if !bytes.Contains(manifest, []byte(`level="asInvoker"`)) {
		t.Errorf("manifest %q; want one asking for no elevation (asInvoker)", manifest)
	}
}
