// Package alert decides when a target's destination is degraded: pure rule
// evaluation over the destination's recent probes, the MOS score, and the
// notifiers that carry raises and clears elsewhere (webhook). It imports no
// socket code and nothing that shows results.
//
// # Alert rules
//
// Rules look at the destination only: intermediate routers deprioritise the
// ICMP they generate, so their loss misleads. The window is the last
// Rules.Window probes to the destination (one per round), lost ones
// included.
//
//   - Loss: the share of the window's probes that got no reply, in percent.
//   - Latency: the mean RTT of the window's replies (refusals included:
//     they made the round trip).
//   - Closed (TCP): every answer in the window was a refusal (RST): the
//     port is closed, the service down. It raises on a full window whose
//     answers were all refusals and clears when an answer in the window
//     is an accepted connection; a window with no answer holds it. It has
//     no setting and no 0 to disable it.
//   - A condition raises when its value is at or above its threshold and
//     clears when it drops below; each raise and each clear is one Change.
//   - A threshold of 0 disables its rule; disabling a raised rule clears it.
//   - Nothing changes until the window is full (a new target, or one whose
//     window was just made longer), so one early loss is not 100% loss.
//   - A destination that has never answered never raises: it blocks the
//     probe type, and the monitor says so instead of alerting forever.
//   - With no reply in the window latency is unknown and holds its state.
//
// There is no hysteresis band beyond the window: a path hovering at the
// threshold flaps, and each flap is reported, because a mean over the
// window already moves slowly (one probe changes a 20-probe loss by 5%).
//
// # MOS
//
// MOS implements the simplified ITU-T G.107 E-model (formula on MOS) fed
// with the mean RTT, the mean absolute RTT difference as jitter, and loss
// in percent. Sources: NetBeez, "Impact of packet loss, jitter and latency
// on VoIP" (the formula as used here); SLAC PingER's MOS pages (which
// follow Nessoft, PingPlotter's original vendor); ITU-T G.107 Annex B for
// the R-to-MOS cubic and its clamps; CPAN Algorithm::MOS bug 106149 for why
// R is clamped at 0. PingPlotter's KB article 50 calls its MOS "a very
// rough approximation" from the same three inputs; so is this one.
package alert

import "time"

// Rules are a target's alert thresholds. A zero threshold disables its rule.
type Rules struct {
	// LossPct raises when the share of the last Window probes to the
	// destination that were lost is at least this percentage.
	LossPct float64
	// Latency raises when the mean RTT of the replies among the last
	// Window probes is at least this.
	Latency time.Duration
	// Window is how many of the most recent destination probes the rules
	// look at; 0 means DefaultWindow.
	Window int
}

// DefaultWindow is the probe window of a Rules with Window 0.
const DefaultWindow = 20

// Condition names one rule.
type Condition string

const (
	Loss    Condition = "loss"
	Latency Condition = "latency"
	// Closed: every answer in the window was a refusal (TCP RST): the
	// host is there but the service is down. Its value is the share of
	// the window's answers that were refusals, its threshold ClosedPct.
	Closed Condition = "closed"
)

// ClosedPct is the closed rule's fixed threshold: it raises when all of a
// full window's answers were refusals and clears at the first accepted
// connection in the window. It has no setting: a service check exists to
// say that the port is closed. Only TCP destinations refuse.
const ClosedPct = 100
