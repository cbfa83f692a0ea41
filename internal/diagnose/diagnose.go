package diagnose

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// What a diagnosis concludes.
type What string

const (
	Healthy           What = "healthy"
	Loss              What = "loss"
	Latency           What = "latency"
	Jitter            What = "jitter"
	RouteChange       What = "route_change"
	PathBroken        What = "path_broken"
	DestinationSilent What = "destination_silent"
	NotEnoughData     What = "not_enough_data"
)

// Confidence says how strongly the data supports a diagnosis.
type Confidence string

const (
	Low    Confidence = "low"
	Medium Confidence = "medium"
	High   Confidence = "high"
)

// Probe is one probe's outcome at one TTL of a round.
type Probe struct {
	TTL  int
	From netip.Addr // the responder; zero when lost
	RTT  time.Duration
	Lost bool
	// Reached: the destination answered (echo reply, port unreachable,
	// a TCP answer), so TTL is the path's length in that round.
	Reached bool
	// Unreachable: a router answered that it cannot forward the probe.
	Unreachable bool
}

// Round is one sweep over the TTLs. Probes the local system could not
// send are left out (FromTrace does so): they asked the network nothing.
type Round struct {
	Index  int
	Time   time.Time
	Probes []Probe
	// Direct are the echo requests sent to hops' own addresses beside
	// this round (direct hop pings, opt-in); nil when none were sent.
	Direct []Direct
}

// Direct is one echo request sent straight to a hop's own address, not
// TTL-limited: whether the router answers it tells its own reply policy
// (its time-exceeded messages rate-limited) from loss on the way to it.
type Direct struct {
	TTL  int        // the hop the address answered at in the traceroute
	Addr netip.Addr // the address pinged
	RTT  time.Duration
	Lost bool
}

// Where places a diagnosis on the path: the hop where it starts (the
// problem lies on the link into it, or in it). TTL 0 means nowhere in
// particular (a healthy path, too little data).
type Where struct {
	TTL    int
	Addr   netip.Addr
	Name   string
	ASN    uint32
	ASName string
	// From is the TTL of the last hop before it that is clean, the other
	// end of the link the problem starts on (0: this host). Only for loss,
	// latency and jitter.
	From int
}

// Group is one side of a comparison: the probes before the point a
// diagnosis names (an earlier hop, or the same hop earlier) or after it.
type Group struct {
	Label   string        // what the group is, in words: "hop 3 (10.0.2.2)", "destination before 12:00:05"
	Sent    int           // probes
	Lost    int           // of Sent
	Median  time.Duration // of the replies; 0 when none
	Spread  time.Duration // robust standard deviation of the replies (scaled MAD)
	Replies int
}

// LossPct is the group's loss in percent (0 when nothing was sent).
func (g Group) LossPct() float64 {
	if g.Sent == 0 {
		return 0
	}
	return 100 * float64(g.Lost) / float64(g.Sent)
}

// Evidence is the numbers behind a diagnosis.
type Evidence struct {
	Rounds        int // rounds in the window the diagnosis read
	Before, After Group
	// Test names the test that compared Before and After and Statistic
	// is its value: "two-proportion z", "rank-sum z", "silent rounds".
	Test      string
	Statistic float64
}

// HintKind names a per-hop hint.
type HintKind string

const (
	HintRateLimited HintKind = "rate-limits replies"
	HintSilent      HintKind = "does not answer"
	HintCarried     HintKind = "loss carried to the destination"
	HintLatencyStep HintKind = "latency step"
)

// Hint is a remark about one hop, with the numbers behind it.
type Hint struct {
	TTL      int
	Addr     netip.Addr
	Kind     HintKind
	Evidence string
}

// Diagnosis is the reading of one target's recent rounds.
type Diagnosis struct {
	What  What
	Where Where
	// Since is when the problem started: the first round after the change
	// the tests found, or the window's first round when the problem was
	// there all along (SinceWindowStart). Zero for healthy and not enough data.
	Since            time.Time
	SinceWindowStart bool
	Evidence         Evidence
	Confidence       Confidence
	Text             string // one plain sentence
	Hints            []Hint
	At               time.Time // when it was made (the injected clock)
}

// Key is what a change of diagnosis is judged on: what and where.
func (d Diagnosis) Key() string { return fmt.Sprintf("%s@%d", d.What, d.Where.TTL) }

// Options tune Analyze. The zero value of each field means its default.
type Options struct {
	// MinRounds is the fewest rounds a diagnosis is made from; below it
	// the diagnosis is NotEnoughData. 0 means DefaultMinRounds.
	MinRounds int
	// Target is the destination's address and Mode the probe type, for
	// the text ("does not answer ICMP echo requests").
	Target netip.Addr
	Mode   string
	// EverAnswered: the destination answered before this window, so a
	// window where it never answers is a broken path, not a destination
	// that drops this probe type.
	EverAnswered bool
	// Names and AS, when set, fill Where's name and AS.
	Names func(netip.Addr) string
	AS    func(netip.Addr) (uint32, string)
	// Now is the clock (Diagnosis.At); nil means the last round's time.
	Now func() time.Time
}

// The rules' constants; docs/diagnosis.md says why each is what it is.
const (
	// DefaultMinRounds: below 20 probes a hop's loss interval is too wide
	// to tell 0 % from 15 % (Wilson 95 %: 0 of 20 is 0-16 %).
	DefaultMinRounds = 20
	// lossFloor: loss is a problem only when its 95 % lower bound is at
	// least 2 %: a path that loses one probe in a hundred is healthy.
	lossFloor = 0.02
	// zSig and zStrong are one-sided test levels: p < 0.005 and
	// p < 0.0005. zScan is used where the best of many splits is taken
	// (the change point), which inflates z under no change.
	zSig    = 2.58
	zStrong = 3.29
	zScan   = 4.0
	// minLost: the normal approximation behind the z-tests holds from
	// about five events (the usual np >= 5 rule), so loss is not
	// diagnosed from fewer lost probes.
	minLost = 5
	// minSeg is the fewest rounds on each side of a change point.
	minSeg = 8
	// highN is the fewest probes behind a high-confidence diagnosis.
	highN = 50
	// minShift and minRel: a latency change must also matter, at least
	// 2 ms and 20 % of the earlier median (jitter: 2 ms and double).
	minShift = 2 * time.Millisecond
	minRel   = 0.2
	// brokenAlpha: the chance, under the loss seen before, of the silent
	// run that makes a path "broken" (a run of ordinary losses that long
	// happens less than once in a thousand).
	brokenAlpha = 1e-3
	minBroken   = 3
)

