// Package lab builds throw-away networks of Linux network namespaces for the
// project's end-to-end tests: a client, a chain of routers and a target, joined
// by veth pairs that carry IPv4 and IPv6, with an optional user-space "cable"
// on each link that adds delay, jitter and loss (the test kernels have no
// netem).
//
//	client ─ link 0 ─ router1 ─ link 1 ─ router2 … routerN ─ link N ─ target
//
// Link k is 10.0.k.0/24 and fd00:0:0:k::/64, .1/::1 on the client side. Each
// router answers ICMP errors from its client-side address (Hops4, Hops6).
// Routers and target have their ICMP rate limits off; neighbour entries are
// permanent, so loss on a link never hits ARP or ND. The extra destinations
// of Options.Targets live on the target's loopback, in 10.201.0.0/16 and
// fd00:ffff::/32.
//
// # An alternative path
//
// Options.AltRouters adds a second branch between router1 and the last
// router, for reroute and ECMP tests:
//
//	                 ┌─ alt link 0 ─ alt1 … altM ─ alt link M ─┐
//	client ─ router1 ┤                                         ├ routerN ─ target
//	                 └─ link 1 ─ router2 … ─ link N-1 ─────────┘
//
// Alt link j is 10.1.j.0/24 and fd00:0:1:j::/64, addressed like the main
// links (.1 towards router1), with permanent neighbours and optional cables
// (AltCableLinks, SetAltLink). Traffic takes the main branch until Reroute
// moves it, both ways, or SetECMP makes router1 split it per flow (the way
// back then stays on one branch: see alt_linux.go for why). Only the routes
// between the client's link and the target's prefixes move, so routers stay
// reachable on their own branch. Because routers answer from their inbound
// interface, the last router answers from AltLast4/AltLast6 when probes come
// over the alt branch: AltPath4/AltPath6 list the whole alt path.
//
// A lab is created with New from a test and torn down by t.Cleanup. Traffic
// stays inside the namespaces the lab created, never the root namespace.
// Labs use random names, so tests in different packages may build labs in
// parallel. A lab whose test binary was killed (go test -timeout) is removed
// by the next New.
//
// # Reading truth
//
// A cable releases each frame at its kernel receive time plus the delay. Over
// this lab, the RTT to hop k is the plain-veth RTT (30-60 µs) plus twice the
// one-way delays up to that hop, plus about +5 to +25 µs per delayed cable
// pass. A zero-delay cable pass costs a wake-up of the cable process instead,
// about 40-60 µs: tests that compare RTTs closely put a delay on every cabled
// link, or cable only the links they shape (Options.CableLinks). Lab.Ping is
// the yardstick (kernel receive timestamps); judge on medians, because this
// VM stalls for 5-60 ms a few times a minute.
//
// The cable costs CPU per frame (its send does the far side's kernel work),
// and the machine has two cores: load tests with thousands of probes per
// second belong on plain veth links.
//
// # Processes
//
// Importing this package installs an init function that turns the test binary
// into a cable process when the lab re-executes it (cablectl_linux.go), so
// packages that use the lab need no TestMain hook.
//
// The package is test infrastructure. Product code must not import it, and it
// imports nothing from the product.
package lab

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"
)

// RequiredEnv, when set to 1, turns a lab test's skip for lack of root (or of
// Linux) into a failure. CI sets it so a lab test can never pass by skipping.
const RequiredEnv = "PINGERPLOT_LAB_REQUIRED"

// Options describe the lab to build. The zero value is a valid lab: three
// routers over plain veth links.
type Options struct {
	// Routers is the number of routers between client and target; 0 means 3,
	// and values below 3 are raised to 3.
	Routers int
	// Cables puts a cable on every link, client–router1 … routerN–target.
	// Without it (and without CableLinks) links are plain veth pairs and
	// SetLink fails.
	Cables bool
	// CableLinks puts cables on these links only (0 is client–router1),
	// in addition to Cables. A zero-delay cable still costs a wake-up of
	// its process (~50 µs a pass), so a test that wants an exact baseline
	// cables only the links it shapes.
	CableLinks []int
	// Targets adds this many extra destination addresses on the target
	// (Targets4, Targets6), for tests that monitor many targets; at most
	// 60000. They are added in the target's one `ip -batch`: 300 or 500
	// add tens of milliseconds to the build, 5000 about a second. Each
	// answers ping, UDP (port unreachable) and TCP like the target itself.
	Targets int
	// Seed seeds the cables' loss and jitter streams so a test can replay a
	// pattern. 0 picks a random seed.
	Seed uint64
	// AltRouters, when above 0, builds a second branch of this many routers
	// between router1 and the last router (see "An alternative path"). It
	// carries no traffic until Reroute or SetECMP.
	AltRouters int
	// AltCableLinks puts cables on these links of the alt branch (0 is
	// router1–alt1, AltRouters is the last alt router–last router); shape
	// them with SetAltLink. Cables also cables every alt link. They are
	// numbered apart from CableLinks so that a lab's main link numbers do
	// not depend on whether it has an alt branch.
	AltCableLinks []int
	// RealTime runs the cables under SCHED_FIFO, so a loaded machine
	// (compilers and other test packages on the same cores) cannot hold a
	// frame past its release time. Only timing tests ask for it: a
	// real-time cable that spins before each release takes CPU from
	// everything else.
	RealTime bool
}

// LinkParams shape one direction of a cabled link. The zero value is a
// perfect wire.
type LinkParams struct {
	// Delay is the one-way latency added to every frame.
	Delay time.Duration
	// Jitter spreads the delay uniformly over [Delay-Jitter, Delay+Jitter]
	// (never below zero). Frames may then overtake each other, as on a real
	// path with jitter.
	Jitter time.Duration
	// Loss is the probability, 0 to 1, that a frame is dropped.
	Loss float64
}

