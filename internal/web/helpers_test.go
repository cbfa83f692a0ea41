package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/probe/probetest"
)

// The server under test listens, as far as its Host and Origin checks
// know, on 127.0.0.1:8377.
const (
	testToken = "0123456789abcdef0123456789abcdef"
	testHost  = "127.0.0.1:8377"
)

var testListen = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8377}

func msec(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

// The scripted path of newEnv: routers 10.0.1.1 and 10.0.2.1, then the
// destination 10.0.3.1, which the fake resolver also knows as
// dest.example.
var (
	destAddr  = netip.MustParseAddr("10.0.3.1")
	otherAddr = netip.MustParseAddr("192.0.2.7") // answered by the same scripted path
)

// fakeResolve knows a few names and literal addresses; everything else
// fails the way a resolver does.
func fakeResolve(_ context.Context, host string) (netip.Addr, error) {
	switch host {
	case "dest.example":
		return destAddr, nil
	case "other.example":
		return otherAddr, nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a, nil
	}
	return netip.Addr{}, fmt.Errorf("lookup %s: no such host", host)
}

// fakeNames names every address r-<addr>.example, as a reverse-DNS
// cache that knows them all would.
func fakeNames(a netip.Addr) string { return "r-" + a.String() + ".example" }

// env is a server over a monitor probing a scripted network, with its
// settings in a temporary directory. It works inside and outside a
// testing/synctest bubble; start runs the monitor.
type env struct {
	t   *testing.T
	srv *Server
	mon *monitor.Monitor
	net *probetest.Network
	dir string
	h   http.Handler
}

func newEnv(t *testing.T, opts ...func(*Config)) *env {
	t.Helper()
	n := probetest.Path(msec(1), msec(2), msec(5))
	mon := monitor.New(monitor.Config{Prober: n})
	t.Cleanup(func() { mon.Close() })
	dir := t.TempDir()
	cfg := Config{Monitor: mon, Resolve: fakeResolve, Names: fakeNames, UserDir: dir, User: config.DefaultUser(),
		Token: testToken, Listen: testListen, App: "pingerplot test"}
	for _, o := range opts {
		o(&cfg)
	}
	srv := New(cfg)
	return &env{t: t, srv: srv, mon: mon, net: n, dir: cfg.UserDir, h: srv.Handler()}
}

// start runs the monitor and the server's forwarding until the test ends.
func (e *env) start() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = e.mon.Run(ctx) })
	wg.Go(func() { e.srv.Run(ctx) })
	e.t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

// response is a recorded answer.
type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r response) String() string {
	return fmt.Sprintf("%d %s", r.code, bytes.TrimSpace(r.body))
}

// errorText is the "error" member of a JSON error answer.
func (r response) errorText() string {
	var v struct{ Error string }
	if json.Unmarshal(r.body, &v) != nil {
		return ""
	}
	return v.Error
}

// newRequest builds a request addressed to the server; body is sent as
// is when it is a string, as JSON otherwise.
func newRequest(method, path string, body any) *http.Request {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			panic(err)
		}
		rd = bytes.NewReader(j)
	}
	r := httptest.NewRequest(method, "http://"+testHost+path, rd)
	if rd != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	return r
}