// obs is one probe at one hop of the window.
// The flags come last, together: 48 bytes instead of 56, and a window
// holds a thousand or more of them.
type obs struct {
	round int // index into the window's rounds
	rtt   time.Duration
	from  netip.Addr
	lost  bool
	fwd   bool // lost, and every higher TTL of the round lost too
}

// hopData is one TTL's probes over the window.
type hopData struct {
	ttl    int
	obs    []obs
	addr   netip.Addr // most frequent responder
	direct []obs      // echo requests to the hop's own address (Round.Direct)
}

func (h *hopData) lost(from int) (lost, sent int) {
	for _, o := range h.obs {
		if o.round >= from {
			sent++
			if o.lost {
				lost++
			}
		}
	}
	return lost, sent
}

func (h *hopData) rtts(s *scratch, from, to int) []time.Duration {
	return rttsOf(s, h.obs, from, to)
}

// rttsOf is the RTTs of the replies among os in rounds [from, to).
func rttsOf(s *scratch, os []obs, from, to int) []time.Duration {
	n := 0
	for _, o := range os {
		if !o.lost && o.round >= from && o.round < to {
			n++
		}
	}
	out := s.durations(n)[:0]
	for _, o := range os {
		if !o.lost && o.round >= from && o.round < to {
			out = append(out, o.rtt)
		}
	}
	return out
}

// analysis is the state of one Analyze call.
type analysis struct {
	opt    Options
	rounds []Round
	dest   int       // the destination's TTL in the latest round that reached it; 0 if none did
	reach  []int     // per round: the TTL the destination answered at, 0 if it did not
	dlost  []bool    // per round: the destination did not answer
	drtt   []obs     // the destination's replies, in round order
	hops   []hopData // TTL 1 .. dest-1 (or the highest TTL probed when no round reached)
	s      *scratch  // the buffers, reused from the last analysis when the Watcher's
}

// Analyze reads a target's recent rounds, oldest first, and says what is
// wrong and where. It is pure: the same rounds and options give the same
// diagnosis.
func Analyze(rounds []Round, opt Options) Diagnosis {
	return analyze(rounds, opt, &scratch{})
}

// analyze is Analyze in s's buffers. The Diagnosis shares nothing with
// them.
func analyze(rounds []Round, opt Options, s *scratch) Diagnosis {
	if opt.MinRounds <= 0 {
		opt.MinRounds = DefaultMinRounds
	}
	s.reset()
	a := &analysis{opt: opt, s: s, rounds: s.rounds[:0]}
	defer func() { s.rounds = a.rounds[:0] }()
	for _, r := range rounds {
		if len(r.Probes) > 0 {
			a.rounds = append(a.rounds, r)
		}
	}
	d := Diagnosis{At: a.now(), Evidence: Evidence{Rounds: len(a.rounds)}}
	if len(a.rounds) < opt.MinRounds {
		d.What, d.Confidence = NotEnoughData, Low
		d.Text = fmt.Sprintf("Not enough data yet: %d of the %d rounds a diagnosis needs.", len(a.rounds), opt.MinRounds)
		return d
	}
	a.fold()
	d.Hints = a.hints()
	// The rules in order, the first that finds a problem wins. Called
	// directly, not through a list of method values: the calls through
	// a list made d and the list escape to the heap on every analysis.
	if a.silentOrBroken(&d) || a.loss(&d) || a.routeChange(&d) || a.latency(&d) || a.jitter(&d) {
		return d
	}
	a.healthy(&d)
	return d
}

func (a *analysis) now() time.Time {
	if a.opt.Now != nil {
		return a.opt.Now()
	}
	if n := len(a.rounds); n > 0 {
		return a.rounds[n-1].Time
	}
	return time.Time{}
}

// fold sorts the window's probes by hop.
func (a *analysis) fold() {
	n := len(a.rounds)
	s := a.s
	a.reach, a.dlost = grow(s.reach, n), grow(s.dlost, n)
	clear(a.reach)
	clear(a.dlost)
	s.reach, s.dlost = a.reach, a.dlost
	a.drtt = s.drtt[:0]
	defer func() { s.drtt = a.drtt }()
	top := 0
	for i, r := range a.rounds {
		for _, p := range r.Probes {
			if p.Reached && !p.Lost && (a.reach[i] == 0 || p.TTL < a.reach[i]) {
				a.reach[i] = p.TTL
			}
			top = max(top, p.TTL)
		}
		if a.reach[i] != 0 {
			a.dest = a.reach[i]
		}
		a.dlost[i] = a.reach[i] == 0
	}
	last := a.dest - 1
	if a.dest == 0 {
		last = top
	}
	a.hops = grow(s.hops, max(last, 0))
	s.hops = a.hops
	for t := range a.hops {
		h := &a.hops[t]
		*h = hopData{ttl: t + 1, obs: h.obs[:0], direct: h.direct[:0]}
	}
	// A round's probes by TTL; stamp says which round an entry is of, so
	// nothing needs clearing between rounds.
	s.byTTL, s.stamp = grow(s.byTTL, top+1), grow(s.stamp, top+1)
	clear(s.stamp)
	for i, r := range a.rounds {
		for _, p := range r.Probes {
			if p.Reached && !p.Lost && p.TTL == a.reach[i] {
				a.drtt = append(a.drtt, obs{round: i, rtt: p.RTT, from: p.From})
			}
		}
		for _, p := range r.Probes {
			if p.TTL >= 0 && p.TTL <= top {
				s.byTTL[p.TTL], s.stamp[p.TTL] = p, i+1
			}
		}
		probed := func(t int) (Probe, bool) {
			if t < 0 || t > top || s.stamp[t] != i+1 {
				return Probe{}, false
			}
			return s.byTTL[t], true
		}
		for t := 1; t <= last; t++ {
			p, ok := probed(t)
			if !ok || (a.reach[i] != 0 && t >= a.reach[i]) {
				continue // not probed, or the destination answered at or below it
			}
			o := obs{round: i, lost: p.Lost || !p.From.IsValid(), rtt: p.RTT, from: p.From}
			if o.lost {
				// Forward loss: nothing of this round answered beyond.
				o.fwd = a.reach[i] == 0
				for u := t + 1; u <= last && o.fwd; u++ {
					if q, ok := probed(u); ok && !q.Lost && q.From.IsValid() {
						o.fwd = false
					}
				}
			}
			a.hops[t-1].obs = append(a.hops[t-1].obs, o)
		}
	}
	for t := range a.hops {
		a.hops[t].addr = s.topAddr(a.hops[t].obs, 0)
	}
	a.foldDirect(last)
}

