package history

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/pingerplot/pingerplot/internal/probe/result"
	"github.com/pingerplot/pingerplot/internal/trace"
)

// A chunk's data is its rounds, one after another, each:
//
//	uvarint  start − previous start, ms (the first: from the chunk's minute)
//	varint   index − previous index − 1 (zigzag; the first: from 0)
//	uvarint  end − start in ms, + 1 (0: unknown, a round rebuilt by the monitor)
//	uvarint  endTTL<<1 | reached
//	uvarint  hops<<1 | explicit; explicit: every hop carries its TTL, else
//	         uvarint first TTL, the others follow one by one
//	per hop: [uvarint TTL] uvarint addr<<3 | code, and for a code with
//	         an RTT: varint RTT µs − the previous RTT at that TTL in the chunk
//
// Addresses are ids in the addrs table (0: none). The RTT delta makes a
// steady hop's probe two or three bytes. Start times keep milliseconds,
// RTTs microseconds.
const chunkFormat = 1

// chunkBytes is where an open minute is split into a new part: the part
// rewritten at each flush stays small at fast intervals, and its size
// suits SQLite's 4 KiB pages. A row larger than a page keeps
// 489 + (size − 489) mod 4092 bytes on its leaf page and the rest in full
// overflow pages, so a part just past 489 + 4092 bytes fills one overflow
// page and leaves a few hundred bytes on the leaf, where the next rows'
// fit too.
const chunkBytes = 489 + 4092

// Codes of a probe's outcome, 3 bits.
const (
	codeTimeout      = 0
	codeTimeExceeded = 1
	codeReached      = 2
	codeUnreachable  = 3
	codeFailed       = 4
	codeClosed       = 5 // reached, and the destination refused the connection
)

func codeOf(r result.Reply) uint64 {
	switch r.Kind {
	case result.TimeExceeded:
		return codeTimeExceeded
	case result.Reached:
		if r.Closed {
			return codeClosed
		}
		return codeReached
	case result.Unreachable:
		return codeUnreachable
	case result.Failed:
		return codeFailed
	}
	return codeTimeout
}

func hasRTT(code uint8) bool {
	return code == codeTimeExceeded || code == codeReached || code == codeUnreachable || code == codeClosed
}

func kindOf(code uint8) (result.Kind, bool) {
	switch code {
	case codeTimeExceeded:
		return result.TimeExceeded, false
	case codeReached:
		return result.Reached, false
	case codeClosed:
		return result.Reached, true
	case codeUnreachable:
		return result.Unreachable, false
	case codeFailed:
		return result.Failed, false
	}
	return result.Timeout, false
}

// dict is the address dictionary, both ways. The writer assigns ids as it
// encodes (and inserts the new ones with the chunks that use them);
// readers of a file another process writes load ids they do not know.
type dict struct {
	mu    sync.RWMutex
	ids   map[netip.Addr]uint64
	addrs []netip.Addr // index id-1
	fresh []uint64     // ids assigned but not yet in the table
}

func newDict() *dict { return &dict{ids: map[netip.Addr]uint64{}} }

