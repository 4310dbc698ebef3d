package hub

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/sse"
)

// ConnID identifies a connection across the cluster.
type ConnID string

// Writer is where a connection's stream goes: an HTTP response, adapted by
// the HTTP layer. Write and Flush are called from the goroutine running
// Conn.Serve only.
type Writer interface {
	Write(p []byte) (int, error)
	Flush() error
	SetWriteDeadline(t time.Time) error
}

// ConnInfo describes a connection being opened. The caller has
// authenticated the user and authorized the channels.
type ConnInfo struct {
	TenantID string
	UserID   string
	Channels []string
	// LastEventID, when set, resumes after that event.
	LastEventID string
	// ExpiresAt, when set, closes the stream with sse:token-expired then.
	ExpiresAt time.Time
}

// Reasons a connection ends, as logged and counted.
const (
	ReasonClientGone   = "client_gone"
	ReasonEvicted      = "evicted"
	ReasonSlowConsumer = "slow_consumer"
	ReasonInactive     = "inactive"
	ReasonShutdown     = "shutdown"
	ReasonDisabled     = "disabled"
	ReasonTokenExpired = "token_expired"
	ReasonMaxAge       = "max_age"
	ReasonWriteError   = "write_error"
)

// frame is an encoded event shared by every recipient. Its bytes are never
// modified after it is built.
type frame struct {
	seq   uint64
	b     []byte
	event string
	at    time.Time // when the event was appended to the log
}

// Conn is one client's stream. It is created by Hub.Connect and served by
// exactly one call to Serve, or released by Close.
type Conn struct {
	h       *Hub
	id      ConnID
	tenant  string
	user    string
	serial  uint64
	created time.Time
	info    ConnInfo
	log     *slog.Logger

	channels map[string]struct{} // guarded by h.mu
	head     string              // the log's end when the connection registered

	queue     chan *frame
	stop      chan struct{} // closed to ask Serve to end
	stopOnce  sync.Once
	reason    atomic.Pointer[string]
	served    atomic.Bool
	lastWrite atomic.Int64 // unix nanos of the last successful write
}

// ID returns the connection's id.
func (c *Conn) ID() ConnID { return c.id }

// Channels returns the channels the connection is subscribed to, sorted.
func (c *Conn) Channels() []string {
	c.h.mu.RLock()
	defer c.h.mu.RUnlock()
	return sortedKeys(c.channels)
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// end asks Serve to finish for reason; the first reason wins.
func (c *Conn) end(reason string) {
	c.stopOnce.Do(func() {
		c.reason.Store(&reason)
		close(c.stop)
	})
}

// enqueue hands f to the connection without waiting; false means the queue
// is full.
func (c *Conn) enqueue(f *frame) bool {
	select {
	case c.queue <- f:
		return true
	default:
		return false
	}
}

// Close releases a connection that will not be served (for example when
// the HTTP layer failed before streaming). It is a no-op after Serve.
func (c *Conn) Close() {
	if c.served.CompareAndSwap(false, true) {
		c.h.release(c, ReasonClientGone)
	}
}

// Serve writes the stream to w until the client leaves (ctx is done), the
// connection is evicted or closed by a limit, or the hub shuts down. It
// first writes the retry hint and sse:ready, replays what the client missed
// when ConnInfo.LastEventID is set, then live events and heartbeats. It
// returns the reason the stream ended; every resource the connection held
// is released before it returns. Serve may be called once.
func (c *Conn) Serve(ctx context.Context, w Writer) string {
	if !c.served.CompareAndSwap(false, true) {
		return ReasonClientGone
	}
	s := streamer{c: c, w: w}
	reason := s.run(ctx)
	c.h.release(c, reason)
	return reason
}

type streamer struct {
	c       *Conn
	w       Writer
	buf     []byte
	lastSeq uint64 // highest seq written by replay; live frames up to it are skipped
}

func (s *streamer) run(ctx context.Context) string {
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
	if c.info.LastEventID == "" {
		readyID = c.head
	}
	s.buf, _ = sse.AppendEvent(s.buf, sse.Event{ID: readyID, Name: "sse:ready", Data: string(ready)})
	if err := s.flush(); err != nil {
		return ReasonWriteError
	}
	if c.info.LastEventID != "" {
		if reason := s.replay(ctx); reason != "" {
			return reason
		}
	}

	heartbeat := time.NewTicker(h.cfg.Heartbeat)
	defer heartbeat.Stop()
	var deadline <-chan time.Time
	deadlineReason := ""
	if at, why := c.deadline(); !at.IsZero() {
		t := time.NewTimer(time.Until(at))
		defer t.Stop()
		deadline, deadlineReason = t.C, why
	}
	for {
		select {
		case f := <-c.queue:
			s.add(f)
			s.drainQueue(64)
			if err := s.flush(); err != nil {
				return ReasonWriteError
			}
		case <-heartbeat.C:
			s.buf = append(s.buf, ":heartbeat\n\n"...)
			if err := s.flush(); err != nil {
				return ReasonWriteError
			}
		case <-deadline:
			s.drainQueue(-1)
			s.buf = appendControl(s.buf, "sse:"+controlName(deadlineReason), reasonData(deadlineReason))
			_ = s.flush()
			return deadlineReason
		case <-c.stop:
			reason := *c.reason.Load()
			switch reason {
			case ReasonShutdown, ReasonEvicted, ReasonDisabled:
				s.drainQueue(-1)
				s.buf = appendControl(s.buf, "sse:"+controlName(reason), h.controlData(reason))
				_ = s.flush()
			}
			return reason
		case <-ctx.Done():
			return ReasonClientGone
		}
	}
}

// deadline returns when the connection must end by itself, and why.
func (c *Conn) deadline() (time.Time, string) {
	var at time.Time
	why := ""
	if !c.info.ExpiresAt.IsZero() {
		at, why = c.info.ExpiresAt, ReasonTokenExpired
	}
	if age := c.h.cfg.MaxConnAge; age > 0 {
		if end := c.created.Add(age); at.IsZero() || end.Before(at) {
			at, why = end, ReasonMaxAge
		}
	}
	return at, why
}

// add appends a live frame unless replay already wrote it.
func (s *streamer) add(f *frame) {
	if f.seq != 0 && f.seq <= s.lastSeq {
		return
	}
	s.buf = append(s.buf, f.b...)
	s.c.h.cfg.Observer.Delivered(f.event, time.Since(f.at))
}

// drainQueue appends up to max queued frames (all when max < 0) without
// waiting, so that pending events go out in one write.
func (s *streamer) drainQueue(max int) {
	for i := 0; max < 0 || i < max; i++ {
		select {
		case f := <-s.c.queue:
			s.add(f)
		default:
			return
		}
	}
}

// flush writes the buffer with a deadline and flushes it to the client.
func (s *streamer) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	h := s.c.h
	start := time.Now()
	_ = s.w.SetWriteDeadline(start.Add(h.cfg.WriteTimeout))
	n, err := s.w.Write(s.buf)
	if err == nil {
		err = s.w.Flush()
	}
	h.cfg.Observer.Wrote(n, time.Since(start), len(s.c.queue))
	s.buf = s.buf[:0]
	if cap(s.buf) > 64<<10 {
		s.buf = nil // don't pin a burst's buffer for the connection's life
	}
	if err != nil {
		s.c.log.Debug("write failed", "err", err)
		return err
	}
	s.c.lastWrite.Store(time.Now().UnixNano())
	return nil
}

