package archtest

import (
	"fmt"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// module is the import path every package of the project starts with.
const module = "github.com/pingerplot/pingerplot/"

// engine is what the monitor brings with it: anything that reads snapshots
// or events reaches these.
var engine = []string{"packet", "probe/result", "probe", "trace", "pmtu", "hopstat", "flows", "alert", "monitor"}

// with joins groups of package names into one list.
func with(groups ...[]string) []string { return slices.Concat(groups...) }

// allowed is, for every package of the module (named from the module's
// root), the project packages under internal/ it may reach through its
// non-test imports, directly or through others, on any supported OS. A
// package missing here, or an edge missing from its list, fails
// TestTransitiveImports: add it when its direction agrees with
// docs/architecture.md, and not otherwise. never (below) keeps the rules a
// widened entry must not break.
var allowed = map[string][]string{
	// Leaves: they know nothing of the project.
	"internal/packet":     nil,
	"internal/hopstat":    nil,
	"internal/alert":      nil,
	"internal/privilege":  nil,
	"internal/workqueue":  nil,
	"internal/atomicfile": nil,
	"internal/buildinfo":  nil,
	"internal/desktop":    nil,
	// Runs PingerPlot unattended; writes its unit files atomically.
	"internal/service": {"atomicfile"},
	// The engine, bottom to top. result holds the types of a probe's
	// answer, for those that show or store it without the sockets.
	"internal/probe/result":    {"packet"},
	"internal/probe":           {"packet", "probe/result"},
	"internal/probe/probetest": {"packet", "probe/result", "probe"},
	"internal/trace":           {"packet", "probe/result", "probe"},
	"internal/pmtu":            {"packet", "probe/result", "probe"},
	// Per-flow statistics (ECMP flow enumeration): a hopstat path per flow.
	"internal/flows":   {"hopstat"},
	"internal/monitor": engine,
	// Caches filled in the background; geo stores its cache on disk.
	"internal/resolve": {"workqueue"},
	"internal/geo":     {"workqueue", "atomicfile"},
	// Readers of the per-hop statistics and of the monitor.
	// The result types (a leaf) carry what a hop's replies said (report -e).
	"internal/report": {"hopstat", "flows", "packet", "probe/result"},
	"internal/config": with(engine, []string{"atomicfile"}),
	"internal/csvlog": engine,
	// The webhook's payload carries the diagnosis in the report's format.
	"internal/notify":   with(engine, []string{"report"}),
	"internal/metrics":  engine,
	"internal/tui":      with(engine, []string{"report"}),
	"internal/session":  with(engine, []string{"config", "atomicfile"}),
	"internal/recorder": with(engine, []string{"atomicfile", "csvlog", "notify", "report"}),
	// The diagnosis reads rounds (a subscriber) and gives the report its
	// diagnosis object.
	"internal/diagnose": with(engine, []string{"report"}),
	// Direct hop pings: sent through the prober, read by the diagnosis.
	"internal/hopping": with(engine, []string{"diagnose", "report"}),
	// Path MTU discovery per target: sent through the prober, a subscriber.
	"internal/pmtuwatch": engine,
	// ECMP flow enumeration beside the rounds: a subscriber running tracers.
	"internal/flowwatch": engine,
	// The history store is a subscriber; evidence reads it.
	"internal/history": engine,
	// Fills and ages history files for other packages' tests.
	"internal/history/historytest": with(engine, []string{"history"}),
	"internal/evidence":            with(engine, []string{"history", "report", "buildinfo", "diagnose"}),
	"internal/web":                 with(engine, []string{"atomicfile", "buildinfo", "config", "csvlog", "diagnose", "evidence", "geo", "history", "report", "session", "workqueue"}),
	// Wiring: cli puts everything together, main calls cli.
	"internal/cli":   wiring,
	"cmd/pingerplot": with(wiring, []string{"cli"}),
	// Test-only packages (their imports are in _test files) and tools.
	"internal/archtest": nil,
	"internal/lab":      nil,
	"internal/e2e":      nil,
	"scripts/icongen":   nil,
}

// wiring is every product package but cli: what cli may put together.
var wiring = with(engine, []string{
	"atomicfile", "buildinfo", "config", "csvlog", "desktop", "diagnose", "evidence", "flowwatch", "geo", "history", "hopping", "metrics", "notify", "pmtuwatch", "privilege",
	"recorder", "report", "resolve", "service", "session", "tui", "web", "workqueue",
})

// never lists, per package, what it must not reach even if someone widens
// allowed, and why; TestAllowListKeepsDirection holds allowed to it.
var never = []struct {
	pkg  string
	deny []string
	why  string
}{
	{"internal/packet", []string{"probe", "trace", "monitor"}, "wire formats do no I/O"},
	{"internal/probe/result", []string{"probe", "trace", "monitor"}, "the result types are a leaf, so that readers of results need not reach the sockets"},
	{"internal/hopstat", []string{"packet", "probe", "trace", "monitor"}, "statistics are pure"},
	{"internal/flows", []string{"packet", "probe", "trace", "monitor"}, "per-flow statistics are pure"},
	{"internal/alert", []string{"packet", "probe", "trace", "monitor"}, "alert rules are pure"},
	{"internal/workqueue", []string{"probe", "resolve", "geo", "monitor"}, "the caches that use it know what they look up; it does not"},
	{"internal/atomicfile", []string{"config", "probe", "monitor"}, "a file write knows nothing of what it writes"},
	{"internal/probe", []string{"trace", "hopstat", "alert", "monitor", "resolve"}, "the socket owner knows nothing above it"},
	{"internal/trace", []string{"hopstat", "alert", "monitor", "resolve"}, "a tracer emits rounds; others fold them"},
	{"internal/resolve", []string{"probe", "trace", "monitor"}, "name lookups never touch the prober"},
	{"internal/geo", []string{"probe", "trace", "monitor", "config", "web"}, "geo lookups never touch the prober, not even through config"},
	{"internal/report", []string{"probe", "monitor"}, "a table is drawn from statistics alone"},
	{"internal/monitor", []string{"config", "csvlog", "notify", "session", "recorder", "metrics", "tui", "web", "report", "history", "evidence", "diagnose"}, "subscribers depend on the monitor, never the reverse"},
	{"internal/metrics", []string{"config", "csvlog", "notify", "session", "recorder", "web", "report"}, "a subscriber feeds no one"},
	{"internal/tui", []string{"config", "csvlog", "notify", "session", "recorder", "metrics", "web"}, "the terminal UI shows and stores nothing"},
	{"internal/csvlog", []string{"config", "web", "recorder"}, "a record format is a subscriber's tool"},
	{"internal/config", []string{"csvlog", "session", "web", "recorder"}, "config describes settings; it stores no results"},
}

// probeImporters are the only packages that may import probe itself (the
// sockets): the engine that drives a Prober and the wiring that makes one.
// Packages that show or store results take its types from probe/result,
// even where they reach probe through the monitor.
var probeImporters = []string{"internal/probe/probetest", "internal/trace", "internal/pmtu", "internal/pmtuwatch", "internal/flowwatch", "internal/monitor", "internal/hopping", "internal/cli"}

// pkgDeps is one package's project imports under internal/: direct and all
// (transitive), named relative to internal/.
type pkgDeps struct{ direct, all []string }

// listDeps runs `go list -deps` for the module with GOOS=goos and returns,
// per package of the module (named from the module's root), its project
// imports under internal/.
func listDeps(t *testing.T, goos string) map[string]pkgDeps {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("this test runs `go list`: %v (put the Go toolchain on PATH)", err)
	}
	cmd := exec.Command(goCmd, "list", "-deps", "-f",
		`{{if not .Standard}}{{.ImportPath}}|{{join .Imports " "}}|{{join .Deps " "}}{{end}}`, "./...")
	cmd.Dir = "../.."
	cmd.Env = append(cmd.Environ(), "GOOS="+goos)
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			err = fmt.Errorf("%w: %s", err, ee.Stderr)
		}
		t.Fatalf("GOOS=%s go list -deps: %v", goos, err)
	}
	internal := func(list string) []string {
		var names []string
		for _, p := range strings.Fields(list) {
			if name, ok := strings.CutPrefix(p, module+"internal/"); ok {
				names = append(names, name)
			}
		}
		return names
	}
	deps := map[string]pkgDeps{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Split(strings.TrimSpace(line), "|")
		name, ok := strings.CutPrefix(fields[0], module)
		if !ok || len(fields) != 3 {
			continue // another module's package
		}
		deps[name] = pkgDeps{direct: internal(fields[1]), all: internal(fields[2])}
	}
	return deps
}

