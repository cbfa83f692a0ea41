//go:build linux

package probe

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// ProbeAll sends a batch from the calling goroutine and collects the answers
// on it too: one channel and one timer for the whole batch instead of a
// goroutine, a channel and a timer per probe. In the lab that halved the CPU
// a round costs. TCP probes, which each own a socket, wait in the prober's
// TCP set (tcp_linux.go) and are answered the same way.
func (p *linuxProber) ProbeAll(ctx context.Context, ps []Probe, gap time.Duration, onReply func(i int, r Reply) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-p.closing:
		return ErrClosed
	default:
	}
	b := p.batches.getBatch(ps, onReply)
	gen := b.generation()
	defer p.batches.putBatch(b)

	for i, pr := range ps {
		if b.stopped {
			return nil
		}
		if i > 0 && gap > 0 {
			if err := gapWait(ctx, p.closing, gap); err != nil {
				return err
			}
		}
		pr, err := normalize(pr)
		if err != nil {
			b.resolve(i, Reply{Kind: Failed, Err: err})
			continue
		}
		if pr.Mode == TCP {
			ts, err := p.tcpSetFor()
			if err != nil {
				return err
			}
			fd, tok, sent, err := ts.start(b, gen, i, pr, p.now)
			if err == ErrClosed {
				return err
			}
			if err != nil {
				b.resolve(i, Reply{Kind: Failed, Sent: sent, Err: err})
				continue
			}
			b.wait[i] = lwait{tcp: ts, fd: int32(fd), tok: tok, sent: sent, deadline: sent.Add(min(pr.Timeout, tcpMaxWait))}
			continue
		}
		s, err := p.sharedFor(pr)
		if err != nil {
			b.resolve(i, Reply{Kind: Failed, Err: err})
			continue
		}
		fid, err := p.flowID(s, pr.Flow)
		if err != nil {
			b.resolve(i, Reply{Kind: Failed, Err: err})
			continue
		}
		tbl := s.pend
		seq, ok := tbl.add(lpend{dst: pr.Dst, port: pr.Port, ttl: uint8(pr.TTL), idx: int32(i), b: b, gen: gen, flowID: fid})
		if !ok {
			b.resolve(i, Reply{Kind: Failed, Err: errors.New("too many probes in flight on one socket")})
			continue
		}
		if err := p.build(s, b, pr, seq, fid); err != nil {
			tbl.takeOwned(seq, b, gen)
			b.resolve(i, Reply{Kind: Failed, Err: err})
			continue
		}
		sent, err := p.send(s, b, tbl, seq)
		if err != nil {
			// Resolved here unless an answer (a local error from the
			// error queue) already took it.
			mtu := p.sendMTU(err, pr)
			if p, ok := tbl.peek(seq); ok && p.b == b && p.gen == gen {
				tbl.takeOwned(seq, b, gen)
				b.resolve(i, Reply{Kind: Failed, Sent: sent, Err: sendError(err, pr), MTU: mtu})
			}
			continue
		}
		b.wait[i] = lwait{tbl: tbl, seq: seq, sent: sent, deadline: sent.Add(pr.Timeout)}
	}

	return b.run(ctx, p.closing)
}

// send sends the packet in b's scratch, retrying when a pending socket
// error (from an earlier probe's ICMP answer) made the kernel refuse it,
// and waiting in the netpoller while the send buffer is full. The send
// time is written into the table just before each attempt, under the
// table's lock, so the reader always pairs an answer with the attempt
// that went out.
func (p *linuxProber) send(s *sharedSock, b *lbatch, tbl *ltable, seq uint16) (time.Time, error) {
	var t time.Time
	tooBig := 0
	// Each failed attempt consumes one pending error, but under load
	// other probes' answers keep arriving, so allow many quick attempts.
	for range 100 {
		t = p.now()
		tbl.stamp(seq, t)
		if err := s.rc.Write(b.send); err != nil {
			return time.Time{}, err
		}
		switch e := b.serr; {
		case e == 0:
			return t, nil
		case e == unix.EMSGSIZE && s.df && tooBig < dfRetries:
			tooBig++ // maybe a pending "fragmentation needed" (df_linux.go)
		case !isICMPErr(e):
			return t, e
		}
	}
	return t, b.serr
}

// normalize validates a probe and fills its defaults.
func normalize(pr Probe) (Probe, error) {
	if !pr.Dst.IsValid() {
		return pr, errors.New("no destination address")
	}
	pr.Dst = pr.Dst.Unmap()
	if pr.TTL < 1 || pr.TTL > 255 {
		return pr, fmt.Errorf("TTL %d out of range 1-255", pr.TTL)
	}
	if pr.Timeout <= 0 {
		pr.Timeout = time.Second
	}
	switch pr.Mode {
	case ICMP, UDP, TCP:
		return pr, nil
	}
	return pr, fmt.Errorf("unknown probe mode %v", pr.Mode)
}

// sharedFor returns the shared socket for an ICMP or UDP probe.
func (p *linuxProber) sharedFor(pr Probe) (*sharedSock, error) {
	if pr.DontFragment {
		return p.dfSock(pr.Mode, pr.Dst.Is6())
	}
	if pr.Mode == UDP {
		return p.udpSock(pr.Dst.Is6(), pr.Flow)
	}
	return p.icmpSock(pr.Dst.Is6(), pr.Flow)
}
