//go:build linux

package lab

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Ping sends ICMP echo requests from namespace ns to dst and measures each
// answer: the yardstick the end-to-end tests compare the product with. The
// receive time is the kernel's timestamp of the answer, so the test
// process's scheduling and garbage collection only touch the send side (a
// clock read right before the send). With a TTL set, routers answer with
// time exceeded, read from the socket's error queue.
//
// It uses a ping socket (ping_group_range allows it in the client namespace;
// elsewhere root may need it raised).
func (l *Lab) Ping(ctx context.Context, ns string, dst netip.Addr, o PingOptions) (PingResult, error) {
	o = o.withDefaults()
	if o.Count > 1<<16 {
		return PingResult{}, fmt.Errorf("ping: count %d above %d", o.Count, 1<<16)
	}
	p, err := openPinger(ns, dst, o.TTL)
	if err != nil {
		return PingResult{}, err
	}
	defer p.f.Close()

	sent := make([]atomic.Int64, o.Count) // send times, Unix ns; 0: not sent
	var (
		nsent      atomic.Int64
		sendErr    error // first failed send; read after senderDone
		senderDone = make(chan struct{})
	)
	go func() { // ends after Count sends or when ctx ends
		defer close(senderDone)
		tick := time.NewTicker(o.Interval)
		defer tick.Stop()
		for seq := range o.Count {
			if seq > 0 {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
			sent[seq].Store(nowNS())
			if err := p.send(seq); err != nil {
				sent[seq].Store(0)
				if sendErr == nil {
					sendErr = err
				}
			} else {
				nsent.Add(1)
			}
		}
	}()

	replies := make([]PingReply, 0, o.Count)
	got := make([]bool, o.Count)
	var end time.Time // when to stop waiting; set once the sender is done
	for {
		if end.IsZero() {
			select {
			case <-senderDone:
				end = time.Now().Add(o.Timeout)
			default:
			}
		}
		if !end.IsZero() && (time.Now().After(end) || len(replies) == int(nsent.Load())) {
			break
		}
		if ctx.Err() != nil {
			<-senderDone
			return PingResult{}, ctx.Err()
		}
		// Short deadlines keep the loop checking the sender and ctx.
		_ = p.f.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		r, ok, err := p.receive()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			<-senderDone
			return PingResult{}, fmt.Errorf("ping %s from %s: %w", dst, ns, err)
		}
		if !ok || r.Seq >= o.Count || got[r.Seq] {
			continue // not ours, or a duplicate
		}
		tx := sent[r.Seq].Load()
		if tx == 0 {
			continue
		}
		got[r.Seq] = true
		r.RTT = time.Duration(r.rx - tx)
		replies = append(replies, r.PingReply)
	}
	<-senderDone
	if nsent.Load() == 0 && sendErr != nil {
		return PingResult{}, fmt.Errorf("ping %s from %s: %w", dst, ns, sendErr)
	}
	slices.SortFunc(replies, func(a, b PingReply) int { return a.Seq - b.Seq })
	return PingResult{Sent: int(nsent.Load()), Replies: replies}, nil
}

func (o PingOptions) withDefaults() PingOptions {
	if o.Count <= 0 {
		o.Count = 10
	}
	if o.Interval <= 0 {
		o.Interval = 10 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	return o
}

type pinger struct {
	f   *os.File
	dst netip.Addr
	v6  bool
	buf [1500]byte
	oob [512]byte
}

func openPinger(ns string, dst netip.Addr, ttl int) (*pinger, error) {
	p := &pinger{dst: dst, v6: dst.Is6() && !dst.Is4In6()}
	family, proto := unix.AF_INET, unix.IPPROTO_ICMP
	if p.v6 {
		family, proto = unix.AF_INET6, unix.IPPROTO_ICMPV6
	}
	var fd int
	err := inNetns(ns, func() error {
		var err error
		fd, err = unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("ping socket in %s: %w", ns, err)
	}
	opts := [][3]int{{unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1}, {unix.IPPROTO_IP, unix.IP_RECVERR, 1}}
	if ttl > 0 {
		opts = append(opts, [3]int{unix.IPPROTO_IP, unix.IP_TTL, ttl})
	}
	var sa unix.Sockaddr
	if !p.v6 {
		sa = &unix.SockaddrInet4{Addr: dst.Unmap().As4()}
	} else {
		opts = [][3]int{{unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1}, {unix.IPPROTO_IPV6, unix.IPV6_RECVERR, 1}}
		if ttl > 0 {
			opts = append(opts, [3]int{unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, ttl})
		}
		sa = &unix.SockaddrInet6{Addr: dst.As16()}
	}
	for _, o := range opts {
		if err := unix.SetsockoptInt(fd, o[0], o[1], o[2]); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("ping socket option %d/%d: %w", o[0], o[1], err)
		}
	}
	if err := unix.Connect(fd, sa); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("ping connect %s: %w", dst, err)
	}
	p.f = os.NewFile(uintptr(fd), "ping "+dst.String())
	return p, nil
}

