package result

import "testing"

func TestParseTOS(t *testing.T) {
	tests := []struct {
		in      string
		want    uint8
		wantErr bool
	}{
		{"", 0, false},
		{"0", 0, false},
		{"184", 0xb8, false},
		{"0xb8", 0xb8, false},
		{"0xBA", 0xba, false},
		{"EF", 0xb8, false},
		{"ef", 0xb8, false},
		{"EF+ECT(0)", 0xba, false},
		{"ef+ect0", 0xba, false},
		{"ECT(1)+AF41", 34<<2 | 1, false},
		{"46+CE", 0xbb, false},
		{"CS1", 0x20, false},
		{"LE", 0x04, false},
		{"ECT(0)", 0x02, false},
		{"256", 0, true},
		{"EF+AF41", 0, true},
		{"ECT0+CE", 0, true},
		{"64+ECT0", 0, true},
		{"fast", 0, true},
		{"-1", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseTOS(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("ParseTOS(%q) error = %v; want error %v", tc.in, err, tc.wantErr)
			continue
		}
		if err == nil && got != tc.want {
			t.Errorf("ParseTOS(%q) = %#02x; want %#02x", tc.in, got, tc.want)
		}
	}
}

func TestTOSNames(t *testing.T) {
	tests := []struct {
		tos        uint8
		dscp, ecn  string
		dscpNumber uint8
	}{
		{0x00, "CS0", "Not-ECT", 0},
		{0xb8, "EF", "Not-ECT", 46},
		{0xba, "EF", "ECT(0)", 46},
		{0xb9, "EF", "ECT(1)", 46},
		{0x8b, "AF41", "CE", 34},
		{0x0c, "3", "Not-ECT", 3},
	}
	for _, tc := range tests {
		if got := DSCPName(DSCP(tc.tos)); got != tc.dscp {
			t.Errorf("DSCPName(DSCP(%#02x)) = %q; want %q", tc.tos, got, tc.dscp)
		}
		if got := ECNName(ECN(tc.tos)); got != tc.ecn {
			t.Errorf("ECNName(ECN(%#02x)) = %q; want %q", tc.tos, got, tc.ecn)
		}
		if got := DSCP(tc.tos); got != tc.dscpNumber {
			t.Errorf("DSCP(%#02x) = %d; want %d", tc.tos, got, tc.dscpNumber)
		}
	}
}

// TestFormatTOSRoundTrip: every TOS byte reads back as itself.
func TestFormatTOSRoundTrip(t *testing.T) {
	for v := range 256 {
		s := FormatTOS(uint8(v))
		got, err := ParseTOS(s)
		if err != nil || got != uint8(v) {
			t.Errorf("ParseTOS(FormatTOS(%#02x) = %q) = %#02x, %v; want %#02x", v, s, got, err, v)
		}
	}
}
