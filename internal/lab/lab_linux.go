//go:build linux

package lab

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Lab is a running network of namespaces. Its methods are safe for concurrent
// use. Close (registered with t.Cleanup by New) removes everything it made.
type Lab struct {
	Topology

	t      testing.TB
	opts   Options
	nodes  []string // client, routers…, target: the namespaces that hold addresses
	cables []*cableProc
	// altCables are the alt branch's cables, indexed by alt link.
	altCables []*cableProc

	// routeMu serializes route changes (Reroute, SetECMP); viaAlt and ecmp
	// are the state they last applied.
	routeMu      sync.Mutex
	viaAlt, ecmp bool

	// rateDefaults holds the kernel's ICMP rate-limit sysctls as a fresh
	// namespace has them, so SetICMPRateLimit can restore them.
	rateDefaults []sysctl

	// lock is the machine lock held shared while the lab exists (nil when
	// this process holds it exclusively); see Exclusive.
	lock *os.File

	closeOnce sync.Once
}

// maxRouters keeps link numbers inside one octet of the addressing plan.
const maxRouters = 200

func unavailable() string {
	if os.Geteuid() != 0 {
		return fmt.Sprintf("needs root to create network namespaces (running as uid %d)", os.Geteuid())
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Sprintf("%s not found in PATH (apt-get install iproute2 nftables)", tool)
		}
	}
	return ""
}

// New builds a lab, waits until every cable is running, and registers its
// teardown with t.Cleanup. It skips (or fails, see RequiredEnv) when the lab
// cannot run here and fails the test when the build fails.
func New(t testing.TB, o Options) *Lab {
	t.Helper()
	RequireRoot(t)
	if o.Routers < 3 {
		o.Routers = 3
	}
	if o.Routers > maxRouters {
		t.Fatalf("lab: %d routers; at most %d", o.Routers, maxRouters)
	}
	if o.Targets < 0 || o.Targets > 60000 {
		t.Fatalf("lab: %d extra targets; want 0 to 60000", o.Targets)
	}
	for _, k := range o.CableLinks {
		if k < 0 || k > o.Routers {
			t.Fatalf("lab: CableLinks has link %d; links are 0 to %d", k, o.Routers)
		}
	}
	if o.AltRouters < 0 || o.AltRouters > maxRouters {
		t.Fatalf("lab: %d alt routers; want 0 to %d", o.AltRouters, maxRouters)
	}
	for _, j := range o.AltCableLinks {
		if j < 0 || j > o.AltRouters || o.AltRouters == 0 {
			t.Fatalf("lab: AltCableLinks has alt link %d; alt links are 0 to %d (AltRouters %d)", j, o.AltRouters, o.AltRouters)
		}
	}
	if o.Seed == 0 {
		o.Seed = randomSeed()
	}
	// Labs left behind by killed test binaries would otherwise live until
	// reboot; every new lab removes those whose owner process is gone.
	sweepStale(t)

	lock, err := sharedLock()
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	l := &Lab{t: t, opts: o, lock: lock}
	// Cleanup first, so a half-built lab is torn down when the build fails.
	t.Cleanup(l.Close)
	start := time.Now()
	if err := l.build(); err != nil {
		t.Fatalf("lab: build %s: %v", l.Prefix, err)
	}
	t.Logf("lab %s: %d routers, %d alt routers, %d cables, %d extra targets, built in %v", l.Prefix, o.Routers,
		o.AltRouters, l.cableCount(), o.Targets, time.Since(start).Round(time.Millisecond))
	return l
}

func randomSeed() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	s := uint64(0)
	for _, x := range b {
		s = s<<8 | uint64(x)
	}
	return s | 1
}

// newPrefix returns "pp" and five random hex digits: short enough that
// "<prefix>-<link><side>" stays within the 15 bytes of an interface name.
func newPrefix() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return "pp" + hex.EncodeToString(b[:])[:5]
}

