package web

import (
	"testing"

	"github.com/pingerplot/pingerplot/internal/config"
)

// TestPutSettingsKeepsHistory: the page does not edit where history is
// kept, so a PUT without "history" keeps the file's; one with it sets it.
func TestPutSettingsKeepsHistory(t *testing.T) {
	kept := config.History{Path: "/data/h.db", MaxAgeDays: 7, MaxSizeMB: 100}
	e := newEnv(t, func(c *Config) { c.User.History = kept })
	e.must(200, "PUT", "/api/settings", map[string]any{"theme": "light"})
	if got := e.loadUser().History; got != kept {
		t.Errorf("history after a PUT without it = %+v; want %+v", got, kept)
	}
	e.must(200, "PUT", "/api/settings", map[string]any{"theme": "light", "history": map[string]any{"enabled": false}})
	if got := e.loadUser().History; got != (config.History{Off: true}) {
		t.Errorf("history after a PUT turning it off = %+v; want off", got)
	}
}
