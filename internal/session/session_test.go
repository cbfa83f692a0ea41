package session

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pingerplot/pingerplot/internal/alert"
	"github.com/pingerplot/pingerplot/internal/config"
	"github.com/pingerplot/pingerplot/internal/hopstat"
	"github.com/pingerplot/pingerplot/internal/monitor"
	"github.com/pingerplot/pingerplot/internal/packet"
	"github.com/pingerplot/pingerplot/internal/probe/result"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const (
	µs      = time.Microsecond
	golden  = "testdata/session.golden.json"
	msRound = time.Millisecond
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func settings(t testing.TB, o config.Options, addr netip.Addr) monitor.Settings {
	t.Helper()
	s, err := o.Settings()
	if err != nil {
		t.Fatal(err)
	}
	s.Trace.Target = addr
	return s
}

// stats makes Stats from replies (RTTs) and losses, as hopstat computes them.
func stats(sent int, rtts ...time.Duration) hopstat.Stats {
	var a hopstat.Acc
	for _, r := range rtts {
		a.Add(r)
	}
	for range sent - len(rtts) {
		a.AddLoss()
	}
	s := a.Stats()
	// The file keeps microseconds.
	for _, d := range []*time.Duration{&s.Last, &s.Best, &s.Worst, &s.Avg, &s.StdDev, &s.Jitter, &s.JitterMax} {
		*d = d.Round(µs)
	}
	return s
}

// withPercentiles adds the percentiles a hop (not a responder) has.
func withPercentiles(s hopstat.Stats, rtts ...time.Duration) hopstat.Stats {
	s.P50 = hopstat.Percentile(slices.Clone(rtts), 0.5).Round(µs)
	s.P95 = hopstat.Percentile(slices.Clone(rtts), 0.95).Round(µs)
	return s
}

// sample is one history entry of round n (1-based) of a target started at t0.
func sample(n int, from string, rtt time.Duration) monitor.Sample {
	s := monitor.Sample{Round: n, Time: t0.Add(time.Duration(n-1) * time.Second), RTT: rtt}
	if from == "" {
		s.Lost = true
	} else {
		s.From = netip.MustParseAddr(from)
	}
	return s
}

// fixture is a session with what real ones hold: a full trace with a
// silent hop, ECMP and events; a paused IPv6 service check; a target
// added but not yet probed.
func fixture(t testing.TB) Session {
	dnsAddr := netip.MustParseAddr("1.1.1.1")
	webAddr := netip.MustParseAddr("2001:db8::1")
	fresh := netip.MustParseAddr("192.0.2.1")
	dest := []monitor.Sample{sample(1, "1.1.1.1", 12100*µs), sample(2, "", 0), sample(3, "1.1.1.1", 11900*µs)}
	for i := range dest {
		dest[i].Reached = !dest[i].Lost
	}
	return Session{
		SavedAt: t0.Add(time.Hour),
		App:     "pingerplot v0.3.0 (test)",
		Records: []Record{
			{
				Target: monitor.Target{ID: "dns", Host: "one.one.one.one", Addr: dnsAddr, Settings: settings(t, config.Options{
					Interval: new(config.Seconds(time.Second)), AlertLossPct: new(20.0),
					AlertLatency: new(config.Millis(250 * time.Millisecond)), LogPath: new("/var/log/pingerplot/dns.csv"),
					WebhookURL: new("https://hooks.example/x?a=1&b=<2>"),
				}, dnsAddr)},
				State: monitor.Running, Rounds: 3, Started: t0, Last: t0.Add(2*time.Second + 12*time.Millisecond),
				Hops: []monitor.Hop{
					{Hop: hopstat.Hop{TTL: 1, Stats: withPercentiles(stats(3, 1200*µs, 1100*µs, 1300*µs), 1200*µs, 1100*µs, 1300*µs), Responders: []hopstat.Responder{
						{Addr: netip.MustParseAddr("192.168.1.1"), Stats: stats(3, 1200*µs, 1100*µs, 1300*µs)}}},
						History: []monitor.Sample{sample(1, "192.168.1.1", 1200*µs), sample(2, "192.168.1.1", 1100*µs), sample(3, "192.168.1.1", 1300*µs)}},
					{Hop: hopstat.Hop{TTL: 2, Stats: stats(3)},
						History: []monitor.Sample{sample(1, "", 0), sample(2, "", 0), sample(3, "", 0)}},
					{Hop: hopstat.Hop{TTL: 3, Stats: withPercentiles(stats(3, 8*msRound, 9500*µs, 8100*µs), 8*msRound, 9500*µs, 8100*µs), Responders: []hopstat.Responder{
						{Addr: netip.MustParseAddr("203.0.113.1"), Stats: stats(2, 8*msRound, 8100*µs)},
						{Addr: netip.MustParseAddr("203.0.113.5"), Stats: stats(1, 9500*µs)}}},
						Details: []monitor.ResponderDetails{
							{Addr: netip.MustParseAddr("203.0.113.1"), Details: result.Details{
								MPLS: []packet.MPLSLabel{{Label: 24001, TC: 5, TTL: 1}, {Label: 16, S: true, TTL: 255}},
								Interfaces: []packet.InterfaceInfo{
									{Role: packet.RoleIncoming, IfIndex: 12, HasIfIndex: true, Addr: netip.MustParseAddr("192.0.2.9"), Name: "ge-0/0/1", MTU: 1500},
									{Role: packet.RoleOutgoing, Name: "xe-1/0/0"},
								},
								Quoted: true, TOS: 0xb8,
							}},
							{Addr: netip.MustParseAddr("203.0.113.5"), Details: result.Details{Quoted: true, NAT: true}},
						},
						History: []monitor.Sample{sample(1, "203.0.113.1", 8*msRound), sample(2, "203.0.113.5", 9500*µs), sample(3, "203.0.113.1", 8100*µs)}},
					{Hop: hopstat.Hop{TTL: 4, Reached: true, Stats: withPercentiles(stats(3, 12100*µs, 11900*µs), 12100*µs, 11900*µs), Responders: []hopstat.Responder{
						{Addr: dnsAddr, Stats: stats(2, 12100*µs, 11900*µs)}}},
						History: dest},
				},
				Events: []monitor.Event{
					{Time: t0.Add(time.Second), Target: "dns", Kind: monitor.RouteChange, TTL: 3, Message: "hop 3: 203.0.113.1 → 203.0.113.5"},
					{Time: t0.Add(2 * time.Second), Target: "dns", Kind: monitor.Multipath, TTL: 3, Message: "hop 3 alternates between 203.0.113.1 and 203.0.113.5 (ECMP)"},
					{Time: t0.Add(2 * time.Second), Target: "dns", Kind: monitor.AlertRaised, Message: "loss 33.3% >= 20% over the last 3 probes",
						Condition: alert.Loss, Value: 33.333333333333336, Threshold: 20},
				},
			},
			{
				Target: monitor.Target{ID: "web", Host: "example.com", Addr: webAddr, Settings: settings(t, config.Options{
					Mode: new("tcp"), Port: new(443), FinalHopOnly: new(true), Interval: new(config.Seconds(5 * time.Second)),
					History: new(10),
				}, webAddr)},
				State: monitor.Paused, Rounds: 2, Started: t0, Last: t0.Add(5*time.Second + 30*msRound),
				Hops: []monitor.Hop{
					{Hop: hopstat.Hop{TTL: 30, Reached: true, Stats: withPercentiles(stats(2, 30*msRound, 31250*µs), 30*msRound, 31250*µs),
						Responders: []hopstat.Responder{{Addr: webAddr, Stats: stats(2, 30*msRound, 31250*µs)}}},
						History: []monitor.Sample{
							{Round: 1, Time: t0, From: webAddr, RTT: 30 * msRound, Reached: true},
							{Round: 2, Time: t0.Add(5 * time.Second), From: webAddr, RTT: 31250 * µs, Reached: true},
						}},
				},
				Events: []monitor.Event{{Time: t0.Add(6 * time.Second), Target: "web", Kind: monitor.PausedEvent, Message: "paused"}},
			},
			{
				Target: monitor.Target{ID: "fresh", Host: "192.0.2.1", Addr: fresh, Settings: settings(t, config.Options{}, fresh)},
			},
		},
	}
}

func save(t testing.TB, s Session) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Save(&b, s); err != nil {
		t.Fatalf("Save: %v", err)
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	got := save(t, fixture(t))
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Save(fixture) differs from %s (run go test -update if the change is intended):\n%s", golden, got)
	}
}

