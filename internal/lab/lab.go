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
// permanent, so loss on a link never hits ARP or ND.
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
	// (Targets4, Targets6), for tests that monitor many targets.
	Targets int
	// Seed seeds the cables' loss and jitter streams so a test can replay a
	// pattern. 0 picks a random seed.
	Seed uint64
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
}

// Links is the number of links: one more than the number of routers.
func (tp Topology) Links() int { return len(tp.Routers) + 1 }

// cabled reports whether link k has a cable.
func (tp Topology) cabled(k int) bool { return k >= 0 && k < len(tp.Cables) && tp.Cables[k] != "" }

// namespaces lists every namespace of the lab.
func (tp Topology) namespaces() []string {
	all := append([]string{tp.Client}, tp.Routers...)
	all = append(all, tp.Target)
	for _, c := range tp.Cables {
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