// send writes echo request seq. The kernel fills in the identifier and the
// checksum of a ping socket's messages.
func (p *pinger) send(seq int) error {
	var msg [24]byte
	msg[0] = 8 // ICMP echo request
	if p.v6 {
		msg[0] = 128
	}
	binary.BigEndian.PutUint16(msg[6:], uint16(seq))
	copy(msg[8:], "pingerplot-lab!!")
	rc, err := p.f.SyscallConn()
	if err != nil {
		return err
	}
	var werr error
	for range 3 {
		if err := rc.Write(func(fd uintptr) bool {
			_, werr = unix.Write(int(fd), msg[:])
			return werr != unix.EAGAIN
		}); err != nil {
			return err
		}
		// An ICMP error that arrived since the receiver last read the
		// error queue is reported, once, by the next send instead of
		// sending: send again.
		if !isAsyncErr(werr) {
			break
		}
	}
	return werr
}

// isAsyncErr tells the errors an ICMP error leaves pending on a socket: the
// next send or receive returns it once, and the error queue has the details.
func isAsyncErr(err error) bool {
	return err == unix.EHOSTUNREACH || err == unix.ENETUNREACH || err == unix.ECONNREFUSED || err == unix.EMSGSIZE
}

type pingAnswer struct {
	PingReply
	rx int64 // kernel receive time, Unix ns
}

// receive waits for one answer: an echo reply, or an ICMP error from the
// error queue. ok is false for messages that are neither.
func (p *pinger) receive() (a pingAnswer, ok bool, err error) {
	rc, err := p.f.SyscallConn()
	if err != nil {
		return a, false, err
	}
	var n, oobn int
	var errQueue bool
	var rerr error
	err = rc.Read(func(fd uintptr) bool {
		// The error queue first: errors raise EPOLLERR, which wakes readers.
		for _, flags := range []int{unix.MSG_ERRQUEUE, 0} {
			n, oobn, _, _, rerr = unix.Recvmsg(int(fd), p.buf[:], p.oob[:], flags|unix.MSG_DONTWAIT)
			if rerr != unix.EAGAIN {
				errQueue = flags != 0
				return true
			}
		}
		return false
	})
	if err != nil {
		return a, false, err
	}
	if isAsyncErr(rerr) {
		return a, false, nil // reported again by the error queue
	}
	if rerr != nil {
		return a, false, rerr
	}
	if n < 8 {
		return a, false, nil
	}
	a.Seq = int(binary.BigEndian.Uint16(p.buf[6:8]))
	a.rx = nowNS()
	cmsgs, err := unix.ParseSocketControlMessage(p.oob[:oobn])
	if err != nil {
		return a, false, nil
	}
	for _, m := range cmsgs {
		switch {
		case m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_TIMESTAMPNS &&
			len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})):
			ts := (*unix.Timespec)(unsafe.Pointer(&m.Data[0]))
			if ts.Nano() > 0 {
				a.rx = ts.Nano()
			}
		case errQueue && (m.Header.Level == unix.IPPROTO_IP && m.Header.Type == unix.IP_RECVERR ||
			m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_RECVERR):
			a.From, a.TimeExceeded = parseExtendedErr(m.Data)
		}
	}
	if !errQueue {
		if p.buf[0] != 0 && p.buf[0] != 129 { // echo reply, IPv4 or IPv6
			return a, false, nil
		}
		a.Echo, a.From = true, p.dst
	}
	return a, a.From.IsValid(), nil
}

// parseExtendedErr reads struct sock_extended_err and the offender address
// that follows it.
func parseExtendedErr(b []byte) (from netip.Addr, timeExceeded bool) {
	const (
		sizeofErr       = 16
		originICMP      = 2
		originICMP6     = 3
		icmpTimeExceed  = 11
		icmp6TimeExceed = 3
	)
	if len(b) < sizeofErr+4 {
		return netip.Addr{}, false
	}
	origin, typ := b[4], b[5]
	timeExceeded = origin == originICMP && typ == icmpTimeExceed || origin == originICMP6 && typ == icmp6TimeExceed
	off := b[sizeofErr:]
	switch binary.NativeEndian.Uint16(off) {
	case unix.AF_INET:
		if len(off) >= 8 {
			from = netip.AddrFrom4([4]byte(off[4:8]))
		}
	case unix.AF_INET6:
		if len(off) >= 24 {
			from = netip.AddrFrom16([16]byte(off[8:24]))
		}
	}
	return from, timeExceeded
}