// topAddr is the address that answered most often from round from on.
func topAddr(os []obs, from int) netip.Addr { return (&scratch{}).topAddr(os, from) }

func (s *scratch) topAddr(os []obs, from int) netip.Addr {
	// Few addresses answer at one hop: a list beats a map.
	counts := s.counts[:0]
	defer func() { s.counts = counts[:0] }()
	best, bestN := netip.Addr{}, 0
	i := -1 // the last answer's entry, the likeliest for the next
	for j := range os {
		o := &os[j]
		if o.lost || !o.from.IsValid() || o.round < from {
			continue
		}
		if i < 0 || counts[i].addr != o.from {
			i = slices.IndexFunc(counts, func(c addrCount) bool { return c.addr == o.from })
			if i < 0 {
				counts = append(counts, addrCount{addr: o.from})
				i = len(counts) - 1
			}
		}
		counts[i].n++
		if c := counts[i].n; c > bestN || (c == bestN && o.from.Less(best)) {
			best, bestN = o.from, c
		}
	}
	return best
}

func (a *analysis) where(ttl int, addr netip.Addr) Where {
	w := Where{TTL: ttl, Addr: addr}
	if addr.IsValid() {
		if a.opt.Names != nil {
			w.Name = a.opt.Names(addr)
		}
		if a.opt.AS != nil {
			w.ASN, w.ASName = a.opt.AS(addr)
		}
	}
	return w
}

// hopLabel names a hop in words: "hop 3 (10.0.2.2 router.example)".
func (a *analysis) hopLabel(w Where) string {
	if w.TTL == 0 {
		return "this host"
	}
	s := fmt.Sprintf("hop %d", w.TTL)
	var in []string
	if w.Addr.IsValid() {
		in = append(in, w.Addr.String())
	}
	if w.Name != "" {
		in = append(in, w.Name)
	}
	if w.ASN != 0 {
		in = append(in, fmt.Sprintf("AS%d", w.ASN))
	}
	if len(in) > 0 {
		s += " (" + strings.Join(in, " ") + ")"
	}
	return s
}

func (a *analysis) destAddr() netip.Addr {
	if n := len(a.drtt); n > 0 {
		return a.drtt[n-1].from
	}
	return a.opt.Target
}

func (a *analysis) destLost(from int) (lost, sent int) {
	for i := from; i < len(a.dlost); i++ {
		sent++
		if a.dlost[i] {
			lost++
		}
	}
	return lost, sent
}

func (a *analysis) destRTTs(from, to int) []time.Duration {
	return rttsOf(a.s, a.drtt, from, to) // the destination's replies are never lost
}

func (a *analysis) modeWords() string {
	switch strings.ToLower(a.opt.Mode) {
	case "udp":
		return "UDP probes"
	case "tcp":
		return "TCP connection attempts"
	}
	return "ICMP echo requests"
}

func clock(t time.Time) string { return t.Format("15:04:05") }

// ms prints a duration in milliseconds: one decimal, two below 1 ms (a
// LAN hop's 0.05 ms is not "0 ms").
func ms(d time.Duration) string {
	f := "%.1f"
	if d < time.Millisecond {
		f = "%.2f"
	}
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf(f, float64(d)/float64(time.Millisecond)), "0"), ".") + " ms"
}

func pct(lost, sent int) string {
	if sent == 0 {
		return "0%"
	}
	return fmt.Sprintf("%.0f%%", 100*float64(lost)/float64(sent))
}

// lastAnswering is the highest hop that answered in at least half of the
// rounds from round from on (a hop that answers now and then is still
// answering), or 0 when none did.
func (a *analysis) lastAnswering(from int) int {
	best := 0
	for t := range a.hops {
		lost, sent := a.hops[t].lost(from)
		if sent > 0 && 2*(sent-lost) >= sent {
			best = a.hops[t].ttl
		}
	}
	return best
}

// unreachableAt returns the hop that answered "unreachable" most often from
// round from on, if any did in at least half of those rounds.
func (a *analysis) unreachableAt(from int) (int, netip.Addr) {
	count := map[int]int{}
	addr := map[int]netip.Addr{}
	for _, r := range a.rounds[from:] {
		for _, p := range r.Probes {
			if p.Unreachable && !p.Lost && p.From.IsValid() {
				count[p.TTL]++
				addr[p.TTL] = p.From
			}
		}
	}
	n := len(a.rounds) - from
	for _, t := range slices.Sorted(maps.Keys(count)) {
		if 2*count[t] >= n {
			return t, addr[t]
		}
	}
	return 0, netip.Addr{}
}