func (l *Lab) build() error {
	n := l.opts.Routers
	for attempt := 0; ; attempt++ {
		// The state file claims the prefix atomically among concurrent
		// test processes, and every name must be free, so that teardown
		// can never delete a namespace this lab did not create.
		l.Prefix = newPrefix()
		taken, _ := filepath.Glob(netnsPath(l.Prefix + "-*"))
		if len(taken) == 0 {
			err := claimState(l.Prefix)
			if err == nil {
				break
			}
			if !errors.Is(err, fs.ErrExist) {
				return err
			}
		}
		if attempt > 20 {
			return errors.New("no free name prefix")
		}
	}
	p := l.Prefix
	l.Client = p + "-c"
	l.Target = p + "-t"
	l.nodes = append(l.nodes, l.Client)
	for r := 1; r <= n; r++ {
		name := fmt.Sprintf("%s-r%d", p, r)
		l.Routers = append(l.Routers, name)
		l.nodes = append(l.nodes, name)
	}
	l.nodes = append(l.nodes, l.Target)
	if l.opts.Cables || len(l.opts.CableLinks) > 0 {
		l.Cables = make([]string, n+1)
		for k := range l.Cables {
			if l.opts.Cables || slices.Contains(l.opts.CableLinks, k) {
				l.Cables[k] = fmt.Sprintf("%s-x%d", p, k)
			}
		}
	}
	l.ClientAddr4, l.ClientAddr6 = linkAddr4(0, 1), linkAddr6(0, 1)
	l.TargetAddr4, l.TargetAddr6 = linkAddr4(n, 2), linkAddr6(n, 2)
	for k := 0; k < n; k++ {
		l.Hops4 = append(l.Hops4, linkAddr4(k, 2))
		l.Hops6 = append(l.Hops6, linkAddr6(k, 2))
	}
	for i := 1; i <= l.opts.Targets; i++ {
		l.Targets4 = append(l.Targets4, netip.AddrFrom4([4]byte{10, 201, byte(i >> 8), byte(i)}))
		l.Targets6 = append(l.Targets6, netip.AddrFrom16([16]byte{0xfd, 0, 0xff, 0xff, 14: byte(i >> 8), 15: byte(i)}))
	}
	l.nameAlt()

	all := l.namespaces()
	// The state file lists the namespaces before they exist: from then on a
	// sweeper can find them even if this process dies half-way.
	if err := writeState(p, all); err != nil {
		return err
	}
	for _, ns := range all {
		if err := run("ip", "netns", "add", ns); err != nil {
			return err
		}
	}
	if err := l.setSysctls(); err != nil {
		return err
	}
	// Each namespace creates the veth pairs towards the target and then
	// configures its own ends, so walking the path in order finds every
	// interface already made by its upstream neighbour.
	for k, ns := range l.nodes {
		if err := ipBatch(ns, l.nodeScript(k)); err != nil {
			return err
		}
		if l.cabled(k) {
			if err := ipBatch(l.Cables[k], l.cableScript(k)); err != nil {
				return err
			}
		}
	}
	if err := l.buildAlt(); err != nil {
		return err
	}
	return l.startCables()
}

// Where Options.Targets live: prefixes of the target's loopback addresses.
var (
	targetsPrefix4 = netip.MustParsePrefix("10.201.0.0/16")
	targetsPrefix6 = netip.MustParsePrefix("fd00:ffff::/32")
)

// cableCount is the number of cables of the lab, main and alt.
func (l *Lab) cableCount() int {
	n := 0
	for _, c := range append(slices.Clone(l.Cables), l.AltCables...) {
		if c != "" {
			n++
		}
	}
	return n
}

// Addressing plan: link k is 10.0.k.0/24 and fd00:0:0:k::/64; its upstream
// end (towards the client) is .1/::1, the downstream end .2/::2. Namespaces
// isolate labs, so every lab reuses the same plan.
func linkAddr4(k, host int) netip.Addr {
	return netip.AddrFrom4([4]byte{10, 0, byte(k), byte(host)})
}

func linkAddr6(k, host int) netip.Addr {
	return netip.AddrFrom16([16]byte{0xfd, 0, 6: byte(k >> 8), 7: byte(k), 15: byte(host)})
}

// linkMAC gives each veth end of the lab a fixed locally administered address,
// so permanent neighbour entries can be written before the far end exists.
func linkMAC(k, host int) string {
	return fmt.Sprintf("02:70:6c:%02x:%02x:%02x", k>>8, k&0xff, host)
}

func (l *Lab) ifName(k int, side byte) string { return fmt.Sprintf("%s-%d%c", l.Prefix, k, side) }

