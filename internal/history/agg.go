package history

import (
	"math"
	"time"

	"github.com/pingerplot/pingerplot/internal/hopstat"
)

// agg accumulates one TTL's probes over a span, from raw probes (sample)
// or from stored minutes (mergeRow), in time order: the figures of a
// per-minute rollup row and of a window put together from them. It holds
// sums, not a running mean, so merging minutes is exact to the µs.
type agg struct {
	sent, lost, refused int64
	reached             int64
	lastReach           bool
	minUS, maxUS, sumUS int64
	sumsq               float64 // µs², float: a day of slow replies overflows int64
	firstUS, lastUS     int64
	jsum, jn, jmax      int64
	addrs               map[uint64]int64 // replies by address id
	sk                  sketch
	// lastMs is when the latest reply came (its round's start): a
	// summary's LastAt.
	lastMs int64
}

func (a *agg) recv() int64 { return a.sent - a.lost }

// probeLost is hopstat's rule (monitor.SampleOf): an answer without a
// responder's address is a loss like a timeout or a probe never sent.
func probeLost(h rawHop) bool { return !hasRTT(h.code) || h.addr == 0 }

// sample adds one raw probe; atMs is its round's start.
func (a *agg) sample(h rawHop, atMs int64) {
	a.sent++
	if probeLost(h) {
		a.lost++
		return
	}
	if h.code == codeClosed {
		a.refused++
	}
	a.reply(h.rtt, atMs)
	if a.addrs == nil {
		a.addrs = make(map[uint64]int64, 2)
	}
	a.addrs[h.addr]++
}

func (a *agg) reply(us, atMs int64) {
	if a.recv() == 1 {
		a.minUS, a.maxUS, a.firstUS = us, us, us
	} else {
		d := us - a.lastUS
		if d < 0 {
			d = -d
		}
		a.jsum += d
		a.jn++
		a.jmax = max(a.jmax, d)
		a.minUS = min(a.minUS, us)
		a.maxUS = max(a.maxUS, us)
	}
	a.lastUS = us
	a.sumUS += us
	a.sumsq += float64(us) * float64(us)
	a.sk.add(us)
	a.lastMs = atMs
}

// row is one hop_minutes row.
type row struct {
	minute                     int64
	ttl                        int
	sent, lost, refused        int64
	reached                    int64
	lastReach                  bool
	addrID, addrN, addrCount   int64
	minUS, maxUS, sumUS, sumsq int64
	firstUS, lastUS            int64
	jsum, jn, jmax             int64
	sketch                     []byte
}

func (a *agg) row(minute int64, ttl int) row {
	r := row{minute: minute, ttl: ttl, sent: a.sent, lost: a.lost, refused: a.refused, reached: a.reached,
		lastReach: a.lastReach, minUS: a.minUS, maxUS: a.maxUS, sumUS: a.sumUS, sumsq: int64(math.Round(a.sumsq)),
		firstUS: a.firstUS, lastUS: a.lastUS, jsum: a.jsum, jn: a.jn, jmax: a.jmax, addrCount: int64(len(a.addrs))}
	for id, n := range a.addrs {
		if n > r.addrN || (n == r.addrN && id < uint64(r.addrID)) {
			r.addrID, r.addrN = int64(id), n
		}
	}
	r.sketch = a.sk.appendTo(make([]byte, 0, 64))
	return r
}

// mergeRow adds a later minute's row.
func (a *agg) mergeRow(r *row) error {
	recv := r.sent - r.lost
	had := a.recv()
	a.sent += r.sent
	a.lost += r.lost
	a.refused += r.refused
	a.reached += r.reached
	if recv > 0 {
		if had == 0 {
			a.minUS, a.maxUS, a.firstUS = r.minUS, r.maxUS, r.firstUS
		} else {
			d := r.firstUS - a.lastUS
			if d < 0 {
				d = -d
			}
			a.jsum += d
			a.jn++
			a.jmax = max(a.jmax, d)
			a.minUS = min(a.minUS, r.minUS)
			a.maxUS = max(a.maxUS, r.maxUS)
		}
		a.lastUS = r.lastUS
		a.sumUS += r.sumUS
		a.sumsq += float64(r.sumsq)
		a.jsum += r.jsum
		a.jn += r.jn
		a.jmax = max(a.jmax, r.jmax)
		a.lastMs = r.minute
		if r.addrID != 0 {
			if a.addrs == nil {
				a.addrs = make(map[uint64]int64, 2)
			}
			a.addrs[uint64(r.addrID)] += r.addrN
		}
	}
	return a.sk.merge(r.sketch)
}

// stats returns hopstat's figures: exact from sums, P50 and P95 from the
// sketch.
func (a *agg) stats() hopstat.Stats {
	s := hopstat.Stats{Sent: int(a.sent), Recv: int(a.recv()), Refused: int(a.refused)}
	n := a.recv()
	if n == 0 {
		return s
	}
	us := func(v float64) time.Duration { return time.Duration(math.Round(v * float64(time.Microsecond))) }
	s.Last, s.Best, s.Worst = us(float64(a.lastUS)), us(float64(a.minUS)), us(float64(a.maxUS))
	mean := float64(a.sumUS) / float64(n)
	s.Avg = us(mean)
	if n > 1 {
		v := (a.sumsq - float64(a.sumUS)*mean) / float64(n-1)
		s.StdDev = us(math.Sqrt(max(v, 0)))
		s.Jitter = us(float64(a.jsum) / float64(n-1))
		s.JitterMax = us(float64(a.jmax))
	}
	s.P50, s.P95 = a.sk.quantile(0.5), a.sk.quantile(0.95)
	return s
}

// reach is hopstat's destination of a round: the lowest TTL where the
// destination answered; 0 if it did not. Probes past it are not hops.
func reach(r *rawRound) int {
	t := 0
	for _, h := range r.hops {
		if (h.code == codeReached || h.code == codeClosed) && h.addr != 0 && h.ttl >= 1 && h.ttl <= hopstat.MaxTTL && (t == 0 || h.ttl < t) {
			t = h.ttl
		}
	}
	return t
}

// minuteAgg folds the rounds of one target's minute into rows by TTL.
type minuteAgg struct {
	ttls      []agg // by TTL-1
	lastReach int   // the destination's TTL in the latest round that reached it
	lastStart int64
}

func (m *minuteAgg) round(r *rawRound) {
	t := reach(r)
	for _, h := range r.hops {
		if h.ttl < 1 || h.ttl > hopstat.MaxTTL || (t != 0 && h.ttl > t) {
			continue
		}
		for len(m.ttls) < h.ttl {
			m.ttls = append(m.ttls, agg{})
		}
		m.ttls[h.ttl-1].sample(h, r.startMs)
	}
	if t != 0 {
		m.ttls[t-1].reached++
		if r.startMs >= m.lastStart {
			m.lastReach, m.lastStart = t, r.startMs
		}
	}
}

func (m *minuteAgg) rows(minute int64) []row {
	var out []row
	for i := range m.ttls {
		a := &m.ttls[i]
		if a.sent == 0 {
			continue
		}
		a.lastReach = i+1 == m.lastReach
		out = append(out, a.row(minute, i+1))
	}
	return out
}
