package notify

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/pingerplot/pingerplot/internal/monitor"
)

// AttachmentName is the file name of the JSON part of an alert e-mail:
// the webhook's Body, so one parser serves both.
const AttachmentName = "pingerplot-alert.json"

// compose builds the message for body b to the recipients of set.
func (m *Mailer) compose(id monitor.ID, set monitor.Email, b Body, now time.Time) (outgoing, error) {
	list, err := mail.ParseAddressList(set.To)
	if err != nil {
		return outgoing{}, fmt.Errorf("email_to %q: %v", set.To, err)
	}
	fromAddr := &mail.Address{Name: "PingerPlot", Address: "pingerplot@" + m.cfg.Hostname}
	if set.From != "" {
		if fromAddr, err = mail.ParseAddress(set.From); err != nil {
			return outgoing{}, fmt.Errorf("email_from %q: %v", set.From, err)
		}
	}
	d := outgoing{target: id, set: set, from: fromAddr.Address, event: b.Event}
	to := make([]string, len(list))
	for i, a := range list {
		d.to = append(d.to, a.Address)
		to[i] = a.String()
	}
	d.msg, err = message(b, fromAddr.String(), strings.Join(to, ", "), m.cfg.Hostname, now)
	return d, err
}

// Subject is the subject line of an alert e-mail: the event, the
// condition and the target first, so a list of subjects reads as a log.
func Subject(b Body) string {
	what := "ALERT"
	if b.Event == string(monitor.AlertCleared) {
		what = "cleared"
	}
	s := fmt.Sprintf("[PingerPlot] %s %s on %s", what, b.Condition, b.Target)
	if b.Event != string(monitor.AlertCleared) {
		s += fmt.Sprintf(": %s (threshold %s)", quantity(b.Value, b.Unit), quantity(b.Threshold, b.Unit))
	}
	return s
}

// quantity writes a value in its unit: "25%", "180 ms".
func quantity(v float64, unit string) string {
	n := strconv.FormatFloat(v, 'f', -1, 64)
	if r := strconv.FormatFloat(v, 'f', 1, 64); len(r) < len(n) {
		n = r
	}
	switch unit {
	case "percent":
		return n + "%"
	case "":
		return n
	}
	return n + " " + unit
}

// Text is the plain-text body of an alert e-mail: the facts of the
// webhook body, one per line.
func Text(b Body, hostname string) string {
	var w strings.Builder
	verb := "raised"
	if b.Event == string(monitor.AlertCleared) {
		verb = "cleared"
	}
	fmt.Fprintf(&w, "PingerPlot on %s: the %s alert of %s %s.\n\n", hostname, b.Condition, b.Target, verb)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&w, "%-11s %s\n", k+":", v)
		}
	}
	target := b.Host
	if b.Addr != "" && b.Addr != b.Host {
		target += " (" + b.Addr + ")"
	}
	line("Target", b.Target)
	if b.Host != b.Target || b.Addr != "" {
		line("Host", target)
	}
	line("Event", b.Event)
	line("Condition", b.Condition)
	line("Value", quantity(b.Value, b.Unit))
	line("Threshold", quantity(b.Threshold, b.Unit))
	line("Window", fmt.Sprintf("the last %d probes to the destination", b.Window))
	line("Time", b.Time)
	line("Message", b.Message)
	if d := b.Diagnosis; d != nil {
		diag := d.Text
		if diag == "" {
			diag = d.What
		}
		if d.Confidence != "" {
			diag += " (confidence " + d.Confidence + ")"
		}
		line("Diagnosis", diag)
	}
	line("Event ID", b.ID)
	fmt.Fprintf(&w, "\nThe attached %s holds the same facts as the webhook's JSON body (version %d).\n", AttachmentName, b.Version)
	return w.String()
}

// message writes the RFC 5322 message: headers, then a multipart/mixed
// body of the text and the JSON body as an attachment. Lines end in CRLF.
func message(b Body, from, to, hostname string, now time.Time) ([]byte, error) {
	js, err := json.MarshalIndent(b, "", "  ")
	if err != nil { // a Body always encodes; NaN values are the exception
		return nil, fmt.Errorf("encode the JSON part: %v", err)
	}
	var buf bytes.Buffer
	mp := multipart.NewWriter(&buf)
	hdr := func(k, v string) { fmt.Fprintf(&buf, "%s: %s\r\n", k, v) }
	hdr("Date", now.Format(time.RFC1123Z))
	hdr("From", from)
	hdr("To", to)
	hdr("Subject", mime.QEncoding.Encode("utf-8", Subject(b)))
	// The event ID is the same for every attempt at one event, so the
	// Message-ID is too.
	hdr("Message-ID", "<"+b.ID+"."+strings.ReplaceAll(b.Event, "_", "-")+"@"+messageIDHost(hostname)+">")
	hdr("MIME-Version", "1.0")
	// RFC 3834: no vacation replies or other auto-answers to an alert.
	hdr("Auto-Submitted", "auto-generated")
	hdr("X-PingerPlot-Event", b.Event)
	hdr("X-PingerPlot-Target", mime.QEncoding.Encode("utf-8", b.Target))
	hdr("Content-Type", `multipart/mixed; boundary="`+mp.Boundary()+`"`)
	buf.WriteString("\r\n")

	text, err := mp.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=utf-8"},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	if err != nil {
		return nil, err
	}
	qp := quotedprintable.NewWriter(text)
	qp.Write([]byte(crlf(Text(b, hostname))))
	qp.Close()

	att, err := mp.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {`application/json; name="` + AttachmentName + `"`},
		"Content-Disposition":       {`attachment; filename="` + AttachmentName + `"`},
		"Content-Transfer-Encoding": {"base64"},
	})
	if err != nil {
		return nil, err
	}
	enc := base64.StdEncoding.EncodeToString(js)
	for len(enc) > 76 {
		att.Write([]byte(enc[:76] + "\r\n"))
		enc = enc[76:]
	}
	att.Write([]byte(enc + "\r\n"))
	if err := mp.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// crlf makes every line end in CRLF, as a message's lines must.
func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// messageIDHost is hostname as the right side of a Message-ID: a dot
// atom, so characters outside it become "-".
func messageIDHost(h string) string {
	h = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		}
		return '-'
	}, h)
	if strings.Trim(h, ".") == "" {
		return "localhost"
	}
	return strings.Trim(h, ".")
}