// silentOrBroken: the destination stopped answering (the path breaks after
// the last hop that still answers) or never answered in the window (it
// drops this probe type, unless it answered before: then the path broke
// before the window began).
func (a *analysis) silentOrBroken(d *Diagnosis) bool {
	n := len(a.rounds)
	tail := 0
	for i := n - 1; i >= 0 && a.dlost[i]; i-- {
		tail++
	}
	if tail == 0 {
		return false
	}
	start := n - tail
	lostBefore, sentBefore := 0, start
	for i := range start {
		if a.dlost[i] {
			lostBefore++
		}
	}
	if tail == n && !a.opt.EverAnswered {
		if ttl, addr := a.unreachableAt(0); ttl != 0 {
			return a.broken(d, ttl, addr, 0, true, "answers that the destination cannot be reached")
		}
		last := a.lastAnswering(0)
		d.What = DestinationSilent
		if last > 0 {
			d.Where = a.where(last, a.hops[last-1].addr)
		}
		d.Since, d.SinceWindowStart = a.rounds[0].Time, true
		d.Evidence.After = Group{Label: "destination", Sent: n, Lost: n}
		if last > 0 {
			lost, sent := a.hops[last-1].lost(0)
			d.Evidence.Before = Group{Label: a.hopLabel(d.Where), Sent: sent, Lost: lost,
				Median: a.s.median(a.hops[last-1].rtts(a.s, 0, n)), Replies: sent - lost}
		}
		d.Evidence.Test, d.Evidence.Statistic = "silent rounds", float64(n)
		d.Confidence = Medium
		if n >= highN {
			d.Confidence = High
		}
		dst := "The destination"
		if a.opt.Target.IsValid() {
			dst += " " + a.opt.Target.String()
		}
		d.Text = fmt.Sprintf("%s has not answered %s in %d rounds while the path answers up to %s: it drops this probe type, which does not mean it is down.",
			dst, a.modeWords(), n, a.hopLabel(d.Where))
		if last == 0 {
			d.Text = fmt.Sprintf("%s has not answered %s in %d rounds and no router on the way answers either: the probes may be filtered near this host, or the destination drops this probe type.",
				dst, a.modeWords(), n)
			d.Confidence = Low
		}
		return true
	}
	// How long a run of lost rounds must be to be more than ordinary loss:
	// with the loss seen before (its 95 % upper bound p), a run of k has
	// probability p^k.
	_, hi := wilson(lostBefore, sentBefore, 1.96)
	need := minBroken
	if hi > 0 && hi < 1 {
		need = max(need, int(math.Ceil(math.Log(brokenAlpha)/math.Log(hi))))
	}
	if tail < need && tail < n {
		return false
	}
	if ttl, addr := a.unreachableAt(start); ttl != 0 {
		return a.broken(d, ttl, addr, start, tail == n, "answers that the destination cannot be reached")
	}
	last := a.lastAnswering(start)
	var addr netip.Addr
	if last > 0 {
		addr = a.s.topAddr(a.hops[last-1].obs, start)
	}
	ok := a.broken(d, last, addr, start, tail == n, "")
	d.Evidence.Before = Group{Label: "destination before " + clock(a.rounds[start].Time), Sent: sentBefore, Lost: lostBefore}
	d.Evidence.Statistic = float64(tail)
	d.Confidence = Medium
	if tail >= 2*need && sentBefore >= DefaultMinRounds {
		d.Confidence = High
	}
	if tail == n {
		d.Confidence = Medium
	}
	return ok
}

// broken fills a PathBroken diagnosis at hop ttl from round start on.
func (a *analysis) broken(d *Diagnosis, ttl int, addr netip.Addr, start int, wholeWindow bool, says string) bool {
	n := len(a.rounds)
	d.What = PathBroken
	d.Where = a.where(ttl, addr)
	d.Since, d.SinceWindowStart = a.rounds[start].Time, wholeWindow
	d.Evidence.After = Group{Label: "destination since " + clock(a.rounds[start].Time), Sent: n - start, Lost: n - start}
	d.Evidence.Test, d.Evidence.Statistic = "silent rounds", float64(n-start)
	d.Confidence = Medium
	since := "since " + clock(d.Since)
	if wholeWindow {
		since = "in any of the last " + fmt.Sprint(n) + " rounds"
	}
	switch {
	case says != "":
		d.Text = fmt.Sprintf("The path breaks at %s, which %s; the destination has not answered %s.", a.hopLabel(d.Where), says, since)
		d.Confidence = High
	case ttl == 0:
		d.Text = fmt.Sprintf("Nothing on the path has answered %s: the path breaks at or next to this host.", since)
	default:
		d.Text = fmt.Sprintf("The path breaks after %s: nothing beyond it has answered %s (%d rounds).", a.hopLabel(d.Where), since, n-start)
	}
	return true
}

// walkBack walks back from hop top while the hops before it are not
// significantly cleaner than lost of sent; it returns the lowest hop
// reached, and whether it stopped at a hop whose direct pings (not its
// TTL-limited probes) lose significantly less (cleanDirect, with those
// pings' counts).
func (a *analysis) walkBack(top, from, lost, sent int, zPlace float64) (start int, cleanDirect bool, dl, ds int) {
	start = top
	for t := top - 1; t >= 1; t-- {
		hl, hs := a.hops[t-1].lost(from)
		if hs == 0 {
			continue
		}
		if twoPropZ(hl, hs, lost, sent) >= zPlace {
			break
		}
		if l, s, ok := a.directClean(t, from, lost, sent, zPlace); ok {
			return start, true, l, s
		}
		start = t
	}
	return start, false, 0, 0
}

// carries reports whether hop ttl's loss (lost of sent) carries on: no
// hop after it, the destination included, loses significantly less.
func (a *analysis) carries(ttl, from, lost, sent int, zPlace float64) bool {
	for t := ttl + 1; t < a.dest; t++ {
		hl, hs := a.hops[t-1].lost(from)
		if hs > 0 && twoPropZ(hl, hs, lost, sent) >= zPlace {
			return false
		}
	}
	dl, ds := a.destLost(from)
	return ds == 0 || twoPropZ(dl, ds, lost, sent) < zPlace
}

