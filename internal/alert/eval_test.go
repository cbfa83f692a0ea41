package alert

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// probes parses a window written as "10 12 x r11": RTTs in milliseconds,
// x for a lost probe, r before the RTT of a refusal (TCP RST).
func probes(t *testing.T, s string) []Probe {
	t.Helper()
	var out []Probe
	for _, f := range strings.Fields(s) {
		if f == "x" {
			out = append(out, Probe{Lost: true})
			continue
		}
		refused := strings.HasPrefix(f, "r")
		v, err := strconv.ParseFloat(strings.TrimPrefix(f, "r"), 64)
		if err != nil {
			t.Fatalf("bad probe %q in %q", f, s)
		}
		out = append(out, Probe{RTT: ms(v), Refused: refused})
	}
	return out
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name   string
		window int
		probes string
		want   Result
	}{
		{name: "empty", window: 4, want: Result{}},
		{name: "partial window", window: 4, probes: "10 20",
			want: Result{Sent: 2, Recv: 2, Latency: ms(15), Jitter: ms(10)}},
		// Replies 10 14 12: mean 12; differences 4, 2 (the loss between
		// 14 and 12 is skipped): jitter 3. Loss 1 of 4 = 25 %.
		{name: "full with a loss", window: 4, probes: "10 14 x 12",
			want: Result{Sent: 4, Recv: 3, LossPct: 25, Latency: ms(12), Jitter: ms(3), Full: true}},
		// Only the last 3 count: 30 40 50.
		{name: "older probes ignored", window: 3, probes: "x x 1000 30 40 50",
			want: Result{Sent: 3, Recv: 3, Latency: ms(40), Jitter: ms(10), Full: true}},
		{name: "all lost", window: 3, probes: "x x x",
			want: Result{Sent: 3, LossPct: 100, Full: true}},
		{name: "one reply", window: 2, probes: "x 7",
			want: Result{Sent: 2, Recv: 1, LossPct: 50, Latency: ms(7), Full: true}},
		{name: "zero window means default", window: 0, probes: strings.Repeat("5 ", DefaultWindow),
			want: Result{Sent: DefaultWindow, Recv: DefaultWindow, Latency: ms(5), Full: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate(Rules{Window: tt.window}, probes(t, tt.probes))
			if got.Recv > 0 {
				// The score is MOS's (tested there); check it is wired.
				tt.want.R, tt.want.MOS = MOS(tt.want.Latency, tt.want.Jitter, tt.want.LossPct)
			}
			if got != tt.want {
				t.Errorf("Evaluate(window %d, %q) = %+v; want %+v", tt.window, tt.probes, got, tt.want)
			}
		})
	}
}

func TestRulesWithDefaults(t *testing.T) {
	tests := []struct {
		in      Rules
		want    Rules
		wantErr string
	}{
		{in: Rules{}, want: Rules{Window: DefaultWindow}},
		{in: Rules{LossPct: 5, Latency: time.Second, Window: 7}, want: Rules{LossPct: 5, Latency: time.Second, Window: 7}},
		{in: Rules{LossPct: 101}, wantErr: "loss threshold 101% out of range"},
		{in: Rules{LossPct: -1}, wantErr: "loss threshold -1% out of range"},
		{in: Rules{Latency: -1}, wantErr: "latency threshold must not be negative"},
		{in: Rules{Window: -3}, wantErr: "alert window -3 must be positive"},
	}
	for _, tt := range tests {
		got, err := tt.in.WithDefaults()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%+v.WithDefaults() error = %v; want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%+v.WithDefaults() = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

// TestEvaluateRefused: refusals are answers (no loss, their RTTs in the
// latency) but a closed port has no MOS, and refusals among accepted
// answers score as lost calls.
func TestEvaluateRefused(t *testing.T) {
	tests := []struct {
		name        string
		probes      string
		want        Result
		wantMOSFrom [3]float64 // latency ms, jitter ms, loss % the MOS is computed from; all 0: no MOS
	}{
		{name: "closed port", probes: "r2 r4 r2 r4",
			want: Result{Sent: 4, Recv: 4, Refused: 4, Latency: ms(3), Jitter: ms(2), Full: true}},
		{name: "closed port with a loss", probes: "r2 x r4 r3",
			want: Result{Sent: 4, Recv: 3, Refused: 3, LossPct: 25, Latency: ms(3), Jitter: ms(1.5), Full: true}},
		// Accepted 10 and 20: latency 15, jitter 10 for the MOS, and 2 of
		// the 4 calls not placed: 50 % loss. The window's latency is over
		// all four answers: (10+2+20+4)/4 = 9; jitter (8+18+16)/3 = 14.
		{name: "port flapping", probes: "10 r2 20 r4",
			want:        Result{Sent: 4, Recv: 4, Refused: 2, Latency: ms(9), Jitter: ms(14), Full: true},
			wantMOSFrom: [3]float64{15, 10, 50}},
		{name: "open port", probes: "10 20 10 20",
			want:        Result{Sent: 4, Recv: 4, Latency: ms(15), Jitter: ms(10), Full: true},
			wantMOSFrom: [3]float64{15, 10, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate(Rules{Window: 4}, probes(t, tt.probes))
			if m := tt.wantMOSFrom; m != [3]float64{} {
				tt.want.R, tt.want.MOS = MOS(ms(m[0]), ms(m[1]), m[2])
			}
			if got != tt.want {
				t.Errorf("Evaluate(%q) = %+v; want %+v", tt.probes, got, tt.want)
			}
		})
	}
}
