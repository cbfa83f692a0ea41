//go:build linux

package lab

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestWineStaysInItsNamespace: a Wine prefix's programs and its wineserver
// run inside the namespace the prefix was made for, never in the root
// namespace; `wineserver -k` there ends a program still running; and the
// teardown leaves no process, prefix, namespace or state behind.
func TestWineStaysInItsNamespace(t *testing.T) {
	RequireWine(t)
	var prefix, ns, state string
	t.Run("run", func(t *testing.T) {
		w := NewWineNamespace(t)
		prefix, ns = w.prefix, w.Namespace()
		state = strings.TrimSuffix(ns, "-wine")
		if !stateExists(state) {
			t.Errorf("namespace %s has no lab state %s; want it recorded for the sweep of stale labs", ns, state)
		}
		// Wine's own ping.exe (the ICMP helper API) on the namespace's
		// loopback, long enough to be running when the server is stopped.
		cmd := w.Command(context.Background(), "ping", "-n", "60", "127.0.0.1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		var pids []int
		deadline := time.Now().Add(20 * time.Second)
		for len(pids) < 2 && time.Now().Before(deadline) { // ping.exe and wineserver at least
			time.Sleep(100 * time.Millisecond)
			pids = prefixPIDs(prefix)
		}
		if len(pids) < 2 {
			t.Fatalf("processes of the prefix while ping.exe runs: %v; want the program and its wineserver", pids)
		}
		inNS, err := execOutput("ip", "netns", "pids", ns)
		if err != nil {
			t.Fatal(err)
		}
		for _, pid := range pids {
			if !slices.Contains(strings.Fields(inNS), strconv.Itoa(pid)) {
				b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
				t.Errorf("process %d of the prefix (%q) is not in namespace %s (which holds %q)", pid, b, ns, inNS)
			}
		}
		w.stopServer()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("ping.exe still runs 10 s after wineserver -k")
		}
		if left := prefixPIDs(prefix); len(left) > 0 {
			t.Errorf("processes %v of the prefix outlived wineserver -k; want none", left)
		}
	})
	if left := prefixPIDs(prefix); len(left) > 0 {
		t.Errorf("processes %v of the prefix outlived the teardown", left)
	}
	if _, err := os.Stat(prefix); !os.IsNotExist(err) {
		t.Errorf("prefix %s after the teardown: %v; want it removed", prefix, err)
	}
	if nsExists(ns) {
		t.Errorf("namespace %s survived the teardown", ns)
	}
	if stateExists(state) {
		t.Errorf("lab state %s survived the teardown", state)
	}
}

// TestShimDLL: the ProcessPrng shim is built once and exports the one
// function Go's Windows runtime asks bcryptprimitives.dll for.
func TestShimDLL(t *testing.T) {
	RequireWine(t)
	first, err := shimDLL()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(first)
	if err != nil {
		t.Fatal(err)
	}
	again, err := shimDLL()
	if err != nil {
		t.Fatal(err)
	}
	if fi2, err := os.Stat(again); err != nil || again != first || !os.SameFile(fi, fi2) {
		t.Errorf("second shimDLL() = %s (%v); want the cached %s", again, err, first)
	}
	out, err := exec.Command("x86_64-w64-mingw32-objdump", "-p", first).Output()
	if err != nil {
		t.Fatalf("x86_64-w64-mingw32-objdump (binutils-mingw-w64-x86-64, installed with gcc-mingw-w64-x86-64): %v", err)
	}
	if !strings.Contains(string(out), "ProcessPrng") {
		t.Errorf("%s exports:\n%s\nwant ProcessPrng", first, out)
	}
}