// loss: the destination loses probes (its 95 % lower bound at least
// lossFloor, over the window or since a change point). The loss starts on
// the link into the lowest hop from which every later hop loses about as
// much (none significantly less than the destination): the hop before it
// loses significantly less.
func (a *analysis) loss(d *Diagnosis) bool {
	n := len(a.rounds)
	// Judge the rounds since the latest clear change of the destination's
	// loss: since it rose (the problem's start), or since it fell (the
	// problem ended: what came after is what counts, so a diagnosis
	// recovers without waiting for the lossy rounds to leave the window).
	from := 0
	kUp, zUp, okUp := bestLossSplit(a.dlost, minSeg)
	up := okUp && zUp >= zScan
	kDn, zDn, okDn := bestLossSplit(a.s.invert(a.dlost), minSeg)
	if okDn && zDn >= zScan && n-kDn >= a.opt.MinRounds && (!up || kDn > kUp) {
		from = kDn
	} else if up {
		from = kUp
	}
	lost, sent := a.destLost(from)
	lo, _ := wilson(lost, sent, 1.96)
	if lo < lossFloor || lost < minLost {
		return false
	}
	// A segment chosen for having the most loss overstates it a little,
	// so a hop is called cleaner than the destination there only at the
	// stricter level.
	zPlace := zSig
	if from > 0 {
		zPlace = zStrong
	}
	// Walk back from the destination while hops are not significantly
	// cleaner than it.
	start, cleanDirect, dbl, dbs := a.walkBack(a.dest, from, lost, sent, zPlace)
	ambiguous := false
	// Loss can grow along the path: 10 % on one link and 10 % more on a
	// later one. The walk above stops at the later step; the loss starts
	// at the earlier one when the hop it stopped at loses significantly
	// itself and every hop after it loses at least about as much (a hop
	// that loses more than those after it rate-limits its own replies
	// and places nothing).
	for !cleanDirect && start > 1 {
		b := start - 1
		bl, bs := a.hops[b-1].lost(from)
		if lo, _ := wilson(bl, bs, 1.96); bs == 0 || bl < minLost || lo < lossFloor || !a.carries(b, from, bl, bs, zPlace) {
			break
		}
		s2, cd, l2, s2s := a.walkBack(b, from, bl, bs, zPlace)
		start, cleanDirect, dbl, dbs = s2, cd, l2, s2s
	}
	// Loss placed on the first link must show at hop 1 itself, about as
	// much as at the destination (hop 1 losing far more rate-limits its
	// replies), in its TTL-limited probes or its direct pings; a path
	// whose hops are too few or too noisy to be told from the destination
	// leaves the start unplaced.
	unplaced := false
	if start == 1 && a.dest > 1 {
		if hl, hs := a.hops[0].lost(from); hl < minLost || twoPropZ(lost, sent, hl, hs) >= zSig {
			if _, _, ok := a.directCorroborates(1, from, lost, sent, 0, 0); !ok {
				unplaced, start = true, a.dest
			}
		}
	}
	before := start - 1
	if unplaced {
		before = 0
	}
	var z float64
	var bg Group
	if before >= 1 {
		h := &a.hops[before-1]
		bl, bs := h.lost(from)
		bg = Group{Label: a.hopLabel(a.where(before, h.addr)), Sent: bs, Lost: bl, Replies: bs - bl}
		bg.Median, bg.Spread = a.s.center(h.rtts(a.s, from, n))
		if cleanDirect {
			bg = Group{Label: a.hopLabel(a.where(before, h.addr)) + " (echo requests to it)", Sent: dbs, Lost: dbl, Replies: dbs - dbl}
			bg.Median, bg.Spread = a.s.center(a.s.directRTTs(h.direct, from))
		}
		z = twoPropZ(bg.Lost, bg.Sent, lost, sent)
	} else {
		bg = Group{Label: "this host"}
	}
	// A start hop that loses far more than the destination (it rate-limits
	// its own replies) or never answers hides where between it and the
	// next hop the loss begins, unless echo requests to the hop itself
	// are lost as the destination's probes are: then the loss is on the
	// way to it.
	corroborated, cdl, cds := false, 0, 0
	if start < a.dest {
		cdl, cds, corroborated = a.directCorroborates(start, from, lost, sent, bg.Lost, bg.Sent)
		sl, ss := a.hops[start-1].lost(from)
		if !corroborated && (ss == 0 || sl == ss || twoPropZ(lost, sent, sl, ss) >= zSig) {
			ambiguous = true
		}
	}
	var addr netip.Addr
	if start == a.dest {
		addr = a.destAddr()
	} else {
		addr = a.s.topAddr(a.hops[start-1].obs, from)
	}
	d.What = Loss
	d.Where = a.where(start, addr)
	d.Where.From = before
	d.Since, d.SinceWindowStart = a.rounds[from].Time, from == 0
	rt := a.destRTTs(from, n)
	d.Evidence.Before = bg
	d.Evidence.After = Group{Label: "destination", Sent: sent, Lost: lost, Replies: sent - lost}
	d.Evidence.After.Median, d.Evidence.After.Spread = a.s.center(rt)
	if from > 0 {
		d.Evidence.After.Label = "destination since " + clock(d.Since)
	}
	d.Evidence.Test, d.Evidence.Statistic = "two-proportion z", round2(z)
	switch {
	case before >= 1 && z >= zStrong && sent >= highN && !ambiguous:
		d.Confidence = High
	case before >= 1 && z >= zSig, before == 0 && sent >= highN:
		d.Confidence = Medium
	default:
		d.Confidence = Low
	}
	if ambiguous && d.Confidence == High {
		d.Confidence = Medium
	}
	if unplaced {
		d.Where, d.Confidence = Where{}, Low
	}
	since := "since " + clock(d.Since)
	if d.SinceWindowStart {
		since = "throughout the last " + fmt.Sprint(n) + " rounds"
	}
	link := fmt.Sprintf("on the link into %s", a.hopLabel(d.Where))
	if before == 0 {
		link = fmt.Sprintf("on the first link, between this host and %s", a.hopLabel(d.Where))
	} else if ambiguous {
		link = fmt.Sprintf("between %s and the hops after %s, which does not answer every probe itself so cannot tell exactly", bg.Label, a.hopLabel(d.Where))
	}
	d.Text = fmt.Sprintf("%s of probes are lost on the way to the destination, %s; the loss starts %s (before it %s lost %d of %d).",
		pct(lost, sent), since, link, bg.Label, bg.Lost, bg.Sent)
	switch {
	case unplaced:
		d.Text = fmt.Sprintf("%s of probes are lost on the way to the destination, %s; where the loss starts is not clear yet: no hop before it loses clearly less.", pct(lost, sent), since)
	case before == 0:
		d.Text = fmt.Sprintf("%s of probes are lost on the way to the destination, %s; the loss starts %s.", pct(lost, sent), since, link)
	}
	if corroborated && !unplaced {
		d.Text = strings.TrimSuffix(d.Text, ".") + fmt.Sprintf("; echo requests to hop %d's own address are lost as often (%d of %d), so the loss is on the way to it.",
			start, cdl, cds)
	}
	return true
}

