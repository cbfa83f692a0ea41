package result

import (
	"net/netip"
	"time"
)

// PathMTU is what a path MTU discovery found for one target: the largest
// packet that reaches it without fragmentation, and where larger ones stop.
// It lives in this leaf package so that the snapshot, the report and the
// pages carry it without reaching the sockets.
type PathMTU struct {
	// MTU is the path MTU in bytes: the largest IP packet (headers
	// included) that reached the destination with DF set. 0 means the
	// discovery has not finished yet or failed (Err).
	MTU int `json:"mtu,omitempty"`
	// Max is the largest size tried (the search's start): MTU == Max says
	// nothing on the path is smaller, not that larger packets would fail.
	Max int `json:"max,omitempty"`
	// HopTTL is the hop where packets larger than MTU stop: the router
	// that sent "fragmentation needed" / "packet too big", or, when none
	// said so, the last router that answered such packets before the
	// silence. 0 when nothing stops them (MTU == Max) or when the local
	// interface is the limit (Local).
	HopTTL int `json:"hop_ttl,omitempty"`
	// HopAddr is that router's address (invalid when unknown).
	HopAddr netip.Addr `json:"hop_addr,omitzero"`
	// Local says this host's own interface is the limit: the local stack
	// refused larger packets.
	Local bool `json:"local,omitempty"`
	// Reported says a router told the next-hop MTU; false when larger
	// packets were met with silence (an ICMP black hole) and the size was
	// found by bisection.
	Reported bool `json:"reported,omitempty"`
	// Probes is how many probes the discovery sent.
	Probes int `json:"probes,omitempty"`
	// At is when the discovery finished.
	At time.Time `json:"at,omitzero"`
	// Err says why the discovery failed, when it did.
	Err string `json:"error,omitempty"`
}

// Valid reports whether the discovery found a path MTU.
func (p PathMTU) Valid() bool { return p.MTU > 0 }
