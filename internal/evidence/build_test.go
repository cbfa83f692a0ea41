package evidence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/diagnose"
	"github.com/pingerplot/pingerplot/internal/history"
	"github.com/pingerplot/pingerplot/internal/history/historytest"
	"github.com/pingerplot/pingerplot/internal/monitor"
)

// storeStart is when the synthetic rounds begin; the store's clock is
// just after them, so retention keeps them all.
var storeStart = time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC)

// filledStore holds two hours of a 6-hop path probed every second: hop 3
// loses 30 % of its own replies (later hops none of theirs), hops 5 and 6
// each drop 10 % of what passes, so about 10 % at hop 5 and 19 % at the
// destination; and a route change and an alert in the middle.
func filledStore(t *testing.T) *history.Store {
	t.Helper()
	now := storeStart.Add(3 * time.Hour)
	st, err := history.Open(history.Options{Path: filepath.Join(t.TempDir(), "history.db"), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatalf("history.Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	g := historytest.Gen{Hops: historytest.Path(6, map[int]float64{3: 0.3}), Start: storeStart, Seed: 7}
	// Loss that carries: a probe lost at hop 5 or 6 is lost for every
	// TTL from there on, as on a real path.
	rounds := g.Rounds(7200)
	for i := range rounds {
		r := &rounds[i]
		drop5 := (i*7919)%100 < 10
		drop6 := (i*104729)%100 < 10
		for j := range r.Hops {
			h := &r.Hops[j]
			if (h.TTL >= 5 && drop5) || (h.TTL == 6 && drop6) {
				h.Reply.From, h.Reply.RTT, h.Reply.Kind = netip.Addr{}, 0, 0
				if h.TTL == 6 {
					r.Reached, r.EndTTL = false, 0
				}
			}
		}
	}
	historytest.Fill(t, st, "dest.example", "dest.example", rounds)

	src := historytest.NewSource(monitor.Target{ID: "dest.example", Host: "dest.example"})
	events := []monitor.Event{
		{Seq: 1, Time: storeStart.Add(30 * time.Minute), Target: "dest.example", Kind: monitor.Added, Message: "added"},
		{Seq: 2, Time: storeStart.Add(50 * time.Minute), Target: "dest.example", Kind: monitor.RouteChange, TTL: 4, Message: "hop 4 changed from 10.0.0.4 to 10.0.9.4"},
		{Seq: 3, Time: storeStart.Add(61 * time.Minute), Target: "dest.example", Kind: monitor.AlertRaised, Message: "loss 19 % over 60 probes"},
		{Seq: 4, Time: storeStart.Add(5 * time.Hour), Target: "dest.example", Kind: monitor.AlertCleared, Message: "after the window"},
	}
	updates := make(chan monitor.Update, len(events))
	for i := range events {
		updates <- monitor.Update{Event: &events[i]}
	}
	close(updates)
	st.Run(context.Background(), updates, src)
	if err := st.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	return st
}

func TestBuild(t *testing.T) {
	st := filledStore(t)
	ctx := context.Background()
	from, to := storeStart, storeStart.Add(2*time.Hour)
	meta := Meta{Version: "test", Vantage: "10.0.0.100", TimeZone: "UTC, UTC+00:00", Made: storeStart.Add(3 * time.Hour),
		Names: func(a netip.Addr) string {
			if a == netip.MustParseAddr("10.0.0.2") {
				return "gw2.example"
			}
			return ""
		}}
	d, err := Build(ctx, st, "dest.example", from, to, meta)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if d.Summary.Rounds != 7200 {
		t.Errorf("Summary.Rounds = %d; want 7200", d.Summary.Rounds)
	}
	if len(d.Hops) != 6 {
		t.Fatalf("%d hops; want 6", len(d.Hops))
	}
	wantLoss := map[int]float64{1: 0, 2: 0, 3: 30, 4: 0, 5: 10, 6: 19}
	for _, h := range d.Hops {
		if math.Abs(h.LossPct-wantLoss[h.TTL]) > 2.5 {
			t.Errorf("hop %d loss %.1f %%; want about %.0f %%", h.TTL, h.LossPct, wantLoss[h.TTL])
		}
	}
	if d.Hops[1].Host != "gw2.example" {
		t.Errorf("hop 2's name %q; want gw2.example from Meta.Names", d.Hops[1].Host)
	}
	if d.Step != 24*time.Second {
		t.Errorf("Step = %v; want 24s (2 h in 300 steps)", d.Step)
	}
	if len(d.Series) != 6 {
		t.Fatalf("%d series; want 6", len(d.Series))
	}
	for _, s := range d.Series {
		if len(s.Buckets) != 300 {
			t.Errorf("hop %d: %d buckets; want 300", s.TTL, len(s.Buckets))
		}
		sent := 0
		for _, b := range s.Buckets {
			sent += b.Sent
		}
		if sent != 7200 {
			t.Errorf("hop %d: the buckets count %d probes; want 7200", s.TTL, sent)
		}
	}
	var kinds []monitor.EventKind
	for _, e := range d.Events {
		kinds = append(kinds, e.Kind)
	}
	if len(kinds) != 2 || kinds[0] != monitor.RouteChange || kinds[1] != monitor.AlertRaised {
		t.Errorf("events %v; want the route change and the alert raised (not the target added, not what is after the window)", kinds)
	}

	// The summary's conclusion is the window's diagnosis (its last 300
	// rounds), and the places the file marks are the diagnosis's.
	dg := d.Diagnosis
	if dg == nil || dg.What != diagnose.Loss || dg.Evidence.Rounds != DiagnosisRounds {
		t.Fatalf("diagnosis %+v; want loss, from the window's last %d rounds", dg, DiagnosisRounds)
	}
	f := analyse(d)
	// Loss that grows along the path starts where it first appears:
	// 10 % into hop 5, 10 % more into hop 6.
	if f.LossStart != dg.Where.TTL || f.LossStart != 5 {
		t.Errorf("the loss starts at hop %d, the diagnosis's at %d; want both at hop 5, where the loss first appears", f.LossStart, dg.Where.TTL)
	}
	if len(f.Sentences) < 2 || !strings.HasPrefix(f.Sentences[1], "Diagnosis (") || !strings.Contains(f.Sentences[1], dg.Text) {
		t.Errorf("the summary's second sentence %q; want the diagnosis %q", f.Sentences[1], dg.Text)
	}
	if _, ok := f.Own[3]; !ok {
		t.Errorf("hop 3 not called rate-limiting; notes %v", f.Own)
	}
	var b bytes.Buffer
	if err := Render(&b, d); err != nil {
		t.Fatalf("Render: %v", err)
	}
	out := b.String()
	wants := []string{dg.Text, "gw2.example", "Route change"}
	// a timeline of its own for the start, between the first hop and
	// the destination, whose timeline the file shows anyway
	wants = append(wants, `id="timeline-where-the-loss-starts-svg"`, fmt.Sprintf("Hop %d, where the loss starts: %s", dg.Where.TTL, dg.Where.Addr))
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("the file lacks %q", want)
		}
	}
}

func TestBuildErrors(t *testing.T) {
	st := filledStore(t)
	ctx := context.Background()
	if _, err := Build(ctx, st, "other.example", storeStart, storeStart.Add(time.Hour), Meta{}); !errors.Is(err, history.ErrUnknownTarget) {
		t.Errorf("Build of an unknown target: %v; want ErrUnknownTarget", err)
	}
	if _, err := Build(ctx, st, "dest.example", storeStart, storeStart, Meta{}); err == nil || !strings.Contains(err.Error(), "is not before its end") {
		t.Errorf("Build of an empty window: %v; want an error saying the start is not before the end", err)
	}
	if _, err := Build(ctx, nil, "dest.example", storeStart, storeStart.Add(time.Hour), Meta{}); err == nil {
		t.Errorf("Build without a store: nil error; want one")
	}
	// A window with no rounds is a file that says so, not an error.
	d, err := Build(ctx, st, "dest.example", storeStart.Add(-5*time.Hour), storeStart.Add(-4*time.Hour), Meta{})
	if err != nil {
		t.Fatalf("Build of a window before the rounds: %v", err)
	}
	if s := analyse(d).Sentences; len(s) != 1 || !strings.HasPrefix(s[0], "No round of dest.example was recorded") {
		t.Errorf("summary of an empty window %q; want it to say no round was recorded", s)
	}
}