// directRTTs are the replies' RTTs of direct pings from round from on.
func (s *scratch) directRTTs(os []obs, from int) []time.Duration {
	return rttsOf(s, os, from, math.MaxInt)
}

func (s *scratch) negate(xs []time.Duration) []time.Duration {
	out := s.durations(len(xs))
	for i, x := range xs {
		out[i] = -x
	}
	return out
}

func (s *scratch) invert(xs []bool) []bool {
	out := s.boolSlice(len(xs))
	for i, x := range xs {
		out[i] = !x
	}
	return out
}

func round2(v float64) float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return 0
	}
	return math.Round(v*100) / 100
}

// routeChange: at some TTL the addresses that answered before a round and
// those that answered after it share none, with at least minRoute answers
// on each side. Alternation between addresses (ECMP) is never a clean
// split, so it is not a change.
func (a *analysis) routeChange(d *Diagnosis) bool {
	const minRoute = 3
	for t := range a.hops {
		os := a.hops[t].obs
		spans, answers := a.s.spans(os)
		if answers < 2*minRoute {
			continue
		}
		// The latest split no address spans.
		split := -1
		for i := answers - minRoute; i >= minRoute; i-- {
			clean := true
			for _, c := range spans {
				if c.first < i && c.last >= i {
					clean = false
					break
				}
			}
			if clean {
				split = i
				break
			}
		}
		if split < 0 {
			continue
		}
		// The answers before the split are those of os[:at]: topAddr
		// passes over the losses between them as it would in a list of
		// the answers alone.
		at := nthAnswer(os, split)
		old, neu := os[nthAnswer(os, split-1)].from, os[at].from
		oldAddr, newAddr := a.s.topAddr(os[:at], 0), a.s.topAddr(os[at:], 0)
		if !oldAddr.IsValid() {
			oldAddr = old
		}
		if !newAddr.IsValid() {
			newAddr = neu
		}
		r := os[at].round
		ttl := a.hops[t].ttl
		d.What = RouteChange
		d.Where = a.where(ttl, newAddr)
		d.Since = a.rounds[r].Time
		n := len(a.rounds)
		bl, bs := 0, 0
		for _, o := range a.hops[t].obs {
			if o.round < r {
				bs++
				if o.lost {
					bl++
				}
			}
		}
		al, as := a.hops[t].lost(r)
		d.Evidence.Before = Group{Label: fmt.Sprintf("hop %d before %s: %s", ttl, clock(d.Since), oldAddr), Sent: bs, Lost: bl,
			Median: a.s.median(a.hops[t].rtts(a.s, 0, r)), Replies: bs - bl}
		d.Evidence.After = Group{Label: fmt.Sprintf("hop %d since %s: %s", ttl, clock(d.Since), newAddr), Sent: as, Lost: al,
			Median: a.s.median(a.hops[t].rtts(a.s, r, n)), Replies: as - al}
		d.Evidence.Test, d.Evidence.Statistic = "answers on each side", float64(min(split, answers-split))
		d.Confidence = Medium
		if min(split, answers-split) >= 10 {
			d.Confidence = High
		}
		d.Text = fmt.Sprintf("The route changed at hop %d at %s: %s answered before, %s since (%d and %d answers).",
			ttl, clock(d.Since), a.addrName(oldAddr), a.addrName(newAddr), split, answers-split)
		return true
	}
	return false
}

// spans is each address's first and last answer among os, counted in
// answers (losses and replies without an address skipped), and how many
// answers there are. The spans live in s.counts until its next use.
func (s *scratch) spans(os []obs) (spans []addrCount, answers int) {
	// Few addresses answer at one hop: a list beats a map, and the
	// address of the answer before is the likeliest.
	spans = s.counts[:0]
	k := -1
	for i := range os {
		o := &os[i]
		if o.lost || !o.from.IsValid() {
			continue
		}
		if k < 0 || spans[k].addr != o.from {
			k = slices.IndexFunc(spans, func(c addrCount) bool { return c.addr == o.from })
			if k < 0 {
				spans = append(spans, addrCount{addr: o.from, first: answers})
				k = len(spans) - 1
			}
		}
		spans[k].last = answers
		answers++
	}
	s.counts = spans[:0]
	return spans, answers
}

// nthAnswer is the index in os of its n-th answer (from 0), as spans
// counts them.
func nthAnswer(os []obs, n int) int {
	for i := range os {
		if !os[i].lost && os[i].from.IsValid() {
			if n == 0 {
				return i
			}
			n--
		}
	}
	return len(os)
}

func (a *analysis) addrName(addr netip.Addr) string {
	s := addr.String()
	if a.opt.Names != nil {
		if n := a.opt.Names(addr); n != "" {
			s += " (" + n + ")"
		}
	}
	return s
}

// series is the per-round values a latency or jitter change is read from.
type series struct {
	rounds []int
	vals   []time.Duration
}

func rttSeries(sc *scratch, os []obs) series {
	n := 0
	for _, o := range os {
		if !o.lost {
			n++
		}
	}
	s := series{rounds: sc.ints(n)[:0], vals: sc.durations(n)[:0]}
	for _, o := range os {
		if !o.lost {
			s.rounds = append(s.rounds, o.round)
			s.vals = append(s.vals, o.rtt)
		}
	}
	return s
}

