package web

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// roundMsg is a "round" stream message as a test reads it.
type roundMsg struct {
	Seq     uint64  `json:"seq"`
	Target  string  `json:"target"`
	Round   int     `json:"round"`
	Summary summary `json:"summary"`
	Samples []struct {
		TTL  int      `json:"ttl"`
		T    float64  `json:"t"`
		RTT  *float64 `json:"rtt_ms"`
		Addr string   `json:"addr"`
	} `json:"samples"`
}

func TestStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, func(c *Config) { c.KeepAlive = 5 * time.Second })
		e.start()
		synctest.Wait() // Server.Run has subscribed to the monitor
		s := e.openStream(e.serveHTTP())
		if ct := s.resp.Header.Get("Content-Type"); ct != "text/event-stream" {
			t.Errorf("stream Content-Type = %q; want text/event-stream", ct)
		}
		if m, err := s.next(); err != nil || m.comment != "connected" {
			t.Fatalf("first stream message %+v, %v; want the connected comment", m, err)
		}

		e.add("dest.example", nil)
		var ev eventOut
		s.expect("event", time.Second, func(d string) bool { return json.Unmarshal([]byte(d), &ev) == nil && ev.Kind == "target_added" })
		if ev.Target != "dest.example" || !strings.HasPrefix(ev.Message, "added dest.example") {
			t.Errorf("event %+v; want target_added of dest.example", ev)
		}
		var list []summary
		s.expect("targets", time.Second, func(d string) bool { return json.Unmarshal([]byte(d), &list) == nil })
		if len(list) != 1 || list[0].ID != "dest.example" || list[0].Settings["dns"] != true {
			t.Errorf("targets message %+v; want dest.example with its settings", list)
		}

		for want := 1; want <= 3; want++ {
			var r roundMsg
			s.expect("round", 2*time.Second, func(d string) bool { return json.Unmarshal([]byte(d), &r) == nil })
			if r.Seq != uint64(want) || r.Round != want || r.Target != "dest.example" || r.Summary.Rounds != want || r.Summary.ID != "dest.example" {
				t.Errorf("round message seq %d, round %d of %q, summary %d rounds; want seq, round and rounds %d of dest.example", r.Seq, r.Round, r.Target, r.Summary.Rounds, want)
			}
			snap, _ := e.mon.Snapshot("dest.example", true)
			if len(r.Samples) != 3 {
				t.Fatalf("round %d: %d samples; want 3", want, len(r.Samples))
			}
			for i, smp := range r.Samples {
				h := snap.Hops[i].History[want-1]
				wantT := math.Round(float64(h.Time.UnixNano())/1e3) / 1e6
				if smp.TTL != i+1 || smp.T != wantT || smp.RTT == nil || *smp.RTT != float64(h.RTT)/1e6 || smp.Addr != h.From.String() {
					t.Errorf("round %d sample %d = %+v; want ttl %d, t %v (as in the history), rtt %v, addr %v", want, i, smp, i+1, wantT, float64(h.RTT)/1e6, h.From)
				}
			}
		}

		e.must(200, "POST", "/api/targets/dest.example/pause", nil)
		s.expect("event", time.Second, func(d string) bool { return json.Unmarshal([]byte(d), &ev) == nil && ev.Kind == "paused" })
		s.expect("targets", time.Second, func(d string) bool { return json.Unmarshal([]byte(d), &list) == nil })
		if len(list) != 1 || list[0].State != "paused" {
			t.Errorf("targets message after pause %+v; want dest.example paused", list)
		}
		start := time.Now()
		s.expect("ping", 6*time.Second, nil)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("first ping after %v; want one within KeepAlive (5 s)", d)
		}
		e.must(200, "PUT", "/api/targets/dest.example/settings", map[string]any{"interval": 2})
		s.expect("event", time.Second, func(d string) bool { return json.Unmarshal([]byte(d), &ev) == nil && ev.Kind == "settings_changed" })
		e.must(204, "DELETE", "/api/targets/dest.example", nil)
		s.expect("event", time.Second, func(d string) bool { return json.Unmarshal([]byte(d), &ev) == nil && ev.Kind == "target_removed" })
		s.expect("targets", time.Second, func(d string) bool { return json.Unmarshal([]byte(d), &list) == nil && len(list) == 0 })
	})
}

// TestStreamStalledClient: a page that stops reading loses messages
// rather than holding up the monitor or the other pages, and is
// disconnected after stallTimeout.
func TestStreamStalledClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.start()
		synctest.Wait() // Server.Run has subscribed to the monitor
		c := e.serveHTTP()
		e.openStream(c) // never read
		live := e.openStream(c)
		type result struct {
			seqs []uint64
			err  error
		}
		got := make(chan result, 1)
		go func() {
			var r result
			for {
				m, err := live.next()
				if err != nil {
					r.err = err
					got <- r
					return
				}
				if m.event == "round" {
					var rm roundMsg
					if err := json.Unmarshal([]byte(m.data), &rm); err != nil {
						r.err = err
						got <- r
						return
					}
					r.seqs = append(r.seqs, rm.Seq)
				}
			}
		}()
		e.add("dest.example", map[string]any{"interval": 0.05})
		time.Sleep(stallTimeout / 2)
		if clients, dropped := e.srv.hub.counts(); clients != 2 || dropped == 0 {
			t.Errorf("after %v: %d clients, %d messages dropped; want both clients, messages dropped for the stalled one", stallTimeout/2, clients, dropped)
		}
		time.Sleep(stallTimeout/2 + 5*time.Second)
		synctest.Wait()
		if clients, dropped := e.srv.hub.counts(); clients != 1 || dropped == 0 {
			t.Errorf("after %v: %d clients, %d messages dropped; want the stalled client gone after dropping messages", stallTimeout+5*time.Second, clients, dropped)
		}
		rounds := e.mon.Stats().Rounds
		live.close()
		res := <-got
		if len(res.seqs) < 1000 || uint64(len(res.seqs)) != rounds {
			t.Errorf("the live client got %d round messages; want all %d", len(res.seqs), rounds)
		}
		for i, s := range res.seqs {
			if s != uint64(i+1) {
				t.Fatalf("round message %d has seq %d; want %d (no gaps for a client that keeps up)", i, s, i+1)
			}
		}
	})
}

func TestHubDropsForAFullClient(t *testing.T) {
	h := newHub()
	full, ok := h.subscribe(), h.subscribe()
	for range clientBuffer {
		h.publish("event", 1)
	}
	<-ok // ok reads one; full reads none
	h.publish("event", 2)
	if _, dropped := h.counts(); dropped != 1 {
		t.Errorf("dropped %d; want 1 (the full client's)", dropped)
	}
	if n := len(ok); n != clientBuffer {
		t.Errorf("the reading client holds %d messages; want %d", n, clientBuffer)
	}
	var last []byte
	for len(ok) > 0 {
		last = <-ok
	}
	if want := "event: event\ndata: 2\n\n"; string(last) != want {
		t.Errorf("last message %q; want %q", last, want)
	}
	h.unsubscribe(full)
	h.unsubscribe(ok)
	if n, _ := h.counts(); n != 0 {
		t.Errorf("%d clients after unsubscribing both; want 0", n)
	}
}

func TestStreamWithoutToken(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/api/stream", "/api/stream?token=wrong"} {
		if r := e.serve(newRequest("GET", path, nil)); r.code != http.StatusUnauthorized {
			t.Errorf("GET %s = %v; want 401", path, r)
		}
	}
}