// replay writes the events the client missed. It returns a reason when the
// connection must end.
func (s *streamer) replay(ctx context.Context) string {
	c, h := s.c, s.c.h
	n := 0
	err := h.broker.Replay(ctx, c.info.LastEventID, func(env broker.Envelope) error {
		s.lastSeq = env.Seq // live frames up to here were replayed or not meant for c
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
			return s.flush()
		}
		return nil
	})
	switch {
	case errors.Is(err, broker.ErrUnknownEpoch), errors.Is(err, broker.ErrTooOld):
		c.log.Info("resume impossible", "err", err)
		h.stats.resets.Add(1)
		s.buf = appendControl(s.buf, "sse:reset", reasonData(resetReason(err)))
	case err != nil && ctx.Err() != nil:
		return ReasonClientGone
	case err != nil:
		if s.flush() != nil {
			return ReasonWriteError
		}
		c.log.Error("replay failed", "err", err)
		s.buf = appendControl(s.buf, "sse:reset", reasonData("history_unavailable"))
		h.stats.resets.Add(1)
	default:
		c.log.Debug("replayed", "events", n)
	}
	if s.flush() != nil {
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

// wants reports whether env is meant for c: the rule of delivery, used for
// replay; live fan-out gets the same answer from the registry indexes.
func (c *Conn) wants(env *broker.Envelope) bool {
	if env.ExcludeConn == string(c.id) {
		return false
	}
	t := env.Target
	if t.Kind == broker.ToBroadcast {
		return true
	}
	if env.TenantID != c.tenant {
		return false
	}
	switch t.Kind {
	case broker.ToTenant:
		return true
	case broker.ToUser, broker.ToUsers:
		return slices.Contains(t.UserIDs, c.user)
	case broker.ToChannel:
		c.h.mu.RLock()
		_, ok := c.channels[t.Channel]
		c.h.mu.RUnlock()
		return ok
	}
	return false
}

type readyData struct {
	ConnectionID string   `json:"connectionId"`
	UserID       string   `json:"userId"`
	TenantID     string   `json:"tenantId"`
	Channels     []string `json:"channels"`
	HeartbeatMs  int64    `json:"heartbeatMs"`
}

// controlName maps a close reason to its control event name.
func controlName(reason string) string {
	switch reason {
	case ReasonTokenExpired:
		return "token-expired"
	case ReasonMaxAge:
		return "shutdown" // the client reconnects after retry and resumes
	}
	return reason
}

func reasonData(reason string) []byte {
	b, _ := json.Marshal(map[string]string{"reason": reason})
	return b
}

func (h *Hub) controlData(reason string) []byte {
	b, _ := json.Marshal(struct {
		Reason  string `json:"reason"`
		RetryMs int64  `json:"retryMs,omitempty"`
	}{reason, h.cfg.Retry.Milliseconds()})
	return b
}

// appendControl appends a control event. It has no id, so the client's
// Last-Event-ID keeps pointing at the last real event.
func appendControl(dst []byte, name string, data []byte) []byte {
	out, err := sse.AppendEvent(dst, sse.Event{Name: name, Data: string(data)})
	if err != nil {
		panic("hub: bad control event " + name) // names are constants
	}
	return out
}

func encodeFrame(env *broker.Envelope) (*frame, error) {
	b, err := sse.AppendEvent(make([]byte, 0, len(env.Data)+len(env.ID)+len(env.Event)+24), sse.Event{
		ID: env.ID, Name: env.Event, Data: string(env.Data),
	})
	if err != nil {
		return nil, err
	}
	return &frame{seq: env.Seq, b: b, event: env.Event, at: env.Time}, nil
}