// jitterSeries is |ΔRTT| between consecutive replies, at the later one's round.
func jitterSeries(sc *scratch, os []obs) series {
	n := 0
	for _, o := range os {
		if !o.lost {
			n++
		}
	}
	n = max(n-1, 0)
	s := series{rounds: sc.ints(n)[:0], vals: sc.durations(n)[:0]}
	var prev *obs
	for i := range os {
		o := &os[i]
		if o.lost {
			continue
		}
		if prev != nil {
			d := o.rtt - prev.rtt
			if d < 0 {
				d = -d
			}
			s.rounds = append(s.rounds, o.round)
			s.vals = append(s.vals, d)
		}
		prev = o
	}
	return s
}

func (s series) split(sc *scratch, round int) (before, after []time.Duration) {
	nb := 0
	for _, r := range s.rounds {
		if r < round {
			nb++
		}
	}
	before, after = sc.durations(nb)[:0], sc.durations(len(s.rounds) - nb)[:0]
	for i, r := range s.rounds {
		if r < round {
			before = append(before, s.vals[i])
		} else {
			after = append(after, s.vals[i])
		}
	}
	return before, after
}

func (a *analysis) latency(d *Diagnosis) bool {
	return a.step(d, Latency, rttSeries, func(before, after time.Duration) bool {
		return after-before >= minShift && float64(after-before) >= minRel*float64(before)
	})
}

func (a *analysis) jitter(d *Diagnosis) bool {
	return a.step(d, Jitter, jitterSeries, func(before, after time.Duration) bool {
		return after-before >= minShift && after >= 2*before
	})
}

// step: the destination's series (RTT or |ΔRTT|) rose at a round (the best
// change point, by rank-sum z at the scan level) by enough to matter; the
// rise starts at the lowest hop from which every answering hop shows it
// too (significant at zSig, at least half the destination's rise).
func (a *analysis) step(d *Diagnosis, what What, mk func(*scratch, []obs) series, matters func(before, after time.Duration) bool) bool {
	dst := mk(a.s, a.drtt)
	if len(dst.vals) < 2*minSeg {
		return false // too short to split
	}
	// One sort ranks the series for the three scans below (the fall's
	// ranks mirror the rise's); only a series cut at a fall is ranked anew.
	r := a.s.ranks(dst.vals)
	// A fall after the rise (the problem ended) leaves only what came
	// after it to judge, as for loss.
	if kd, zd, ok := splitOnRanks(a.s.negatedRanks(dst.vals, r), minSeg); ok && zd >= zScan && len(dst.vals)-kd >= a.opt.MinRounds {
		if ku, zu, ok := splitOnRanks(r, minSeg); !ok || zu < zScan || kd > ku {
			dst = series{rounds: dst.rounds[kd:], vals: dst.vals[kd:]}
			r = a.s.ranks(dst.vals)
		}
	}
	k, z, ok := splitOnRanks(r, minSeg)
	if !ok || z < zScan {
		return false
	}
	round := dst.rounds[k]
	b, af := dst.split(a.s, round)
	mb, ma := a.s.median(b), a.s.median(af)
	if !matters(mb, ma) {
		return false
	}
	rise := ma - mb
	start, before := a.dest, 0
	for t := a.dest - 1; t >= 1; t-- {
		hb, ha := mk(a.s, a.hops[t-1].obs).split(a.s, round)
		if len(hb) < minSeg/2 || len(ha) < minSeg/2 {
			continue // too few replies (a silent or rate-limited hop) to say
		}
		if a.s.rankSumZ(hb, ha) >= zSig && 2*(a.s.median(ha)-a.s.median(hb)) >= rise {
			start = t
			continue
		}
		before = t
		break
	}
	var addr netip.Addr
	if start == a.dest {
		addr = a.destAddr()
	} else {
		addr = a.s.topAddr(a.hops[start-1].obs, round)
	}
	d.What = what
	d.Where = a.where(start, addr)
	d.Where.From = before
	d.Since = a.rounds[round].Time
	d.Evidence.Before = Group{Label: "destination before " + clock(d.Since), Sent: len(b), Median: mb, Spread: a.s.spreadAbout(b, mb), Replies: len(b)}
	d.Evidence.After = Group{Label: "destination since " + clock(d.Since), Sent: len(af), Median: ma, Spread: a.s.spreadAbout(af, ma), Replies: len(af)}
	d.Evidence.Test, d.Evidence.Statistic = "rank-sum z", round2(z)
	d.Confidence = Medium
	if z >= zScan+1 && len(b) >= minSeg*2 && len(af) >= minSeg*2 && before > 0 {
		d.Confidence = High
	}
	noun := "Latency"
	if what == Jitter {
		noun = "Jitter (the change between consecutive replies)"
	}
	at := fmt.Sprintf("at %s", a.hopLabel(d.Where))
	if before > 0 {
		at = fmt.Sprintf("on the link into %s (hop %d did not change)", a.hopLabel(d.Where), before)
	}
	d.Text = fmt.Sprintf("%s rose by %s at %s, %s, and carries to the destination (median %s → %s).",
		noun, ms(rise), clock(d.Since), at, ms(mb), ms(ma))
	return true
}

func (a *analysis) healthy(d *Diagnosis) {
	n := len(a.rounds)
	lost, sent := a.destLost(0)
	rt := a.destRTTs(0, n)
	d.What = Healthy
	m, sp := a.s.center(rt)
	d.Evidence.After = Group{Label: "destination", Sent: sent, Lost: lost, Median: m, Spread: sp, Replies: sent - lost}
	_, hi := wilson(lost, sent, 1.96)
	d.Evidence.Test, d.Evidence.Statistic = "loss upper bound (95 %)", round2(100*hi)
	d.Confidence = Medium
	if sent >= highN {
		d.Confidence = High
	}
	d.Text = fmt.Sprintf("Healthy: the destination lost %d of %d probes, median %s", lost, sent, ms(m))
	var notes []string
	for _, h := range d.Hints {
		if h.Kind == HintRateLimited || h.Kind == HintSilent {
			notes = append(notes, fmt.Sprintf("hop %d %s", h.TTL, h.Kind))
		}
	}
	if len(notes) > 0 {
		d.Text += "; " + strings.Join(notes, ", ") + ", which is the router's own choice, not a problem"
	}
	d.Text += "."
}