func TestRoundTrip(t *testing.T) {
	want := fixture(t)
	data, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Load(%s): %v", golden, err)
	}
	if !reflect.DeepEqual(got, want) {
		for i := range min(len(got.Records), len(want.Records)) {
			if !reflect.DeepEqual(got.Records[i], want.Records[i]) {
				t.Errorf("record %d:\n got %+v\nwant %+v", i, got.Records[i], want.Records[i])
			}
		}
		t.Fatalf("Load(Save(s)) != s")
	}
	if again := save(t, got); !bytes.Equal(again, data) {
		t.Errorf("Save(Load(golden)) differs from the golden file")
	}
}

func TestSaveFileLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "session.json")
	if err := os.WriteFile(path, []byte("an older session"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := SaveFile(path, fixture(t)); err != nil {
		t.Fatal(err)
	}
	got, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, fixture(t)) {
		t.Errorf("LoadFile(SaveFile(s)) != s")
	}
	if es, _ := os.ReadDir(dir); len(es) != 1 {
		t.Errorf("%d files in the directory; want the session alone", len(es))
	}
	// A refused session leaves the file as it was.
	bad := fixture(t)
	bad.Records[0].Hops[0].TTL = 0
	if err := SaveFile(path, bad); err == nil {
		t.Fatal("SaveFile(invalid) = nil")
	}
	if again, err := LoadFile(path); err != nil || !reflect.DeepEqual(again, fixture(t)) {
		t.Errorf("after a refused save, LoadFile = %v; want the previous session", err)
	}
}

