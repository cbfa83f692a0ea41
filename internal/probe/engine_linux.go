//go:build linux

package probe

import (
	"context"
	"encoding/binary"
	"net/netip"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The Linux engine's steady state allocates nothing per probe and starts
// no goroutine or timer per probe (BenchmarkProbeAll proves it):
//
//   - a probe in flight is a value in its socket's table (ltable), not a
//     heap object; the reader copies it out under the table's lock;
//   - a ProbeAll call borrows an lbatch from its prober's free list: its answer inbox, its
//     one timer, the scratch its packets and send calls are built in, and
//     the send callback bound to that scratch are reused call after call;
//   - readers take a socket's datagrams and error-queue entries with
//     recvmmsg, up to mmsgBatch at a time, into buffers allocated once per
//     socket, and parse addresses and control messages in place;
//   - a reader posts every answer of one wakeup to its batch's inbox and
//     wakes the batch's goroutine once for all of them.
//
// Sends stay one sendmsg per probe: each probe's send time is read just
// before its own system call, because on a veth path the kernel does the
// routers' forwarding inside the send, so a probe late in one sendmmsg
// would leave tens of microseconds after a time read for the whole batch,
// and its RTT would grow by that much. The system call itself costs about
// a microsecond; the floor benchmark, which uses sendmmsg, measures what
// that leaves on the table.

// lpend is a probe in flight on a shared socket, stored by value.
type lpend struct {
	dst  netip.Addr
	sent time.Time
	b    *lbatch
	gen  uint32 // b's generation when the probe was sent
	idx  int32
	port uint16
	// flowID is what marks the probe's flow: the source port of a raw UDP
	// probe, the identifier of a raw ICMP one (flow_linux.go).
	flowID uint16
	ttl    uint8
}

// post hands the probe's answer to its batch.
func (p *lpend) post(r Reply) { p.b.post(p.gen, int(p.idx), r) }

// ltable holds the probes in flight on one shared socket by their 16-bit
// sequence number, from one counter per socket, so probes of many rounds
// and targets never collide while fewer than 65,536 are in flight.
type ltable struct {
	mu       sync.Mutex
	next     uint16
	m        map[uint16]lpend
	skipZero bool // the sequence travels in the UDP checksum: 0 means none
}

func newLTable(start uint16, skipZero bool) *ltable {
	return &ltable{next: start, m: make(map[uint16]lpend), skipZero: skipZero}
}

// add registers p under a fresh sequence number, before its packet leaves.
func (t *ltable) add(p lpend) (uint16, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for range 1 << 16 {
		seq := t.next
		t.next++
		if t.skipZero && (seq == 0 || seq == 0xFFFF) {
			continue
		}
		if _, busy := t.m[seq]; busy {
			continue
		}
		t.m[seq] = p
		return seq, true
	}
	return 0, false
}

// stamp sets the send time of probe seq, just before a send attempt.
func (t *ltable) stamp(seq uint16, now time.Time) {
	t.mu.Lock()
	if p, ok := t.m[seq]; ok {
		p.sent = now
		t.m[seq] = p
	}
	t.mu.Unlock()
}

// take removes probe seq and returns it, if still waiting.
func (t *ltable) take(seq uint16) (lpend, bool) {
	t.mu.Lock()
	p, ok := t.m[seq]
	if ok {
		delete(t.m, seq)
	}
	t.mu.Unlock()
	return p, ok
}

// takeOwned removes probe seq only if it is the one batch b sent in its
// use gen: the number may have been taken by its answer and handed to a
// probe of another batch since.
func (t *ltable) takeOwned(seq uint16, b *lbatch, gen uint32) {
	t.mu.Lock()
	if p, ok := t.m[seq]; ok && p.b == b && p.gen == gen {
		delete(t.m, seq)
	}
	t.mu.Unlock()
}

// peek returns a copy of probe seq without removing it.
func (t *ltable) peek(seq uint16) (lpend, bool) {
	t.mu.Lock()
	p, ok := t.m[seq]
	t.mu.Unlock()
	return p, ok
}

// takeOldest removes the earliest-sent probe to dst:port: the answer of
// an open UDP port carries no sequence number.
func (t *ltable) takeOldest(dst netip.Addr, port uint16) (lpend, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var best lpend
	var bestSeq uint16
	found := false
	for seq, p := range t.m {
		if p.dst == dst && p.port == port && (!found || p.sent.Before(best.sent)) {
			best, bestSeq, found = p, seq, true
		}
	}
	if found {
		delete(t.m, bestSeq)
	}
	return best, found
}

// lwait is a probe of a batch sent and not yet answered: on a shared
// socket's table (tbl, seq) or in the TCP set (tcp, fd, tok).
type lwait struct {
	tbl      *ltable
	seq      uint16
	tcp      *tcpSet
	fd       int32
	tok      uint32
	sent     time.Time
	deadline time.Time
}

// inFlight reports whether w is a probe that was sent and waits for its
// answer or its deadline.
func (w *lwait) inFlight() bool { return w.tbl != nil || w.tcp != nil }

// drop takes w's probe out of its table or set: its time is up or its
// batch ended.
func (w *lwait) drop(b *lbatch) {
	if w.tbl != nil {
		w.tbl.takeOwned(w.seq, b, b.cur)
	} else if w.tcp != nil {
		w.tcp.take(w.fd, w.tok)
	}
}

// lbatch is one ProbeAll call's bookkeeping, reused from a pool. Readers
// post answers to inbox under mu; gen tells an answer for an earlier use
// of the batch (a probe taken from its table just before the batch
// ended) from one of this use.
type lbatch struct {
	mu     sync.Mutex
	gen    uint32
	cur    uint32 // gen of the use in progress, read without mu by its goroutine
	inbox  []answer
	signal chan struct{} // capacity 1: one wakeup for any number of posts

	ps       []Probe
	onReply  func(int, Reply) bool
	wait     []lwait
	resolved []bool
	left     int
	stopped  bool
	timer    *time.Timer
	spare    []answer

	// Scratch of the send in progress, read by send.
	pkt  []byte
	oob  []byte
	name unix.RawSockaddrInet6
	iov  unix.Iovec
	msg  unix.Msghdr
	serr unix.Errno
	send func(fd uintptr) bool // bound to this batch once
	raw  []byte                // raw UDP payload scratch
}

// batchFree is a prober's batches not in use: as many as ProbeAll calls
// ever ran at once. (A sync.Pool would drop them at every collection.)
type batchFree struct {
	mu   sync.Mutex
	free []*lbatch
}

func (f *batchFree) get() *lbatch {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.free); n > 0 {
		b := f.free[n-1]
		f.free = f.free[:n-1]
		return b
	}
	// Room for four int-sized control messages (TTL, TOS, …); setTTL
	// starts each probe's list and the others append within this capacity.
	b := &lbatch{signal: make(chan struct{}, 1), oob: make([]byte, unix.CmsgSpace(4), 4*unix.CmsgSpace(4))}
	b.send = b.sendOnce
	return b
}

