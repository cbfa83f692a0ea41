package tui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
)

// fakeTerm is a Terminal: keys come from a pipe the test writes, output
// goes to a buffer that vt replays.
type fakeTerm struct {
	keys *io.PipeReader
	mu   sync.Mutex
	out  bytes.Buffer
	w, h int
}

func (f *fakeTerm) Read(p []byte) (int, error) { return f.keys.Read(p) }

func (f *fakeTerm) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out.Write(p)
}

func (f *fakeTerm) Size() (int, int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.w, f.h, nil
}

func (f *fakeTerm) resize(w, h int) {
	f.mu.Lock()
	f.w, f.h = w, h
	f.mu.Unlock()
}

func (f *fakeTerm) output() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out.String()
}

// screen is what a terminal shows after the output so far.
func (f *fakeTerm) screen() string {
	w, h, _ := f.Size()
	return strings.Join(vt(f.output(), w, h), "\n")
}

// vt replays the control sequences Run uses (cursor position, erase line,
// erase screen; colours and modes ignored) onto a w × h grid.
func vt(s string, w, h int) []string {
	grid := make([][]rune, h)
	blank := func(r int) { grid[r] = []rune(strings.Repeat(" ", w)) }
	for r := range grid {
		blank(r)
	}
	row, col := 0, 0
	for i := 0; i < len(s); {
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && !(s[j] >= 0x40 && s[j] <= 0x7e) {
				j++
			}
			params, final := s[i+2:j], s[j]
			i = j + 1
			switch final {
			case 'H':
				row, col = 0, 0
				if r, c, ok := strings.Cut(params, ";"); ok {
					rn, _ := strconv.Atoi(r)
					cn, _ := strconv.Atoi(c)
					row, col = rn-1, cn-1
				}
			case 'K':
				if row < h {
					for c := col; c < w; c++ {
						grid[row][c] = ' '
					}
				}
			case 'J':
				for r := range grid {
					blank(r)
				}
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if row < h && col < w {
			grid[row][col] = r
		}
		col++
	}
	out := make([]string, h)
	for r := range grid {
		out[r] = strings.TrimRight(string(grid[r]), " ")
	}
	return out
}

// line returns the screen line that starts with prefix, or "".
func line(screen, prefix string) string {
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// sent is the Snt column of a table line.
func sent(t *testing.T, l string) int {
	t.Helper()
	f := strings.Fields(l)
	for i, x := range f {
		if strings.HasSuffix(x, "%") && i+1 < len(f) {
			n, err := strconv.Atoi(f[i+1])
			if err == nil {
				return n
			}
		}
	}
	t.Fatalf("no Snt column in %q", l)
	return 0
}

type session struct {
	t      *testing.T
	net    *probetest.Network
	m      *monitor.Monitor
	term   *fakeTerm
	keys   *io.PipeWriter
	cancel context.CancelFunc
	resize chan os.Signal
	runErr chan error
	monErr chan error
}

// start runs a monitor over net and the UI on a fake 100 × 24 terminal.
func start(t *testing.T, net *probetest.Network, targets ...monitor.Target) *session {
	return startWith(t, net, nil, targets...)
}

// startWith is start with mod applied to the UI's Config.
func startWith(t *testing.T, net *probetest.Network, mod func(*Config), targets ...monitor.Target) *session {
	kr, kw := io.Pipe()
	s := &session{t: t, net: net, m: monitor.New(monitor.Config{Prober: net}), term: &fakeTerm{keys: kr, w: 100, h: 24},
		keys: kw, resize: make(chan os.Signal, 1), runErr: make(chan error, 1), monErr: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() { s.monErr <- s.m.Run(ctx) }()
	dest := net.Hops[len(net.Hops)-1].Addr
	cfg := Config{Monitor: s.m, Targets: targets, Terminal: s.term, Resize: s.resize, ShowNames: true,
		Names: func(a netip.Addr) string {
			if a == dest {
				return "dst.example"
			}
			return ""
		}}
	if mod != nil {
		mod(&cfg)
	}
	go func() { s.runErr <- Run(ctx, cfg) }()
	return s
}

func (s *session) press(keys string) {
	s.t.Helper()
	if _, err := io.WriteString(s.keys, keys); err != nil {
		s.t.Fatal(err)
	}
	synctest.Wait()
}

// stop ends everything and fails if any goroutine is left (synctest does).
func (s *session) stop() {
	s.cancel()
	<-s.monErr
	s.keys.Close()
	s.m.Close()
}

func target(host string, addr netip.Addr) monitor.Target {
	return monitor.Target{Host: host, Addr: addr, Settings: monitor.Settings{Interval: time.Second, History: History}}
}

// TestRunLive drives the UI over a scripted path with a silent hop: the
// table fills, p pauses (nothing is sent and nothing redrawn until p
// again), d shows the strip, n switches to addresses, r starts the
// statistics over, q quits and leaves the alternate screen.
func TestRunLive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(2), ms(5))
		net.Hops[1].Silent = true
		s := start(t, net, target("dst", net.Hops[2].Addr))

		time.Sleep(5500 * time.Millisecond)
		synctest.Wait()
		scr := s.term.screen()
		if !strings.HasPrefix(s.term.output(), enterScreen) {
			t.Errorf("output does not start on the alternate screen: %q", s.term.output()[:20])
		}
		for _, want := range []string{"dst (10.0.3.1)  ICMP  every 1s", "  1. 10.0.1.1", "  2. ???", "  3. dst.example", "Destination hop 3: MOS"} {
			if !strings.Contains(scr, want) {
				t.Errorf("screen lacks %q:\n%s", want, scr)
			}
		}
		if n := sent(t, line(scr, "  1. ")); n < 5 {
			t.Errorf("hop 1 sent %d after 5.5 s; want 5 or more", n)
		}

		// A round redraws only what changed: never the column header.
		before := len(s.term.output())
		time.Sleep(time.Second)
		synctest.Wait()
		delta := s.term.output()[before:]
		if delta == "" || strings.Contains(delta, "Loss%") || strings.Contains(delta, "\x1b[2J") {
			t.Errorf("a round wrote %q; want the changed lines only", delta)
		}

		s.press("p")
		scr = s.term.screen()
		if !strings.Contains(line(scr, "dst "), "[paused]") || !strings.Contains(scr, "paused, history kept") {
			t.Errorf("after p:\n%s", scr)
		}
		time.Sleep(2 * time.Second) // the round in flight ends
		synctest.Wait()
		probes, out := len(s.net.Sent()), len(s.term.output())
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if n := len(s.net.Sent()); n != probes {
			t.Errorf("paused for 10 s, %d probes were sent", n-probes)
		}
		if n := len(s.term.output()); n != out {
			t.Errorf("paused for 10 s with nothing new, %d bytes were drawn", n-out)
		}
		snt := sent(t, line(s.term.screen(), "  1. "))
		s.press("p")
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if n := sent(t, line(s.term.screen(), "  1. ")); n <= snt {
			t.Errorf("resumed: hop 1 sent %d; want more than %d (history kept, probing again)", n, snt)
		}

		s.press("d")
		scr = s.term.screen()
		if l := line(scr, "  2. "); !strings.HasSuffix(l, "??") {
			t.Errorf("strip of the silent hop = %q; want ?s", l)
		}
		// One scale for every hop, up to the destination's 5 ms: hop 1's
		// 1 ms is in the second eighth, the destination in the top one.
		for prefix, block := range map[string]string{"  1. ": "▂", "  3. ": "█"} {
			l := line(scr, prefix)
			f := strings.Fields(l)
			if strip := f[len(f)-1]; strings.Trim(strip, block) != "" || utf8.RuneCountInString(strip) < 5 {
				t.Errorf("strip %q; want a run of %s", l, block)
			}
		}
		s.press("d")
		s.press("n")
		if l := line(s.term.screen(), "  3. "); !strings.HasPrefix(l, "  3. 10.0.3.1 ") {
			t.Errorf("with n, hop 3 = %q; want its address", l)
		}

		s.press("r")
		scr = s.term.screen()
		if !strings.Contains(scr, "statistics reset") {
			t.Errorf("after r:\n%s", scr)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if n := sent(t, line(s.term.screen(), "  1. ")); n > 2 {
			t.Errorf("2 s after r, hop 1 sent %d; want at most 2", n)
		}

		s.press("q")
		if err := <-s.runErr; err != nil {
			t.Errorf("Run after q = %v; want nil", err)
		}
		if out := s.term.output(); !strings.HasSuffix(out, leaveScreen) {
			t.Errorf("output after q ends %q; want the alternate screen left", out[max(0, len(out)-20):])
		}
		s.stop()
	})
}

