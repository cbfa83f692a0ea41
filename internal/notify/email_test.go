package notify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/monitor"
)

// testCA is a CA and a server certificate for 127.0.0.1 signed by it,
// made for one test.
type testCA struct {
	pemFile string // the CA certificate, for smtp_ca_file
	server  tls.Certificate
}

func newTestCA(t *testing.T) testCA {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "PingerPlot test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return testCA{pemFile: path, server: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}}
}

// received is one message as the test server took it.
type received struct {
	from  string
	to    []string
	data  []byte
	tls   bool
	user  string // who logged in; "" for no AUTH
	mech  string
	began time.Time // when its session connected
}

// smtpServer is a real SMTP server (go-smtp) on loopback.
type smtpServer struct {
	addr string
	// failMail makes the first n MAIL commands answer 451 (a transient
	// failure), counting sessions.
	failMail int
	mechs    []string // AUTH mechanisms offered; nil: none

	mu       sync.Mutex
	sessions []time.Time // connects, in order
	msgs     []received
	auths    int
}

type serverOptions struct {
	mode     string // "starttls", "tls", "none"
	noTLS    bool   // starttls mode without the STARTTLS extension
	failMail int
	mechs    []string
}

func startSMTP(t *testing.T, ca testCA, o serverOptions) *smtpServer {
	t.Helper()
	s := &smtpServer{failMail: o.failMail, mechs: o.mechs}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.sessions = append(s.sessions, time.Now())
		_, isTLS := c.TLSConnectionState()
		return &testSession{s: s, c: c, began: time.Now(), tls: isTLS}, nil
	}))
	srv.Domain = "mx.test"
	srv.AllowInsecureAuth = true // the client must refuse on its own
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tcfg := &tls.Config{Certificates: []tls.Certificate{ca.server}}
	switch o.mode {
	case monitor.EmailTLS:
		ln = tls.NewListener(ln, tcfg)
	case monitor.EmailStartTLS:
		if !o.noTLS {
			srv.TLSConfig = tcfg
		}
	}
	s.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *smtpServer) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

func (s *smtpServer) connects() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.sessions...)
}

type testSession struct {
	s     *smtpServer
	c     *smtp.Conn
	began time.Time
	tls   bool
	cur   received
}

func (ss *testSession) AuthMechanisms() []string { return ss.s.mechs }

func (ss *testSession) Auth(mech string) (sasl.Server, error) {
	ss.s.mu.Lock()
	ss.s.auths++
	ss.s.mu.Unlock()
	check := func(user, pass string) error {
		if user != "alerts" || pass != "s3cret" {
			return smtp.ErrAuthFailed
		}
		ss.cur.user, ss.cur.mech = user, mech
		return nil
	}
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case "LOGIN":
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (ss *testSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.failMail > 0 {
		ss.s.failMail--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	ss.cur.from = from
	return nil
}

func (ss *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.cur.to = append(ss.cur.to, to)
	return nil
}

func (ss *testSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.cur.data, ss.cur.tls, ss.cur.began = b, ss.tls, ss.began
	if st, ok := ss.c.TLSConnectionState(); ok && st.HandshakeComplete {
		ss.cur.tls = true
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, ss.cur)
	ss.s.mu.Unlock()
	user, mech := ss.cur.user, ss.cur.mech
	ss.cur = received{user: user, mech: mech}
	return nil
}

func (ss *testSession) Reset()        {}
func (ss *testSession) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, which go-sasl lacks.
type loginServer struct {
	check func(user, pass string) error
	step  int
	user  string
}

func (l *loginServer) Next(r []byte) ([]byte, bool, error) {
	switch {
	case l.step == 0 && len(r) == 0:
		l.step = 1
		return []byte("Username:"), false, nil
	case l.step <= 1:
		l.user, l.step = string(r), 2
		return []byte("Password:"), false, nil
	}
	return nil, true, l.check(l.user, string(r))
}

// parsed is a received message taken apart.
type parsed struct {
	header mail.Header
	text   string
	body   Body
}

func parseMessage(t *testing.T, data []byte) parsed {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("message does not parse: %v\n%s", err, data)
	}
	var p parsed
	p.header = msg.Header
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q: got %q, %v; want multipart/mixed", msg.Header.Get("Content-Type"), mt, err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(part)
		switch ct := part.Header.Get("Content-Type"); {
		case strings.HasPrefix(ct, "text/plain"):
			b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(string(raw))))
			if err != nil {
				t.Fatal(err)
			}
			p.text = string(b)
		case strings.HasPrefix(ct, "application/json"):
			b, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(raw), "\r\n", ""))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &p.body); err != nil {
				t.Fatalf("JSON part: %v\n%s", err, b)
			}
		}
	}
	return p
}

