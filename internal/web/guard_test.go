package web

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestGuard(t *testing.T) {
	e := newEnv(t)
	e.add("dest.example", nil)
	const (
		token = testToken
		bad   = "ffffffffffffffffffffffffffffffff"
	)
	tests := []struct {
		name   string
		method string
		path   string
		host   string // "" is testHost
		origin string
		auth   string // Authorization header
		code   int
		want   string // in the error message, or in the body of a 200
	}{
		{name: "token in the header", path: "/api/targets", auth: "Bearer " + token, code: 200, want: "dest.example"},
		{name: "token in the query", path: "/api/targets?token=" + token, code: 200, want: "dest.example"},
		{name: "no token", path: "/api/targets", code: 401, want: "missing or wrong token"},
		{name: "empty token", path: "/api/targets?token=", code: 401, want: "missing or wrong token"},
		{name: "wrong token in the header", path: "/api/targets", auth: "Bearer " + bad, code: 401},
		{name: "wrong token in the query", path: "/api/targets?token=" + bad, code: 401},
		{name: "token prefix", path: "/api/targets?token=" + token[:16], code: 401},
		{name: "token with more", path: "/api/targets?token=" + token + "0", code: 401},
		{name: "not a bearer token", path: "/api/targets", auth: "Basic " + token, code: 401},
		{name: "not a bearer token, token in the query", path: "/api/targets?token=" + token, auth: "Basic x", code: 200},
		{name: "a wrong bearer token wins over the query", path: "/api/targets?token=" + token, auth: "Bearer " + bad, code: 401},
		{name: "no token, unknown endpoint", path: "/api/nope", code: 401},
		{name: "the stream needs a token", path: "/api/stream", code: 401},
		{name: "unknown endpoint", path: "/api/nope", auth: "Bearer " + token, code: 404, want: "no such API endpoint"},

		{name: "localhost", path: "/api/targets", host: "localhost:8377", auth: "Bearer " + token, code: 200},
		{name: "LOCALHOST", path: "/api/targets", host: "LOCALHOST:8377", auth: "Bearer " + token, code: 200},
		{name: "IPv6 loopback", path: "/api/targets", host: "[::1]:8377", auth: "Bearer " + token, code: 200},
		{name: "foreign Host", path: "/api/targets", host: "evil.example:8377", auth: "Bearer " + token, code: 403, want: "foreign Host header"},
		{name: "rebinding name", path: "/api/targets", host: "evil.example", auth: "Bearer " + token, code: 403},
		{name: "another port", path: "/api/targets", host: "127.0.0.1:8378", auth: "Bearer " + token, code: 403},
		{name: "no port", path: "/api/targets", host: "127.0.0.1", auth: "Bearer " + token, code: 403},
		{name: "foreign Host without token", path: "/api/targets", host: "evil.example:8377", code: 403},

		{name: "same Origin", path: "/api/targets", origin: "http://127.0.0.1:8377", auth: "Bearer " + token, code: 200},
		{name: "same Origin by another name", path: "/api/targets", origin: "http://localhost:8377", auth: "Bearer " + token, code: 200},
		{name: "foreign Origin", path: "/api/targets", origin: "http://evil.example", auth: "Bearer " + token, code: 403, want: "cross-origin request refused"},
		{name: "foreign Origin, our port", path: "/api/targets", origin: "http://evil.example:8377", auth: "Bearer " + token, code: 403},
		{name: "Origin on another port", path: "/api/targets", origin: "http://127.0.0.1:3000", auth: "Bearer " + token, code: 403},
		{name: "null Origin", path: "/api/targets", origin: "null", auth: "Bearer " + token, code: 403},
		{name: "file Origin", path: "/api/targets", origin: "file://", auth: "Bearer " + token, code: 403},
		{name: "foreign Origin on the stream", path: "/api/stream?token=" + token, origin: "http://evil.example", code: 403},

		{name: "page without token", path: "/", code: 200, want: "<html"},
		{name: "script without token", path: "/app.js", code: 200},
		{name: "page with a foreign Host", path: "/", host: "evil.example:8377", code: 403, want: "foreign Host header"},
		{name: "script with a foreign Host", path: "/app.js", host: "evil.example:8377", code: 403},
		{name: "page with a foreign Origin", path: "/", origin: "http://evil.example", code: 403},
		{name: "no such file", path: "/nope.js", code: 404},
		{name: "dot-dot out of the API", path: "/x/../api/targets", code: 404}, // the file server, not the API
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := tt.method
			if method == "" {
				method = "GET"
			}
			r := newRequest(method, tt.path, nil)
			if tt.host != "" {
				r.Host = tt.host
			}
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			got := e.serve(r)
			if got.code != tt.code {
				t.Fatalf("%s %s (Host %q, Origin %q, Authorization %q) = %v; want %d", method, tt.path, r.Host, tt.origin, tt.auth, got, tt.code)
			}
			if got.code >= 400 && got.code != 404 || strings.HasPrefix(tt.path, "/api/") {
				if ct := got.header.Get("Content-Type"); ct != "application/json" && !strings.HasPrefix(tt.path, "/api/stream") {
					t.Errorf("Content-Type = %q; want application/json", ct)
				}
			}
			if tt.want != "" && !strings.Contains(string(got.body), tt.want) {
				t.Errorf("answer %q; want it to contain %q", got.body, tt.want)
			}
		})
	}
}

