package monitor

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"strconv"
	"strings"
)

// Email is a target's e-mail alert settings: who gets a message on each
// alert raise and clear, and the SMTP server that carries it (package
// notify sends them). The zero value sends no mail. Every field is a
// plain value so that Settings stays comparable with ==.
type Email struct {
	// To lists the recipients, RFC 5322 addresses separated by commas;
	// "" sends no mail.
	To string
	// From is the sender address; "" means pingerplot@ this machine's
	// host name.
	From string
	// Server is the SMTP server as host or host:port; without a port,
	// the port of TLS: 587 for STARTTLS, 465 for implicit TLS, 25 for
	// none.
	Server string
	// TLS is "starttls" (the default, also for ""), "tls" (implicit TLS,
	// also called SMTPS) or "none".
	TLS string
	// User, if set, authenticates with AUTH PLAIN or LOGIN. The password
	// comes from exactly one of Password, the environment variable named
	// PasswordEnv, or the first line of PasswordFile (read at each send,
	// so a rotated password needs no restart).
	User         string
	Password     string
	PasswordEnv  string
	PasswordFile string
	// CAFile, if set, is a PEM file of the certificate authorities that
	// the server's certificate must chain to, instead of the system's:
	// for a server with a certificate of a private CA.
	CAFile string
	// AllowClearAuth lets the password go over a connection without TLS
	// (TLS "none"). Off, such a send is refused before the password
	// leaves, because anyone on the path could read it.
	AllowClearAuth bool
}

// Enabled reports whether e sends mail at all.
func (e Email) Enabled() bool { return e.To != "" }

// TLS modes of Email.TLS.
const (
	EmailStartTLS = "starttls"
	EmailTLS      = "tls"
	EmailNoTLS    = "none"
)

// TLSMode returns e.TLS in lower case, "starttls" when unset.
func (e Email) TLSMode() string {
	if e.TLS == "" {
		return EmailStartTLS
	}
	return strings.ToLower(e.TLS)
}

// Recipients parses e.To: the bare addresses, for the SMTP envelope.
func (e Email) Recipients() ([]string, error) {
	return ParseRecipients(e.To)
}

// ParseRecipients parses a comma-separated list of RFC 5322 addresses
// ("ops@example.com, Night Desk <night@example.com>") into the bare
// addresses.
func ParseRecipients(s string) ([]string, error) {
	list, err := mail.ParseAddressList(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a list of e-mail addresses (%v); write them as a@example.com, b@example.com", s, err)
	}
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.Address
	}
	return out, nil
}

// ServerAddr returns e.Server as host:port, with the port of the TLS
// mode when e.Server has none.
func (e Email) ServerAddr() (string, error) {
	return ServerAddr(e.Server, e.TLSMode())
}

// ServerAddr checks an SMTP server written as host or host:port and
// returns host:port, adding the usual port of mode (587 for STARTTLS
// submission, 465 for implicit TLS, 25 for none) when it has none.
func ServerAddr(server, mode string) (string, error) {
	if server == "" {
		return "", errors.New("no SMTP server; set smtp_server to the host (and port) of your mail server")
	}
	if strings.Contains(server, "://") {
		return "", fmt.Errorf("%q: write the server as host or host:port, without a scheme (choose TLS with smtp_tls)", server)
	}
	host, port, err := net.SplitHostPort(server)
	if err != nil {
		// No port, or a bare IPv6 address.
		host, port = strings.Trim(server, "[]"), ""
	}
	if host == "" || strings.ContainsAny(host, " /\\@") {
		return "", fmt.Errorf("%q is not a host name or address; write it as host or host:port", server)
	}
	if port == "" {
		switch mode {
		case EmailTLS:
			port = "465"
		case EmailNoTLS:
			port = "25"
		default:
			port = "587"
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%q: port %q is not a number from 1 to 65535", server, port)
	}
	return net.JoinHostPort(host, port), nil
}