// errSink collects OnError calls.
type errSink struct {
	mu   sync.Mutex
	errs []error
	at   []time.Time
}

func (s *errSink) add(_ monitor.ID, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, err)
	s.at = append(s.at, time.Now())
}

func (s *errSink) get() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

func mailTarget(set monitor.Email) func(monitor.ID) (monitor.Target, bool) {
	return func(id monitor.ID) (monitor.Target, bool) {
		return monitor.Target{ID: id, Host: "example.net", Addr: netip.MustParseAddr("192.0.2.7"),
			Settings: monitor.Settings{Email: set, Alert: alert.Rules{LossPct: 10, Window: 20}}}, true
	}
}

func alertEvents(at time.Time) []monitor.Event {
	return []monitor.Event{
		{Target: "web", Kind: monitor.AlertRaised, Condition: alert.Loss, Value: 25, Threshold: 10, Time: at, Message: "loss 25% ≥ 10% over the last 20 probes"},
		{Target: "web", Kind: monitor.AlertCleared, Condition: alert.Loss, Value: 0, Threshold: 10, Time: at.Add(time.Minute), Message: "loss back to 0%"},
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("no %s within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMailDelivers sends a raise and a clear through real SMTP servers:
// STARTTLS and implicit TLS, AUTH PLAIN and LOGIN, a password from the
// settings, the environment and a file, and a trusted relay without TLS.
func TestMailDelivers(t *testing.T) {
	ca := newTestCA(t)
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		srv      serverOptions
		set      monitor.Email
		wantTLS  bool
		wantMech string
	}{
		{"starttls plain", serverOptions{mode: "starttls", mechs: []string{"PLAIN", "LOGIN"}},
			monitor.Email{TLS: "starttls", User: "alerts", Password: "s3cret"}, true, "PLAIN"},
		{"tls login from env", serverOptions{mode: "tls", mechs: []string{"LOGIN"}},
			monitor.Email{TLS: "tls", User: "alerts", PasswordEnv: "PP_TEST_SMTP_PW"}, true, "LOGIN"},
		{"starttls file, no tls default", serverOptions{mode: "starttls", mechs: []string{"PLAIN"}},
			monitor.Email{User: "alerts", PasswordFile: pwFile}, true, "PLAIN"},
		{"none without auth", serverOptions{mode: "none"}, monitor.Email{TLS: "none"}, false, ""},
		{"none with auth allowed", serverOptions{mode: "none", mechs: []string{"PLAIN"}},
			monitor.Email{TLS: "none", User: "alerts", Password: "s3cret", AllowClearAuth: true}, false, "PLAIN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSMTP(t, ca, tc.srv)
			set := tc.set
			set.Server, set.CAFile = srv.addr, ca.pemFile
			set.To, set.From = "Ops <ops@example.org>, night@example.org", "PingerPlot <pp@example.org>"
			var sink errSink
			m, err := NewMailer(MailerConfig{Target: mailTarget(set), OnError: sink.add, Hostname: "probe-1.example.org",
				Getenv: func(k string) string { return map[string]string{"PP_TEST_SMTP_PW": "s3cret"}[k] }, Retries: -1})
			if err != nil {
				t.Fatal(err)
			}
			at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
			evs := alertEvents(at)
			for _, e := range evs {
				m.Notify(e)
			}
			m.Notify(monitor.Event{Target: "web", Kind: monitor.RouteChange, Time: at}) // not an alert: no mail
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
			if errs := sink.get(); len(errs) != 0 {
				t.Fatalf("errors: %v; want none", errs)
			}
			msgs := srv.messages()
			if len(msgs) != 2 {
				t.Fatalf("got %d messages; want 2 (a raise and a clear)", len(msgs))
			}
			tgt, _ := mailTarget(set)("web")
			for i, got := range msgs {
				want := bodyFor(evs[i], tgt, nil)
				if got.tls != tc.wantTLS || got.mech != tc.wantMech || (tc.wantMech != "" && got.user != "alerts") {
					t.Errorf("message %d: tls %v, auth %q as %q; want tls %v, auth %q", i, got.tls, got.mech, got.user, tc.wantTLS, tc.wantMech)
				}
				if got.from != "pp@example.org" || !reflect.DeepEqual(got.to, []string{"ops@example.org", "night@example.org"}) {
					t.Errorf("message %d: envelope %q → %q; want pp@example.org → ops@, night@", i, got.from, got.to)
				}
				p := parseMessage(t, got.data)
				if p.body != want {
					t.Errorf("message %d: JSON part %+v; want the webhook body %+v", i, p.body, want)
				}
				date, err := p.header.Date()
				if err != nil || time.Since(date) > time.Minute {
					t.Errorf("message %d: Date %q (%v); want now", i, p.header.Get("Date"), err)
				}
				wantSubj := map[int]string{0: "[PingerPlot] ALERT loss on web: 25% (threshold 10%)", 1: "[PingerPlot] cleared loss on web"}[i]
				if s := p.header.Get("Subject"); s != wantSubj {
					t.Errorf("message %d: Subject %q; want %q", i, s, wantSubj)
				}
				wantID := "<" + want.ID + "." + strings.ReplaceAll(want.Event, "_", "-") + "@probe-1.example.org>"
				if id := p.header.Get("Message-ID"); id != wantID {
					t.Errorf("message %d: Message-ID %q; want %q", i, id, wantID)
				}
				if f, to := p.header.Get("From"), p.header.Get("To"); f != `"PingerPlot" <pp@example.org>` || to != `"Ops" <ops@example.org>, <night@example.org>` {
					t.Errorf("message %d: From %q To %q; want the configured addresses", i, f, to)
				}
				for _, fact := range []string{"example.net (192.0.2.7)", "Condition:  loss", want.Time, want.ID, evs[i].Message} {
					if !strings.Contains(p.text, fact) {
						t.Errorf("message %d: text lacks %q:\n%s", i, fact, p.text)
					}
				}
			}
		})
	}
}

// TestMailRefusals: settings or servers that cannot work are reported at
// once, after a single attempt, saying what to do, and no password is
// sent where it could be read.
func TestMailRefusals(t *testing.T) {
	ca := newTestCA(t)
	tests := []struct {
		name      string
		srv       serverOptions
		set       monitor.Email
		noCA      bool
		want      string // in the error
		wantAuths int
	}{
		{"password in clear", serverOptions{mode: "none", mechs: []string{"PLAIN"}},
			monitor.Email{TLS: "none", User: "alerts", Password: "s3cret"}, false, "smtp_allow_clear_auth", 0},
		{"no STARTTLS offered", serverOptions{mode: "starttls", noTLS: true, mechs: []string{"PLAIN"}},
			monitor.Email{User: "alerts", Password: "s3cret"}, false, "does not offer STARTTLS", 0},
		{"untrusted certificate", serverOptions{mode: "tls", mechs: []string{"PLAIN"}},
			monitor.Email{TLS: "tls", User: "alerts", Password: "s3cret"}, true, "smtp_ca_file", 0},
		{"wrong password", serverOptions{mode: "tls", mechs: []string{"PLAIN"}},
			monitor.Email{TLS: "tls", User: "alerts", Password: "nope"}, false, "check smtp_user and the password", 1},
		{"no password in env", serverOptions{mode: "tls", mechs: []string{"PLAIN"}},
			monitor.Email{TLS: "tls", User: "alerts", PasswordEnv: "PP_TEST_UNSET"}, false, "PP_TEST_UNSET", 0},
		{"no usable mechanism", serverOptions{mode: "tls", mechs: []string{"CRAM-MD5"}},
			monitor.Email{TLS: "tls", User: "alerts", Password: "s3cret"}, false, "CRAM-MD5", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startSMTP(t, ca, tc.srv)
			set := tc.set
			set.Server, set.To = srv.addr, "ops@example.org"
			if !tc.noCA {
				set.CAFile = ca.pemFile
			}
			var sink errSink
			m, err := NewMailer(MailerConfig{Target: mailTarget(set), OnError: sink.add, Retries: 3,
				FirstBackoff: 10 * time.Millisecond, Getenv: func(string) string { return "" }})
			if err != nil {
				t.Fatal(err)
			}
			m.Notify(alertEvents(time.Now())[0])
			waitUntil(t, 10*time.Second, "error", func() bool { return len(sink.get()) > 0 })
			m.Close()
			errs := sink.get()
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want) || !strings.Contains(errs[0].Error(), "after 1 attempts") {
				t.Errorf("errors %v; want one final error after 1 attempt containing %q", errs, tc.want)
			}
			srv.mu.Lock()
			auths := srv.auths
			srv.mu.Unlock()
			if n := len(srv.messages()); n != 0 || auths != tc.wantAuths {
				t.Errorf("server got %d messages and %d AUTH attempts; want 0 and %d", n, auths, tc.wantAuths)
			}
		})
	}
}

