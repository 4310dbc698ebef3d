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
type streamer struct {
	c        *Conn
	w        Writer
	pooled   bool    // driven by the hub's writers: writes are cut short and resumed
	buf      []byte  // the next write, being built
	out      []byte  // a pooled connection's write in progress (framed)
	bufBox   *[]byte // the pool's boxes of buf and out, while held
	outBox   *[]byte
	stuck    time.Time
	deadline time.Time // the write deadline last set
	lastSeq  uint64    // highest seq covered by replay; live frames up to it are skipped
	ending   string    // set once the final bytes are buffered
}

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
	if s.pooled && len(s.out) > 0 {
		// A write cut short earlier: finish it before anything else.
		if err := s.resume(); err != nil {
			return ReasonWriteError
		}
		if len(s.out) > 0 {
			return ""
		}
		if s.ending != "" {
			return s.ending
		}
	}
	reason := c.stopping()
	if reason == ReasonSlowConsumer || reason == ReasonClientGone || reason == ReasonInactive || reason == ReasonWriteError {
		return reason // the client cannot or need not be written to
	}
	s.buffers()
	q, hb := c.take()
	for _, f := range q {
		s.add(f)
	}
	c.recycle(q)
	if hb && len(s.buf) == 0 {
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
	if err := s.write(); err != nil {
		return ReasonWriteError
	}
	if s.pooled && len(s.out) > 0 {
		return "" // resumed later
	}
	s.releaseBuffers()
	return s.ending
}

// add appends a live frame unless replay already covered it.
func (s *streamer) add(f *frame) {
	if f.newLog {
		s.lastSeq = 0 // the seqs that follow are of the new log
	}
	if f.seq != 0 && f.seq <= s.lastSeq {
		return
	}
	s.buf = append(s.buf, f.b...)
	s.c.h.cfg.Observer.Delivered(f.event, time.Since(f.at))
}

// writeNow writes the buffer in full, waiting up to WriteTimeout: used for
// the first bytes and the replay, on the caller's goroutine.
func (s *streamer) writeNow() error {
	pooled := s.pooled
	s.pooled = false
	defer func() { s.pooled = pooled }()
	return s.write()
}

// write sends the buffer. A Serve stream waits up to WriteTimeout. A
// pooled stream waits a short slice only, so that one slow client cannot
// hold a writer: what is left stays in s.out and step resumes it later.
func (s *streamer) write() error {
	if len(s.buf) == 0 {
		return nil
	}
	if !s.pooled {
		p := s.buf
		if f, ok := s.w.(Framer); ok {
			s.out = f.AppendFrame(s.out[:0], s.buf)
			p = s.out
		}
		err := s.send(p, s.c.h.cfg.WriteTimeout)
		s.out = s.out[:0]
		s.reset()
		return err
	}
	if s.out == nil {
		get(&s.out, &s.outBox)
	}
	if f, ok := s.w.(Framer); ok {
		s.out = f.AppendFrame(s.out[:0], s.buf)
	} else {
		s.out = append(s.out[:0], s.buf...)
	}
	s.reset()
	s.stuck = time.Now()
	return s.resume()
}

// resume writes what is left of a pooled stream's write.
func (s *streamer) resume() error {
	h := s.c.h
	n, err := s.sendSome(s.out, poolSlice)
	s.out = s.out[:copy(s.out, s.out[n:])]
	if err != nil && !isTimeout(err) {
		return err
	}
	if len(s.out) == 0 {
		s.releaseBuffers()
		return nil
	}
	if time.Since(s.stuck) > h.cfg.WriteTimeout {
		return errStuck
	}
	// What is left waits in s.out: the pool's handle tries it again later,
	// once this writer is done with s.
	return nil
}

var errStuck = errors.New("hub: write stuck past the write timeout")

// poolSlice is how long a writer waits on one pooled connection's socket,
// and how long a connection whose socket was full waits to be tried
// again. A variable for tests only.
var poolSlice = 20 * time.Millisecond

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// send writes p in full within d, then flushes.
func (s *streamer) send(p []byte, d time.Duration) error {
	n, err := s.sendSome(p, d)
	if err == nil && n < len(p) {
		err = errors.New("hub: short write")
	}
	return err
}

// sendSome writes p within d and returns how much was written. The write
// deadline is refreshed only when less than half of it is left, which
// saves a timer update on most writes. A pooled stream whose Writer is a
// TryWriter does not wait at all.
func (s *streamer) sendSome(p []byte, d time.Duration) (int, error) {
	c, h := s.c, s.c.h
	start := time.Now()
	var n int
	var err error
	if tw, ok := s.w.(TryWriter); ok && s.pooled {
		n, err = tw.TryWrite(p)
	} else {
		if d < h.cfg.WriteTimeout || s.deadline.Sub(start) < d/2 {
			s.deadline = start.Add(d)
			_ = s.w.SetWriteDeadline(s.deadline)
		}
		n, err = s.w.Write(p)
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

// bufPool holds the write buffers of pooled streams between writes, so
// that an idle connection holds none. It stores *[]byte boxes, which the
// streamer keeps while it holds the buffer, so that Put allocates nothing.
var bufPool = sync.Pool{New: func() any { return new([]byte) }}

// get takes a buffer from the pool into *dst, remembering its box.
func get(dst *[]byte, box **[]byte) {
	*box = bufPool.Get().(*[]byte)
	*dst = (**box)[:0]
}

// put returns an empty buffer to the pool.
func put(b *[]byte, box **[]byte) {
	if *b == nil || len(*b) > 0 {
		return
	}
	if *box == nil {
		*box = new([]byte)
	}
	if cap(*b) <= 64<<10 {
		**box = (*b)[:0]
		bufPool.Put(*box)
	}
	*b, *box = nil, nil
}

// buffers gives a pooled stream its buffers for a step.
func (s *streamer) buffers() {
	if s.pooled && s.buf == nil {
		get(&s.buf, &s.bufBox)
	}
}

// releaseBuffers returns a pooled stream's buffers once nothing is left
// to write.
func (s *streamer) releaseBuffers() {
	if s.pooled {
		put(&s.buf, &s.bufBox)
		put(&s.out, &s.outBox)
	}
}

// reset empties the buffer, dropping a burst's large one.
func (s *streamer) reset() {
	s.buf = s.buf[:0]
	if cap(s.buf) > 64<<10 {
		s.buf = nil
	}
}

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