// TestGuardRefusesChanges: a refused request changes nothing.
func TestGuardRefusesChanges(t *testing.T) {
	e := newEnv(t)
	e.add("dest.example", nil)
	tests := []struct {
		name           string
		method, path   string
		body           any
		host, origin   string
		token          string
		wantCode       int
		wantNoSettings bool
	}{
		{"add without token", "POST", "/api/targets", map[string]any{"host": "10.0.3.1"}, "", "", "", 401, false},
		{"add from a foreign origin", "POST", "/api/targets", map[string]any{"host": "10.0.3.1"}, "", "http://evil.example", testToken, 403, false},
		{"add through rebinding", "POST", "/api/targets", map[string]any{"host": "10.0.3.1"}, "evil.example:8377", "", testToken, 403, false},
		{"remove with a wrong token", "DELETE", "/api/targets/dest.example", nil, "", "", "nope", 401, false},
		{"pause from a foreign origin", "POST", "/api/targets/dest.example/pause", nil, "", "http://evil.example", testToken, 403, false},
		{"settings from a foreign origin", "PUT", "/api/settings", map[string]any{"theme": "light"}, "", "http://evil.example", testToken, 403, false},
		{"session without token", "POST", "/api/session", "{}", "", "", "", 401, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.state()
			r := newRequest(tt.method, tt.path, tt.body)
			if tt.host != "" {
				r.Host = tt.host
			}
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			if tt.token != "" {
				r.Header.Set("Authorization", "Bearer "+tt.token)
			}
			if got := e.serve(r); got.code != tt.wantCode {
				t.Errorf("%s %s = %v; want %d", tt.method, tt.path, got, tt.wantCode)
			}
			e.unchanged(tt.name, before)
		})
	}
}

func TestStaticHeaders(t *testing.T) {
	e := newEnv(t)
	r := e.serve(newRequest("GET", "/", nil))
	for k, want := range map[string]string{
		"Referrer-Policy":        "no-referrer",
		"X-Content-Type-Options": "nosniff",
	} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s = %q; want %q", k, got, want)
		}
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q; want same-origin only, no framing", csp)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type of / = %q; want text/html", ct)
	}
}

func TestGuardHosts(t *testing.T) {
	tests := []struct {
		name   string
		listen net.Addr
		extra  []string
		ok     []string
		refuse []string
	}{
		{"loopback", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8377}, nil,
			[]string{"127.0.0.1:8377", "localhost:8377", "[::1]:8377"},
			[]string{"127.0.0.2:8377", "0.0.0.0:8377", "localhost", "localhost.:8377", "127.0.0.1:80"}},
		{"a LAN address", &net.TCPAddr{IP: net.IPv4(192, 168, 1, 5), Port: 9000}, nil,
			[]string{"192.168.1.5:9000", "127.0.0.1:9000"},
			[]string{"192.168.1.6:9000", "192.168.1.5:9001"}},
		{"every address: only loopback names and the extra ones", &net.TCPAddr{IP: net.IPv4zero, Port: 9000}, []string{"box.lan", "[fd00::5]", "Other.LAN:9100"},
			[]string{"127.0.0.1:9000", "box.lan:9000", "BOX.LAN:9000", "[fd00::5]:9000", "other.lan:9100"},
			[]string{"0.0.0.0:9000", "box.lan:9001", "other.lan:9000", "evil.example:9000"}},
		{"IPv6", &net.TCPAddr{IP: net.ParseIP("fd00::1"), Port: 9000}, nil,
			[]string{"[fd00::1]:9000", "[::1]:9000"},
			[]string{"fd00::1:9000", "[fd00::2]:9000"}},
		{"port 80, which browsers leave out", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80}, []string{"box.lan"},
			[]string{"127.0.0.1:80", "127.0.0.1", "localhost", "[::1]", "box.lan"},
			[]string{"127.0.0.1:8080", "evil.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGuard(testToken, tt.listen, tt.extra)
			check := func(host string, want bool) {
				r := &http.Request{Host: host, Header: http.Header{}}
				if got := g.hostOK(r); got != want {
					t.Errorf("hostOK(Host %q) = %v; want %v", host, got, want)
				}
				r.Host = tt.ok[0]
				r.Header.Set("Origin", "http://"+host)
				if got := g.originOK(r); got != want {
					t.Errorf("originOK(Origin http://%s) = %v; want %v", host, got, want)
				}
			}
			for _, h := range tt.ok {
				check(h, true)
			}
			for _, h := range tt.refuse {
				check(h, false)
			}
		})
	}
}

func TestNewTokenIsFreshAndLong(t *testing.T) {
	a, b := NewToken(), NewToken()
	if len(a) != 32 || a == b || strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("NewToken() = %q, %q; want two different 32-digit hex strings", a, b)
	}
}
