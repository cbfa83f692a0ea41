package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// clientBuffer is how many messages a page may fall behind before the hub
// drops messages for it.
const clientBuffer = 256

// stallTimeout is how long one write to a page may block before the
// stream is closed: a page that stopped reading (a frozen tab, a dead
// connection the kernel has not noticed) is dropped, freeing its
// goroutine; a live EventSource reconnects and re-fetches.
const stallTimeout = time.Minute

// hub fans server-sent events out to every connected page. A page that
// cannot keep up loses messages (its buffer is bounded) rather than slowing
// the monitor or the other pages; the "seq" of round messages shows it the
// gap, and it re-fetches the full state.
type hub struct {
	mu      sync.Mutex // guards following
	clients map[chan []byte]struct{}
	dropped int // messages not delivered to a full client
}

func newHub() *hub { return &hub{clients: map[chan []byte]struct{}{}} }

// publish sends one SSE message of the given event name to every client.
func (h *hub) publish(event string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		return
	}
	msg := fmt.Appendf(nil, "event: %s\ndata: %s\n\n", event, data)
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c <- msg:
		default:
			h.dropped++
		}
	}
}

// listening reports whether any page is connected to the stream.
func (h *hub) listening() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients) > 0
}

func (h *hub) subscribe() chan []byte {
	c := make(chan []byte, clientBuffer)
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
	return c
}

func (h *hub) unsubscribe(c chan []byte) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
}

// counts returns the number of connected clients and of dropped messages.
func (h *hub) counts() (clients, dropped int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients), h.dropped
}

// serve streams messages to one client until it goes away, or stops
// reading for stallTimeout.
func (h *hub) serve(w http.ResponseWriter, r *http.Request, keepalive time.Duration) {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	c := h.subscribe()
	defer h.unsubscribe(c)
	// Each write gets stallTimeout. The last deadline stays when the
	// stream ends: the client is gone then (a stream has no other end),
	// and it bounds the server's final write on the dead connection too.
	// Writers that cannot set deadlines (test recorders) still stream.
	send := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(stallTimeout))
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send([]byte(": connected\n\n")) {
		return
	}
	t := time.NewTicker(keepalive)
	defer t.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case msg := <-c:
			if !send(msg) {
				return
			}
		case <-t.C:
			if !send([]byte(": ping\n\n")) {
				return
			}
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}