func (f *batchFree) put(b *lbatch) {
	f.mu.Lock()
	f.free = append(f.free, b)
	f.mu.Unlock()
}

func (f *batchFree) getBatch(ps []Probe, onReply func(int, Reply) bool) *lbatch {
	b := f.get()
	b.ps, b.onReply, b.left, b.stopped = ps, onReply, len(ps), false
	n := len(ps)
	if cap(b.wait) < n {
		b.wait, b.resolved = make([]lwait, n), make([]bool, n)
	}
	b.wait, b.resolved = b.wait[:n], b.resolved[:n]
	clear(b.wait)
	clear(b.resolved)
	return b
}

// putBatch ends a use of b: probes still in tables are taken out, late
// posts are refused from now on, and b goes back to the pool.
func (f *batchFree) putBatch(b *lbatch) {
	if b.timer != nil {
		b.timer.Stop()
	}
	for i := range b.wait {
		if w := &b.wait[i]; w.inFlight() && !b.resolved[i] {
			w.drop(b)
		}
	}
	b.mu.Lock()
	b.gen++
	b.inbox = b.inbox[:0]
	b.mu.Unlock()
	select {
	case <-b.signal:
	default:
	}
	b.ps, b.onReply = nil, nil
	f.put(b)
}

// post queues an answer for probe idx of the use gen of b.
func (b *lbatch) post(gen uint32, idx int, r Reply) {
	b.mu.Lock()
	if gen != b.gen {
		b.mu.Unlock()
		return
	}
	b.inbox = append(b.inbox, answer{idx, r})
	b.mu.Unlock()
	select {
	case b.signal <- struct{}{}:
	default:
	}
}

