package hub

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/sse"
)

// streamer writes one connection's stream: the first bytes, the replay,
// then batches of queued events, heartbeats and the final control event.
//
// There is one write path. A batch is the queued frames, shared with every
// other recipient and never copied, plus the connection's own few bytes
// (a heartbeat, a control event) and the transport's framing: a list of
// buffers handed to the transport at once (writev). A write cut short
// keeps its place in that list, not a copy of what is left; a frame
// leaves the connection's backlog when it is written whole.
type streamer struct {
	c        *Conn
	w        Writer
	pooled   bool   // driven by the hub's writers: writes are cut short and resumed
	buf      []byte // the connection's own bytes for the next write (small)
	bufBox   *[]byte
	wr       *batch    // the write in progress, nil when none
	moved    time.Time // when the write in progress last made progress
	backoff  time.Duration
	deadline time.Time // the write deadline last set
	lastSeq  uint64    // highest seq covered by replay; live frames up to it are skipped
	ending   string    // set once the final bytes are in a batch
}

// batch is one write: buffers in order, and for each how many bytes of
// the connection's backlog it settles once written whole.
type batch struct {
	iov    [][]byte // what is left to write: a window on base
	credit []int    // a window on cbase
	base   [][]byte // the buffers as built, kept for reuse
	cbase  []int
	head   [20]byte // the transport's framing before the payload
}

// batchPool holds batches between writes, so that an idle connection
// holds none.
var batchPool = sync.Pool{New: func() any { return new(batch) }}

// open writes the retry hint, sse:ready and the replay. It returns a
// reason when the connection must end.
func (s *streamer) open(ctx context.Context) string {
	c, h := s.c, s.c.h
	s.buf = sse.AppendRetry(s.buf[:0], h.cfg.Retry)
	ready, _ := json.Marshal(readyData{
		ConnectionID: string(c.id), UserID: c.user, TenantID: c.tenant,
		Channels: c.Channels(), HeartbeatMs: h.cfg.Heartbeat.Milliseconds(),
	})
	// A fresh connection's sse:ready carries the id of the log's end when
	// it registered, so a client that drops before its first event still
	// resumes without a gap. A resuming connection keeps its own id.
	readyID := ""
	if c.lastEventID == "" {
		readyID = c.head
	}
	c.head = ""
	s.buf, _ = sse.AppendEvent(s.buf, sse.Event{ID: readyID, Name: "sse:ready", Data: string(ready)})
	if err := s.writeNow(); err != nil {
		return ReasonWriteError
	}
	if c.lastEventID != "" {
		// The client has everything up to its id: a node whose fan-out
		// lags behind the log may still queue those events live.
		if seq, err := broker.ParseID(h.broker.Epoch(), c.lastEventID); err == nil {
			s.lastSeq = seq
		}
		if reason := s.replay(ctx); reason != "" {
			return reason
		}
	}
	return ""
}

// step writes what is queued, a due heartbeat, or the final control event.
// It returns the reason the stream ends, or "" to go on.
func (s *streamer) step() string {
	c, h := s.c, s.c.h
	if reason := c.stopping(); unwritable(reason) {
		return reason // the client cannot or need not be written to
	}
	if s.wr != nil {
		// A write cut short earlier: finish it before anything else.
		if reason := s.flush(!s.pooled); reason != "" {
			return reason
		}
		if s.wr != nil {
			return ""
		}
		if s.ending != "" {
			return s.ending
		}
	}
	reason := c.stopping()
	q, hb := c.take()
	b := batchPool.Get().(*batch)
	b.iov = append(b.base[:0], nil) // the framing head, filled below
	b.credit = append(b.cbase[:0], 0)
	n, skipped := 0, 0
	for _, f := range q {
		if f.newLog {
			s.lastSeq = 0 // the seqs that follow are of the new log
		}
		if f.seq != 0 && f.seq <= s.lastSeq {
			skipped += len(f.b) // replay covered it
			continue
		}
		b.iov = append(b.iov, f.b)
		b.credit = append(b.credit, len(f.b))
		n += len(f.b)
		h.cfg.Observer.Delivered(f.event, time.Since(f.at))
	}
	c.recycle(q)
	if skipped > 0 {
		c.settle(skipped)
	}
	if s.buf == nil && (hb && n == 0 || reason != "") {
		s.bufBox = bufPool.Get().(*[]byte)
		s.buf = (*s.bufBox)[:0]
	}
	if hb && n == 0 {
		s.buf = append(s.buf, ":heartbeat\n\n"...)
	}
	if reason != "" {
		data := reasonData(reason)
		if reason == ReasonShutdown || reason == ReasonEvicted || reason == ReasonDisabled || reason == ReasonMaxAge {
			data = h.controlData(reason)
		}
		s.buf = appendControl(s.buf, "sse:"+controlName(reason), data)
		s.ending = reason
	}
	if len(s.buf) > 0 {
		b.iov = append(b.iov, s.buf)
		b.credit = append(b.credit, 0)
		n += len(s.buf)
	}
	if n == 0 {
		s.drop(b)
		return s.ending
	}
	s.frame(b, n)
	s.wr, s.moved = b, time.Now()
	if reason := s.flush(!s.pooled); reason != "" {
		return reason
	}
	if s.wr != nil {
		return "" // resumed later
	}
	return s.ending
}

