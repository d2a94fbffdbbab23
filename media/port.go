package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"
)

// PortPool hands out RTP sockets bound to even ports of a range. RTP
// belongs on an even port, RTCP on the odd one above it (RFC 3550 s.11).
//
// Ports are handed out round-robin, and a released port rests for a
// quarantine before it is used again, so late packets of an ended call
// reach a closed port rather than the next call. Ports another process
// holds are skipped. A PortPool is safe for concurrent use.
type PortPool struct {
	first, last int // the pool is the even ports first..last
	quarantine  time.Duration
	now         func() time.Time // the clock; replaced in tests

	mu       sync.Mutex
	next     int         // index of the next port to try
	taken    []bool      // by index: handed out and not yet released
	released []time.Time // by index: when last released; zero if never
	inUse    int
}

// NewPortPool returns a pool of the even ports from lo to hi inclusive.
// An odd lo starts the pool at lo+1; the range must lie within 1024-65535
// and hold at least one even port. quarantine is how long a released port
// rests before it is handed out again.
func NewPortPool(lo, hi int, quarantine time.Duration) (*PortPool, error) {
	first, last := lo+lo&1, hi-hi&1
	switch {
	case lo < 1024 || hi > 65535:
		return nil, fmt.Errorf("%w: %d-%d is outside 1024-65535", ErrInvalidRange, lo, hi)
	case lo >= hi || first > last:
		return nil, fmt.Errorf("%w: %d-%d holds no even port", ErrInvalidRange, lo, hi)
	case quarantine < 0:
		return nil, fmt.Errorf("%w: negative quarantine %v", ErrInvalidRange, quarantine)
	}
	n := (last-first)/2 + 1
	return &PortPool{
		first:      first,
		last:       last,
		quarantine: quarantine,
		now:        time.Now,
		taken:      make([]bool, n),
		released:   make([]time.Time, n),
	}, nil
}

// Listen binds a UDP socket on ip and the next free even port of the
// pool. An invalid ip (the zero netip.Addr) binds every local address. A
// port another process holds is skipped; any other bind failure, such as
// an ip that is not local, is returned at once. ErrNoPorts means every
// port is in use or resting.
func (p *PortPool) Listen(ip netip.Addr) (*net.UDPConn, error) {
	for tries := len(p.taken); tries > 0; {
		i, skipped, ok := p.reserve(tries)
		tries -= skipped
		if !ok {
			break
		}
		port := p.first + 2*i
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port))))
		if err == nil {
			return conn, nil
		}
		p.unreserve(i)
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%w in %d-%d", ErrNoPorts, p.first, p.last)
}

// reserve marks the next available port taken and returns its index and
// how many candidates it looked at, at most tries. The bind happens
// after, without the lock.
func (p *PortPool) reserve(tries int) (i, looked int, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for looked < tries {
		i = p.next
		p.next = (p.next + 1) % len(p.taken)
		looked++
		if p.taken[i] || p.resting(i, now) {
			continue
		}
		p.taken[i] = true
		p.inUse++
		return i, looked, true
	}
	return 0, looked, false
}

// unreserve undoes reserve after a failed bind. The port does not rest:
// it was never used.
func (p *PortPool) unreserve(i int) {
	p.mu.Lock()
	p.taken[i] = false
	p.inUse--
	p.mu.Unlock()
}

func (p *PortPool) resting(i int, now time.Time) bool {
	r := p.released[i]
	return !r.IsZero() && now.Sub(r) < p.quarantine
}

// Release returns port to the pool once its socket is closed; it is handed
// out again after the quarantine. Ports outside the pool and ports not
// handed out are ignored.
func (p *PortPool) Release(port int) {
	if port < p.first || port > p.last || port&1 != 0 {
		return
	}
	i := (port - p.first) / 2
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.taken[i] {
		return
	}
	p.taken[i] = false
	p.released[i] = p.now()
	p.inUse--
}

// Len returns the number of ports in the pool.
func (p *PortPool) Len() int { return len(p.taken) }

// InUse returns the number of ports handed out and not yet released.
func (p *PortPool) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inUse
}
