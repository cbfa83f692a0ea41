package lab

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// This file holds the cable's decisions, free of I/O so they are tested
// without root: when a frame leaves, whether it is lost, in which order
// frames leave, and the control protocol between the lab and a cable process.

// CableStats counts one direction of a cable's frames.
type CableStats struct {
	Frames    uint64 // frames that entered the cable
	Lost      uint64 // dropped on purpose (LinkParams.Loss)
	Sent      uint64 // delivered at the far end
	Errors    uint64 // dropped by accident: truncated, queue full or send failed
	Offloaded uint64 // frames carried with checksum offload or GSO (TCP through the cable)
}

// shaper applies one direction's LinkParams to arriving frames.
type shaper struct {
	p   LinkParams
	rnd *rand.Rand
}

func newShaper(seed, stream uint64) shaper {
	return shaper{rnd: rand.New(rand.NewPCG(seed, stream))}
}

// admit decides the fate of a frame the kernel received at rx (Unix
// nanoseconds): lost, or to be sent at release. Anchoring release on the
// kernel's receive time, not on when the cable got round to reading the
// frame, keeps the cable's own wake-up latency out of the delay.
func (s *shaper) admit(rx int64) (release int64, lost bool) {
	if s.p.Loss > 0 && s.rnd.Float64() < s.p.Loss {
		return 0, true
	}
	d := int64(s.p.Delay)
	if j := int64(s.p.Jitter); j > 0 {
		d += s.rnd.Int64N(2*j+1) - j
		d = max(d, 0)
	}
	return rx + d, false
}

// frame is a queued frame: its virtio-net header and Ethernet frame in buf[:n].
type frame struct {
	buf     []byte
	n       int
	release int64  // Unix nanoseconds
	seq     uint64 // arrival order, to keep FIFO among equal release times
}

// frameHeap is a min-heap on (release, seq). With constant delay it behaves
// as a FIFO; with jitter frames leave in release order and so may reorder.
type frameHeap []*frame

func (h frameHeap) less(i, j int) bool {
	if h[i].release != h[j].release {
		return h[i].release < h[j].release
	}
	return h[i].seq < h[j].seq
}

func (h *frameHeap) push(f *frame) {
	*h = append(*h, f)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

func (h *frameHeap) pop() *frame {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q[last] = nil
	q = q[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(q) && q.less(l, m) {
			m = l
		}
		if r < len(q) && q.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
	*h = q
	return top
}

// Control protocol: the lab writes one command per line to the cable's stdin
// and reads one reply line from its stdout.
//
//	set <fwd delay ns> <fwd jitter ns> <fwd loss> <rev delay ns> <rev jitter ns> <rev loss>  → ok
//	stats → stats <fwd frames lost sent errors offloaded> <rev …>
//
// Errors answer "err <message>". EOF on stdin stops the cable, so a cable
// never outlives the test process that started it.

func formatSet(fwd, rev LinkParams) string {
	return fmt.Sprintf("set %d %d %s %d %d %s", fwd.Delay, fwd.Jitter, strconv.FormatFloat(fwd.Loss, 'g', -1, 64),
		rev.Delay, rev.Jitter, strconv.FormatFloat(rev.Loss, 'g', -1, 64))
}

func parseSet(args []string) (fwd, rev LinkParams, err error) {
	if len(args) != 6 {
		return fwd, rev, fmt.Errorf("set wants 6 values, got %d", len(args))
	}
	var ps [2]LinkParams
	for d := range ps {
		a := args[3*d:]
		delay, err1 := strconv.ParseInt(a[0], 10, 64)
		jitter, err2 := strconv.ParseInt(a[1], 10, 64)
		loss, err3 := strconv.ParseFloat(a[2], 64)
		if err1 != nil || err2 != nil || err3 != nil {
			return fwd, rev, fmt.Errorf("bad set values %q", a[:3])
		}
		ps[d] = LinkParams{Delay: time.Duration(delay), Jitter: time.Duration(jitter), Loss: loss}
		if err := ps[d].validate(); err != nil {
			return fwd, rev, err
		}
	}
	return ps[0], ps[1], nil
}

func formatStats(fwd, rev CableStats) string {
	var b strings.Builder
	b.WriteString("stats")
	for _, s := range []CableStats{fwd, rev} {
		fmt.Fprintf(&b, " %d %d %d %d %d", s.Frames, s.Lost, s.Sent, s.Errors, s.Offloaded)
	}
	return b.String()
}

func parseStats(line string) (fwd, rev CableStats, err error) {
	f := strings.Fields(line)
	if len(f) != 11 || f[0] != "stats" {
		return fwd, rev, fmt.Errorf("bad stats reply %q", line)
	}
	var v [10]uint64
	for i := range v {
		if v[i], err = strconv.ParseUint(f[i+1], 10, 64); err != nil {
			return fwd, rev, fmt.Errorf("bad stats reply %q", line)
		}
	}
	fwd = CableStats{v[0], v[1], v[2], v[3], v[4]}
	rev = CableStats{v[5], v[6], v[7], v[8], v[9]}
	return fwd, rev, nil
}
