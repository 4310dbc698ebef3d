package hub

import (
	"context"
	"encoding/json"
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
// the HTTP layer, or a hijacked connection. Its methods are called by one
// goroutine at a time: the one running Conn.Serve, or after Conn.Start one
// of the hub's writers.
type Writer interface {
	Write(p []byte) (int, error)
	Flush() error
	SetWriteDeadline(t time.Time) error
}

// Framer is implemented by Writers whose transport wraps every write, such
// as HTTP/1.1 chunked encoding on a hijacked connection: the hub writes
// head, then the n bytes of the write, then tail, where head and tail are
// what Frame(dst, n) returns (head appended to dst, which holds 20 bytes
// without growing; tail not modified by anyone), so that a write cut short
// can be resumed byte for byte.
type Framer interface {
	Frame(dst []byte, n int) (head, tail []byte)
}

// TryWriter is implemented by Writers that can write without waiting,
// such as a socket the HTTP layer drives itself. Once a connection started
// with Start is handed to the hub's writers, they call TryWrite instead of
// SetWriteDeadline, Write and Flush: it writes the buffers in order, as
// much as the transport takes at once (one writev), and returns how many
// bytes, with a nil error when the rest has to wait (the socket's buffer
// is full); the hub tries the rest again later. It must not keep or
// modify the buffers: they are shared with other connections. Before the
// hand-over (the first bytes and the replay, written by the caller of
// Start) the Writer's other methods are used.
type TryWriter interface {
	TryWrite(bufs [][]byte) (int, error)
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
	// ReasonHistoryUnavailable ends a resuming stream whose history cannot
	// be read now; the client resumes after retry.
	ReasonHistoryUnavailable = "history_unavailable"
	// ReasonLogLost is sse:reset's reason when the log a live stream
	// followed was lost (a new epoch): the stream goes on with the new log.
	ReasonLogLost = "log_lost"
)

// frame is an encoded event shared by every recipient. Its bytes are never
// modified after it is built.
type frame struct {
	seq   uint64
	b     []byte
	event string
	at    time.Time // when the event was appended to the log
	// newLog marks the sse:reset sent when the log was lost: the seqs
	// that follow belong to a new epoch, so the streamer's replay bound
	// no longer applies.
	newLog bool
}

// Conn is one client's stream. It is created by Hub.Connect and then
// served by exactly one call to Serve or Start, or released by Close.
//
// Every idle connection on a node holds one Conn, so its fields are kept
// few: no channel, timer or buffer is allocated per connection unless the
// connection is served on its own goroutine (Serve) or writing.
type Conn struct {
	h           *Hub
	id          ConnID
	tenant      string
	user        string
	serial      uint64
	created     time.Time
	lastEventID string // ConnInfo.LastEventID
	expires     int64  // ConnInfo.ExpiresAt, unix nanos; 0 for none

	channels map[string]struct{} // guarded by h.mu; nil when empty
	head     string              // the log's end when the connection registered; cleared once sent
	// epoch is the log the stream follows, set at registration: the one
	// of the last event fanned out then, or the broker's current one for
	// a resuming connection (its replay reads the current log). When
	// fan-out moves to another epoch, connections of an older one get
	// sse:reset (see Hub.logLost).
	epoch string

	// The queue: frames waiting to be written, and flags. A connection
	// holds no buffer while idle: q grows on demand up to QueueSize.
	// backlog is the bytes of the frames queued or in the write under way
	// and not yet written whole, at most QueueBytes; the hub's total of
	// them is Hub.queued.
	qmu     sync.Mutex
	q       []*frame
	backlog int
	spare   []*frame    // a drained q kept for reuse
	hb      bool        // a heartbeat is due
	pooled  atomic.Bool // driven by the hub's writers (Start), not by Serve
	sched   atomic.Bool // queued for, or being handled by, a writer
	served  atomic.Bool
	wake    atomic.Pointer[chan struct{}] // set by Serve: signals its goroutine
	s       *streamer                     // the pooled connection's stream state
	done    func(reason string)
	release sync.Once

	// The end: the first reason given to end, and the deadline (token
	// expiry or maximum age) kept in Hub.deadlines.
	reason atomic.Pointer[string]
	endAt  int64  // unix nanos; guarded by Hub.deadlines.mu once scheduled
	endIdx int32  // index in Hub.deadlines.heap, -1 when not in it
	endWhy string // ReasonTokenExpired or ReasonMaxAge

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

// logger returns the connection's logger. It is built on demand, since a
// connection logs a few lines in its life and a cached logger costs memory
// on every idle connection.
func (c *Conn) logger() *slog.Logger {
	return c.h.cfg.Logger.With("conn_id", c.id, "tenant_id", c.tenant, "user_id", c.user)
}

// end asks the stream to finish for reason; the first reason wins.
func (c *Conn) end(reason string) {
	c.reason.CompareAndSwap(nil, &reason)
	c.notify()
}

// Gone tells the hub that the client went away. The HTTP layer calls it
// for connections served by Start, when the socket is closed by the peer.
func (c *Conn) Gone() { c.end(ReasonClientGone) }

// stopping returns the reason the stream must end, or "".
func (c *Conn) stopping() string {
	if p := c.reason.Load(); p != nil {
		return *p
	}
	return ""
}

// enqueue hands f to the connection without waiting. It returns queued
// when the queue took f (the caller adds its bytes to Hub.queued, once per
// fan-out), full when the queue is full, in events or in bytes, and
// ignored when the connection is ending without being written to again.
func (c *Conn) enqueue(f *frame) enqueueResult {
	n := len(f.b)
	c.qmu.Lock()
	if unwritable(c.stopping()) {
		c.qmu.Unlock()
		return ignored
	}
	if len(c.q) >= c.h.cfg.QueueSize || c.backlog > 0 && c.backlog+n > c.h.cfg.QueueBytes {
		c.qmu.Unlock()
		return full
	}
	if c.q == nil {
		c.q, c.spare = c.spare, nil
	}
	c.q = append(c.q, f)
	c.backlog += n
	c.qmu.Unlock()
	c.notify()
	return queued
}

type enqueueResult uint8

const (
	queued enqueueResult = iota
	full
	ignored
)

// settle takes n written (or skipped) bytes off the backlog.
func (c *Conn) settle(n int) {
	c.qmu.Lock()
	n = min(n, c.backlog) // nothing left once released
	c.backlog -= n
	c.qmu.Unlock()
	c.h.queued.Add(-int64(n))
}

// behind returns the connection's backlog in bytes.
func (c *Conn) behind() int {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return c.backlog
}

// heartbeat asks for a heartbeat comment to be written.
func (c *Conn) heartbeat() {
	c.qmu.Lock()
	c.hb = true
	c.qmu.Unlock()
	c.notify()
}

// notify wakes whoever writes the connection.
func (c *Conn) notify() {
	if c.pooled.Load() {
		c.h.pool.schedule(c)
		return
	}
	if w := c.wake.Load(); w != nil {
		select {
		case *w <- struct{}{}:
		default:
		}
	}
}

// take removes the queued frames and the heartbeat flag.
func (c *Conn) take() ([]*frame, bool) {
	c.qmu.Lock()
	q, hb := c.q, c.hb
	c.q, c.hb = nil, false
	c.qmu.Unlock()
	return q, hb
}

// recycle keeps a drained queue for reuse unless it grew large.
func (c *Conn) recycle(q []*frame) {
	if cap(q) == 0 || cap(q) > 256 {
		return
	}
	clear(q)
	c.qmu.Lock()
	if c.spare == nil {
		c.spare = q[:0]
	}
	c.qmu.Unlock()
}

// queued returns the number of frames waiting.
func (c *Conn) queued() int {
	c.qmu.Lock()
	defer c.qmu.Unlock()
	return len(c.q)
}

// hasWork reports whether a writer has something to do for c.
func (c *Conn) hasWork() bool {
	c.qmu.Lock()
	w := len(c.q) > 0 || c.hb
	c.qmu.Unlock()
	return w || c.stopping() != ""
}

// Close releases a connection that will not be served (for example when
// the HTTP layer failed before streaming). It is a no-op after Serve or
// Start.
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
	wake := make(chan struct{}, 1)
	wake <- struct{}{} // whatever was queued before wake was set
	c.wake.Store(&wake)
	s := &streamer{c: c, w: w}
	reason := s.open(ctx)
	if reason == "" {
		stopCtx := context.AfterFunc(ctx, c.Gone)
		c.armDeadline()
		for reason == "" {
			<-wake
			reason = s.step()
		}
		stopCtx()
	}
	s.release()
	c.h.release(c, reason)
	return reason
}

// Start writes the retry hint, sse:ready and any replay to w on the
// calling goroutine, then hands the connection to the hub's writers and
// returns at once: the connection costs no goroutine while idle. The
// caller reports a client that went away with Gone; done is called, on a
// hub goroutine, once the connection is released, and the caller then
// closes the transport. Start may be called once, instead of Serve.
func (c *Conn) Start(ctx context.Context, w Writer, done func(reason string)) {
	if !c.served.CompareAndSwap(false, true) {
		done(ReasonClientGone)
		return
	}
	s := &streamer{c: c, w: w, pooled: true}
	if reason := s.open(ctx); reason != "" {
		c.h.release(c, reason)
		done(reason)
		return
	}
	c.s, c.done = s, done
	c.armDeadline()
	c.pooled.Store(true)
	c.h.pool.schedule(c) // whatever was queued meanwhile
}

// armDeadline schedules the end of the connection at its token's expiry
// or its maximum age.
func (c *Conn) armDeadline() {
	if at, why := c.deadline(); !at.IsZero() {
		c.endAt, c.endWhy = at.UnixNano(), why
		c.h.deadlines.add(c)
	}
}

// finish releases a pooled connection once; it runs on a writer.
func (c *Conn) finish(reason string) {
	c.release.Do(func() {
		if c.s != nil {
			c.s.release()
		}
		c.h.release(c, reason)
		if c.done != nil {
			c.done(reason)
		}
	})
}

// deadline returns when the connection must end by itself, and why.
func (c *Conn) deadline() (time.Time, string) {
	var at time.Time
	why := ""
	if c.expires != 0 {
		at, why = time.Unix(0, c.expires), ReasonTokenExpired
	}
	if age := c.h.cfg.MaxConnAge; age > 0 {
		if end := c.created.Add(age); at.IsZero() || end.Before(at) {
			at, why = end, ReasonMaxAge
		}
	}
	return at, why
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

// expiresAt returns ConnInfo.ExpiresAt.
func (c *Conn) expiresAt() time.Time {
	if c.expires == 0 {
		return time.Time{}
	}
	return time.Unix(0, c.expires)
}