func (b *lbatch) generation() uint32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cur = b.gen
	return b.gen
}

// resolve reports probe i's answer, once.
func (b *lbatch) resolve(i int, r Reply) {
	if b.resolved[i] || b.stopped {
		return
	}
	b.resolved[i] = true
	b.left--
	if r.Sent.IsZero() {
		r.Sent = b.wait[i].sent
	}
	if !b.onReply(i, r) {
		b.stopped = true
	}
}

// run waits for the probes still out, on one timer for the batch.
func (b *lbatch) run(ctx context.Context, closing <-chan struct{}) error {
	for b.left > 0 && !b.stopped {
		var next time.Time
		for i := range b.wait {
			if w := &b.wait[i]; w.inFlight() && !b.resolved[i] && (next.IsZero() || w.deadline.Before(next)) {
				next = w.deadline
			}
		}
		var tc <-chan time.Time
		if !next.IsZero() {
			d := time.Until(next)
			if b.timer == nil {
				b.timer = time.NewTimer(d)
			} else {
				b.timer.Reset(d)
			}
			tc = b.timer.C
		}
		select {
		case <-b.signal:
			b.takeInbox()
		case <-tc:
			// Answers already in are theirs, not timeouts.
			b.takeInbox()
			now := time.Now()
			for i := range b.wait {
				w := &b.wait[i]
				if !w.inFlight() || b.resolved[i] || now.Before(w.deadline) {
					continue
				}
				// Whether or not the probe is still in flight (its answer
				// may be on its way to the inbox, too late), its time is up.
				w.drop(b)
				b.resolve(i, Reply{Kind: Timeout})
			}
		case <-ctx.Done():
			return ctx.Err()
		case <-closing:
			return ErrClosed
		}
	}
	return nil
}

// takeInbox resolves the answers posted so far.
func (b *lbatch) takeInbox() {
	b.mu.Lock()
	b.inbox, b.spare = b.spare[:0], b.inbox
	b.mu.Unlock()
	for _, a := range b.spare {
		b.resolve(a.idx, a.r)
	}
}

// setDest points the send scratch at a, port.
func (b *lbatch) setDest(a netip.Addr, port uint16) {
	b.name = unix.RawSockaddrInet6{}
	if a.Is4() {
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&b.name))
		sa.Family = unix.AF_INET
		sa.Addr = a.As4()
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:], port)
		b.msg.Namelen = unix.SizeofSockaddrInet4
	} else {
		b.name.Family = unix.AF_INET6
		b.name.Addr = a.As16()
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&b.name.Port))[:], port)
		b.msg.Namelen = unix.SizeofSockaddrInet6
	}
	b.msg.Name = (*byte)(unsafe.Pointer(&b.name))
}

// setTTL writes the per-packet TTL (hop limit) into the control scratch:
// concurrent senders on a shared socket never race on a socket option.
// It starts the probe's control messages; appendCmsgInt adds more.
func (b *lbatch) setTTL(v6 bool, ttl int) {
	b.oob = b.oob[:unix.CmsgSpace(4)]
	h := (*unix.Cmsghdr)(unsafe.Pointer(&b.oob[0]))
	if v6 {
		h.Level, h.Type = unix.SOL_IPV6, unix.IPV6_HOPLIMIT
	} else {
		h.Level, h.Type = unix.SOL_IP, unix.IP_TTL
	}
	h.SetLen(unix.CmsgLen(4))
	binary.NativeEndian.PutUint32(b.oob[unix.CmsgLen(0):], uint32(ttl))
}

// sendOnce is the send callback of the netpoller's Write: one sendmsg of
// the scratch packet; false (wait for writability) on EAGAIN.
func (b *lbatch) sendOnce(fd uintptr) bool {
	b.iov.Base = &b.pkt[0]
	b.iov.SetLen(len(b.pkt))
	b.msg.Iov = &b.iov
	b.msg.SetIovlen(1)
	b.msg.Control = &b.oob[0]
	b.msg.SetControllen(len(b.oob))
	_, _, e := unix.RawSyscall(unix.SYS_SENDMSG, fd, uintptr(unsafe.Pointer(&b.msg)), 0)
	b.serr = e
	return e != unix.EAGAIN
}