func (d *dict) id(a netip.Addr) uint64 {
	if !a.IsValid() {
		return 0
	}
	d.mu.RLock()
	id, ok := d.ids[a]
	d.mu.RUnlock()
	if ok {
		return id
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if id, ok := d.ids[a]; ok {
		return id
	}
	d.addrs = append(d.addrs, a)
	id = uint64(len(d.addrs))
	d.ids[a] = id
	d.fresh = append(d.fresh, id)
	return id
}

// addr returns id's address; ok false for an id not loaded.
func (d *dict) addr(id uint64) (netip.Addr, bool) {
	if id == 0 {
		return netip.Addr{}, true
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	if id > uint64(len(d.addrs)) {
		return netip.Addr{}, false
	}
	a := d.addrs[id-1]
	return a, a.IsValid()
}

// set records a row of the addrs table.
func (d *dict) set(id uint64, a netip.Addr) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for uint64(len(d.addrs)) < id {
		d.addrs = append(d.addrs, netip.Addr{})
	}
	d.addrs[id-1] = a
	d.ids[a] = id
}

// chunk builds one part of a target's minute.
type chunk struct {
	minute      int64 // ms
	part        int   // -1: not yet numbered (the next free part is looked up when written)
	buf         []byte
	count       int
	probes      int
	firstMs     int64
	lastMs      int64
	firstRound  int
	lastRound   int
	prevRound   int
	prevRTT     []int64 // µs by TTL-1
	sealed      bool    // no round will be added
	minuteEnded bool    // and none of its minute will follow in this run
	dirty       bool    // changed since last written
	saved       int     // probes of it written already (a rewritten open chunk)
	savedRound  int     // its last round written already
}

func minuteOf(ms int64) int64 { return ms - ((ms%60000)+60000)%60000 }

func newChunk(minute int64) *chunk {
	return &chunk{minute: minute, part: -1, buf: append(make([]byte, 0, 1024), chunkFormat)}
}

// fits reports whether a round starting at ms may join c.
func (c *chunk) fits(ms int64) bool {
	return !c.sealed && minuteOf(ms) == c.minute && (c.count == 0 || ms >= c.lastMs) && len(c.buf) < chunkBytes
}

func (c *chunk) add(r *trace.Round, d *dict) {
	ms := r.Start.UnixMilli()
	prev := c.minute
	if c.count > 0 {
		prev = c.lastMs
	}
	b := binary.AppendUvarint(c.buf, uint64(ms-prev))
	b = binary.AppendVarint(b, int64(r.Index-c.prevRound-1))
	var end uint64
	if !r.End.IsZero() && !r.End.Before(r.Start) {
		end = uint64(r.End.Sub(r.Start).Milliseconds()) + 1
	}
	b = binary.AppendUvarint(b, end)
	reached := uint64(0)
	if r.Reached {
		reached = 1
	}
	b = binary.AppendUvarint(b, uint64(max(r.EndTTL, 0))<<1|reached)
	explicit := false
	for i, h := range r.Hops {
		if h.TTL != r.Hops[0].TTL+i || h.TTL < 1 {
			explicit = true
			break
		}
	}
	n := uint64(len(r.Hops)) << 1
	if explicit {
		b = binary.AppendUvarint(b, n|1)
	} else {
		b = binary.AppendUvarint(b, n)
		if len(r.Hops) > 0 {
			b = binary.AppendUvarint(b, uint64(r.Hops[0].TTL))
		}
	}
	for _, h := range r.Hops {
		if explicit {
			b = binary.AppendUvarint(b, uint64(max(h.TTL, 0)))
		}
		code := codeOf(h.Reply)
		b = binary.AppendUvarint(b, d.id(h.Reply.From)<<3|code)
		if hasRTT(uint8(code)) {
			us := h.Reply.RTT.Microseconds()
			var p int64
			if h.TTL >= 1 && h.TTL <= 255 {
				for len(c.prevRTT) < h.TTL {
					c.prevRTT = append(c.prevRTT, 0)
				}
				p = c.prevRTT[h.TTL-1]
				c.prevRTT[h.TTL-1] = us
			}
			b = binary.AppendVarint(b, us-p)
		}
	}
	c.buf = b
	if c.count == 0 {
		c.firstMs, c.firstRound = ms, r.Index
	}
	c.count++
	c.probes += len(r.Hops)
	c.lastMs, c.lastRound, c.prevRound = ms, r.Index, r.Index
	c.dirty = true
}

// rawHop and rawRound are a decoded round without allocation per probe.
type rawHop struct {
	ttl  int
	code uint8
	addr uint64
	rtt  int64 // µs
}

type rawRound struct {
	index   int
	startMs int64
	endMs   int64 // 0: unknown
	endTTL  int
	reached bool
	hops    []rawHop
}

var errCorrupt = errors.New("history: a chunk does not decode (the file is damaged)")

// decodeChunk calls fn with each round of data, whose minute is base.
// The round (and its hops) is reused: fn copies what it keeps.
func decodeChunk(data []byte, base int64, fn func(*rawRound) error) error {
	if len(data) == 0 || data[0] != chunkFormat {
		return fmt.Errorf("%w: format %d", errCorrupt, firstByte(data))
	}
	p := data[1:]
	var prevRTT [256]int64
	var r rawRound
	prevMs, prevIdx := base, 0
	uv := func() uint64 {
		v, n := binary.Uvarint(p)
		if n <= 0 {
			p = nil
			return 0
		}
		p = p[n:]
		return v
	}
	sv := func() int64 {
		v, n := binary.Varint(p)
		if n <= 0 {
			p = nil
			return 0
		}
		p = p[n:]
		return v
	}
	for len(p) > 0 {
		r.startMs = prevMs + int64(uv())
		r.index = prevIdx + 1 + int(sv())
		if e := uv(); e > 0 {
			r.endMs = r.startMs + int64(e) - 1
		} else {
			r.endMs = 0
		}
		et := uv()
		r.endTTL, r.reached = int(et>>1), et&1 == 1
		nh := uv()
		explicit := nh&1 == 1
		nh >>= 1
		if nh > 255*4 || p == nil {
			return errCorrupt
		}
		ttl := 0
		if !explicit && nh > 0 {
			ttl = int(uv())
		}
		r.hops = r.hops[:0]
		for i := 0; i < int(nh); i++ {
			if explicit {
				ttl = int(uv())
			} else if i > 0 {
				ttl++
			}
			v := uv()
			h := rawHop{ttl: ttl, code: uint8(v & 7), addr: v >> 3}
			if hasRTT(h.code) {
				d := sv()
				if ttl >= 1 && ttl <= 255 {
					h.rtt = prevRTT[ttl-1] + d
					prevRTT[ttl-1] = h.rtt
				} else {
					h.rtt = d
				}
			}
			r.hops = append(r.hops, h)
		}
		if p == nil {
			// A varint ran past the end: the last round is torn.
			return errCorrupt
		}
		prevMs, prevIdx = r.startMs, r.index
		if err := fn(&r); err != nil {
			return err
		}
	}
	return nil
}

func firstByte(b []byte) int {
	if len(b) == 0 {
		return -1
	}
	return int(b[0])
}

// round turns a decoded round into a trace.Round.
func (r *rawRound) round(d *dict) trace.Round {
	out := trace.Round{Index: r.index, Start: time.UnixMilli(r.startMs).UTC(), EndTTL: r.endTTL, Reached: r.reached,
		Hops: make([]trace.Hop, len(r.hops))}
	if r.endMs != 0 {
		out.End = time.UnixMilli(r.endMs).UTC()
	}
	for i, h := range r.hops {
		k, closed := kindOf(h.code)
		from, _ := d.addr(h.addr)
		out.Hops[i] = trace.Hop{TTL: h.ttl, Reply: result.Reply{Kind: k, From: from, RTT: time.Duration(h.rtt) * time.Microsecond, Closed: closed}}
	}
	return out
}
