package lab

import (
	"net/netip"
	"slices"
	"time"
)

// PingOptions configure Lab.Ping. The zero value sends 10 echo requests 10 ms
// apart and waits 2 s for the last answer.
type PingOptions struct {
	Count    int           // echo requests to send; 0 means 10, at most 65536
	Interval time.Duration // between requests; 0 means 10 ms
	TTL      int           // IPv4 TTL or IPv6 hop limit; 0 leaves the kernel's default
	Timeout  time.Duration // how long to wait for answers after the last request; 0 means 2 s
}

// PingReply is one answer to an echo request.
type PingReply struct {
	Seq  int        // the request's sequence number, from 0
	From netip.Addr // who answered: the destination, or the router that sent an ICMP error
	RTT  time.Duration
	// Echo is true for an echo reply; false for an ICMP error, such as the
	// time exceeded of a TTL-limited request.
	Echo bool
	// TimeExceeded marks an ICMP or ICMPv6 time-exceeded error.
	TimeExceeded bool
}

// PingResult is what Lab.Ping measured.
type PingResult struct {
	Sent    int
	Replies []PingReply // at most one per request, in sequence order
}

// Loss is the fraction of requests that got no answer.
func (r PingResult) Loss() float64 {
	if r.Sent == 0 {
		return 0
	}
	return 1 - float64(len(r.Replies))/float64(r.Sent)
}

// RTTs returns the round-trip times in sequence order.
func (r PingResult) RTTs() []time.Duration {
	out := make([]time.Duration, len(r.Replies))
	for i, rep := range r.Replies {
		out[i] = rep.RTT
	}
	return out
}

// Median is the median RTT, 0 without replies. The VM this runs on stalls
// for tens of milliseconds now and then; judge RTTs on medians.
func (r PingResult) Median() time.Duration { return Quantile(r.RTTs(), 0.5) }

// Quantile returns the q-quantile (0 to 1) of ds by linear interpolation
// between order statistics, 0 for no samples. ds is not modified.
func Quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	q = min(max(q, 0), 1)
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i == len(s)-1 {
		return s[i]
	}
	frac := pos - float64(i)
	return s[i] + time.Duration(frac*float64(s[i+1]-s[i]))
}