// nodeScript is the `ip -batch` input that builds node k's outbound veth pair
// (k is 0 for the client, len(Routers)+1 for the target) and configures its
// ends.
func (l *Lab) nodeScript(k int) []string {
	n := len(l.Routers)
	var s []string
	add := func(format string, args ...any) { s = append(s, fmt.Sprintf(format, args...)) }
	add("link set lo up")
	if k <= n { // the link towards the target starts here
		peer, peerNS := l.ifName(k, 'b'), l.nodes[k+1]
		if l.cabled(k) {
			peer, peerNS = l.ifName(k, 'x'), l.Cables[k]
			add("link add name %s address %s type veth peer name %s netns %s", l.ifName(k, 'a'), linkMAC(k, 1), peer, peerNS)
		} else {
			add("link add name %s address %s type veth peer name %s address %s netns %s",
				l.ifName(k, 'a'), linkMAC(k, 1), peer, linkMAC(k, 2), peerNS)
		}
		l.endScript(add, k, 'a', 1, 2)
	}
	if k >= 1 { // the link from the client ends here
		l.endScript(add, k-1, 'b', 2, 1)
	}
	switch {
	case k == 0:
		add("route add 0.0.0.0/0 via %s", linkAddr4(0, 2))
		add("route add ::/0 via %s", linkAddr6(0, 2))
	case k <= n:
		for j := 0; j < k-1; j++ {
			add("route add %s/24 via %s", linkAddr4(j, 0), linkAddr4(k-1, 1))
			add("route add %s/64 via %s", linkAddr6(j, 0), linkAddr6(k-1, 1))
		}
		add("route add 0.0.0.0/0 via %s", linkAddr4(k, 2))
		add("route add ::/0 via %s", linkAddr6(k, 2))
	default: // target
		add("route add 0.0.0.0/0 via %s", linkAddr4(n, 1))
		add("route add ::/0 via %s", linkAddr6(n, 1))
		for i := range l.Targets4 {
			add("addr add %s/32 dev lo", l.Targets4[i])
			add("addr add %s/128 dev lo nodad", l.Targets6[i])
		}
	}
	return s
}

// endScript configures one veth end of link k: addresses, and permanent
// neighbour entries for the far end so loss on the link never hits ARP or ND.
func (l *Lab) endScript(add func(string, ...any), k int, side byte, host, peer int) {
	dev := l.ifName(k, side)
	add("link set %s up", dev)
	add("addr add %s/24 dev %s", linkAddr4(k, host), dev)
	add("addr add %s/64 dev %s nodad", linkAddr6(k, host), dev)
	add("neigh replace %s lladdr %s dev %s nud permanent", linkAddr4(k, peer), linkMAC(k, peer), dev)
	add("neigh replace %s lladdr %s dev %s nud permanent", linkAddr6(k, peer), linkMAC(k, peer), dev)
}

// cableScript builds the cable namespace's second veth pair, towards node k+1.
func (l *Lab) cableScript(k int) []string {
	return []string{
		fmt.Sprintf("link add name %s type veth peer name %s address %s netns %s",
			l.ifName(k, 'y'), l.ifName(k, 'b'), linkMAC(k, 2), l.nodes[k+1]),
		fmt.Sprintf("link set %s up", l.ifName(k, 'x')),
		fmt.Sprintf("link set %s up", l.ifName(k, 'y')),
	}
}

// Close stops the cables, kills what still runs in the lab's namespaces and
// deletes them. It is idempotent and registered with t.Cleanup by New.
func (l *Lab) Close() {
	l.closeOnce.Do(func() {
		all := append(slices.Clone(l.cables), l.altCables...)
		errs := make([]error, len(all))
		var wg sync.WaitGroup
		for i, c := range all {
			if c != nil {
				wg.Go(func() { errs[i] = c.stop() })
			}
		}
		wg.Wait()
		if err := removeNamespaces(l.namespaces()); err != nil {
			errs = append(errs, err)
		}
		if err := removeState(l.Prefix); err != nil {
			errs = append(errs, err)
		}
		if l.lock != nil {
			l.lock.Close()
		}
		if err := errors.Join(errs...); err != nil {
			l.t.Errorf("lab %s: teardown: %v", l.Prefix, err)
		}
	})
}

