package config

import (
	"errors"
	"fmt"
	"net/mail"
	"path/filepath"
	"strings"

	"github.com/pingerplot/pingerplot/internal/monitor"
)

// emailOptions are the e-mail keys of Table.
func emailOptions() []Option {
	str := func(ptr func(*Options) **string, to func(*monitor.Email, string), from func(monitor.Email) string) field {
		return fieldOf[string]{ptr, wantString,
			func(s *monitor.Settings, v string) { to(&s.Email, v) },
			func(s monitor.Settings) (string, bool) { v := from(s.Email); return v, v != "" }}
	}
	return []Option{
		{Key: "email_to", Type: "string", Default: "", DefaultText: "none",
			Description: "gets an e-mail on every alert raise and clear: addresses separated by commas",
			check:       func(s string) error { _, err := monitor.ParseRecipients(s); return err },
			field: str(func(o *Options) **string { return &o.EmailTo }, func(e *monitor.Email, v string) { e.To = v },
				func(e monitor.Email) string { return e.To })},
		{Key: "email_from", Type: "string", Default: "", DefaultText: "pingerplot@ this host's name",
			Description: "sender address of alert e-mails",
			check:       checkFrom,
			field: str(func(o *Options) **string { return &o.EmailFrom }, func(e *monitor.Email, v string) { e.From = v },
				func(e monitor.Email) string { return e.From })},
		{Key: "smtp_server", Type: "string", Default: "", DefaultText: "none",
			Description: "SMTP server of alert e-mails: host or host:port (587 for starttls, 465 for tls, 25 for none)",
			check:       func(s string) error { _, err := monitor.ServerAddr(s, monitor.EmailStartTLS); return err },
			field: str(func(o *Options) **string { return &o.SMTPServer }, func(e *monitor.Email, v string) { e.Server = v },
				func(e monitor.Email) string { return e.Server })},
		{Key: "smtp_tls", Type: "string", Choices: []string{monitor.EmailStartTLS, monitor.EmailTLS, monitor.EmailNoTLS},
			Default:     monitor.EmailStartTLS,
			Description: "how the SMTP connection is encrypted: starttls (upgrade after connecting), tls (from the first byte) or none",
			field: fieldOf[string]{func(o *Options) **string { return &o.SMTPTLS }, `"starttls", "tls" or "none"`,
				func(s *monitor.Settings, v string) { s.Email.TLS = strings.ToLower(v) },
				// written only when not the default
				func(s monitor.Settings) (string, bool) {
					return s.Email.TLSMode(), s.Email.TLSMode() != monitor.EmailStartTLS
				}}},
		{Key: "smtp_user", Type: "string", Default: "", DefaultText: "none (no AUTH)",
			Description: "user name for SMTP AUTH (PLAIN or LOGIN)",
			field: str(func(o *Options) **string { return &o.SMTPUser }, func(e *monitor.Email, v string) { e.User = v },
				func(e monitor.Email) string { return e.User })},
		{Key: "smtp_password", Type: "string", Default: "", DefaultText: "none",
			Description: "SMTP password; better kept out of the file with smtp_password_env or smtp_password_file",
			field: str(func(o *Options) **string { return &o.SMTPPassword }, func(e *monitor.Email, v string) { e.Password = v },
				func(e monitor.Email) string { return e.Password })},
		{Key: "smtp_password_env", Type: "string", Default: "", DefaultText: "none",
			Description: "name of the environment variable that holds the SMTP password",
			check:       checkEnvName,
			field: str(func(o *Options) **string { return &o.SMTPPasswordEnv }, func(e *monitor.Email, v string) { e.PasswordEnv = v },
				func(e monitor.Email) string { return e.PasswordEnv })},
		{Key: "smtp_password_file", Type: "string", Default: "", DefaultText: "none",
			Description: "file whose first line is the SMTP password, read at each send",
			field: str(func(o *Options) **string { return &o.SMTPPasswordFile }, func(e *monitor.Email, v string) { e.PasswordFile = v },
				func(e monitor.Email) string { return e.PasswordFile })},
		{Key: "smtp_ca_file", Type: "string", Default: "", DefaultText: "the system's CAs",
			Description: "PEM file of the CAs that the SMTP server's certificate must chain to (a private CA)",
			field: str(func(o *Options) **string { return &o.SMTPCAFile }, func(e *monitor.Email, v string) { e.CAFile = v },
				func(e monitor.Email) string { return e.CAFile })},
		{Key: "smtp_allow_clear_auth", Type: "bool", Default: false,
			Description: "let the SMTP password go over a connection without TLS (smtp_tls none)",
			field: fieldOf[bool]{func(o *Options) **bool { return &o.SMTPAllowClearAuth }, wantBool,
				func(s *monitor.Settings, v bool) { s.Email.AllowClearAuth = v },
				// written only when on
				func(s monitor.Settings) (bool, bool) { return true, s.Email.AllowClearAuth }}},
	}
}

// checkFrom checks a sender address: one address, optionally with a name.
func checkFrom(s string) error {
	if _, err := mail.ParseAddress(s); err != nil {
		return fmt.Errorf("%q is not an e-mail address (%v); write it as alerts@example.com or PingerPlot <alerts@example.com>", s, err)
	}
	return nil
}

// checkEnvName checks the name of an environment variable.
func checkEnvName(s string) error {
	for i, r := range s {
		if r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9') {
			continue
		}
		return fmt.Errorf("%q is not the name of an environment variable (letters, digits and _, not starting with a digit); give the variable's name, not its value", s)
	}
	return nil
}

// checkEmail records the problems between the e-mail keys of fully
// merged options: mail needs a server; AUTH needs one password source;
// and a password is not sent in clear unless the user said so.
func (o Options) checkEmail(where string, p *problems) {
	e := o.settings().Email
	if e.To == "" {
		return
	}
	if e.Server == "" {
		p.add(where, "smtp_server: email_to is set but no SMTP server is; set smtp_server to your mail server (host or host:port)")
	}
	sources := 0
	for _, s := range []string{e.Password, e.PasswordEnv, e.PasswordFile} {
		if s != "" {
			sources++
		}
	}
	switch {
	case e.User == "" && sources > 0:
		p.add(where, "smtp_user: a password is set but no user name; set smtp_user, or remove the password")
	case e.User != "" && sources == 0:
		p.add(where, "smtp_password: smtp_user is set but no password; set smtp_password_env or smtp_password_file (or smtp_password)")
	case sources > 1:
		p.add(where, "smtp_password: more than one of smtp_password, smtp_password_env and smtp_password_file is set; keep one")
	}
	if e.User != "" && e.TLSMode() == monitor.EmailNoTLS && !e.AllowClearAuth {
		p.add(where, "%s", ErrClearAuth.Error())
	}
}

// ErrClearAuth explains why a password is not sent without TLS.
var ErrClearAuth = errors.New("smtp_tls: \"none\" with smtp_user would send the password unencrypted, readable by anyone on the path; " +
	"use \"starttls\" or \"tls\", or set smtp_allow_clear_auth to true if the path to the server is trusted (loopback, a local relay)")

// resolveEmailPaths makes the e-mail keys' relative paths relative to
// dir, as log_path is: a service's working directory is seldom the
// config's.
func (o *Options) resolveEmailPaths(dir string) {
	for _, p := range []**string{&o.SMTPPasswordFile, &o.SMTPCAFile} {
		if *p != nil && **p != "" {
			*p = new(filepath.Clean(inDir(dir, **p)))
		}
	}
}