// checkDeps returns what in deps the allow-list does not permit: a package
// it does not name, and an edge it does not list (with the direct import
// the edge comes through).
func checkDeps(deps map[string]pkgDeps, allow map[string][]string) []string {
	var problems []string
	for _, pkg := range slices.Sorted(maps.Keys(deps)) {
		may, ok := allow[pkg]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s is a new package: add it to allowed with the packages it may reach", pkg))
			continue
		}
		d := deps[pkg]
		for _, r := range d.all {
			if slices.Contains(may, r) {
				continue
			}
			via := r
			for _, imp := range d.direct {
				if imp == r || slices.Contains(deps["internal/"+imp].all, r) {
					via = imp
					break
				}
			}
			problems = append(problems, fmt.Sprintf("%s reaches internal/%s (through its import of internal/%s), which allowed does not permit: cut the import, or allow the edge if docs/architecture.md agrees", pkg, r, via))
		}
	}
	return problems
}

// TestTransitiveImports holds every package's transitive imports, on each
// OS with its own files, to the allow-list, and the allow-list to what
// exists.
func TestTransitiveImports(t *testing.T) {
	seen := map[string]bool{}
	for _, goos := range []string{"linux", "windows", "darwin"} {
		deps := listDeps(t, goos)
		if len(deps) < 20 {
			t.Fatalf("GOOS=%s: go list found only %d packages of the module; the layout moved?", goos, len(deps))
		}
		for pkg := range deps {
			seen[pkg] = true
		}
		for _, p := range checkDeps(deps, allowed) {
			t.Errorf("GOOS=%s: %s", goos, p)
		}
		for _, pkg := range slices.Sorted(maps.Keys(deps)) {
			if slices.Contains(deps[pkg].direct, "probe") && !slices.Contains(probeImporters, pkg) {
				t.Errorf("GOOS=%s: %s imports internal/probe, the sockets' package; want its result types from internal/probe/result", goos, pkg)
			}
		}
	}
	for _, pkg := range slices.Sorted(maps.Keys(allowed)) {
		if !seen[pkg] {
			t.Errorf("allowed names %s, which no OS builds any more: remove it", pkg)
		}
	}
}

