package media

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// fakeClock is a settable clock for PortPool.now.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTestPool(t *testing.T, lo, hi int, quarantine time.Duration) (*PortPool, *fakeClock) {
	t.Helper()
	p, err := NewPortPool(lo, hi, quarantine)
	if err != nil {
		t.Fatal(err)
	}
	c := &fakeClock{t: time.Unix(1000, 0)}
	p.now = c.now
	return p, c
}

func portOf(c *net.UDPConn) int { return int(c.LocalAddr().(*net.UDPAddr).AddrPort().Port()) }

func listen(t *testing.T, p *PortPool) *net.UDPConn {
	t.Helper()
	c, err := p.Listen(loopback)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestNewPortPool(t *testing.T) {
	tests := []struct {
		lo, hi int
		q      time.Duration
		n      int // ports; 0 means an error
	}{
		{20000, 29999, 0, 5000},
		{20001, 20002, 0, 1},
		{20000, 20001, 0, 1},
		{1024, 65535, time.Second, 32256},
		{1023, 2000, 0, 0},
		{2000, 65536, 0, 0},
		{3000, 3000, 0, 0},
		{3000, 2000, 0, 0},
		{3001, 3001, 0, 0},
		{3000, 4000, -time.Second, 0},
	}
	for _, tt := range tests {
		p, err := NewPortPool(tt.lo, tt.hi, tt.q)
		if tt.n == 0 {
			if !errors.Is(err, ErrInvalidRange) {
				t.Errorf("NewPortPool(%d, %d, %v) err = %v, want ErrInvalidRange", tt.lo, tt.hi, tt.q, err)
			}
			continue
		}
		if err != nil || p.Len() != tt.n {
			t.Errorf("NewPortPool(%d, %d, %v) = %v ports, %v; want %d", tt.lo, tt.hi, tt.q, p.Len(), err, tt.n)
		}
	}
}

func TestPortPoolRoundRobin(t *testing.T) {
	p, clock := newTestPool(t, 21001, 21009, time.Second) // 21002..21008
	seen := map[int]bool{}
	var conns []*net.UDPConn
	for range p.Len() {
		c := listen(t, p)
		port := portOf(c)
		if port%2 != 0 || port < 21002 || port > 21008 || seen[port] {
			t.Fatalf("got port %d; seen %v", port, seen)
		}
		seen[port] = true
		conns = append(conns, c)
	}
	if p.InUse() != p.Len() {
		t.Fatalf("InUse = %d, want %d", p.InUse(), p.Len())
	}
	if _, err := p.Listen(loopback); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("full pool: err = %v, want ErrNoPorts", err)
	}

	// Free the first two. Within the quarantine neither comes back.
	for _, c := range conns[:2] {
		_ = c.Close()
		p.Release(portOf(c))
	}
	if p.InUse() != p.Len()-2 {
		t.Fatalf("InUse = %d after two releases", p.InUse())
	}
	clock.advance(999 * time.Millisecond)
	if _, err := p.Listen(loopback); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("in quarantine: err = %v, want ErrNoPorts", err)
	}
	// After it, they come back in turn.
	clock.advance(time.Millisecond)
	for _, want := range conns[:2] {
		if got := portOf(listen(t, p)); got != portOf(want) {
			t.Fatalf("got port %d, want %d", got, portOf(want))
		}
	}
}

func TestPortPoolNoImmediateReuse(t *testing.T) {
	p, _ := newTestPool(t, 21020, 21026, 0) // four ports, no quarantine
	a := listen(t, p)
	_ = a.Close()
	p.Release(portOf(a))
	if b := listen(t, p); portOf(b) == portOf(a) {
		t.Fatalf("port %d reused at once", portOf(a))
	}
}

func TestPortPoolSkipsPortsHeldElsewhere(t *testing.T) {
	p, _ := newTestPool(t, 21030, 21032, 0)
	other, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 21030})
	if err != nil {
		t.Fatalf("port 21030 is taken by another process: %v", err)
	}
	defer func() { _ = other.Close() }()
	if got := portOf(listen(t, p)); got != 21032 {
		t.Fatalf("got port %d, want 21032", got)
	}
	if p.InUse() != 1 {
		t.Fatalf("InUse = %d, want 1", p.InUse())
	}
	if _, err := p.Listen(loopback); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("err = %v, want ErrNoPorts", err)
	}
}

func TestPortPoolBadAddress(t *testing.T) {
	p, _ := newTestPool(t, 21040, 21048, 0)
	_, err := p.Listen(netip.MustParseAddr("192.0.2.1")) // TEST-NET-1, not local
	if err == nil || errors.Is(err, ErrNoPorts) {
		t.Fatalf("err = %v, want the bind error", err)
	}
	if p.InUse() != 0 {
		t.Fatalf("InUse = %d after a failed bind", p.InUse())
	}
}

func TestPortPoolReleaseIgnoresStrangers(t *testing.T) {
	p, _ := newTestPool(t, 21050, 21052, 0)
	listen(t, p)
	for _, port := range []int{21049, 21051, 21053, 21052, 80} {
		p.Release(port)
	}
	if p.InUse() != 1 {
		t.Fatalf("InUse = %d, want 1", p.InUse())
	}
}

func TestPortPoolConcurrent(t *testing.T) {
	p, _ := newTestPool(t, 21100, 21199, 0)
	var wg sync.WaitGroup
	ports := make(chan int, 20*5)
	for range 20 {
		wg.Go(func() {
			for range 5 {
				c, err := p.Listen(loopback)
				if err != nil {
					t.Error(err)
					return
				}
				ports <- portOf(c)
				_ = c.Close()
				p.Release(portOf(c))
			}
		})
	}
	wg.Wait()
	close(ports)
	if p.InUse() != 0 {
		t.Fatalf("InUse = %d, want 0", p.InUse())
	}
	for port := range ports {
		if port%2 != 0 || port < 21100 || port > 21198 {
			t.Fatalf("port %d outside the pool", port)
		}
	}
}
