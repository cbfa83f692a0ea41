//go:build linux

package e2e

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
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/pingerplot/pingerplot/internal/lab"
)

// mailbox is a real SMTP server (go-smtp) with STARTTLS and AUTH PLAIN on
// the client namespace's loopback; it keeps every message it accepts.
type mailbox struct {
	addr, caFile string
	mu           sync.Mutex
	msgs         []mailed
}

type mailed struct {
	user string
	tls  bool
	data []byte
}

type mailboxSession struct {
	mb   *mailbox
	c    *smtp.Conn
	user string
}

func (s *mailboxSession) AuthMechanisms() []string { return []string{"PLAIN"} }
func (s *mailboxSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "pp" || pass != "e2e-secret" {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}
func (s *mailboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailboxSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailboxSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.c.TLSConnectionState()
	s.mb.mu.Lock()
	s.mb.msgs = append(s.mb.msgs, mailed{user: s.user, tls: isTLS, data: b})
	s.mb.mu.Unlock()
	return nil
}
func (s *mailboxSession) Reset()        {}
func (s *mailboxSession) Logout() error { return nil }

// startMailbox makes a CA and a certificate for 127.0.0.1, writes the
// CA to dir for smtp_ca_file, and serves SMTP in the lab's client.
func startMailbox(t *testing.T, l *lab.Lab, dir string) *mailbox {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "e2e mail CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	mb := &mailbox{caFile: filepath.Join(dir, "ca.pem")}
	if err := os.WriteFile(mb.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &mailboxSession{mb: mb, c: c}, nil
	}))
	srv.Domain = "mx.lab"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := l.Listen(l.Client, "tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return mb
}

func (mb *mailbox) messages() []mailed {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]mailed(nil), mb.msgs...)
}

// alertMail is what a test reads of an alert e-mail.
type alertMail struct {
	subject string
	text    string
	body    map[string]any // the JSON attachment
}

func readAlertMail(t *testing.T, data []byte) alertMail {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("message does not parse: %v", err)
	}
	var a alertMail
	a.subject = msg.Header.Get("Subject")
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // undoes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		if strings.HasPrefix(p.Header.Get("Content-Type"), "application/json") {
			js, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(b), "\r\n", ""))
			if err != nil || json.Unmarshal(js, &a.body) != nil {
				t.Fatalf("JSON attachment does not decode: %v\n%s", err, b)
			}
		} else {
			a.text = string(b)
		}
	}
	return a
}

// TestHeadlessEmailAlert: a real headless run mails through a real SMTP
// server with STARTTLS and AUTH. Loss injected on the target's link
// raises the loss alert, removing it clears the alert, and exactly one
// message arrives for each, with the facts of the event log.
func TestHeadlessEmailAlert(t *testing.T) {
	l := lab.New(t, lab.Options{Routers: 2, CableLinks: []int{2}})
	dir := workDir(t)
	mb := startMailbox(t, l, dir)
	if err := os.WriteFile(filepath.Join(dir, "smtp.pw"), []byte("e2e-secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	const window = 10
	h := startHeadless(t, l, dir, map[string]any{
		"status_interval": 0,
		"defaults": map[string]any{"interval": 0.1, "timeout": 0.3, "alert_loss_pct": 50, "alert_window": window,
			"email_to": "Ops <ops@example.org>", "email_from": "pp@example.org", "smtp_server": mb.addr,
			"smtp_user": "pp", "smtp_password_file": "smtp.pw", "smtp_ca_file": "ca.pem"},
		"targets": []any{map[string]any{"target": l.TargetAddr4.String(), "name": "t", "log_path": "t.csv"}},
	})
	logPath, evPath := filepath.Join(dir, "t.csv"), filepath.Join(dir, "t.events.csv")
	waitFor(t, 20*time.Second, "a full window of rounds", func() bool { n, _ := rounds(logPath); return n >= window+2 })
	if n := len(mb.messages()); n != 0 {
		t.Fatalf("%d messages before any loss; want none", n)
	}
	drop := lab.LinkParams{Loss: 1}
	if err := l.SetLink(2, drop, drop); err != nil {
		t.Fatal(err)
	}
	var raised []string
	waitFor(t, 15*time.Second, "alert_raised", func() bool { raised = findEvent(events(evPath), "alert_raised"); return raised != nil })
	if err := l.SetLink(2, lab.LinkParams{}, lab.LinkParams{}); err != nil {
		t.Fatal(err)
	}
	var cleared []string
	waitFor(t, 15*time.Second, "alert_cleared", func() bool { cleared = findEvent(events(evPath), "alert_cleared"); return cleared != nil })
	waitFor(t, 15*time.Second, "two messages", func() bool { return len(mb.messages()) >= 2 })
	h.stop(t) // Close sends what is queued: nothing more may come after this
	msgs := mb.messages()
	if len(msgs) != 2 {
		t.Fatalf("got %d messages; want exactly 2 (one raise, one clear)\n%s", len(msgs), h.out.String())
	}
	for i, want := range []struct {
		event, subject string
		row            []string
	}{{"alert_raised", "[PingerPlot] ALERT loss on t: ", raised}, {"alert_cleared", "[PingerPlot] cleared loss on t", cleared}} {
		m := msgs[i]
		a := readAlertMail(t, m.data)
		t.Logf("message %d: %s (tls %v, user %q)", i, a.subject, m.tls, m.user)
		if !m.tls || m.user != "pp" {
			t.Errorf("message %d: tls %v, user %q; want STARTTLS and AUTH as pp", i, m.tls, m.user)
		}
		if !strings.HasPrefix(a.subject, want.subject) {
			t.Errorf("message %d: subject %q; want it to start with %q", i, a.subject, want.subject)
		}
		b := a.body
		if b["event"] != want.event || b["target"] != "t" || b["condition"] != "loss" || b["addr"] != l.TargetAddr4.String() ||
			b["threshold"] != float64(50) || b["window"] != float64(window) || b["message"] != want.row[4] {
			t.Errorf("message %d: JSON %v; want %s of t, loss, threshold 50, window %d, the event log's message %q", i, b, want.event, window, want.row[4])
		}
		if v, _ := b["value"].(float64); (want.event == "alert_raised") != (v >= 50) {
			t.Errorf("message %d: value %v; want ≥ 50 for the raise and below for the clear", i, b["value"])
		}
		if !strings.Contains(a.text, "Condition:  loss") || !strings.Contains(a.text, "Target:     t") {
			t.Errorf("message %d: text lacks the facts:\n%s", i, a.text)
		}
	}
}