// TestRunTabs: Tab, Shift-Tab and digits switch between targets; a resize
// repaints at the new width; a cancelled context ends Run with its error.
func TestRunTabs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(3))
		other := netip.MustParseAddr("10.0.1.1") // the first hop, as a target of its own
		s := start(t, net, target("dst", net.Hops[1].Addr), target("gw", other))
		time.Sleep(3 * time.Second)
		synctest.Wait()
		header := func() string { return strings.Split(s.term.screen(), "\n")[0] }
		tabs := func() string { return strings.Split(s.term.screen(), "\n")[1] }
		if !strings.HasPrefix(header(), "dst (10.0.2.1)") || !strings.Contains(tabs(), "[1 dst]") {
			t.Fatalf("start:\n%s", s.term.screen())
		}
		for _, step := range []struct{ key, want string }{
			{"\t", "gw (10.0.1.1)"}, {"\t", "dst (10.0.2.1)"}, {"\x1b[Z", "gw (10.0.1.1)"}, {"1", "dst (10.0.2.1)"}, {"2", "gw (10.0.1.1)"}, {"9", "gw (10.0.1.1)"},
		} {
			s.press(step.key)
			if !strings.HasPrefix(header(), step.want) {
				t.Errorf("after %q the header is %q; want %q", step.key, header(), step.want)
			}
		}
		if l := line(s.term.screen(), "  1. "); !strings.Contains(l, "10.0.1.1") {
			t.Errorf("gw's table: hop 1 = %q", l)
		}

		s.term.resize(70, 20)
		s.resize <- os.Interrupt
		synctest.Wait()
		for i, l := range vt(s.term.output(), 70, 20) {
			if n := utf8.RuneCountInString(l); n > 70 {
				t.Errorf("after resize, line %d is %d wide: %q", i, n, l)
			}
		}
		if !strings.HasPrefix(header(), "gw (10.0.1.1)") {
			t.Errorf("after resize the header is %q", header())
		}

		s.cancel()
		if err := <-s.runErr; !errors.Is(err, context.Canceled) {
			t.Errorf("Run after cancel = %v; want context.Canceled", err)
		}
		if !strings.HasSuffix(s.term.output(), leaveScreen) {
			t.Error("cancelled Run did not leave the alternate screen")
		}
		s.stop()
	})
}

