//go:build linux

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/lab"
	"github.com/pingerplot/pingerplot/internal/report"
)

// built is the command, built once per test run for one platform.
type built struct {
	once sync.Once
	path string
	err  error
}

// linuxBinary is the pingerplot command for this machine.
var linuxBinary built

// binary builds the pingerplot command once per test run and returns a copy
// that an unprivileged user can execute.
func binary(t testing.TB) string {
	t.Helper()
	return linuxBinary.get(t, "pingerplot")
}

// get builds cmd/pingerplot as name with env added to go build's (GOOS,
// GOARCH) the first time, into a folder an unprivileged user may read;
// TestMain removes it.
func (b *built) get(t testing.TB, name string, env ...string) string {
	t.Helper()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "pp-e2e-bin-")
		if err == nil {
			err = os.Chmod(dir, 0o755)
		}
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-o", b.path, "github.com/pingerplot/pingerplot/cmd/pingerplot")
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("%s go build: %v\n%s", strings.Join(env, " "), err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func TestMain(m *testing.M) {
	// ui and headless keep a history file by default, in the user's data
	// directory: the binaries the tests start put theirs in a directory
	// of the run (writable by the unprivileged user), never in the home
	// of whoever runs the tests. Tests that read the history give each
	// run its own file.
	data, err := os.MkdirTemp("", "pp-e2e-data-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := os.Chmod(data, 0o1777); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Setenv("XDG_DATA_HOME", data)
	code := m.Run()
	os.RemoveAll(data)
	for _, b := range []*built{&linuxBinary, &windowsExe} {
		if b.path != "" {
			os.RemoveAll(filepath.Dir(b.path))
		}
	}
	os.Exit(code)
}

// result is one run of the binary.
type result struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

// run runs the binary in the client namespace, unprivileged or as root.
func run(t *testing.T, l *lab.Lab, unpriv bool, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var cmd *exec.Cmd
	if unpriv {
		cmd = l.CommandUnprivileged(ctx, l.Client, binary(t), args...)
	} else {
		cmd = l.Command(ctx, l.Client, binary(t), args...)
	}
	return runCmd(t, cmd)
}

// runCmd runs cmd to its end and returns its output and exit code; a
// command that could not run at all fails the test.
func runCmd(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: so.String(), stderr: se.String(), took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", cmd.Args, err)
	}
	return r
}

// reportJSON runs `report --json` and decodes it, failing on a non-zero exit.
func reportJSON(t *testing.T, l *lab.Lab, unpriv bool, args ...string) report.Report {
	t.Helper()
	r := run(t, l, unpriv, append([]string{"report", "--json", "-n"}, args...)...)
	if r.code != 0 {
		t.Fatalf("pingerplot report %v: exit %d\nstderr: %s", args, r.code, r.stderr)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("decode report JSON: %v\n%s", err, r.stdout)
	}
	return rep
}

// mode is one probe mode as the command line spells it, for pingerplot and mtr.
type mode struct {
	name  string
	flags []string // pingerplot's and mtr's flags alike
}

var modes = []mode{
	{"icmp", nil},
	{"udp", []string{"-u"}},
	{"tcp", []string{"-T", "-P", "8080"}},
}

type family struct {
	name string
	flag string
}

var families = []family{{"ipv4", "-4"}, {"ipv6", "-6"}}

// mtrRaw runs Debian's mtr in --raw mode in ns and returns the RTTs it
// measured per hop (0-based as mtr counts).
func mtrRaw(ctx context.Context, l *lab.Lab, args ...string) (map[int][]time.Duration, error) {
	out, err := l.Command(ctx, l.Client, "mtr", append([]string{"--raw", "-n"}, args...)...).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("mtr %v: %v\n%s", args, err, out)
	}
	rtts := map[int][]time.Duration{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 3 && f[0] == "p" {
			hop, _ := strconv.Atoi(f[1])
			us, err := strconv.Atoi(f[2])
			if err == nil {
				rtts[hop] = append(rtts[hop], time.Duration(us)*time.Microsecond)
			}
		}
	}
	return rtts, nil
}

var pingTime = regexp.MustCompile(`time=([0-9.]+) ms`)

// iputilsPing runs iputils ping (which reports kernel receive timestamps)
// in ns and returns its RTTs.
func iputilsPing(ctx context.Context, l *lab.Lab, args ...string) ([]time.Duration, error) {
	out, err := l.Command(ctx, l.Client, "ping", append([]string{"-n"}, args...)...).CombinedOutput()
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("ping %v: %v", args, err)
	}
	var rtts []time.Duration
	for _, m := range pingTime.FindAllStringSubmatch(string(out), -1) {
		v, _ := strconv.ParseFloat(m[1], 64)
		rtts = append(rtts, time.Duration(v*float64(time.Millisecond)))
	}
	return rtts, nil
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// noCrash fails if a command's output looks like a Go panic.
func noCrash(t *testing.T, r result) {
	t.Helper()
	for _, s := range []string{"panic:", "goroutine ", "runtime error", ".go:"} {
		if strings.Contains(r.stderr, s) || strings.Contains(r.stdout, s) {
			t.Errorf("output contains %q (a crash or stack trace):\n%s%s", s, r.stdout, r.stderr)
		}
	}
}

// withNames gives the lab's client namespace its own /etc/hosts, naming
// every router and the target, and a resolv.conf with no reachable server,
// so reverse DNS answers from the file and no lookup waits on a network.
// `ip netns exec` bind-mounts /etc/netns/<ns>/* over /etc for commands it
// runs. It returns the names by address.
func withNames(t *testing.T, l *lab.Lab) map[string]string {
	t.Helper()
	dir := filepath.Join("/etc/netns", l.Client)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	names := map[string]string{}
	var hosts strings.Builder
	add := func(a fmt.Stringer, name string) {
		names[a.String()] = name
		fmt.Fprintf(&hosts, "%s %s\n", a, name)
	}
	for i := range l.Hops4 {
		add(l.Hops4[i], fmt.Sprintf("r%d.lab.example", i+1))
		add(l.Hops6[i], fmt.Sprintf("r%d-v6.lab.example", i+1))
	}
	add(l.TargetAddr4, "target.lab.example")
	add(l.TargetAddr6, "target-v6.lab.example")
	if err := os.WriteFile(filepath.Join(dir, "hosts"), []byte(hosts.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return names
}