// unwritable reports whether a stream ending for reason gets no more
// bytes.
func unwritable(reason string) bool {
	return reason == ReasonSlowConsumer || reason == ReasonClientGone || reason == ReasonInactive || reason == ReasonWriteError
}

// frame puts the transport's framing around the n bytes of b.iov[1:],
// which are complete: the batch's buffers are then kept as built.
func (s *streamer) frame(b *batch, n int) {
	f, ok := s.w.(Framer)
	if !ok {
		b.base, b.cbase = b.iov, b.credit
		b.iov, b.credit = b.iov[1:], b.credit[1:]
		return
	}
	head, tail := f.Frame(b.head[:0], n)
	b.iov[0] = head
	b.iov = append(b.iov, tail)
	b.credit = append(b.credit, 0)
	b.base, b.cbase = b.iov, b.credit
}

// writeNow writes the connection's own bytes in full, waiting up to
// WriteTimeout: used for the first bytes and the replay, on the caller's
// goroutine.
func (s *streamer) writeNow() error {
	if len(s.buf) == 0 {
		return nil
	}
	b := batchPool.Get().(*batch)
	b.iov = append(b.base[:0], nil, s.buf)
	b.credit = append(b.cbase[:0], 0, 0)
	s.frame(b, len(s.buf))
	s.wr, s.moved = b, time.Now()
	if reason := s.flush(true); reason != "" {
		return errors.New("hub: write failed: " + reason)
	}
	return nil
}

// flush writes the batch in progress: in full within WriteTimeout when
// wait is set, else what the transport takes now. It returns the reason
// the stream ends when the write failed, or when the client took nothing
// for WriteTimeout. Once the batch is written it is released.
func (s *streamer) flush(wait bool) string {
	b := s.wr
	n, err := s.send(b.iov, wait)
	progress := n > 0
	settled := 0
	for len(b.iov) > 0 && n >= len(b.iov[0]) {
		n -= len(b.iov[0])
		settled += b.credit[0]
		b.iov[0] = nil
		b.iov, b.credit = b.iov[1:], b.credit[1:]
	}
	if len(b.iov) > 0 && n > 0 {
		b.iov[0] = b.iov[0][n:] // the shared bytes stay as they are
		n = 0
	}
	if settled > 0 {
		s.c.settle(settled)
	}
	now := time.Now()
	if err != nil && !isTimeout(err) {
		return ReasonWriteError
	}
	if len(b.iov) == 0 {
		s.drop(b)
		s.wr = nil
		s.backoff = 0
		return ""
	}
	if wait {
		return ReasonWriteError // a short write within the deadline
	}
	if progress {
		s.moved, s.backoff = now, 0
	} else if now.Sub(s.moved) > s.c.h.cfg.WriteTimeout {
		// The client has taken nothing for a write timeout.
		return ReasonSlowConsumer
	}
	return ""
}

// drop returns a batch to the pool, and the connection's own buffer once
// nothing refers to it.
func (s *streamer) drop(b *batch) {
	clear(b.base) // the references to shared frames
	clear(b.iov)  // a batch dropped before frame
	b.iov, b.credit = nil, nil
	if cap(b.base) <= 256 {
		b.base, b.cbase = b.base[:0], b.cbase[:0]
		batchPool.Put(b)
	}
	if s.buf != nil && s.pooled {
		if cap(s.buf) <= 64<<10 {
			box := s.bufBox
			if box == nil {
				box = new([]byte)
			}
			*box = s.buf[:0]
			bufPool.Put(box)
		}
		s.buf, s.bufBox = nil, nil
		return
	}
	s.buf = s.buf[:0]
	if cap(s.buf) > 64<<10 {
		s.buf = nil // drop a replay's large buffer
	}
}

// release drops the write in progress of a stream that ended.
func (s *streamer) release() {
	if s.wr != nil {
		s.drop(s.wr)
		s.wr = nil
	}
}

// retryIn returns how long the pool waits before trying a stream whose
// socket was full again: poolSlice, doubled each time nothing was taken,
// up to maxBackoff, so that a stalled client costs a few attempts a second
// while one that reads is tried again promptly.
func (s *streamer) retryIn() time.Duration {
	s.backoff = min(max(poolSlice, 2*s.backoff), maxBackoff)
	return s.backoff
}

