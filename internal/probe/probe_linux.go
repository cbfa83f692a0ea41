//go:build linux

package probe

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// New returns the Linux prober. Sockets are opened lazily per mode and
// family; call Prepare to open them early and get a clear error.
func New(cfg Config) (Prober, error) {
	var m [4]byte
	_, _ = rand.Read(m[:])
	p := &linuxProber{
		cfg:      cfg,
		now:      cfg.TimeNow,
		magic:    binary.BigEndian.Uint32(m[:]),
		id:       binary.BigEndian.Uint16(m[1:3]),
		shared:   make(map[sockKey]*sharedSock),
		srcCache: make(map[netip.Addr]netip.Addr),
		closing:  make(chan struct{}),
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p, nil
}

type sockKind uint8

const (
	kindPing    sockKind = iota // unprivileged ICMP "ping" socket
	kindUDP                     // unprivileged UDP socket with the error queue
	kindRawICMP                 // raw ICMP socket: sends ICMP probes, receives every ICMP error
	kindRawUDP                  // raw UDP socket: sends crafted UDP probes (replies arrive on kindRawICMP)
)

type sockKey struct {
	kind sockKind
	v6   bool
	flow uint16 // ping and unprivileged UDP sockets: one per flow (flow_linux.go)
}

type linuxProber struct {
	cfg   Config
	now   func() time.Time
	magic uint32 // payload token that marks this prober's probes
	id    uint16 // ICMP identifier for raw sockets (ping sockets get theirs from the kernel)

	mu       sync.Mutex
	shared   map[sockKey]*sharedSock
	srcCache map[netip.Addr]netip.Addr // source address per destination, for raw UDP checksums
	why      []string                  // backend decisions, for Backend()
	closed   bool
	closing  chan struct{}
	tcp      *tcpSet // TCP probes in flight, made by the first
	batches  batchFree
	readers  sync.WaitGroup // one reader goroutine per shared socket
}

// sharedSock is a socket many probes use at once.
type sharedSock struct {
	f       *os.File // owns the descriptor; closing it ends the reader
	rc      syscall.RawConn
	v6      bool
	kind    sockKind
	pend    *ltable
	port    uint16      // local port (UDP), or the kernel-chosen ICMP identifier (ping)
	rawRx   *sharedSock // kindRawUDP: the raw ICMP socket its replies arrive on
	reserve int         // kindRawUDP: the ordinary UDP socket holding the source port (-1 if none)
	// kindRawUDP: the source port of each flow above 0 and the ordinary
	// UDP sockets holding them (flow_linux.go); guarded by the prober's mu.
	flowPorts map[uint16]uint16
	flowRes   []int
	df        bool // sends DontFragment probes only (df_linux.go)

	// Used only on the reader goroutine.
	rv     *receiver
	onMsg  func(*message) // handles one message read at wakeNow
	wakeAt time.Time
	// rawUDP is the raw UDP socket whose answers arrive on this raw ICMP
	// socket, once opened.
	rawUDP atomic.Pointer[sharedSock]
}

func (p *linuxProber) Backend() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.why) == 0 {
		return "linux (no sockets opened yet)"
	}
	return strings.Join(p.why, "; ")
}

// Prepare opens the sockets mode needs for the given family, returning an
// error that tells the user what to do when the system refuses.
func (p *linuxProber) Prepare(mode Mode, v6, _ bool) error {
	switch mode {
	case ICMP:
		_, err := p.icmpSock(v6, 0)
		return err
	case UDP:
		_, err := p.udpSock(v6, 0)
		return err
	case TCP:
		return p.checkTCP(v6)
	}
	return fmt.Errorf("unknown probe mode %v", mode)
}

func (p *linuxProber) Probe(ctx context.Context, pr Probe) (Reply, error) {
	var r Reply
	err := p.ProbeAll(ctx, []Probe{pr}, 0, func(_ int, rep Reply) bool { r = rep; return true })
	return r, err
}

// sendPort is the port sendmsg is given: the destination port for UDP, and
// 0 for ICMP and raw sockets (whose headers carry any ports themselves).
func sendPort(s *sharedSock, pr Probe) uint16 {
	if s.kind == kindUDP {
		return pr.Port
	}
	return 0
}

// sendError explains a probe the local system refused to send, in the
// user's terms: at send time, or later from the error queue (a local
// error, such as a route that went away).
func sendError(err error, pr Probe) error {
	switch {
	case errors.Is(err, unix.ENETUNREACH):
		return fmt.Errorf("send to %v: no route to that network from this host (check the routing table): %w", pr.Dst, err)
	case errors.Is(err, unix.EHOSTUNREACH):
		return fmt.Errorf("send to %v: no route to that host from this host (an unreachable route, or no neighbour answers on the local link): %w", pr.Dst, err)
	case errors.Is(err, unix.EMSGSIZE):
		return fmt.Errorf("send to %v: packet larger than the path MTU; use a smaller -s/--size: %w", pr.Dst, err)
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		return fmt.Errorf("send to %v: refused by the local system (firewall or broadcast address?): %w", pr.Dst, err)
	}
	return fmt.Errorf("send %v probe to %v (ttl %d): %w", pr.Mode, pr.Dst, pr.TTL, err)
}

func (p *linuxProber) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.closing)
	p.mu.Unlock()
	// Close the sockets without holding p.mu: closing a file waits for a
	// read in progress on it, and a reader matching a raw socket's message
	// takes p.mu (handleRaw looks up the raw UDP socket), so holding it here
	// could deadlock.
	p.mu.Lock()
	shared, tcp := p.shared, p.tcp
	p.shared, p.tcp = nil, nil
	p.mu.Unlock()
	if tcp != nil {
		tcp.close()
	}
	for _, s := range shared {
		s.f.Close()
		if s.reserve >= 0 {
			unix.Close(s.reserve)
		}
		for _, fd := range s.flowRes {
			unix.Close(fd)
		}
	}
	p.readers.Wait()
	return nil
}

func (p *linuxProber) note(format string, args ...any) {
	p.why = append(p.why, fmt.Sprintf(format, args...))
}

func family(v6 bool) string {
	if v6 {
		return "IPv6"
	}
	return "IPv4"
}
