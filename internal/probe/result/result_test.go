package result

import (
	"encoding/json"
	"testing"
)

func TestModeText(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Mode
		wantErr bool
	}{
		{"icmp", ICMP, false}, {"ICMP", ICMP, false},
		{"udp", UDP, false}, {"UDP", UDP, false},
		{"tcp", TCP, false}, {"TCP", TCP, false},
		{"sctp", 0, true}, {"", 0, true},
	} {
		got, err := ParseMode(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseMode(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
		if tc.wantErr {
			continue
		}
		// JSON carries the lower-case name, and reads it back.
		b, err := json.Marshal(got)
		var back Mode
		if err != nil || json.Unmarshal(b, &back) != nil || back != got {
			t.Errorf("JSON round trip of %v = %s → %v (%v); want %v", got, b, back, err, got)
		}
	}
	var m Mode
	if err := json.Unmarshal([]byte(`"gre"`), &m); err == nil {
		t.Errorf("Unmarshal(\"gre\") = %v; want an error", m)
	}
}

func TestKindString(t *testing.T) {
	for _, tc := range []struct {
		k    Kind
		want string
	}{
		{Timeout, "timeout"}, {TimeExceeded, "time-exceeded"}, {Reached, "reached"},
		{Unreachable, "unreachable"}, {Failed, "failed"}, {Kind(99), "kind(99)"},
	} {
		if got := tc.k.String(); got != tc.want {
			t.Errorf("Kind(%d).String() = %q; want %q", tc.k, got, tc.want)
		}
	}
}
