//go:build linux

package e2e

import (
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pingerplot/pingerplot/internal/lab"
	"github.com/pingerplot/pingerplot/internal/packet"
)

var updateSeeds = flag.Bool("update-seeds", false, "write the ICMP replies captured in the lab to internal/packet/testdata/fuzz as fuzz seeds")

const (
	seedsBinEnv = "PP_E2E_BIN"
	seedsDirEnv = "PP_E2E_SEEDS"
)

// TestLabRepliesParse captures every ICMP and ICMPv6 message the lab's
// routers and target send while pingerplot traces them in every mode, and
// checks the packet parsers read all of them. With -update-seeds it stores
// one of each kind as a seed of the parsers' fuzz targets: real replies are
// the best starting point for a fuzzer.
func TestLabRepliesParse(t *testing.T) {
	if lab.Inside() {
		captureInside(t)
		return
	}
	l := lab.New(t, lab.Options{Routers: 3})
	stop, err := l.ListenTCP(l.Target, 8080)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	env := map[string]string{seedsBinEnv: binary(t)}
	if *updateSeeds {
		dir, err := filepath.Abs("../packet/testdata/fuzz")
		if err != nil {
			t.Fatal(err)
		}
		env[seedsDirEnv] = dir
	}
	out, err := l.RunTestInside(t, l.Client, "TestLabRepliesParse", env)
	t.Log(out)
	if err != nil {
		t.Fatal(err)
	}
}

type captured struct {
	v6   bool
	data []byte
}

func captureInside(t *testing.T) {
	tp, ok := lab.InsideTopology()
	if !ok {
		t.Fatal("no lab topology")
	}
	var (
		mu   sync.Mutex
		pkts []captured
		wg   sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	for _, v6 := range []bool{false, true} {
		af, proto := unix.AF_INET, unix.IPPROTO_ICMP
		if v6 {
			af, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
		}
		fd, err := unix.Socket(af, unix.SOCK_RAW|unix.SOCK_CLOEXEC, proto)
		if err != nil {
			t.Fatalf("raw socket: %v", err)
		}
		tv := unix.NsecToTimeval(int64(50 * time.Millisecond))
		_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer unix.Close(fd)
			buf := make([]byte, 2048)
			for ctx.Err() == nil {
				n, _, err := unix.Recvfrom(fd, buf, 0)
				if err != nil {
					continue
				}
				mu.Lock()
				pkts = append(pkts, captured{v6, append([]byte(nil), buf[:n]...)})
				mu.Unlock()
			}
		}()
	}
	bin := os.Getenv(seedsBinEnv)
	for _, dst := range []string{tp.TargetAddr4.String(), tp.TargetAddr6.String()} {
		for _, m := range [][]string{nil, {"-u"}, {"-T", "-P", "8080"}} {
			for _, priv := range []string{"--raw", "--unprivileged"} {
				if len(m) > 0 && m[0] == "-T" && priv == "--raw" {
					continue
				}
				args := append([]string{"report", "-n", "-c", "2", "-i", "0.05", "-s", "64", priv}, m...)
				if out, err := exec.Command(bin, append(args, dst)...).CombinedOutput(); err != nil {
					t.Fatalf("%v: %v\n%s", args, err, out)
				}
			}
		}
	}
	time.Sleep(100 * time.Millisecond)
	cancel()
	wg.Wait()

	kinds := map[string]captured{}
	for _, p := range pkts {
		var m packet.Message
		var err error
		if p.v6 {
			m, err = packet.ParseICMPv6(p.data)
		} else {
			m, err = packet.ParseICMPv4(p.data)
		}
		if err != nil {
			t.Errorf("lab reply does not parse: %v\n% x", err, p.data)
			continue
		}
		kind := fmt.Sprintf("v6=%v type=%d code=%d quoted=%d", p.v6, m.Type, m.Code, m.Quote.IP.Protocol)
		if _, seen := kinds[kind]; !seen {
			kinds[kind] = p
		}
	}
	var names []string
	for k := range kinds {
		names = append(names, k)
	}
	t.Logf("captured %d messages of %d kinds: %s", len(pkts), len(kinds), strings.Join(names, "; "))
	for _, want := range []string{
		"v6=false type=11 code=0 quoted=1", "v6=false type=11 code=0 quoted=17", "v6=false type=11 code=0 quoted=6",
		"v6=false type=0 code=0", "v6=false type=3 code=3 quoted=17",
		"v6=true type=3 code=0 quoted=58", "v6=true type=3 code=0 quoted=17", "v6=true type=3 code=0 quoted=6",
		"v6=true type=129 code=0", "v6=true type=1 code=4 quoted=17",
	} {
		found := false
		for k := range kinds {
			if strings.HasPrefix(k, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("no %q message captured", want)
		}
	}
	dir := os.Getenv(seedsDirEnv)
	if dir == "" {
		return
	}
	for _, p := range kinds {
		target := "FuzzParseICMPv4"
		if p.v6 {
			target = "FuzzParseICMPv6"
		}
		sum := sha256.Sum256(p.data)
		path := filepath.Join(dir, target, fmt.Sprintf("lab-%x", sum[:8]))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", p.data)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("wrote %d seeds to %s", len(kinds), dir)
}