// serve runs one request through the whole handler, guard included.
func (e *env) serve(r *http.Request) response {
	e.t.Helper()
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return response{code: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

// api sends an API request carrying the token, as the page does.
func (e *env) api(method, path string, body any) response {
	e.t.Helper()
	r := newRequest(method, path, body)
	r.Header.Set("Authorization", "Bearer "+testToken)
	return e.serve(r)
}

// must sends an API request and fails the test unless it gets want.
func (e *env) must(want int, method, path string, body any) response {
	e.t.Helper()
	r := e.api(method, path, body)
	if r.code != want {
		e.t.Fatalf("%s %s = %v; want %d", method, path, r, want)
	}
	return r
}

// decodeInto unmarshals a response body.
func decodeInto[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("answer %q: %v", r.body, err)
	}
	return v
}

// summary is TargetSummary as a test reads it.
type summary struct {
	ID       string         `json:"id"`
	Host     string         `json:"host"`
	Addr     string         `json:"addr"`
	State    string         `json:"state"`
	Hops     int            `json:"hops"`
	Rounds   int            `json:"rounds"`
	Settings map[string]any `json:"settings"`
	Last     *time.Time     `json:"last"`
	Dest     struct {
		TTL       int      `json:"ttl"`
		LossPct   float64  `json:"loss_pct"`
		LatencyMs *float64 `json:"latency_ms"`
		Active    []string `json:"active"`
	} `json:"dest"`
}

type hopOut struct {
	TTL     int                `json:"ttl"`
	Addr    string             `json:"addr"`
	Host    string             `json:"host"`
	Sent    int                `json:"sent"`
	Recv    int                `json:"recv"`
	Dest    bool               `json:"destination"`
	History *[]json.RawMessage `json:"history"`
}

type detail struct {
	ID       string         `json:"id"`
	State    string         `json:"state"`
	Rounds   int            `json:"rounds"`
	Settings map[string]any `json:"settings"`
	Hops     []hopOut       `json:"hops"`
}

type eventOut struct {
	Time    time.Time `json:"time"`
	Target  string    `json:"target"`
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
}

// add adds a target through the API and returns its summary.
func (e *env) add(host string, settings map[string]any) summary {
	e.t.Helper()
	body := map[string]any{"host": host}
	if settings != nil {
		body["settings"] = settings
	}
	return decodeInto[summary](e.t, e.must(http.StatusCreated, "POST", "/api/targets", body))
}

// state describes everything a refused request must leave alone: the
// monitor's targets with their settings, paused state and name
// resolution, and the settings file's bytes.
func (e *env) state() string {
	e.t.Helper()
	var b strings.Builder
	for _, t := range e.mon.Targets() {
		sn, _ := e.mon.Snapshot(t.ID, false)
		fmt.Fprintf(&b, "target %q host %q addr %v state %s snapshot dns %v settings %s\n",
			t.ID, t.Host, t.Addr, sn.State, !sn.NoNames, settingsJSON(t.Settings))
	}
	data, err := os.ReadFile(filepath.Join(e.dir, config.SettingsFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
		b.WriteString("no settings file\n")
	case err != nil:
		e.t.Fatal(err)
	default:
		b.WriteString("settings file:\n")
		b.Write(data)
	}
	e.srv.mu.Lock()
	u, err := json.Marshal(e.srv.user)
	e.srv.mu.Unlock()
	if err != nil {
		e.t.Fatal(err)
	}
	fmt.Fprintf(&b, "\nin memory: %s\n", u)
	return b.String()
}

// unchanged fails the test if the state differs from before.
func (e *env) unchanged(what string, before string) {
	e.t.Helper()
	if after := e.state(); after != before {
		e.t.Errorf("%s changed the state:\nbefore:\n%s\nafter:\n%s", what, before, after)
	}
}

// savedTargets returns the target list of the settings file, as
// "name|host" with name "" when the entry has none.
func (e *env) savedTargets() []string {
	e.t.Helper()
	u, err := config.LoadUser(e.dir)
	if err != nil {
		e.t.Fatalf("LoadUser: %v", err)
	}
	var out []string
	for _, t := range u.Targets {
		out = append(out, t.Name+"|"+t.Host)
	}
	return out
}

// loadUser reads the settings file.
func (e *env) loadUser() config.UserSettings {
	e.t.Helper()
	u, err := config.LoadUser(e.dir)
	if err != nil {
		e.t.Fatalf("LoadUser: %v", err)
	}
	return u
}

// ids returns the monitor's target IDs, sorted.
func (e *env) ids() []string {
	var out []string
	for _, t := range e.mon.Targets() {
		out = append(out, string(t.ID))
	}
	sort.Strings(out)
	return out
}

// waitRounds sleeps (in a synctest bubble: fake time) until target id
// has completed n rounds, failing after limit.
func (e *env) waitRounds(id string, n int, limit time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		sn, ok := e.mon.Snapshot(monitor.ID(id), false)
		if !ok {
			e.t.Fatalf("target %q is gone while waiting for round %d", id, n)
		}
		if sn.Rounds >= n {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("target %q: %d rounds after %v; want %d", id, sn.Rounds, limit, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// pipeListener is an in-memory listener: the HTTP client dials it through
// net.Pipe, so a real http.Server and http.Client talk inside a
// testing/synctest bubble, where blocking on a pipe lets fake time run.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return testListen }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// serveHTTP serves e over a pipeListener until the test ends and returns
// a client for it.
func (e *env) serveHTTP() *http.Client {
	ln := newPipeListener()
	hs := &http.Server{Handler: e.h}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = hs.Serve(ln)
	}()
	tr := &http.Transport{DialContext: ln.dial}
	e.t.Cleanup(func() {
		tr.CloseIdleConnections()
		_ = hs.Close()
		<-done
	})
	return &http.Client{Transport: tr}
}

// sseMsg is one server-sent message: an event with its data, or a
// comment.
type sseMsg struct {
	event, data, comment string
}

// stream is a connected /api/stream client.
type stream struct {
	t      *testing.T
	resp   *http.Response
	br     *bufio.Reader
	cancel context.CancelFunc
}

func (e *env) openStream(c *http.Client) *stream {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+testHost+"/api/stream?token="+testToken, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		cancel()
		e.t.Fatalf("GET /api/stream: %v", err)
	}
	s := &stream{t: e.t, resp: resp, br: bufio.NewReader(resp.Body), cancel: cancel}
	e.t.Cleanup(s.close)
	return s
}

func (s *stream) close() {
	s.cancel()
	s.resp.Body.Close()
}

// next reads the next message.
func (s *stream) next() (sseMsg, error) {
	var m sseMsg
	for {
		line, err := s.br.ReadString('\n')
		if err != nil {
			return m, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if m != (sseMsg{}) {
				return m, nil
			}
		case strings.HasPrefix(line, ":"):
			m.comment = strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, "event: "):
			m.event = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			m.data = line[len("data: "):]
		default:
			return m, fmt.Errorf("unexpected stream line %q", line)
		}
	}
}

// expect reads messages until one of event kind (or, for "ping", a ping
// comment) whose data satisfies match, failing after limit of (fake) time.
func (s *stream) expect(event string, limit time.Duration, match func(data string) bool) sseMsg {
	s.t.Helper()
	deadline := time.Now().Add(limit)
	var seen []string
	for time.Now().Before(deadline) {
		m, err := s.next()
		if err != nil {
			s.t.Fatalf("stream: %v after %q", err, seen)
		}
		if event == "ping" && m.comment == "ping" {
			return m
		}
		if m.event == event && (match == nil || match(m.data)) {
			return m
		}
		seen = append(seen, m.event+m.comment)
	}
	s.t.Fatalf("no %q message in %v; got %q", event, limit, seen)
	return sseMsg{}
}
