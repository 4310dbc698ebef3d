//go:build linux

package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// A receiver holds a range of SSE connections without a goroutine or a
// buffer per connection: a few event loops on epoll(7) read whatever is
// ready into one buffer each and decode it in place. Each connection binds
// its own source address, 127.0.0.2 to 127.0.0.254 by global index, so
// that many connections do not exhaust one address's ephemeral ports.
type receiver struct {
	cfg   recvConfig
	slots []atomic.Pointer[rconn] // by local index; the index is the epoll data
	loops []*loop
	sem   chan struct{} // bounds connects in flight

	attempted, connected, failed, closed atomic.Int64
	connectedBy                          []atomic.Int64 // by server, when there are several
	live                                 []atomic.Int64 // connected and not closed, by group

	errMu sync.Mutex
	errs  map[string]int

	stop     atomic.Bool
	loopsWG  sync.WaitGroup
	stopOnce sync.Once
}

type rconn struct {
	fd        int
	idx       int   // global index
	dialStart int64 // unix nanos
	req       []byte
	stream
}

type loop struct {
	r        *receiver
	epfd     int
	buf      []byte
	sink     sink
	lat      *hdr.Histogram // emit→receive, µs
	conn     *hdr.Histogram // connect→response head, µs
	received atomic.Int64
}

func newReceiver(cfg recvConfig) (*receiver, error) {
	r := &receiver{
		cfg:   cfg,
		slots: make([]atomic.Pointer[rconn], cfg.Hi-cfg.Lo),
		sem:   make(chan struct{}, max(cfg.Inflight, 1)),
		errs:  map[string]int{},
		live:  make([]atomic.Int64, max(cfg.Groups, 1)),
	}
	if len(cfg.Servers) == 0 {
		return nil, fmt.Errorf("receiver: no server")
	}
	if len(cfg.Servers) > 1 {
		r.connectedBy = make([]atomic.Int64, len(cfg.Servers))
	}
	for range max(cfg.Loops, 1) {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			r.shutdown()
			return nil, fmt.Errorf("epoll_create1: %w", err)
		}
		l := &loop{r: r, epfd: fd, buf: make([]byte, 64<<10), lat: newLatencyHist(), conn: newLatencyHist()}
		l.sink.record = func(ns int64) { _ = l.lat.RecordValue(max(ns/1000, 1)) }
		r.loops = append(r.loops, l)
	}
	for _, l := range r.loops {
		r.loopsWG.Go(l.run)
	}
	return r, nil
}

func (r *receiver) noteErr(err error) {
	msg := err.Error()
	if len(msg) > 160 {
		msg = msg[:160]
	}
	r.errMu.Lock()
	r.errs[msg]++
	r.errMu.Unlock()
}

// connect opens every connection and returns when each has its response
// head or has failed, or when ctx ends.
func (r *receiver) connect(ctx context.Context) {
	n := r.cfg.Hi - r.cfg.Lo
	for li := range n {
		select {
		case r.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		r.attempted.Add(1)
		if err := r.dial(li); err != nil {
			r.failed.Add(1)
			r.noteErr(err)
			<-r.sem
		}
	}
	for r.connected.Load()+r.failed.Load() < int64(n) {
		select {
		case <-time.After(5 * time.Millisecond):
		case <-ctx.Done():
			return
		}
	}
}

// sourceAddr spreads connections over 127.0.0.2 … 127.0.0.254.
func sourceAddr(i int) [4]byte { return [4]byte{127, 0, 0, byte(2 + i%253)} }

// serverOf returns the index in cfg.Servers of connection i's server.
func (r *receiver) serverOf(i int) int { return serverOf(i, r.cfg.Groups, len(r.cfg.Servers)) }

func (r *receiver) dial(li int) error {
	i := r.cfg.Lo + li
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	srv := r.cfg.Servers[r.serverOf(i)]
	if srv.Addr().IsLoopback() {
		if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: sourceAddr(i)}); err != nil {
			syscall.Close(fd)
			return fmt.Errorf("bind: %w", err)
		}
	}
	c := &rconn{fd: fd, idx: i, dialStart: time.Now().UnixNano(), req: r.cfg.Request(i)}
	c.group = int32(i % max(r.cfg.Groups, 1))
	sa := &syscall.SockaddrInet4{Addr: srv.Addr().As4(), Port: int(srv.Port())}
	if err := syscall.Connect(fd, sa); err != nil && err != syscall.EINPROGRESS && err != syscall.EINTR {
		syscall.Close(fd)
		return fmt.Errorf("connect: %w", err)
	}
	r.slots[li].Store(c)
	l := r.loops[li%len(r.loops)]
	ev := syscall.EpollEvent{Events: syscall.EPOLLOUT | syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(li)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		r.slots[li].Store(nil)
		syscall.Close(fd)
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	return nil
}

func (l *loop) run() {
	events := make([]syscall.EpollEvent, 256)
	var batch int64
	for !l.r.stop.Load() {
		n, err := syscall.EpollWait(l.epfd, events, 100)
		if err != nil {
			if err == syscall.EINTR {
				continue
			}
			l.r.noteErr(fmt.Errorf("epoll_wait: %w", err))
			return
		}
		l.sink.now = time.Now().UnixNano()
		before := l.sink.received
		for _, ev := range events[:n] {
			if c := l.r.slots[ev.Fd].Load(); c != nil && c.st != stDone {
				l.serve(c, ev.Events)
			}
		}
		if batch = l.sink.received - before; batch > 0 {
			l.received.Add(batch)
		}
	}
}