func TestMilliseconds(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want float64
	}{
		{0, 0}, {1, 0}, {499, 0}, {500, 0.001}, {1234567, 1.235}, {12 * time.Millisecond, 12}, {time.Hour, 3600000},
	}
	for _, tt := range tests {
		if got := ms(tt.d); got != tt.want {
			t.Errorf("ms(%v) = %v; want %v", tt.d, got, tt.want)
		}
		back, err := duration("x", ms(tt.d))
		if err != nil || back != tt.d.Round(µs) {
			t.Errorf("duration(ms(%v)) = %v, %v; want %v", tt.d, back, err, tt.d.Round(µs))
		}
	}
}

func TestFromMonitor(t *testing.T) {
	f := fixture(t)
	var snaps []monitor.Snapshot
	events := map[monitor.ID][]monitor.Event{"ghost": {{Kind: monitor.Removed}}}
	for _, r := range f.Records {
		snaps = append(snaps, monitor.Snapshot{
			Target: r.Target, State: r.State, Rounds: r.Rounds, Started: r.Started, Last: r.Last, Hops: r.Hops,
			Dest: monitor.Destination{TTL: 4, MOS: 4.3},
		})
		for _, e := range r.Events {
			e.Target = "" // FromMonitor sets it from the map key
			events[r.Target.ID] = append(events[r.Target.ID], e)
		}
	}
	got := FromMonitor(snaps, events)
	got.SavedAt, got.App = f.SavedAt, f.App
	if !reflect.DeepEqual(got, f) {
		t.Errorf("FromMonitor:\n got %+v\nwant %+v", got, f)
	}

	args := got.Targets()
	if len(args) != 3 {
		t.Fatalf("Targets() = %d; want 3", len(args))
	}
	web := args[1]
	if web.Target.ID != "web" || !web.Paused || web.Rounds != 2 || !web.Started.Equal(t0) || len(web.Hops) != 1 || len(web.Events) != 1 {
		t.Errorf("Targets()[1] = %+v", web)
	}
	if args[0].Paused || args[2].Paused {
		t.Errorf("running targets restored as paused")
	}

	nan := FromMonitor(snaps[:1], map[monitor.ID][]monitor.Event{"dns": {{Kind: monitor.AlertRaised, Condition: alert.Loss, Value: zero / zero, Time: t0}}})
	if v := nan.Records[0].Events[0].Value; v != 0 {
		t.Errorf("NaN event value became %v; want 0", v)
	}
	save(t, nan)
}

var zero float64

func TestIPv4MappedAndZones(t *testing.T) {
	s := fixture(t)
	s.Records = s.Records[2:]
	r := &s.Records[0]
	r.Target.Addr = netip.MustParseAddr("fe80::1%eth0")
	r.Target.Settings.Trace.Target = r.Target.Addr
	got, err := Load(bytes.NewReader(save(t, s)))
	if err != nil || got.Records[0].Target.Addr != r.Target.Addr {
		t.Errorf("zone address round trip = %v, %v", got.Records[0].Target.Addr, err)
	}
	if full := string(save(t, fixture(t))); !strings.Contains(full, "&b=<2>") || !strings.Contains(full, "→") {
		t.Errorf("the file escapes characters it need not")
	}
}

func TestAppendSampleMatchesJSON(t *testing.T) {
	for _, s := range []fileSample{
		{Round: 1, Time: "2026-05-01T12:00:00Z", From: "10.0.0.1", RTT: 1.234},
		{Round: 0, Time: "2026-05-01T12:00:00.123456789Z", RTT: 0, Lost: true},
		{Round: 7, Time: "t", From: "fe80::1%eth0", RTT: 86400000, Reached: true},
		{Round: 7, Time: "t", From: `fe80::1%"x\`, RTT: 0.001},
	} {
		if got, want := string(appendSample(nil, s)), string(appendJSON(nil, s)); got != want {
			t.Errorf("appendSample = %s; want %s", got, want)
		}
	}
}
