package hub

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// pool is the hub's writers: a few goroutines that write the connections
// started with Conn.Start, so that an idle connection costs no goroutine.
// A connection is handled by one writer at a time (Conn.sched).
type pool struct {
	h    *Hub
	mu   sync.Mutex
	runq []*Conn
	wake chan struct{}
	quit chan struct{}
	wg   sync.WaitGroup
	n    int // writers

	// A writer that has worked for a slice without stopping rests until
	// another writer wakes it (see breathe).
	resting atomic.Int32
	rest    chan struct{}

	stopOnce sync.Once
}

func newPool(h *Hub) *pool {
	n := h.cfg.Writers
	if n == 0 {
		n = max(2, runtime.GOMAXPROCS(0))
	}
	p := &pool{h: h, n: n, wake: make(chan struct{}, n), quit: make(chan struct{}), rest: make(chan struct{})}
	for range n {
		p.wg.Go(p.work)
	}
	return p
}

// schedule queues c for a writer unless it is queued or being written.
func (p *pool) schedule(c *Conn) {
	if !c.sched.CompareAndSwap(false, true) {
		return
	}
	p.mu.Lock()
	p.runq = append(p.runq, c)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// retryLater schedules c again after d, once a writer found its socket
// full.
func (p *pool) retryLater(c *Conn, d time.Duration) {
	time.AfterFunc(d, func() {
		c.sched.Store(false)
		p.schedule(c)
	})
}

func (p *pool) pop() *Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.runq) == 0 {
		return nil
	}
	c := p.runq[0]
	p.runq[0] = nil
	p.runq = p.runq[1:]
	if len(p.runq) == 0 {
		p.runq = p.runq[:0:0] // let the backing array go after a burst
	}
	return c
}

func (p *pool) work() {
	slice := time.Now()
	for {
		c := p.pop()
		if c == nil {
			select {
			case <-p.wake:
				slice = time.Now()
				continue
			case <-p.quit:
				return
			}
		}
		p.handle(c)
		if p.resting.Load() > 0 {
			select {
			case p.rest <- struct{}{}:
			default:
			}
		}
		if time.Since(slice) >= breatheEvery {
			p.breathe()
			slice = time.Now()
		}
	}
}

// breatheEvery is how long a writer works without a pause during a long
// fan-out.
const breatheEvery = time.Millisecond

// breathe pauses a writer that has worked for breatheEvery while others
// go on, until one of them has handled a connection (tens of
// microseconds). The Go scheduler looks for network events when a
// processor runs out of goroutines, or else only every 10 ms; while the
// writers keep every processor busy writing a fan-out to thousands of
// streams, a publish request would wait that long, or longer. A writer
// stepping aside lets its processor look, so requests are answered within
// about a millisecond during a fan-out. One writer at least keeps writing.
func (p *pool) breathe() {
	if int(p.resting.Add(1)) >= p.n {
		p.resting.Add(-1)
		return
	}
	select {
	case <-p.rest:
	case <-p.quit:
	}
	p.resting.Add(-1)
}

// handle runs one step of c's stream.
func (p *pool) handle(c *Conn) {
	s := c.s
	if s == nil {
		c.sched.Store(false)
		return
	}
	if reason := s.step(); reason != "" {
		c.finish(reason)
		return // c stays marked scheduled: nothing is written after the end
	}
	if s.wr != nil {
		// The socket is full: try again later, later still each time
		// nothing was taken. Armed only now, when this writer no longer
		// touches s, so that the retry cannot run step while this one
		// still does.
		p.retryLater(c, s.retryIn())
		return // retryLater owns the next schedule
	}
	c.sched.Store(false)
	if c.hasWork() {
		p.schedule(c)
	}
}

// stop ends the writers; it may be called more than once.
func (p *pool) stop() {
	p.stopOnce.Do(func() { close(p.quit) })
	p.wg.Wait()
}