// hints remarks on each hop: one that never answers, one whose replies are
// lost far more often than the loss that carries on (it deprioritises its
// own time-exceeded messages), the hops that carry the destination's loss,
// and a persistent latency step.
func (a *analysis) hints() []Hint {
	var out []Hint
	n := len(a.rounds)
	dl, ds := a.destLost(0)
	for t := range a.hops {
		h := &a.hops[t]
		lost, sent := h.lost(0)
		if sent < a.opt.MinRounds {
			continue
		}
		fwd := 0
		for _, o := range h.obs {
			if o.fwd {
				fwd++
			}
		}
		if lost == sent {
			if a.dest != 0 {
				out = append(out, Hint{TTL: h.ttl, Kind: HintSilent,
					Evidence: fmt.Sprintf("no reply to %d probes while later hops answered; the router does not send time-exceeded messages", sent)})
			}
			continue
		}
		// The loss that carries on: the least any later hop (or the
		// destination) loses.
		cl, cs, clabel := dl, ds, "the destination"
		if a.dest == 0 {
			cs = 0
		}
		for u := t + 1; u < len(a.hops); u++ {
			ul, us := a.hops[u].lost(0)
			if us >= a.opt.MinRounds && ul < us && (cs == 0 || float64(ul)/float64(us) < float64(cl)/float64(cs)) {
				cl, cs, clabel = ul, us, fmt.Sprintf("hop %d", a.hops[u].ttl)
			}
		}
		// Direct pings compare the hop with itself: its time-exceeded
		// replies against its echo replies.
		dwords, direct := h.directRateLimited(lost, sent)
		carries := false
		if cs > 0 {
			lo, _ := wilson(lost, sent, 1.96)
			carries = !(lo >= lossFloor && lost-cl >= minLost && twoPropZ(cl, cs, lost, sent) >= zSig)
		}
		switch {
		case cs > 0 && !carries:
			ev := fmt.Sprintf("lost %d of %d replies (%s) while %s lost %d of %d (%s): the loss does not carry on; %d of its misses had a later hop answer in the same round",
				lost, sent, pct(lost, sent), clabel, cl, cs, pct(cl, cs), lost-fwd)
			if dwords != "" {
				ev += "; " + dwords
			}
			out = append(out, Hint{TTL: h.ttl, Addr: h.addr, Kind: HintRateLimited, Evidence: ev})
		case direct:
			out = append(out, Hint{TTL: h.ttl, Addr: h.addr, Kind: HintRateLimited,
				Evidence: fmt.Sprintf("lost %d of %d TTL-limited probes (%s), significantly more than echo requests to its own address: %s; the router limits its time-exceeded messages, which says nothing of the traffic through it",
					lost, sent, pct(lost, sent), dwords)})
		}
	}
	// Loss carried to the destination: hops from the first one not
	// significantly cleaner than the destination.
	if lo, _ := wilson(dl, ds, 1.96); a.dest != 0 && lo >= lossFloor {
		for t := len(a.hops) - 1; t >= 0; t-- {
			h := &a.hops[t]
			lost, sent := h.lost(0)
			if sent == 0 || twoPropZ(lost, sent, dl, ds) >= zSig {
				break
			}
			if lost < sent && twoPropZ(dl, ds, lost, sent) < zSig {
				fwd := 0
				for _, o := range h.obs {
					if o.fwd {
						fwd++
					}
				}
				ev := fmt.Sprintf("lost %d of %d (%s), as the destination (%d of %d); %d of the misses were forward loss (nothing later in the round answered)",
					lost, sent, pct(lost, sent), dl, ds, fwd)
				if w := h.directWords(); w != "" {
					ev += "; " + w
				}
				out = append(out, Hint{TTL: h.ttl, Addr: h.addr, Kind: HintCarried, Evidence: ev})
			}
		}
	}
	// A latency step: a hop whose median is above the previous answering
	// hop's by a significant, material amount that every later hop keeps.
	meds := a.s.meds[:0]
	defer func() { a.s.meds = meds[:0] }()
	for t := range a.hops {
		r := a.hops[t].rtts(a.s, 0, n)
		if len(r) >= minSeg {
			meds = append(meds, hopMedian{a.hops[t].ttl, a.hops[t].addr, r, a.s.median(r)})
		}
	}
	if r := a.destRTTs(0, n); len(r) >= minSeg {
		meds = append(meds, hopMedian{a.dest, a.destAddr(), r, a.s.median(r)})
	}
	for i := 1; i < len(meds); i++ {
		p, c := meds[i-1], meds[i]
		stepUp := c.m - p.m
		// The spread and the rank test, the costly parts, only when the
		// cheap thresholds pass.
		if stepUp < max(minShift, time.Duration(minRel*float64(p.m))) || stepUp < 3*a.s.spreadAbout(p.rtts, p.m) || a.s.rankSumZ(p.rtts, c.rtts) < zStrong {
			continue
		}
		kept := true
		for _, l := range meds[i+1:] {
			if 2*(l.m-p.m) < stepUp {
				kept = false
				break
			}
		}
		if kept {
			out = append(out, Hint{TTL: c.ttl, Addr: c.addr, Kind: HintLatencyStep,
				Evidence: fmt.Sprintf("+%s here (median %s at hop %d, %s here), kept by every later hop", ms(stepUp), ms(p.m), p.ttl, ms(c.m))})
		}
	}
	slices.SortStableFunc(out, func(x, y Hint) int { return cmp.Compare(x.TTL, y.TTL) })
	return out
}

// hopMedian is a hop's replies and their median, for the latency-step
// hint.
type hopMedian struct {
	ttl  int
	addr netip.Addr
	rtts []time.Duration
	m    time.Duration
}

// grow returns xs resized to n, reusing its array when it is large enough
// (the elements are then stale: callers clear or overwrite them).
func grow[T any](xs []T, n int) []T {
	if cap(xs) >= n {
		return xs[:n]
	}
	return make([]T, n)
}