// mmsgBatch is how many messages a reader takes per recvmmsg.
const mmsgBatch = 32

// mmsgBufLen fits any ICMP error with a quote and RFC 4884 extensions.
const mmsgBufLen = 2048

// receiver is a shared socket's recvmmsg scratch, used by its reader only.
type receiver struct {
	hdrs  [mmsgBatch]unix.Mmsghdr
	iovs  [mmsgBatch]unix.Iovec
	names [mmsgBatch]unix.RawSockaddrInet6
	bufs  []byte // mmsgBatch × mmsgBufLen
	oobs  []byte // mmsgBatch × oobSize
	m     message
}

func newReceiver() *receiver {
	return &receiver{bufs: make([]byte, mmsgBatch*mmsgBufLen), oobs: make([]byte, mmsgBatch*oobSize)}
}

// read takes up to mmsgBatch messages with recvmmsg(flags) and calls f on
// each; it returns how many it read and the call's error (EAGAIN when the
// queue is empty), 0 for none.
func (rv *receiver) read(fd int, flags int, f func(m *message)) (int, unix.Errno) {
	for i := range rv.hdrs {
		iov := &rv.iovs[i]
		iov.Base = &rv.bufs[i*mmsgBufLen]
		iov.SetLen(mmsgBufLen)
		h := &rv.hdrs[i].Hdr
		h.Name, h.Namelen = (*byte)(unsafe.Pointer(&rv.names[i])), unix.SizeofSockaddrInet6
		h.Iov = iov
		h.SetIovlen(1)
		h.Control = &rv.oobs[i*oobSize]
		h.SetControllen(oobSize)
		h.Flags = 0
	}
	n, _, e := unix.RawSyscall6(unix.SYS_RECVMMSG, uintptr(fd), uintptr(unsafe.Pointer(&rv.hdrs[0])), mmsgBatch,
		uintptr(flags|unix.MSG_DONTWAIT), 0, 0)
	if e != 0 {
		return 0, e
	}
	m := &rv.m
	for i := range int(n) {
		h := &rv.hdrs[i]
		data := rv.bufs[i*mmsgBufLen : i*mmsgBufLen+min(int(h.Len), mmsgBufLen)]
		oob := rv.oobs[i*oobSize : i*oobSize+min(int(h.Hdr.Controllen), oobSize)]
		parseMessage(m, data, &rv.names[i], h.Hdr.Namelen, oob, flags&unix.MSG_ERRQUEUE != 0)
		f(m)
	}
	return int(n), 0
}

// parseMessage fills m from one received message without allocating.
// Truncated control data is parsed as far as it goes: a missing offender
// makes the caller drop the message, a missing timestamp makes it use the
// user-space clock.
func parseMessage(m *message, data []byte, name *unix.RawSockaddrInet6, namelen uint32, oob []byte, isErr bool) {
	*m = message{data: data, isErr: isErr}
	if namelen >= 2 {
		switch name.Family {
		case unix.AF_INET:
			sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(name))
			m.from = netip.AddrFrom4(sa.Addr)
			m.fromPort = binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&sa.Port))[:])
		case unix.AF_INET6:
			m.from = netip.AddrFrom16(name.Addr)
			m.fromPort = binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&name.Port))[:])
		}
	}
	for len(oob) >= unix.SizeofCmsghdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < unix.SizeofCmsghdr || l > len(oob) {
			return
		}
		d := oob[unix.CmsgLen(0):l]
		switch {
		case h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && len(d) >= 16:
			sec := int64(binary.NativeEndian.Uint64(d[0:8]))
			nsec := int64(binary.NativeEndian.Uint64(d[8:16]))
			m.kernelTS = time.Unix(sec, nsec)
		case (h.Level == unix.SOL_IP && h.Type == unix.IP_RECVERR) ||
			(h.Level == unix.SOL_IPV6 && h.Type == unix.IPV6_RECVERR):
			if len(d) >= int(unsafe.Sizeof(unix.SockExtendedErr{})) {
				m.ee = *(*unix.SockExtendedErr)(unsafe.Pointer(&d[0]))
				m.offender = offender(d[unsafe.Sizeof(unix.SockExtendedErr{}):])
			}
		}
		next := unix.CmsgSpace(l - unix.CmsgLen(0))
		if next > len(oob) {
			return
		}
		oob = oob[next:]
	}
}
