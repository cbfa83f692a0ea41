package probe

import (
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name       string
		v6         bool
		mode       Mode
		typ, code  uint8
		want       Kind
		wantIgnore bool
	}{
		{"v4 ttl exceeded", false, ICMP, 11, 0, TimeExceeded, false},
		{"v4 echo reply", false, ICMP, 0, 0, Reached, false},
		{"v4 echo reply to a udp probe is not ours", false, UDP, 0, 0, 0, true},
		{"v4 port unreachable ends a udp trace", false, UDP, 3, 3, Reached, false},
		{"v4 port unreachable to icmp is unreachable", false, ICMP, 3, 3, Unreachable, false},
		{"v4 host unreachable", false, UDP, 3, 1, Unreachable, false},
		{"v4 admin prohibited", false, TCP, 3, 13, Unreachable, false},
		{"v4 redirect ignored", false, ICMP, 5, 1, 0, true},
		{"v4 source quench ignored", false, ICMP, 4, 0, 0, true},
		{"v4 parameter problem", false, ICMP, 12, 0, Unreachable, false},
		{"v6 hop limit exceeded", true, ICMP, 3, 0, TimeExceeded, false},
		{"v6 echo reply", true, ICMP, 129, 0, Reached, false},
		{"v6 port unreachable ends udp", true, UDP, 1, 4, Reached, false},
		{"v6 no route", true, UDP, 1, 0, Unreachable, false},
		{"v6 packet too big", true, ICMP, 2, 0, Unreachable, false},
		{"v6 router advert ignored", true, ICMP, 134, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, ig := classify(tt.v6, tt.mode, tt.typ, tt.code)
			if ig != tt.wantIgnore || (!ig && k != tt.want) {
				t.Errorf("classify(v6=%v, %v, %d, %d) = %v, ignore=%v; want %v, ignore=%v",
					tt.v6, tt.mode, tt.typ, tt.code, k, ig, tt.want, tt.wantIgnore)
			}
		})
	}
}

func TestTableSequences(t *testing.T) {
	tb := newTable(0xFFFE, true)
	var got []uint16
	for i := 0; i < 3; i++ {
		seq, ok := tb.add(&pending{})
		if !ok {
			t.Fatal("add failed")
		}
		got = append(got, seq)
	}
	// 0xFFFF and 0 are skipped when the sequence travels in a UDP checksum.
	want := []uint16{0xFFFE, 1, 2}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sequences = %v; want %v", got, want)
		}
	}
	if tb.take(1) == nil || tb.take(1) != nil {
		t.Error("take(1) twice: want the probe once, then nil")
	}
	// In-use sequence numbers are never handed out twice.
	tb = newTable(5, false)
	a, _ := tb.add(&pending{})
	tb.next = a
	b, _ := tb.add(&pending{})
	if a == b {
		t.Errorf("add gave %d twice while it was in flight", a)
	}
}

func TestTableTakeOldest(t *testing.T) {
	tb := newTable(1, false)
	base := time.Unix(1000, 0)
	dst := mustAddr("192.0.2.1")
	old := &pending{dst: dst, port: 53, sent: base}
	tb.add(&pending{dst: dst, port: 53, sent: base.Add(time.Second)})
	tb.add(old)
	tb.add(&pending{dst: mustAddr("192.0.2.2"), port: 53, sent: base.Add(-time.Second)})
	if got := tb.takeOldest(dst, 53); got != old {
		t.Errorf("takeOldest = %+v; want the earliest probe to %v", got, dst)
	}
	if got := tb.takeOldest(dst, 54); got != nil {
		t.Errorf("takeOldest for another port = %+v; want nil", got)
	}
}

func TestRTT(t *testing.T) {
	sent := time.Now()
	tests := []struct {
		name     string
		kernelTS time.Time
		now      time.Time
		want     time.Duration
		wantK    bool
	}{
		{"kernel timestamp wins", sent.Round(0).Add(1500 * time.Microsecond), sent.Add(3 * time.Millisecond), 1500 * time.Microsecond, true},
		{"no kernel timestamp", time.Time{}, sent.Add(2 * time.Millisecond), 2 * time.Millisecond, false},
		{"clock stepped back: monotonic fallback", sent.Round(0).Add(-time.Hour), sent.Add(time.Millisecond), time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, k := rtt(sent, tt.kernelTS, tt.now)
			if got != tt.want || k != tt.wantK {
				t.Errorf("rtt = %v, %v; want %v, %v", got, k, tt.want, tt.wantK)
			}
		})
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range []Mode{ICMP, UDP, TCP} {
		got, err := ParseMode(m.String())
		if err != nil || got != m {
			t.Errorf("ParseMode(%q) = %v, %v; want %v", m.String(), got, err, m)
		}
	}
	if _, err := ParseMode("sctp"); err == nil {
		t.Error("ParseMode(sctp) = nil error; want one")
	}
}
