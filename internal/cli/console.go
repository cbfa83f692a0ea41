package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// consoleLine is the one layout of every line pingerplot headless prints
// about a target: local time, target, what happened, message. Events,
// record problems and the engine's own warnings share it, so the console
// reads as one table.
func consoleLine(w io.Writer, at time.Time, target, what, msg string) {
	fmt.Fprintf(w, "%s  %-16s %-16s %s\n", at.Local().Format("2006-01-02 15:04:05"), target, what, msg)
}

// consoleHandler is a slog.Handler that writes records in the console
// layout (consoleLine): the "target" attribute in the target column, the
// level in the kind column, the other attributes after the message as
// "(key: value, ...)". It replaces slog's key=value lines, which read as a
// second format beside the events.
type consoleHandler struct {
	w     io.Writer
	mu    *sync.Mutex // shared by handlers derived with WithAttrs
	level slog.Leveler
	attrs []slog.Attr
}

func newConsoleHandler(w io.Writer, level slog.Leveler) *consoleHandler {
	return &consoleHandler{w: w, mu: new(sync.Mutex), level: level}
}

func (h *consoleHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *consoleHandler) Handle(_ context.Context, r slog.Record) error {
	target := "-"
	var extra []string
	add := func(a slog.Attr) bool {
		if a.Key == "target" {
			target = a.Value.String()
		} else if !a.Equal(slog.Attr{}) {
			extra = append(extra, a.Key+": "+a.Value.String())
		}
		return true
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(add)
	msg := r.Message
	if len(extra) > 0 {
		msg += " (" + strings.Join(extra, ", ") + ")"
	}
	at := r.Time
	if at.IsZero() {
		at = time.Now()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	consoleLine(h.w, at, target, strings.ToLower(r.Level.String()), msg)
	return nil
}

func (h *consoleHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

// WithGroup is not used by pingerplot's loggers; groups are flattened.
func (h *consoleHandler) WithGroup(string) slog.Handler { return h }
