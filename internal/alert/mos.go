package alert

import "time"

// MOS scores a path for voice calls from its round-trip latency, jitter and
// loss with the simplified ITU-T G.107 E-model that network monitors
// publish (NetBeez; SLAC PingER, which "follow[s] Nessoft's method",
// Nessoft being PingPlotter's original vendor; the Python PingerPlot's
// model.py). It returns the transmission rating R in [0, 100] and the mean
// opinion score in [1, 4.5]:
//
//	EL  = avgRTT + 2·jitter + 10 ms          (effective latency; +10 ms ≈ codec delay)
//	R   = 93.2 − EL/40                        when EL < 160 ms
//	R   = 93.2 − (EL − 120)/10                otherwise
//	R  −= 2.5 · lossPct                       (loss in percent, 0..100)
//	R   = clamp(R, 0, 100)
//	MOS = 1 + 0.035·R + 7·10⁻⁶·R·(R − 60)·(100 − R), clamped to [1, 4.5]
//
// The R-to-MOS cubic and its clamps are G.107 Annex B. Without the R clamp
// the cubic turns upward again for negative R (heavy loss would score
// better than light loss: CPAN Algorithm::MOS bug 106149); the MOS clamp
// covers 0 < R < 6.5, where the cubic dips just under 1.
//
// The latency input is the mean round-trip time, not a one-way delay: the
// formula was written for "average latency" and the tools it is compared
// with (PingPlotter, NetBeez, Twilio) feed it RTT. Jitter is the mean
// absolute difference of consecutive RTTs (mtr's Javg). Callers with no
// replies have no score; Evaluate reports 0 for both then.
func MOS(avgRTT, jitter time.Duration, lossPct float64) (r, mos float64) {
	el := msOf(avgRTT) + 2*msOf(jitter) + 10
	if el < 160 {
		r = 93.2 - el/40
	} else {
		r = 93.2 - (el-120)/10
	}
	r -= 2.5 * lossPct
	r = min(max(r, 0), 100)
	mos = 1 + 0.035*r + 7e-6*r*(r-60)*(100-r)
	return r, min(max(mos, 1), 4.5)
}

// msOf converts a duration to fractional milliseconds, the unit of the
// E-model's constants and of latency thresholds.
func msOf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
