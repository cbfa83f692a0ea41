package packet

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/net/icmp"
)

func TestParseExtensions(t *testing.T) {
	two := []MPLSLabel{{Label: 24001, TC: 1, TTL: 254}, {Label: 0, TC: 7, S: true, TTL: 0}}
	withSum := mplsExt(true, two...)
	// An interface information object (class 2: incoming, ifIndex 1,
	// MTU 2) before the MPLS one.
	iface := []byte{0x00, 0x0c, 2, 0x09, 0, 0, 0, 1, 0, 0, 0, 2}
	mixed := append([]byte{extVersion << 4, 0, 0, 0}, iface...)
	mixed = append(mixed, mplsExt(false, two[1])[extHeaderLen:]...)
	// An MPLS object with another C-Type.
	otherCType := mplsExt(false, two[0])
	otherCType[7] = 2
	// Two MPLS objects.
	twoObjects := append(mplsExt(false, two[0]), mplsExt(false, two[1])[extHeaderLen:]...)
	badSum := append([]byte(nil), withSum...)
	badSum[len(badSum)-1]++
	ragged := mplsExt(false, two[0])
	binary.BigEndian.PutUint16(ragged[4:], 7)
	ragged = append(ragged, 0, 0, 0)

	tests := []struct {
		name    string
		in      []byte
		want    Extensions
		wantErr string
	}{
		{name: "mpls with checksum", in: withSum, want: Extensions{MPLS: two}},
		{name: "mpls without checksum", in: mplsExt(false, two...), want: Extensions{MPLS: two}},
		{name: "header only", in: []byte{0x20, 0, 0, 0}},
		{name: "interface then mpls", in: mixed, want: Extensions{MPLS: two[1:],
			Interfaces: []InterfaceInfo{{Role: RoleIncoming, IfIndex: 1, HasIfIndex: true, MTU: 2}}}},
		{name: "other classes skipped", in: []byte{0x20, 0, 0, 0, 0, 8, 3, 1, 0, 0, 0, 7}},
		{name: "other c-type skipped", in: otherCType},
		{name: "two mpls objects", in: twoObjects, want: Extensions{MPLS: two}},
		{name: "empty stack", in: mplsExt(true)},
		{name: "all-ones label", in: mplsExt(false, MPLSLabel{Label: 1<<20 - 1, TC: 7, S: true, TTL: 255}), want: Extensions{MPLS: []MPLSLabel{{Label: 1<<20 - 1, TC: 7, S: true, TTL: 255}}}},

		{name: "empty", in: nil, wantErr: "truncated"},
		{name: "3 bytes", in: []byte{0x20, 0, 0}, wantErr: "truncated"},
		{name: "version 1", in: append([]byte{0x10}, withSum[1:]...), wantErr: "version 1"},
		{name: "bad checksum", in: badSum, wantErr: "checksum"},
		{name: "object length 3", in: []byte{0x20, 0, 0, 0, 0, 3, 1, 1}, wantErr: "object length 3"},
		{name: "object beyond data", in: []byte{0x20, 0, 0, 0, 0, 12, 1, 1, 0, 0, 0, 0}, wantErr: "object length 12"},
		{name: "trailing bytes", in: append(mplsExt(false, two...), 0, 0), wantErr: "object header truncated"},
		{name: "stack not whole entries", in: ragged, wantErr: "not whole entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseExtensions(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseExtensions(% x) = %v, %v; want an error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseExtensions(% x) = %+v, %v; want %+v, nil", tt.in, got, err, tt.want)
			}
		})
	}
}

// TestMPLSEncodingMatchesXNet checks the test helper's label encoding, and so
// the decoder, against x/net's independent parser.
func TestMPLSEncodingMatchesXNet(t *testing.T) {
	labels := []MPLSLabel{{Label: 0xabcde, TC: 5, S: false, TTL: 17}, {Label: 1, TC: 2, S: true, TTL: 1}}
	b := icmpError(11, 0, [4]byte{0, 32}, make([]byte, 128), mplsExt(true, labels...))
	m, err := icmp.ParseMessage(1, b)
	if err != nil {
		t.Fatal(err)
	}
	te, ok := m.Body.(*icmp.TimeExceeded)
	if !ok || len(te.Extensions) != 1 {
		t.Fatalf("x/net parsed %#v; want one extension", m.Body)
	}
	stack, ok := te.Extensions[0].(*icmp.MPLSLabelStack)
	if !ok {
		t.Fatalf("x/net extension is %T; want MPLS", te.Extensions[0])
	}
	var got []MPLSLabel
	for _, l := range stack.Labels {
		got = append(got, MPLSLabel{Label: uint32(l.Label), TC: uint8(l.TC), S: l.S, TTL: uint8(l.TTL)})
	}
	if !reflect.DeepEqual(got, labels) {
		t.Errorf("x/net reads %+v; want %+v", got, labels)
	}
}