// poolSlice is how long a writer waits on one pooled connection's socket
// when the transport cannot write without waiting, and how long a
// connection whose socket was full first waits to be tried again. A
// variable for tests only.
var poolSlice = 20 * time.Millisecond

// maxBackoff bounds the wait between attempts on a full socket.
const maxBackoff = 320 * time.Millisecond

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// send writes the buffers in order and returns how many bytes were
// written. With wait it takes up to WriteTimeout; without, a TryWriter
// takes what the socket holds now, and another Writer waits poolSlice.
// The write deadline is refreshed only when less than half of it is left,
// which saves a timer update on most writes.
func (s *streamer) send(iov [][]byte, wait bool) (int, error) {
	c, h := s.c, s.c.h
	start := time.Now()
	var n int
	var err error
	if tw, ok := s.w.(TryWriter); ok && !wait {
		n, err = tw.TryWrite(iov)
	} else {
		d := h.cfg.WriteTimeout
		if !wait {
			d = poolSlice
		}
		if d < h.cfg.WriteTimeout || s.deadline.Sub(start) < d/2 {
			s.deadline = start.Add(d)
			_ = s.w.SetWriteDeadline(s.deadline)
		}
		for _, p := range iov {
			var m int
			m, err = s.w.Write(p)
			n += m
			if err != nil {
				break
			}
		}
		if err == nil {
			err = s.w.Flush()
		}
	}
	h.cfg.Observer.Wrote(n, time.Since(start), c.queued())
	if n > 0 && (err == nil || isTimeout(err)) {
		c.lastWrite.Store(start.UnixNano())
	}
	if err != nil && !isTimeout(err) {
		c.logger().Debug("write failed", "err", err)
	}
	return n, err
}

// bufPool holds the connections' own small buffers between writes, as
// *[]byte boxes that the streamer keeps while it holds the buffer, so that
// Put allocates nothing.
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// replay writes the events the client missed. It returns a reason when the
// connection must end.
func (s *streamer) replay(ctx context.Context) string {
	c, h := s.c, s.c.h
	n := 0
	after := c.lastEventID
	var writeErr error
	delay, giveUp := 100*time.Millisecond, time.Now().Add(h.cfg.WriteTimeout)
	for {
		err := h.broker.Replay(ctx, after, func(env broker.Envelope) error {
			s.lastSeq = env.Seq // live frames up to here were replayed or not meant for c
			after = env.ID
			if !c.wants(&env) {
				return nil
			}
			f, err := encodeFrame(&env)
			if err != nil {
				return nil // unreachable: the message was validated at publish
			}
			s.buf = append(s.buf, f.b...)
			n++
			h.stats.replayed.Add(1)
			if len(s.buf) >= 32<<10 {
				writeErr = s.writeNow()
				return writeErr
			}
			return nil
		})
		switch {
		case writeErr != nil:
			return ReasonWriteError
		case errors.Is(err, broker.ErrUnknownEpoch), errors.Is(err, broker.ErrTooOld):
			c.logger().Info("resume impossible", "err", err)
			h.stats.resets.Add(1)
			s.buf = appendControl(s.buf, "sse:reset", reasonData(resetReason(err)))
		case err != nil && ctx.Err() != nil:
			return ReasonClientGone
		case err != nil && time.Now().Before(giveUp):
			// The history exists but cannot be read now (the engine is
			// down or restarting): keep the stream and try again from the
			// last event written.
			if s.writeNow() != nil {
				return ReasonWriteError
			}
			if reason := c.pause(ctx, delay); reason != "" {
				return reason
			}
			delay = min(2*delay, 2*time.Second)
			continue
		case err != nil:
			// Still unreadable: end the stream so that the client comes
			// back after retry and resumes then, rather than telling it
			// to start over.
			c.logger().Warn("replay failed; the client will resume later", "err", err)
			s.buf = appendControl(s.buf, "sse:shutdown", h.controlData(ReasonHistoryUnavailable))
			_ = s.writeNow()
			return ReasonHistoryUnavailable
		default:
			c.logger().Debug("replayed", "events", n)
		}
		break
	}
	if s.writeNow() != nil {
		return ReasonWriteError
	}
	return ""
}

func resetReason(err error) string {
	if errors.Is(err, broker.ErrTooOld) {
		return "history_too_short"
	}
	return "unknown_last_event_id"
}

// pause waits d, or less when ctx ends or the connection is asked to end:
// it returns the reason in those cases. A connection has no channel that
// closes when it ends (it would cost every idle connection), so the wait
// looks at it every 50 ms; it is used only between replay attempts.
func (c *Conn) pause(ctx context.Context, d time.Duration) string {
	t := time.NewTimer(d)
	defer t.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-t.C:
			return ""
		case <-ctx.Done():
			return ReasonClientGone
		case <-tick.C:
			if reason := c.stopping(); reason != "" {
				return reason
			}
		}
	}
}
