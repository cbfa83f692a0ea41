//go:build linux

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/lab"
)

// apiClient talks to a `pingerplot ui` inside the lab's client namespace.
func apiClient(l *lab.Lab, rawURL string) (*http.Client, string, string) {
	u, _ := url.Parse(rawURL)
	token := u.Query().Get("token")
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return l.DialTCP(ctx, l.Client, netip.MustParseAddrPort(addr))
		},
	}}
	return c, "http://" + u.Host, token
}

func getJSON(t *testing.T, c *http.Client, base, token, path string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// TestUIResumesTargetsOnLaunch: with "resume targets on launch" set, the
// dashboard starts monitoring the saved targets again; without it, it
// keeps the list but starts nothing.
func TestUIResumesTargetsOnLaunch(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 3})
	for _, resume := range []bool{true, false} {
		t.Run(fmt.Sprintf("resume=%v", resume), func(t *testing.T) {
			dir := workDir(t)
			settings := fmt.Sprintf(`{"version": 1, "resume_on_launch": %v,
				"targets": [{"target": %q, "name": "lab", "interval": 0.2}]}`, resume, l.TargetAddr4)
			if err := os.WriteFile(filepath.Join(dir, "settings.json"), []byte(settings), 0o666); err != nil {
				t.Fatal(err)
			}
			u := startUI(t, l, dir)
			c, base, token := apiClient(l, u.url)
			var targets []struct {
				ID     string `json:"id"`
				State  string `json:"state"`
				Rounds int    `json:"rounds"`
				Hops   int    `json:"hops"`
			}
			if !resume {
				getJSON(t, c, base, token, "/api/targets", &targets)
				if len(targets) != 0 {
					t.Errorf("targets %+v; want none started without resume_on_launch", targets)
				}
				u.stop(t)
				return
			}
			waitFor(t, 20*time.Second, "the resumed target's rounds", func() bool {
				getJSON(t, c, base, token, "/api/targets", &targets)
				return len(targets) == 1 && targets[0].Rounds >= 3
			})
			if tg := targets[0]; tg.ID != "lab" || tg.State != "running" || tg.Hops != 4 {
				t.Errorf("resumed target %+v; want lab, running, 4 hops", tg)
			}
			u.stop(t)
		})
	}
}
