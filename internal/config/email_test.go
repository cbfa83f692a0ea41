package config

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestEmailChecks: e-mail settings that cannot work are refused when
// read, each with its key and what to do.
func TestEmailChecks(t *testing.T) {
	tests := []struct {
		json, want string // want "" for accepted
	}{
		{`{"email_to": "ops@example.org", "smtp_server": "mail.example.org"}`, ""},
		{`{"email_to": "ops@example.org", "smtp_server": "mail.example.org:2525", "smtp_tls": "tls", "smtp_user": "u", "smtp_password_env": "PW"}`, ""},
		{`{"email_to": "ops@example.org", "smtp_server": "127.0.0.1", "smtp_tls": "none", "smtp_user": "u", "smtp_password_file": "pw", "smtp_allow_clear_auth": true}`, ""},
		{`{"email_to": "ops@example.org"}`, "smtp_server: email_to is set but no SMTP server"},
		{`{"email_to": "not an address", "smtp_server": "m"}`, "email_to: "},
		{`{"email_to": "o@x.org", "smtp_server": "smtp://m"}`, "without a scheme"},
		{`{"email_to": "o@x.org", "smtp_server": "m:0"}`, "port \"0\""},
		{`{"email_to": "o@x.org", "smtp_server": "m", "smtp_tls": "ssl"}`, "smtp_tls: "},
		{`{"email_to": "o@x.org", "smtp_server": "m", "smtp_user": "u"}`, "smtp_user is set but no password"},
		{`{"email_to": "o@x.org", "smtp_server": "m", "smtp_password": "p"}`, "no user name"},
		{`{"email_to": "o@x.org", "smtp_server": "m", "smtp_user": "u", "smtp_password": "p", "smtp_password_env": "P"}`, "keep one"},
		{`{"email_to": "o@x.org", "smtp_server": "m", "smtp_tls": "none", "smtp_user": "u", "smtp_password": "p"}`, "smtp_allow_clear_auth"},
		{`{"email_to": "o@x.org", "smtp_server": "m", "smtp_user": "u", "smtp_password_env": "my secret"}`, "not the name of an environment variable"},
		{`{"email_from": "nobody", "email_to": "o@x.org", "smtp_server": "m"}`, "email_from: "},
	}
	for _, tc := range tests {
		var o Options
		if err := json.Unmarshal([]byte(tc.json), &o); err != nil {
			t.Fatalf("%s: %v", tc.json, err)
		}
		s, err := o.Settings()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: got %v; want accepted", tc.json, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: got %v; want an error containing %q", tc.json, err, tc.want)
		case tc.want == "" && !s.Email.Enabled():
			t.Errorf("%s: email not enabled in %+v", tc.json, s.Email)
		}
		if err == nil {
			// Written back and read again, the settings are the same.
			b, _ := json.Marshal(FromSettings(s))
			var back Options
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatalf("%s: re-read %s: %v", tc.json, b, err)
			}
			if s2, err := back.Settings(); err != nil || s2.Email != s.Email {
				t.Errorf("%s: round trip %+v (%v); want %+v", tc.json, s2.Email, err, s.Email)
			}
		}
	}
}
