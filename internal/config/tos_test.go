package config

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestTOSOption: the tos key reaches the probes as a TOS byte, refuses
// what ParseTOS refuses, and is written back in the form it reads.
func TestTOSOption(t *testing.T) {
	tests := []struct {
		in      string
		want    uint8
		wantErr string
		written string // FromSettings' tos; "" when not written
	}{
		{`{}`, 0, "", ""},
		{`{"tos": ""}`, 0, "", ""},
		{`{"tos": "EF"}`, 0xb8, "", "EF"},
		{`{"tos": "ef+ect0"}`, 0xba, "", "EF+ECT(0)"},
		{`{"tos": "0xb9"}`, 0xb9, "", "EF+ECT(1)"},
		{`{"tos": "12"}`, 12, "", "3+Not-ECT"},
		{`{"tos": "256"}`, 0, "tos: ", ""},
		{`{"tos": "EF+AF41"}`, 0, "tos: ", ""},
		{`{"tos": 184}`, 0, "tos", ""},
	}
	for _, tc := range tests {
		var o Options
		err := json.Unmarshal([]byte(tc.in), &o)
		if err == nil {
			var s = o
			st, serr := s.Settings()
			err = serr
			if err == nil {
				if st.Trace.TOS != tc.want {
					t.Errorf("Settings(%s).Trace.TOS = %#02x; want %#02x", tc.in, st.Trace.TOS, tc.want)
				}
				back := FromSettings(st)
				got := ""
				if back.TOS != nil {
					got = *back.TOS
				}
				if got != tc.written {
					t.Errorf("FromSettings(Settings(%s)).TOS = %q; want %q", tc.in, got, tc.written)
				}
			}
		}
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: got error %v; want none", tc.in, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: got error %v; want one containing %q", tc.in, err, tc.wantErr)
		}
	}
}
