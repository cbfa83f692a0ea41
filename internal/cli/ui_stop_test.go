package cli

import (
	"bufio"
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestUIStopsWithPageOpen: a stop (Ctrl-C, console close, the icon's
// Quit) ends ui promptly while a page holds the live event stream open.
// Windows ends a console program 5 s after its window is closed, so the
// monitor and the logs must be closed well before that; an HTTP shutdown
// that waits for the stream to go idle took all of it.
func TestUIStopsWithPageOpen(t *testing.T) {
	dir := isolateConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"ui", "--no-browser", "--no-dns", "--config-dir", dir}, Env{Stdout: &stdout, Stderr: &stderr})
	}()
	urlRE := regexp.MustCompile(`http://\S+`)
	var url string
	for deadline := time.Now().Add(20 * time.Second); url == ""; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no dashboard URL within 20 s; output %q, errors %q", stdout.String(), stderr.String())
		}
		url = urlRE.FindString(stdout.String())
	}
	base, query, _ := strings.Cut(url, "?")
	resp, err := http.Get(base + "api/stream?" + query)
	if err != nil {
		t.Fatalf("open the event stream: %v", err)
	}
	defer resp.Body.Close()
	if line, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil || !strings.HasPrefix(line, ":") {
		t.Fatalf("event stream's first line = %q, %v; want a comment", line, err)
	}
	start := time.Now()
	cancel()
	select {
	case code := <-done:
		if took := time.Since(start); took > time.Second {
			t.Errorf("ui stopped %v after the cancel with a page open; want well under Windows' 5 s", took)
		}
		if code != 0 || !strings.Contains(stdout.String(), "stopped") {
			t.Errorf("ui = exit %d, output %q; want 0 and \"stopped\"", code, stdout.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ui did not stop within 10 s of the cancel")
	}
}
