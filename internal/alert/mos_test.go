package alert

import (
	"math"
	"testing"
	"time"
)

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

func TestMOS(t *testing.T) {
	tests := []struct {
		name           string
		rtt, jitter    time.Duration
		loss           float64
		wantR, wantMOS float64
	}{
		// EL = 0 + 0 + 10 = 10; R = 93.2 − 10/40 = 92.95.
		// MOS = 1 + 0.035·92.95 + 7e-6·92.95·32.95·7.05
		//     = 1 + 3.25325 + 0.1511444 = 4.404394
		{name: "perfect lan", wantR: 92.95, wantMOS: 4.404394},
		// EL = 20 + 2·5 + 10 = 40; R = 93.2 − 1 = 92.2.
		// MOS = 1 + 3.227 + 7e-6·92.2·32.2·7.8 = 4.227 + 0.1620987 = 4.389099
		{name: "good broadband", rtt: ms(20), jitter: ms(5), wantR: 92.2, wantMOS: 4.389099},
		// EL = 100 + 2·10 + 10 = 130 (< 160); R = 93.2 − 3.25 = 89.95;
		// 2 % loss: R = 89.95 − 5 = 84.95.
		// MOS = 1 + 2.97325 + 7e-6·84.95·24.95·15.05 = 3.97325 + 0.2232896 = 4.196540
		{name: "loss below the knee", rtt: ms(100), jitter: ms(10), loss: 2, wantR: 84.95, wantMOS: 4.196540},
		// EL = 150 + 0 + 10 = 160: at the knee the second branch applies.
		// R = 93.2 − (160 − 120)/10 = 89.2. Just below the knee the first
		// gives 93.2 − 160/40 = 89.2 too: the curve is continuous.
		// MOS = 1 + 3.122 + 7e-6·89.2·29.2·10.8 = 4.122 + 0.1969108 = 4.318911
		{name: "knee", rtt: ms(150), wantR: 89.2, wantMOS: 4.318911},
		// EL = 300 + 2·20 + 10 = 350; R = 93.2 − 23 = 70.2; 4 % loss: 60.2.
		// MOS = 1 + 2.107 + 7e-6·60.2·0.2·39.8 = 3.107 + 0.0033543 = 3.110354
		{name: "satellite", rtt: ms(300), jitter: ms(20), loss: 4, wantR: 60.2, wantMOS: 3.110354},
		// EL = 10; R = 92.95 − 2.5·30 = 17.95.
		// MOS = 1 + 0.62825 + 7e-6·17.95·(−42.05)·82.05 = 1.62825 − 0.4335179 = 1.194732
		{name: "heavy loss", loss: 30, wantR: 17.95, wantMOS: 1.194732},
		// R = 92.95 − 2.5·36 = 2.95: the cubic gives
		// 1 + 0.10325 + 7e-6·2.95·(−57.05)·97.05 = 1.10325 − 0.11434 = 0.98891,
		// under the floor: MOS is clamped to 1.
		{name: "cubic dips under one", loss: 36, wantR: 2.95, wantMOS: 1},
		// R = 92.95 − 250 < 0: clamped to R 0, MOS 1 (no upturn).
		{name: "total loss", loss: 100, wantR: 0, wantMOS: 1},
		// EL = 5000 + 10; R = 93.2 − 489 < 0.
		{name: "huge latency", rtt: 5 * time.Second, wantR: 0, wantMOS: 1},
		// A negative loss (a caller's bug) cannot lift R over 100:
		// 92.95 + 25 → 100, MOS = 1 + 3.5 + 0 = 4.5.
		{name: "r clamped to 100", loss: -10, wantR: 100, wantMOS: 4.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, mos := MOS(tt.rtt, tt.jitter, tt.loss)
			// The hand-computed figures are rounded to 6 decimals.
			if math.Abs(r-tt.wantR) > 1e-9 || math.Abs(mos-tt.wantMOS) > 1e-6 {
				t.Errorf("MOS(%v, %v, %v) = %.6f, %.6f; want %.6f, %.6f", tt.rtt, tt.jitter, tt.loss, r, mos, tt.wantR, tt.wantMOS)
			}
		})
	}
}

// TestMOSSanity checks the numbers a person would recognise: the best
// score a VoIP path can get is about 4.4, and more of anything lowers it.
func TestMOSSanity(t *testing.T) {
	_, best := MOS(0, 0, 0)
	if best < 4.40 || best > 4.41 {
		t.Errorf("best MOS = %.4f; want about 4.40", best)
	}
	prev := best
	for loss := 1.0; loss <= 50; loss++ {
		_, m := MOS(ms(30), ms(2), loss)
		if m > prev {
			t.Fatalf("MOS rose from %.4f to %.4f as loss grew to %v%%", prev, m, loss)
		}
		prev = m
	}
}