// TestAllowListKeepsDirection: the allow-list itself breaks none of the
// rules in never.
func TestAllowListKeepsDirection(t *testing.T) {
	for _, rule := range never {
		may, ok := allowed[rule.pkg]
		if !ok {
			t.Errorf("never names %s, which allowed does not: fix the name", rule.pkg)
			continue
		}
		for _, d := range rule.deny {
			if slices.Contains(may, d) {
				t.Errorf("allowed lets %s reach internal/%s; want it not to: %s", rule.pkg, d, rule.why)
			}
		}
	}
	for pkg, may := range allowed {
		for _, d := range may {
			if _, ok := allowed["internal/"+d]; !ok {
				t.Errorf("allowed lets %s reach internal/%s, which is not a package of allowed", pkg, d)
			}
			if (d == "cli" && pkg != "cmd/pingerplot") || d == "lab" || d == "e2e" || d == "archtest" {
				t.Errorf("allowed lets %s reach internal/%s; only main may use cli, and no package may use test infrastructure", pkg, d)
			}
		}
	}
}

// TestCheckDeps: the check finds a new package and a new edge, names the
// import an edge comes through, and passes what the list permits.
func TestCheckDeps(t *testing.T) {
	allow := map[string][]string{
		"internal/a": {"b", "c"},
		"internal/b": {"c"},
		"internal/c": nil,
	}
	for _, tc := range []struct {
		name string
		deps map[string]pkgDeps
		want []string // a substring of each problem, in order
	}{
		{"as listed", map[string]pkgDeps{
			"internal/a": {direct: []string{"b"}, all: []string{"b", "c"}},
			"internal/b": {direct: []string{"c"}, all: []string{"c"}},
			"internal/c": {},
		}, nil},
		{"a new package", map[string]pkgDeps{
			"internal/c": {},
			"internal/d": {direct: []string{"c"}, all: []string{"c"}},
		}, []string{"internal/d is a new package"}},
		{"a new edge through another package", map[string]pkgDeps{
			"internal/a": {direct: []string{"b"}, all: []string{"b", "c"}},
			"internal/b": {direct: []string{"c"}, all: []string{"c"}},
			"internal/c": {direct: []string{"a"}, all: []string{"a", "b"}},
		}, []string{
			"internal/c reaches internal/a (through its import of internal/a)",
			"internal/c reaches internal/b (through its import of internal/a)",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := checkDeps(tc.deps, allow)
			if len(got) != len(tc.want) {
				t.Fatalf("checkDeps = %q; want %d problems like %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %d = %q; want it to contain %q", i, got[i], w)
				}
			}
		})
	}
}