// removeNamespaces kills every process left inside the namespaces (all of
// them started by this lab's user, through Command or RunTestInside), then
// deletes the namespaces.
func removeNamespaces(names []string) error {
	var errs []error
	for _, ns := range names {
		if !nsExists(ns) {
			continue
		}
		killNamespacePIDs(ns)
		if err := run("ip", "netns", "delete", ns); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Command returns a command that runs name inside namespace ns as root.
func (l *Lab) Command(ctx context.Context, ns, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// CommandUnprivileged returns a command that runs name inside namespace ns as
// uid and gid 65534 with no capabilities at all. The executable must be
// reachable by that user: see ExecutableCopy.
func (l *Lab) CommandUnprivileged(ctx context.Context, ns, name string, args ...string) *exec.Cmd {
	pre := []string{"netns", "exec", ns, "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
		"--inh-caps=-all", "--bounding-set=-all", "--", name}
	return exec.CommandContext(ctx, "ip", append(pre, args...)...)
}

// IP runs `ip -n ns args…`, for changes the lab has no method for (such as
// replacing a route for a reroute test).
func (l *Lab) IP(ns string, args ...string) error {
	return run("ip", append([]string{"-n", ns}, args...)...)
}

// SetLink sets both directions of link i (0 is client–router1, len(Routers) is
// lastRouter–target); fwd is the direction away from the client. It takes
// effect for frames that arrive after it returns, also while traffic flows.
func (l *Lab) SetLink(i int, fwd, rev LinkParams) error {
	if err := l.checkLink(i); err != nil {
		return err
	}
	if err := fwd.validate(); err != nil {
		return fmt.Errorf("link %d forward: %w", i, err)
	}
	if err := rev.validate(); err != nil {
		return fmt.Errorf("link %d reverse: %w", i, err)
	}
	return l.cables[i].set(fwd, rev)
}

// LinkStats returns the frame counters of link i's cable, forward and reverse.
func (l *Lab) LinkStats(i int) (fwd, rev CableStats, err error) {
	if err := l.checkLink(i); err != nil {
		return CableStats{}, CableStats{}, err
	}
	return l.cables[i].stats()
}

func (l *Lab) checkLink(i int) error {
	if i < 0 || i >= l.Links() {
		return fmt.Errorf("link %d out of range [0, %d]", i, l.Links()-1)
	}
	if i >= len(l.cables) || l.cables[i] == nil {
		return fmt.Errorf("link %d has no cable (set Options.Cables or CableLinks)", i)
	}
	return nil
}

// nftTable holds the lab's filter rules inside a router namespace.
const nftTable = "inet pingerplot_lab"

// DropTimeExceeded makes router i (0-based) silently drop the ICMP and ICMPv6
// time-exceeded messages it sends, or stops doing so. Packets it forwards are
// untouched.
func (l *Lab) DropTimeExceeded(router int, on bool) error {
	if router < 0 || router >= len(l.Routers) {
		return fmt.Errorf("router %d out of range [0, %d)", router, len(l.Routers))
	}
	// "add" then "delete"/"flush" keeps both directions idempotent on nft
	// versions that lack "destroy".
	script := "add table " + nftTable + "\ndelete table " + nftTable + "\n"
	if on {
		script = "add table " + nftTable + "\nflush table " + nftTable + "\n" +
			"add chain " + nftTable + " out { type filter hook output priority 0 ; policy accept ; }\n" +
			"add rule " + nftTable + " out icmp type time-exceeded drop\n" +
			"add rule " + nftTable + " out icmpv6 type time-exceeded drop\n"
	}
	return l.nft(l.Routers[router], script)
}

// nft runs an nft script inside namespace ns; a script is one transaction.
func (l *Lab) nft(ns, script string) error {
	cmd := l.Command(context.Background(), ns, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("nft in %s: %v: %s", ns, err, bytes.TrimSpace(out))
	}
	return nil
}

// SetICMPRateLimit turns the kernel's ICMP rate limits of router i (0-based)
// back on, at the kernel's defaults, or off again (the lab's default, so that
// routers answer every probe).
func (l *Lab) SetICMPRateLimit(router int, on bool) error {
	if router < 0 || router >= len(l.Routers) {
		return fmt.Errorf("router %d out of range [0, %d)", router, len(l.Routers))
	}
	vals := rateLimitsOff
	if on {
		vals = l.rateDefaults
	}
	return writeSysctls(l.Routers[router], vals)
}

// run executes a command in the root namespace (only ever ip or nft managing
// the lab's namespaces) and reports its output on failure.
func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// ipBatch runs lines as one `ip -n ns -batch -`: one process per namespace
// keeps building a lab fast.
func ipBatch(ns string, lines []string) error {
	cmd := exec.Command("ip", "-n", ns, "-batch", "-")
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("ip -n %s -batch: %v: %s\nscript:\n%s", ns, err, bytes.TrimSpace(out), strings.Join(lines, "\n"))
	}
	return nil
}

func nsExists(ns string) bool {
	_, err := os.Stat(netnsPath(ns))
	return err == nil
}

func netnsPath(ns string) string { return "/run/netns/" + ns }
