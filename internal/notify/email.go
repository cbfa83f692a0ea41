package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/report"
)

// MailerConfig configures NewMailer. The zero value of each field but
// Target means the default documented on it.
type MailerConfig struct {
	// Target returns a target's current settings: its Email settings
	// (no recipients: no mail), host, address and alert window. Notify
	// calls it on the caller's goroutine, so it must be quick.
	Target func(monitor.ID) (monitor.Target, bool)
	// Diagnosis, as in WebhookConfig: the target's diagnosis when the
	// event is queued; nil leaves it out.
	Diagnosis func(monitor.ID) *report.Diagnosis
	// Timeout bounds each attempt: connecting, TLS, AUTH and the
	// message; 0 means DefaultMailTimeout.
	Timeout time.Duration
	// Retries is how many times a failed send is tried again, after
	// FirstBackoff, then twice as long each time up to MaxBackoff; 0 means
	// DefaultRetries and a negative value none. Network errors, timeouts
	// and the server's 4xx answers are retried; 5xx answers, a refused
	// certificate and settings that cannot work are final.
	Retries                  int
	FirstBackoff, MaxBackoff time.Duration // 0: the package's FirstBackoff and MaxBackoff
	// Queue is how many messages may wait; when it is full the oldest is
	// dropped and reported. 0 means DefaultQueue.
	Queue int
	// CloseTimeout is how long Close keeps sending what is queued; 0
	// means DefaultCloseTimeout.
	CloseTimeout time.Duration
	// Hostname names this machine in EHLO, in Message-IDs and in the
	// default sender; "" means os.Hostname.
	Hostname string
	// Getenv reads the environment variable of Email.PasswordEnv; nil
	// means os.Getenv.
	Getenv func(string) string
	// Logger gets every failed attempt; nil means none.
	Logger *slog.Logger
	// OnError, if not nil, gets every message the mailer gave up on,
	// with why and what to do (the caller records a RecordError event).
	// It is called from the mailer's goroutine, one at a time.
	OnError func(target monitor.ID, err error)
}

// DefaultMailTimeout bounds one attempt at a message: SMTP servers are
// slower than webhooks to greet (some delay the banner on purpose).
const DefaultMailTimeout = 30 * time.Second

// Mailer mails alert raises and clears to each target's recipients, one
// message per event. Messages are sent one at a time, in order, by a
// goroutine that NewMailer starts and Close ends: Notify never waits for
// the network, so probing never does either.
type Mailer struct {
	cfg MailerConfig
	box *outbox[outgoing]
}

// outgoing is one queued message: the settings of the moment the alert
// changed, and the message itself, built once so that every attempt
// sends the same bytes (the same Message-ID lets a reader's client fold
// duplicates from a retry whose first try did arrive).
type outgoing struct {
	target monitor.ID
	set    monitor.Email
	from   string
	to     []string
	event  string
	msg    []byte
}

// NewMailer validates cfg and starts the mailer's worker.
func NewMailer(cfg MailerConfig) (*Mailer, error) {
	if cfg.Target == nil {
		return nil, errors.New("e-mail: no Target lookup given")
	}
	if cfg.Timeout < 0 || cfg.Queue < 0 || cfg.CloseTimeout < 0 || cfg.FirstBackoff < 0 || cfg.MaxBackoff < 0 {
		return nil, errors.New("e-mail: negative timeout, backoff or queue size; use 0 for the defaults")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultMailTimeout
	}
	if cfg.Retries == 0 {
		cfg.Retries = DefaultRetries
	}
	cfg.Retries = max(cfg.Retries, 0)
	if cfg.FirstBackoff == 0 {
		cfg.FirstBackoff = FirstBackoff
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = MaxBackoff
	}
	if cfg.Queue == 0 {
		cfg.Queue = DefaultQueue
	}
	if cfg.CloseTimeout == 0 {
		cfg.CloseTimeout = DefaultCloseTimeout
	}
	if cfg.Hostname == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "localhost"
		}
		cfg.Hostname = h
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.OnError == nil {
		cfg.OnError = func(monitor.ID, error) {}
	}
	m := &Mailer{cfg: cfg}
	m.box = newOutbox(outboxConfig[outgoing]{
		size: cfg.Queue, closeTimeout: cfg.CloseTimeout,
		target:  func(d outgoing) monitor.ID { return d.target },
		deliver: m.deliver,
		dropped: func(id monitor.ID, n int) {
			cfg.OnError(id, fmt.Errorf("e-mail queue full: dropped the %d oldest alert messages of this target (the alerts are in the event log); the SMTP server is slow or down", n))
		},
		abandoned: func(d outgoing) {
			cfg.OnError(d.target, fmt.Errorf("e-mail via %s: %s not sent before shutdown; it is in the event log", d.set.Server, d.event))
		},
	})
	return m, nil
}

