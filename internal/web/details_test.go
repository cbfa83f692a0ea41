package web

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pingerplot/pingerplot/internal/packet"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
	"github.com/pingerplot/pingerplot/internal/probe/result"
)

// TestDetailDetails: the live detail carries, per hop, what each
// responder's answers said beyond its address, with the lines the page
// shows on hover; hops whose answers said nothing have no details key.
func TestDetailDetails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.net.SetHops([]probetest.Hop{
			{Addr: e.net.Hops[0].Addr, RTT: msec(1)},
			{Addr: e.net.Hops[1].Addr, RTT: msec(2), Details: result.Details{
				MPLS: []packet.MPLSLabel{{Label: 24001, TC: 5, TTL: 1}, {Label: 16, S: true, TTL: 255}},
				Interfaces: []packet.InterfaceInfo{{Role: packet.RoleIncoming, IfIndex: 12, HasIfIndex: true,
					Addr: netip.MustParseAddr("192.0.2.1"), Name: "ge-0/0/1", MTU: 1500}},
			}},
			{Addr: destAddr, RTT: msec(5)},
		})
		e.start()
		e.add("dest.example", nil)
		e.waitRounds("dest.example", 2, 10*time.Second)
		e.must(200, "POST", "/api/targets/dest.example/pause", nil)
		synctest.Wait()

		d := decodeInto[map[string]json.RawMessage](t, e.must(200, "GET", "/api/targets/dest.example", nil))
		hops := decodeInto[[]map[string]json.RawMessage](t, response{body: d["hops"]})
		if len(hops) != 3 {
			t.Fatalf("%d hops; want 3", len(hops))
		}
		for _, i := range []int{0, 2} {
			if raw, ok := hops[i]["details"]; ok {
				t.Errorf("hop %d details = %s; want no key (its answers said nothing more)", i+1, raw)
			}
		}
		type detailOut struct {
			Addr string `json:"addr"`
			MPLS []struct {
				Label uint32 `json:"label"`
				TC    uint8  `json:"tc"`
				S     bool   `json:"s"`
				TTL   uint8  `json:"ttl"`
			} `json:"mpls"`
			Interfaces []map[string]any `json:"interfaces"`
			Lines      []string         `json:"lines"`
		}
		got := decodeInto[[]detailOut](t, response{body: hops[1]["details"]})
		if len(got) != 1 || got[0].Addr != e.net.Hops[1].Addr.String() {
			t.Fatalf("hop 2 details = %+v; want one, from %s", got, e.net.Hops[1].Addr)
		}
		wantLines := []string{
			"MPLS: Lbl 24001 TC 5 S 0 TTL 1 / Lbl 16 TC 0 S 1 TTL 255",
			"Interfaces: incoming: ge-0/0/1 #12 192.0.2.1 mtu 1500",
		}
		if !reflect.DeepEqual(got[0].Lines, wantLines) {
			t.Errorf("hop 2 lines = %q; want %q", got[0].Lines, wantLines)
		}
		if len(got[0].MPLS) != 2 || got[0].MPLS[0].Label != 24001 || got[0].MPLS[0].TC != 5 || !got[0].MPLS[1].S {
			t.Errorf("hop 2 mpls = %+v; want 24001 (TC 5) over 16 (bottom of stack)", got[0].MPLS)
		}
		wantIf := map[string]any{"role": "incoming", "ifindex": 12.0, "addr": "192.0.2.1", "name": "ge-0/0/1", "mtu": 1500.0}
		if len(got[0].Interfaces) != 1 || !reflect.DeepEqual(got[0].Interfaces[0], wantIf) {
			t.Errorf("hop 2 interfaces = %v; want [%v]", got[0].Interfaces, wantIf)
		}
	})
}