func TestRunNeedsTargets(t *testing.T) {
	err := Run(context.Background(), Config{Monitor: monitor.New(monitor.Config{}), Terminal: &fakeTerm{}})
	if err == nil {
		t.Error("Run without targets = nil; want an error")
	}
}

func TestOpenTTYRefusesAFile(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := OpenTTY(f, f); !errors.Is(err, ErrNotTerminal) {
		t.Errorf("OpenTTY(a file) = %v; want ErrNotTerminal", err)
	}
}

// TestRunDiagnosisFooter: the footer shows the selected target's
// diagnosis as the lookup gives it, and follows the tab.
func TestRunDiagnosisFooter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(3))
		other := netip.MustParseAddr("10.0.1.1")
		s := startWith(t, net, func(c *Config) {
			c.Diagnosis = func(id monitor.ID) (Diagnosis, bool) {
				if id == "gw" {
					return Diagnosis{}, false // none yet
				}
				return Diagnosis{What: "loss", Confidence: "medium", Text: "loss of " + string(id) + " starts at hop 2."}, true
			}
		}, target("dst", net.Hops[1].Addr), target("gw", other))
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if l := strings.TrimSpace(line(s.term.screen(), "Diagnosis")); l != "Diagnosis (medium confidence): loss of dst starts at hop 2." {
			t.Errorf("dst's footer = %q; want its diagnosis", l)
		}
		s.press("2")
		if l := line(s.term.screen(), "Diagnosis"); l != "" {
			t.Errorf("gw's footer = %q; want no diagnosis line", l)
		}
		s.stop()
	})
}

// TestRunPathMTUFooter: the footer shows the selected target's path MTU
// as the lookup words it, and follows the tab.
func TestRunPathMTUFooter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := probetest.Path(ms(1), ms(3))
		other := netip.MustParseAddr("10.0.1.1")
		s := startWith(t, net, func(c *Config) {
			c.PathMTU = func(id monitor.ID) (string, bool) {
				if id == "gw" {
					return "", false // discovery off, or none yet
				}
				return "1400 bytes (drops at hop 2, 10.0.1.2)", true
			}
		}, target("dst", net.Hops[1].Addr), target("gw", other))
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if l := strings.TrimSpace(line(s.term.screen(), "Path MTU")); l != "Path MTU 1400 bytes (drops at hop 2, 10.0.1.2)" {
			t.Errorf("dst's footer = %q; want its path MTU", l)
		}
		s.press("2")
		if l := line(s.term.screen(), "Path MTU"); l != "" {
			t.Errorf("gw's footer = %q; want no path MTU line", l)
		}
		s.stop()
	})
}
