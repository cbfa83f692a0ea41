package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// NewToken returns a fresh per-launch API token: 128 random bits in hex.
func NewToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// guard protects the probe engine from other web pages and other users:
// only requests addressed to the server's own host names (which defeats
// DNS rebinding), from no or the same Origin (which defeats cross-site
// use), and carrying the per-launch token reach the API.
type guard struct {
	token string
	// hosts are the acceptable Host header values, host:port form.
	hosts map[string]bool
}

func newGuard(token string, listen net.Addr, extra []string) *guard {
	g := &guard{token: token, hosts: map[string]bool{}}
	_, port, _ := net.SplitHostPort(listen.String())
	for _, h := range []string{"127.0.0.1", "localhost", "[::1]"} {
		g.hosts[h+":"+port] = true
	}
	if host, _, err := net.SplitHostPort(listen.String()); err == nil {
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
			g.hosts[net.JoinHostPort(host, port)] = true
		}
	}
	for _, h := range extra {
		if !strings.Contains(h, ":") || strings.HasSuffix(h, "]") {
			h = net.JoinHostPort(strings.Trim(h, "[]"), port)
		}
		g.hosts[strings.ToLower(h)] = true
	}
	if port == "80" {
		// Browsers leave the default port out of Host and Origin.
		for h := range g.hosts {
			g.hosts[strings.TrimSuffix(h, ":80")] = true
		}
	}
	return g
}

// hostOK checks the Host header against the server's own names.
func (g *guard) hostOK(r *http.Request) bool { return g.hosts[strings.ToLower(r.Host)] }

// originOK accepts requests without an Origin (same-origin GETs, scripts)
// and those whose Origin is the server itself.
func (g *guard) originOK(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return g.hosts[strings.ToLower(u.Host)]
}

// tokenOK accepts the token as a bearer header or, for EventSource and the
// first page load, a query parameter.
func (g *guard) tokenOK(r *http.Request) bool {
	got := ""
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		got = strings.TrimPrefix(h, "Bearer ")
	} else {
		got = r.URL.Query().Get("token")
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(g.token)) == 1
}

// wrap applies the checks: Host and Origin on every request, the token on
// the API. Static assets need no token: they hold no data.
func (g *guard) wrap(api, static http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.hostOK(r) {
			writeError(w, http.StatusForbidden, "foreign Host header: open the dashboard with the URL pingerplot printed")
			return
		}
		if !g.originOK(r) {
			writeError(w, http.StatusForbidden, "cross-origin request refused")
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			static.ServeHTTP(w, r)
			return
		}
		if !g.tokenOK(r) {
			writeError(w, http.StatusUnauthorized, "missing or wrong token: open the dashboard with the URL pingerplot printed (it carries ?token=)")
			return
		}
		api.ServeHTTP(w, r)
	})
}
