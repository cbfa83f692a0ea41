package config

import (
	"net/netip"
	"strings"
	"testing"
)

func TestCheckAddr(t *testing.T) {
	attached := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.1/24"),     // an interface's address and prefix, unmasked
		netip.MustParsePrefix("192.0.2.10/31"),   // point-to-point: no broadcast
		netip.MustParsePrefix("fd00::1/64"),      // IPv6: no broadcast
		netip.MustParsePrefix("172.16.0.5/16"),   // broadcast 172.16.255.255
		netip.MustParsePrefix("198.51.100.7/32"), // a host route
	}
	tests := []struct {
		addr string
		want string // "" for accepted; else a substring of the error
	}{
		{"10.0.0.2", ""},
		{"8.8.8.8", ""},
		{"2001:db8::1", ""},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"ff02::1", "multicast"},
		{"::ffff:224.0.0.1", "multicast"},
		{"255.255.255.255", "broadcast address, which every host"},
		{"10.0.0.255", "broadcast address of 10.0.0.0/24"},
		{"172.16.255.255", "broadcast address of 172.16.0.0/16"},
		{"10.0.1.255", ""},   // another /24, not attached
		{"192.0.2.11", ""},   // the /31's upper address is a host
		{"198.51.100.7", ""}, // a /32 has no broadcast
		{"10.0.0.0", ""},     // the network address is refused by no rule here
	}
	for _, tt := range tests {
		err := CheckAddr(netip.MustParseAddr(tt.addr), attached)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckAddr(%s) = %v; want nil", tt.addr, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("CheckAddr(%s) = %v; want an error containing %q", tt.addr, err, tt.want)
		}
	}
	// Without the interface list only the subnet rule is skipped.
	if err := CheckAddr(netip.MustParseAddr("10.0.0.255"), nil); err != nil {
		t.Errorf("CheckAddr(10.0.0.255, nil) = %v; want nil", err)
	}
}

func TestCheckHost(t *testing.T) {
	tests := []struct {
		host string
		want string // "" for accepted
	}{
		{"example.com", ""},
		{"10.77.5.3", ""},
		{"2001:db8::1", ""},
		{"fe80::1%eth0", ""},
		{"host-1.example", ""},
		{"10.77.5.300", `"10.77.5.300" is not a valid IPv4 address: 300 is above 255`},
		{"10.77.5", "want four numbers"},
		{"10..5.1", "a part is empty"},
		{"010.1.1.1", "leading zero"},
		{"2001:db8::zz", "not a valid IPv6 address"},
		{"example.com:443", "looks like a host and a port"},
		{"224.0.0.1", "multicast"},
		{"0.0.0.0", "unspecified"},
		{"::", "unspecified"},
		{"255.255.255.255", "broadcast"},
		{"https://example.com/x", "is a URL"},
		{"", "missing"},
	}
	for _, tt := range tests {
		err := CheckHost(tt.host)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckHost(%q) = %v; want nil", tt.host, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("CheckHost(%q) = %v; want an error containing %q", tt.host, err, tt.want)
		}
	}
}

func TestOptionsCheck(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want []Problem
	}{
		{"defaults", Options{}, []Problem{}},
		{"port 0", Options{Mode: new("tcp"), Port: new(0)}, []Problem{{"port", "0 is out of range: want 1 to 65535"}}},
		{"interval 0", Options{Interval: new(Seconds(0))}, []Problem{{"interval", "0 s is out of range: want from 0.05 s to 86400 s"}}},
		{"interval at the minimum", Options{Interval: new(Seconds(MinInterval))}, []Problem{}},
		{"two", Options{Timeout: new(Seconds(0)), Size: new(-1)}, []Problem{
			{"timeout", "0 s is out of range: want more than 0 s and at most 60 s"},
			{"size", "-1 is out of range: want 0 to 65000"}}},
		{"port with icmp", Options{Port: new(80)}, []Problem{{"port", `only udp and tcp probes use a port; set "mode" to "udp" or "tcp", or remove "port"`}}},
	}
	for _, tt := range tests {
		got := tt.o.Check()
		if len(got) != len(tt.want) {
			t.Errorf("%s: Check() = %v; want %v", tt.name, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: Check()[%d] = %v; want %v", tt.name, i, got[i], tt.want[i])
			}
		}
	}
}

func TestPortAllowed(t *testing.T) {
	for mode, want := range map[string]bool{"icmp": false, "udp": true, "tcp": true, "TCP": true, "": false} {
		if got := PortAllowed(mode); got != want {
			t.Errorf("PortAllowed(%q) = %v; want %v", mode, got, want)
		}
	}
}

func TestResolveRefusesBadLiterals(t *testing.T) {
	_, err := Resolve(Options{}, []TargetEntry{{Host: "10.77.5.300"}, {Host: "224.0.0.1"}, {Host: "8.8.8.8"}}, "")
	if err == nil {
		t.Fatal("Resolve accepted 10.77.5.300 and 224.0.0.1")
	}
	for _, w := range []string{"2 problems", "targets[0] (10.77.5.300): target: \"10.77.5.300\" is not a valid IPv4 address", "targets[1] (224.0.0.1): target: 224.0.0.1 is a multicast group"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Resolve error = %v; want it to contain %q", err, w)
		}
	}
}
