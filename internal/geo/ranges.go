package geo

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// rangeTable is an ASN database in ip-location-db's range CSV layout, one
// row per range: "first,last,asn,organization", addresses in text
// (asn-ipv4.csv, asn-ipv6.csv of the @ip-location-db/asn package). The
// project publishes its ASN data only in this layout on npm, so it is read
// as is rather than converted. It is loaded into memory once: about 16 MB
// for both families of the 2026 files.
type rangeTable struct {
	v4    []range4
	v6    []range6
	names []string
}

type range4 struct {
	first, last uint32
	asn         uint32
	name        uint32 // index into names
}

type range6 struct {
	first, last [16]byte
	asn         uint32
	name        uint32
}

// maxRangeRows bounds what a CSV may make us hold (the 2026 files have about
// 515,000 rows together).
const maxRangeRows = 5_000_000

// readRanges parses a range CSV. A row that is not two addresses of one
// family, in order, an AS number and a name is an error naming the line.
func readRanges(r io.Reader) (*rangeTable, error) {
	cr := csv.NewReader(bufio.NewReaderSize(r, 1<<20))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	t := &rangeTable{}
	index := map[string]uint32{}
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if len(rec) == 1 && rec[0] == "" {
			continue
		}
		if line == 1 && len(rec) > 0 && !strings.ContainsAny(rec[0], ".:") {
			continue // a header row
		}
		if len(rec) != 4 {
			return nil, fmt.Errorf("line %d: %d fields; want first,last,asn,organization", line, len(rec))
		}
		first, err1 := netip.ParseAddr(rec[0])
		last, err2 := netip.ParseAddr(rec[1])
		asn, err3 := strconv.ParseUint(rec[2], 10, 32)
		if err1 != nil || err2 != nil || err3 != nil || first.Is4() != last.Is4() || last.Less(first) {
			return nil, fmt.Errorf("line %d: %q,%q,%q is not a range of addresses and an AS number", line, rec[0], rec[1], rec[2])
		}
		if len(t.v4)+len(t.v6) >= maxRangeRows {
			return nil, fmt.Errorf("more than %d rows", maxRangeRows)
		}
		org := rec[3]
		ni, ok := index[org]
		if !ok {
			ni = uint32(len(t.names))
			org = string([]byte(org)) // ReuseRecord: keep a copy
			t.names = append(t.names, org)
			index[org] = ni
		}
		if first.Is4() {
			t.v4 = append(t.v4, range4{first: u32(first), last: u32(last), asn: uint32(asn), name: ni})
		} else {
			t.v6 = append(t.v6, range6{first: first.As16(), last: last.As16(), asn: uint32(asn), name: ni})
		}
	}
	slices.SortFunc(t.v4, func(a, b range4) int { return cmpU32(a.first, b.first) })
	slices.SortFunc(t.v6, func(a, b range6) int { return bytes.Compare(a.first[:], b.first[:]) })
	t.v4 = slices.Clip(t.v4)
	t.v6 = slices.Clip(t.v6)
	return t, nil
}

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func cmpU32(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// lookup returns the AS of the range holding a (an unmapped address).
func (t *rangeTable) lookup(a netip.Addr) (asn uint32, name string, ok bool) {
	if a.Is4() {
		x := u32(a)
		// The last range starting at or before x.
		i, _ := slices.BinarySearchFunc(t.v4, x, func(r range4, x uint32) int {
			if r.first <= x {
				return -1
			}
			return 1
		})
		if i > 0 && x <= t.v4[i-1].last {
			r := t.v4[i-1]
			return r.asn, t.names[r.name], r.asn != 0
		}
		return 0, "", false
	}
	x := a.As16()
	i, _ := slices.BinarySearchFunc(t.v6, x, func(r range6, x [16]byte) int {
		if bytes.Compare(r.first[:], x[:]) <= 0 {
			return -1
		}
		return 1
	})
	if i > 0 && bytes.Compare(x[:], t.v6[i-1].last[:]) <= 0 {
		r := t.v6[i-1]
		return r.asn, t.names[r.name], r.asn != 0
	}
	return 0, "", false
}