func (p LinkParams) validate() error {
	switch {
	case p.Delay < 0 || p.Delay > time.Minute:
		return fmt.Errorf("delay %v out of range [0, 1m]", p.Delay)
	case p.Jitter < 0 || p.Jitter > time.Minute:
		return fmt.Errorf("jitter %v out of range [0, 1m]", p.Jitter)
	case !(p.Loss >= 0 && p.Loss <= 1): // also rejects NaN
		return fmt.Errorf("loss %v out of range [0, 1]", p.Loss)
	}
	return nil
}

// Topology is the description of a lab: its names and addresses. It is all a
// test running inside a namespace (see RunTestInside) can know of its lab.
type Topology struct {
	// Prefix starts every namespace and interface name of this lab.
	Prefix string
	// Client, Target and Routers name the namespaces; Routers is in path
	// order from the client.
	Client, Target string
	Routers        []string
	// Cables names the cable namespaces, one per link, "" for a link
	// without a cable, or is nil when the lab has no cables.
	Cables []string

	ClientAddr4, TargetAddr4 netip.Addr
	ClientAddr6, TargetAddr6 netip.Addr
	// Hops4 and Hops6 hold, in path order, the address each router sends
	// ICMP errors from: that of its client-facing interface.
	Hops4, Hops6 []netip.Addr
	// Targets4 and Targets6 are the extra destinations of Options.Targets,
	// all answered by the target namespace.
	Targets4, Targets6 []netip.Addr

	// AltRouters names the alt branch's router namespaces in path order
	// from router1; nil without Options.AltRouters. AltCables names its
	// cable namespaces, one per alt link, "" for a link without a cable,
	// or is nil when no alt link has a cable.
	AltRouters, AltCables []string `json:",omitempty"`
	// AltHops4 and AltHops6 hold, in path order, the address each alt
	// router sends ICMP errors from: that of its router1-facing interface.
	AltHops4, AltHops6 []netip.Addr `json:",omitempty"`
	// AltLast4 and AltLast6 are the addresses the last router answers from
	// when probes reach it over the alt branch (its inbound interface there).
	AltLast4, AltLast6 netip.Addr `json:",omitzero"`
}

// Links is the number of links: one more than the number of routers.
func (tp Topology) Links() int { return len(tp.Routers) + 1 }

// AltLinks is the number of links of the alt branch: one more than the
// number of alt routers, or 0 without an alt branch.
func (tp Topology) AltLinks() int {
	if len(tp.AltRouters) == 0 {
		return 0
	}
	return len(tp.AltRouters) + 1
}

// AltPath4 and AltPath6 list the addresses a trace to the target sees before
// the target when the alt branch carries it: router1, the alt routers, and
// the last router as it answers over the alt branch. Hops4 and Hops6 are the
// main path's. They are nil without an alt branch.
func (tp Topology) AltPath4() []netip.Addr { return tp.altPath(tp.Hops4, tp.AltHops4, tp.AltLast4) }
func (tp Topology) AltPath6() []netip.Addr { return tp.altPath(tp.Hops6, tp.AltHops6, tp.AltLast6) }

func (tp Topology) altPath(main, alt []netip.Addr, last netip.Addr) []netip.Addr {
	if len(alt) == 0 || len(main) == 0 {
		return nil
	}
	return append(append([]netip.Addr{main[0]}, alt...), last)
}

// cabled reports whether link k has a cable.
func (tp Topology) cabled(k int) bool { return k >= 0 && k < len(tp.Cables) && tp.Cables[k] != "" }

// altCabled reports whether alt link j has a cable.
func (tp Topology) altCabled(j int) bool {
	return j >= 0 && j < len(tp.AltCables) && tp.AltCables[j] != ""
}

// namespaces lists every namespace of the lab.
func (tp Topology) namespaces() []string {
	all := append([]string{tp.Client}, tp.Routers...)
	all = append(all, tp.Target)
	all = append(all, tp.AltRouters...)
	for _, c := range append(slices.Clone(tp.Cables), tp.AltCables...) {
		if c != "" {
			all = append(all, c)
		}
	}
	return all
}

// RequireRoot skips the test unless the lab can run here: Linux and root. When
// PINGERPLOT_LAB_REQUIRED=1 the skip is a failure instead.
func RequireRoot(t testing.TB) {
	t.Helper()
	if reason := unavailable(); reason != "" {
		if os.Getenv(RequiredEnv) == "1" {
			t.Fatalf("network lab required (%s=1) but unavailable: %s", RequiredEnv, reason)
		}
		t.Skipf("network lab unavailable: %s (set %s=1 to make this a failure)", reason, RequiredEnv)
	}
}

// Env names of the re-executed test binary's roles.
const (
	roleEnv   = "PINGERPLOT_LAB_ROLE"   // "cable": run a cable instead of the tests
	cableEnv  = "PINGERPLOT_LAB_CABLE"  // the cable's interfaces and seeds
	insideEnv = "PINGERPLOT_LAB_INSIDE" // JSON Topology for a test run inside a namespace
)

// Inside reports whether this test binary was started by RunTestInside, that
// is, whether it runs inside one of a lab's namespaces.
func Inside() bool { return os.Getenv(insideEnv) != "" }

// InsideTopology returns the description of the lab whose namespace this test
// binary runs in, when RunTestInside started it.
func InsideTopology() (Topology, bool) {
	s := os.Getenv(insideEnv)
	if s == "" {
		return Topology{}, false
	}
	var tp Topology
	if err := json.Unmarshal([]byte(s), &tp); err != nil {
		return Topology{}, false
	}
	return tp, true
}