// Notify queues a message for e if it is an alert raise or clear of a
// target with e-mail recipients, and returns at once; other events are
// ignored. Settings that cannot make a message (they were checked when
// read, so this is rare) are reported through OnError. After Close it
// does nothing.
func (m *Mailer) Notify(e monitor.Event) {
	if e.Kind != monitor.AlertRaised && e.Kind != monitor.AlertCleared {
		return
	}
	t, ok := m.cfg.Target(e.Target)
	if !ok || !t.Email.Enabled() {
		return
	}
	var diag *report.Diagnosis
	if m.cfg.Diagnosis != nil {
		diag = m.cfg.Diagnosis(e.Target)
	}
	b := bodyFor(e, t, diag)
	d, err := m.compose(e.Target, t.Email, b, time.Now())
	if err != nil {
		m.cfg.OnError(e.Target, fmt.Errorf("e-mail: %s not sent: %w", b.Event, err))
		return
	}
	m.box.push(d)
}

// Close stops taking events, sends what is queued for up to
// CloseTimeout, then abandons the rest and waits for the worker. Its
// error counts the messages abandoned.
func (m *Mailer) Close() error {
	if lost := m.box.close(); lost > 0 {
		return fmt.Errorf("e-mail: %d alert messages not sent within %v of shutdown; the alerts are in the event log", lost, m.cfg.CloseTimeout)
	}
	return nil
}

// deliver sends d, retrying with backoff, and reports a final failure.
func (m *Mailer) deliver(ctx context.Context, d outgoing) {
	wait := m.cfg.FirstBackoff
	for attempt := 1; ; attempt++ {
		err := m.send(ctx, d)
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			m.box.abandon(d)
			return
		}
		var fe *finalError
		final := errors.As(err, &fe)
		m.cfg.Logger.Warn("e-mail send failed", "target", string(d.target), "server", d.set.Server, "attempt", attempt, "err", err)
		if final || attempt > m.cfg.Retries {
			what := "check that the server is up and reachable from here"
			if final {
				what = fe.what
			}
			m.cfg.OnError(d.target, fmt.Errorf("e-mail via %s: %s not sent after %d attempts: %v; %s (the alert is in the event log)",
				d.set.Server, d.event, attempt, err, what))
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			m.box.abandon(d)
			return
		}
		wait = min(2*wait, m.cfg.MaxBackoff)
	}
}

// finalError is a failure that another attempt would repeat, with what
// the user should do about it.
type finalError struct {
	err  error
	what string
}

func (e *finalError) Error() string { return e.err.Error() }
func (e *finalError) Unwrap() error { return e.err }

func final(err error, what string) error { return &finalError{err, what} }

// ErrClearAuth refuses to send a password without TLS.
var ErrClearAuth = errors.New("refusing to send the SMTP password over a connection without TLS: anyone on the path could read it")