// TestMailRetriesWithBackoff: a server that answers the first attempts
// with a transient 451 gets the message on a later attempt, the waits
// between attempts doubling.
func TestMailRetriesWithBackoff(t *testing.T) {
	ca := newTestCA(t)
	const first = 150 * time.Millisecond
	tests := []struct {
		fails, retries int
		wantMsgs       int
		wantErr        string
	}{
		{fails: 2, retries: 3, wantMsgs: 1},
		{fails: 3, retries: 2, wantMsgs: 0, wantErr: "451"},
	}
	for _, tc := range tests {
		srv := startSMTP(t, ca, serverOptions{mode: "tls", failMail: tc.fails})
		set := monitor.Email{Server: srv.addr, TLS: "tls", To: "ops@example.org", CAFile: ca.pemFile}
		var sink errSink
		m, err := NewMailer(MailerConfig{Target: mailTarget(set), OnError: sink.add, Retries: tc.retries, FirstBackoff: first})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		m.Notify(alertEvents(time.Now())[0])
		if d := time.Since(start); d > 50*time.Millisecond {
			t.Errorf("Notify took %v; want it to return at once", d)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		conns := srv.connects()
		if len(srv.messages()) != tc.wantMsgs || len(conns) != min(tc.fails+1, tc.retries+1) {
			t.Errorf("fails %d retries %d: %d messages after %d connections; want %d after %d",
				tc.fails, tc.retries, len(srv.messages()), len(conns), tc.wantMsgs, min(tc.fails+1, tc.retries+1))
		}
		for i := 1; i < len(conns); i++ {
			// The wait after the i-th failure is first·2^(i-1); the
			// attempt itself only adds to it.
			want := first << (i - 1)
			if gap := conns[i].Sub(conns[i-1]); gap < want || gap > want+2*time.Second {
				t.Errorf("fails %d: gap before attempt %d = %v; want %v (plus the attempt's own time)", tc.fails, i+1, gap, want)
			}
		}
		errs := sink.get()
		if tc.wantErr == "" && len(errs) != 0 {
			t.Errorf("errors %v; want none", errs)
		}
		if tc.wantErr != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.wantErr)) {
			t.Errorf("errors %v; want one naming %q", errs, tc.wantErr)
		}
	}
}

