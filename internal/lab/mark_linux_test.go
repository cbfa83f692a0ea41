//go:build linux

package lab

import (
	"strings"
	"testing"
)

// TestMarkArgs: SetNAT and SetMarking refuse what they cannot build before
// touching any namespace (the lab tests in internal/e2e prove the rules).
func TestMarkArgs(t *testing.T) {
	l := &Lab{}
	l.Prefix, l.Routers = "ppxxxxx", []string{"ppxxxxx-r1", "ppxxxxx-r2"}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"NAT router out of range", l.SetNAT(2, NATStateless), "router 2 out of range"},
		{"NAT negative router", l.SetNAT(-1, NATMasquerade), "router -1 out of range"},
		{"unknown NAT mode", l.SetNAT(0, NATMode(9)), "unknown NAT mode 9"},
		{"marking router out of range", l.SetMarking(2, Marking{BleachECN: true}), "router 2 out of range"},
		{"DSCP out of range", l.SetMarking(0, Marking{SetDSCP: true, DSCP: 64}), "DSCP 64 out of range"},
	} {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: got %v; want an error containing %q", tc.name, tc.err, tc.want)
		}
	}
}