// send makes one attempt at d.
func (m *Mailer) send(ctx context.Context, d outgoing) error {
	set := d.set
	mode := set.TLSMode()
	addr, err := set.ServerAddr()
	if err != nil {
		return final(err, "fix smtp_server")
	}
	host, _, _ := net.SplitHostPort(addr)
	pass := ""
	if set.User != "" {
		if mode == monitor.EmailNoTLS && !set.AllowClearAuth {
			// Said before connecting: the password never leaves.
			return final(ErrClearAuth, `set smtp_tls to "starttls" or "tls", or set smtp_allow_clear_auth to true if the path to the server is trusted`)
		}
		if pass, err = m.password(set); err != nil {
			return final(err, "fix the SMTP password setting")
		}
	}
	tlsCfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if set.CAFile != "" {
		pem, err := os.ReadFile(set.CAFile)
		if err != nil {
			return final(fmt.Errorf("read smtp_ca_file: %w", err), "fix smtp_ca_file")
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return final(fmt.Errorf("smtp_ca_file %s holds no PEM certificate", set.CAFile), "give smtp_ca_file the CA certificate in PEM form (-----BEGIN CERTIFICATE-----)")
		}
		tlsCfg.RootCAs = pool
	}

	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return timeoutWords(ctx, err, m.cfg.Timeout)
	}
	// The client sets a deadline per command; the attempt as a whole is
	// bounded by closing the connection when ctx ends.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()

	var c *smtp.Client
	switch mode {
	case monitor.EmailTLS:
		tc := tls.Client(conn, tlsCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return tlsWords(ctx, err, m.cfg.Timeout)
		}
		c = smtp.NewClient(tc)
	case monitor.EmailStartTLS:
		c, err = smtp.NewClientStartTLS(conn, tlsCfg)
		if err != nil {
			if strings.Contains(err.Error(), "support STARTTLS") {
				return final(errors.New("the server does not offer STARTTLS"),
					`if it speaks TLS from the first byte (port 465) set smtp_tls to "tls"; PingerPlot does not fall back to an unencrypted connection on its own`)
			}
			return tlsWords(ctx, err, m.cfg.Timeout)
		}
	default:
		c = smtp.NewClient(conn)
	}
	c.CommandTimeout, c.SubmissionTimeout = m.cfg.Timeout, m.cfg.Timeout
	// EHLO with this machine's name (after STARTTLS, the second EHLO the
	// protocol asks for).
	if err := c.Hello(m.cfg.Hostname); err != nil {
		return smtpWords(ctx, err, m.cfg.Timeout)
	}
	if set.User != "" {
		var a sasl.Client
		switch {
		case c.SupportsAuth("PLAIN"):
			a = sasl.NewPlainClient("", set.User, pass)
		case c.SupportsAuth("LOGIN"):
			a = sasl.NewLoginClient(set.User, pass)
		default:
			_, mechs := c.Extension("AUTH")
			if mechs == "" {
				mechs = "none"
			}
			return final(fmt.Errorf("the server offers no AUTH PLAIN or LOGIN (it offers: %s)", mechs),
				"remove smtp_user if the server needs no login, or use a server that takes PLAIN or LOGIN")
		}
		if err := c.Auth(a); err != nil {
			var se *smtp.SMTPError
			if errors.As(err, &se) && se.Code >= 500 {
				return final(fmt.Errorf("login as %q refused: %v", set.User, err), "check smtp_user and the password")
			}
			return smtpWords(ctx, err, m.cfg.Timeout)
		}
	}
	if err := c.SendMail(d.from, d.to, strings.NewReader(string(d.msg))); err != nil {
		return smtpWords(ctx, err, m.cfg.Timeout)
	}
	// The message is accepted once DATA is answered; a failed QUIT
	// loses nothing.
	_ = c.Quit()
	return nil
}

// password returns the SMTP password of set from its one source.
func (m *Mailer) password(set monitor.Email) (string, error) {
	switch {
	case set.Password != "":
		return set.Password, nil
	case set.PasswordEnv != "":
		p := m.cfg.Getenv(set.PasswordEnv)
		if p == "" {
			return "", fmt.Errorf("the environment variable %s named by smtp_password_env is empty or not set in PingerPlot's environment", set.PasswordEnv)
		}
		return p, nil
	case set.PasswordFile != "":
		b, err := os.ReadFile(set.PasswordFile)
		if err != nil {
			return "", fmt.Errorf("read smtp_password_file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			return "", fmt.Errorf("smtp_password_file %s is empty: its first line should be the password", set.PasswordFile)
		}
		return line, nil
	}
	return "", errors.New("smtp_user is set but no password: set smtp_password_env or smtp_password_file")
}

// timeoutWords words a network error, naming the timeout when it was
// the cause; such errors are worth another attempt.
func timeoutWords(ctx context.Context, err error, timeout time.Duration) error {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("no answer within %v", timeout)
	}
	return err
}

// tlsWords makes a certificate the server's users cannot fix by waiting
// final; other handshake errors are retried.
func tlsWords(ctx context.Context, err error, timeout time.Duration) error {
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	switch {
	case errors.As(err, &cv), errors.As(err, &ua), errors.As(err, &hn), errors.As(err, &ci):
		return final(fmt.Errorf("TLS: the server's certificate is not trusted: %w", err),
			"if the server uses a private CA, give its certificate in smtp_ca_file; check that smtp_server names the host the certificate is for")
	}
	return fmt.Errorf("TLS: %w", timeoutWords(ctx, err, timeout))
}

// smtpWords sorts an SMTP failure: 5xx answers are final, 4xx and
// network errors worth another attempt.
func smtpWords(ctx context.Context, err error, timeout time.Duration) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		if se.Code >= 500 {
			return final(fmt.Errorf("the server refused: %v", err), "check email_from and email_to against what the server accepts")
		}
		return fmt.Errorf("the server answered %v", err)
	}
	return timeoutWords(ctx, err, timeout)
}