// TestMailUnreachable: a server nobody listens on. Notify never waits
// for it, each message is tried and then reported with what to do, and
// a message still waiting at Close is reported, not dropped silently.
func TestMailUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // connections to it are refused from now on
	set := monitor.Email{Server: addr, TLS: "tls", To: "ops@example.org"}
	var sink errSink
	m, err := NewMailer(MailerConfig{Target: mailTarget(set), OnError: sink.add, Retries: 2,
		FirstBackoff: 20 * time.Millisecond, CloseTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range 50 { // 100 messages: far more than get tried before Close
		for _, e := range alertEvents(time.Now()) {
			m.Notify(e)
		}
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Errorf("100 Notify calls took %v; want them not to wait for the server", d)
	}
	waitUntil(t, 10*time.Second, "the first give-up", func() bool { return len(sink.get()) > 0 })
	first := sink.get()[0].Error()
	for _, want := range []string{addr, "alert_raised not sent after 3 attempts", "refused", "check that the server is up", "event log"} {
		if !strings.Contains(first, want) {
			t.Errorf("first error %q lacks %q", first, want)
		}
	}
	cerr := m.Close()
	errs := sink.get()
	// Every message is accounted for: given up after its attempts, or
	// abandoned at Close and counted in Close's error.
	given, abandoned := 0, 0
	for _, e := range errs {
		switch {
		case strings.Contains(e.Error(), "not sent after"):
			given++
		case strings.Contains(e.Error(), "before shutdown"):
			abandoned++
		default:
			t.Errorf("unexpected error %v", e)
		}
	}
	if given+abandoned != 100 || cerr == nil || !strings.Contains(cerr.Error(), "event log") {
		t.Errorf("given up %d + abandoned %d; want 100; Close: %v (want the count)", given, abandoned, cerr)
	}
	if abandoned == 0 {
		t.Errorf("abandoned %d; want messages left at Close reported", abandoned)
	}
}