func (l *loop) serve(c *rconn, events uint32) {
	r := l.r
	if c.st == stConnecting {
		if events&(syscall.EPOLLOUT|syscall.EPOLLERR|syscall.EPOLLHUP) == 0 {
			return
		}
		if e, err := syscall.GetsockoptInt(c.fd, syscall.SOL_SOCKET, syscall.SO_ERROR); err != nil || e != 0 {
			if err == nil {
				err = syscall.Errno(e)
			}
			l.fail(c, fmt.Errorf("connect: %w", err))
			return
		}
		// A fresh socket's send buffer takes a small request whole.
		if n, err := syscall.Write(c.fd, c.req); err != nil || n != len(c.req) {
			l.fail(c, fmt.Errorf("write request: n=%d err=%v", n, err))
			return
		}
		c.req = nil
		c.st = stHead
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(c.idx - r.cfg.Lo)}
		if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_MOD, c.fd, &ev); err != nil {
			l.fail(c, fmt.Errorf("epoll_ctl: %w", err))
		}
		return
	}
	n, err := syscall.Read(c.fd, l.buf)
	if err == syscall.EAGAIN || err == syscall.EINTR {
		return
	}
	if n <= 0 {
		if err == nil {
			err = errStreamEnd
		}
		l.fail(c, err)
		return
	}
	b := l.buf[:n]
	if c.st == stHead {
		rest, done, err := c.readHead(b)
		if err != nil {
			l.fail(c, err)
			return
		}
		if !done {
			return
		}
		_ = l.conn.RecordValue(max((l.sink.now-c.dialStart)/1000, 1))
		r.connected.Add(1)
		if r.connectedBy != nil {
			r.connectedBy[r.serverOf(c.idx)].Add(1)
		}
		r.live[c.group].Add(1)
		<-r.sem
		b = rest
	}
	if err := c.readBody(b, &l.sink); err != nil {
		l.fail(c, err)
	}
}

// fail closes c. Before its response head that is a failed connect;
// after, unless the run is stopping, the server closed a live stream.
func (l *loop) fail(c *rconn, err error) {
	r := l.r
	was := c.st
	c.st = stDone
	_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	syscall.Close(c.fd)
	c.fd = -1
	if was == stConnecting || was == stHead {
		r.failed.Add(1)
		r.noteErr(err)
		<-r.sem
		return
	}
	r.live[c.group].Add(-1)
	if !r.stop.Load() {
		r.closed.Add(1)
		r.noteErr(fmt.Errorf("stream closed: %w", err))
	}
}

func (r *receiver) progress() progress {
	p := progress{
		Attempted: r.attempted.Load(), Connected: r.connected.Load(),
		Failed: r.failed.Load(), Closed: r.closed.Load(),
	}
	if r.connectedBy != nil {
		p.ConnectedBy = make([]int64, len(r.connectedBy))
		for i := range r.connectedBy {
			p.ConnectedBy[i] = r.connectedBy[i].Load()
		}
	}
	for _, l := range r.loops {
		p.Received += l.received.Load()
	}
	p.CPUSecs, _ = rusageSelf()
	return p
}

// drain waits until the connections have received the events published
// for their groups (expected[g] for group g), until no event arrived for
// idle, or until ctx ends. Then it stops the event loops and tallies.
func (r *receiver) drain(ctx context.Context, expected []int64, idle time.Duration) workerResult {
	last, lastChange := int64(-1), time.Now()
	for {
		p := r.progress()
		var want int64
		for g := range r.live {
			want += r.live[g].Load() * expected[g]
		}
		if p.Received != last {
			last, lastChange = p.Received, time.Now()
		}
		if p.Received >= want || time.Since(lastChange) > idle || ctx.Err() != nil {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	doneAt := time.Now()
	r.shutdown()
	return r.tally(expected, doneAt)
}

// shutdown stops the event loops; the connections stay open until close.
func (r *receiver) shutdown() {
	r.stopOnce.Do(func() {
		r.stop.Store(true)
		r.loopsWG.Wait()
	})
}

// close shuts down and closes every connection.
func (r *receiver) close() {
	r.shutdown()
	for li := range r.slots {
		if c := r.slots[li].Load(); c != nil && c.fd >= 0 {
			syscall.Close(c.fd)
			c.fd = -1
		}
	}
	for _, l := range r.loops {
		syscall.Close(l.epfd)
	}
}

// tally computes the result after shutdown.
func (r *receiver) tally(expected []int64, doneAt time.Time) workerResult {
	res := workerResult{DoneAtNs: doneAt.UnixNano()}
	lat, conn := newLatencyHist(), newLatencyHist()
	for _, l := range r.loops {
		lat.Merge(l.lat)
		conn.Merge(l.conn)
	}
	res.Latency = encodeHist(lat)
	res.Connect = encodeHist(conn)
	res.Progress = r.progress()
	for li := range r.slots {
		c := r.slots[li].Load()
		if c == nil || c.st == stConnecting || c.st == stHead {
			continue // never connected: counted as a connect failure
		}
		want := expected[c.group]
		res.Expected += want
		res.Deliveries += c.count
		uniq := c.count - c.dupes
		if lost := want - uniq; lost > 0 {
			res.Lost += lost
			res.ConnsWithLoss++
		}
		res.Gaps += c.missing
		res.Dupes += c.dupes
		res.IDErrors += c.idErrors
		res.BadPayload += c.badPayload
	}
	r.errMu.Lock()
	res.Errors = topErrors(r.errs, 8)
	r.errMu.Unlock()
	if ru, err := rusageSelf(); err == nil {
		res.CPUSecs = ru
	}
	return res
}
