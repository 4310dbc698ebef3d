package hub

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/ratelimit"
)

// Hub registers connections and delivers events to them. It is safe for
// concurrent use. Once Shutdown has been called a Hub may not be reused.
//
// Lock order: Hub.mu, then cluster.mu, then a connection's qmu; the
// idempotency key budget's mutex is taken alone and never across I/O. No
// lock is held while writing to a client, calling the broker or calling a
// hook other than the Observer.
type Hub struct {
	cfg        Config
	broker     broker.Broker
	ownsBroker bool
	nodeID     string
	started    time.Time

	mu       sync.RWMutex
	reg      registry
	serial   uint64
	disabled bool
	closed   bool

	// head is the id of the last envelope fanned out; it is written by
	// dispatch while it holds mu for reading, and read by Connect under the
	// write lock, so a new connection's head splits the log exactly: what
	// is up to it was fanned out before the connection existed, what is
	// after it reaches the connection's queue.
	head atomic.Pointer[string]
	// fanEpoch is the epoch of the log being fanned out: written by
	// dispatch under the write lock when it changes, read under mu.
	fanEpoch string

	cl       *cluster        // nil unless the broker is a broker.Bus
	listened <-chan struct{} // closed when the bus listener ends

	pool      *pool
	deadlines deadlines
	// queued is the sum of the connections' backlogs, in bytes: at most
	// NodeQueueBytes, which shed enforces.
	queued atomic.Int64

	stats   counters
	limiter *ratelimit.Limiter[broker.Message]
	keys    keyBudget

	cancel     context.CancelFunc
	dispatched <-chan struct{} // closed when the broker subscription ends
	quit       chan struct{}
	wg         sync.WaitGroup // the hub's own loops
	conns      sync.WaitGroup // connections not yet released
	publishing sync.WaitGroup // Publish calls under way; Add only under mu while !closed
	stopOnce   sync.Once
}

// New starts a hub: it subscribes to the broker and starts the sweep.
func New(cfg Config) (*Hub, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	h := &Hub{
		cfg:     cfg,
		broker:  cfg.Broker,
		nodeID:  cfg.NodeID,
		started: time.Now(),
		reg:     newRegistry(),
		quit:    make(chan struct{}),
	}
	if h.nodeID == "" {
		h.nodeID = randomID(5)
	}
	h.limiter = ratelimit.New(cfg.RateLimits, h.flushCoalesced)
	h.keys = keyBudget{max: cfg.MaxIdempotencyKeys, window: cfg.IdempotencyWindow}
	if h.broker == nil {
		h.broker = broker.NewMemory(broker.MemoryConfig{IdempotencyWindow: cfg.IdempotencyWindow})
		h.ownsBroker = true
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.fanEpoch = h.broker.Epoch()
	done, err := h.broker.Subscribe(ctx, h.dispatch)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("hub: subscribe to broker: %w", err)
	}
	h.dispatched = done
	if hd, ok := h.broker.(broker.Header); ok {
		// Start from the end of the log as it was when the subscription
		// began; dispatch moves it forward.
		if id, err := hd.LastID(ctx); err == nil && h.head.Load() == nil {
			h.head.CompareAndSwap(nil, &id)
		}
	}
	// A broker shared with other hubs (a cluster, or several hubs on one
	// in-memory broker) that carries control messages makes this hub a node.
	if bus, ok := h.broker.(broker.Bus); ok && !h.ownsBroker {
		h.cl = newCluster(h, bus, cfg.PresenceInterval)
		stopped, err := bus.Listen(ctx, h.cl.receive)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("hub: listen to the cluster bus: %w", err)
		}
		h.listened = stopped
		h.wg.Go(h.cl.sendLoop)
		h.wg.Go(h.cl.presenceLoop)
	}
	h.pool = newPool(h)
	h.wg.Go(h.sweepLoop)
	h.wg.Go(h.heartbeatLoop)
	return h, nil
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// NodeID returns the node's id.
func (h *Hub) NodeID() string { return h.nodeID }

// Config returns the hub's configuration with defaults filled in.
func (h *Hub) Config() Config { return h.cfg }

// Connect registers a new connection. From the moment it returns, events
// meant for the connection are queued for it; the caller must then call
// exactly one of Conn.Serve or Conn.Close. It fails with ErrDisabled,
// ErrClosed or a *LimitError, and with a name error for an invalid tenant,
// user or channel.
func (h *Hub) Connect(info ConnInfo) (*Conn, error) {
	if err := ValidateTenant(info.TenantID); err != nil {
		return nil, err
	}
	if err := ValidateUser(info.UserID); err != nil {
		return nil, err
	}
	if len(info.Channels) > h.cfg.MaxChannels {
		return nil, fmt.Errorf("%w: at most %d per connection", ErrTooManyChannels, h.cfg.MaxChannels)
	}
	var chans map[string]struct{}
	for _, ch := range info.Channels {
		if err := ValidateChannel(ch); err != nil {
			return nil, err
		}
		if chans == nil {
			chans = make(map[string]struct{}, len(info.Channels))
		}
		chans[ch] = struct{}{}
	}
	c := &Conn{
		h: h, tenant: info.TenantID, user: info.UserID,
		lastEventID: info.LastEventID,
		created:     time.Now(),
		channels:    chans,
		endIdx:      -1,
	}
	if !info.ExpiresAt.IsZero() {
		c.expires = info.ExpiresAt.UnixNano()
	}
	c.lastWrite.Store(c.created.UnixNano())
	c.id = ConnID(h.nodeID + "." + randomID(10))

	var evict []*Conn
	h.mu.Lock()
	switch {
	case h.closed:
		h.mu.Unlock()
		return nil, ErrClosed
	case h.disabled:
		h.mu.Unlock()
		return nil, ErrDisabled
	}
	uk := userKey{c.tenant, c.user}
	if max := h.cfg.MaxConnsPerUser; max > 0 {
		if h.cfg.UserLimitPolicy == Reject {
			n := len(h.reg.byUser[uk])
			if h.cl != nil {
				n += h.cl.remoteCount(uk)
			}
			if n >= max {
				h.mu.Unlock()
				h.stats.rejected.Add(1)
				h.cfg.Observer.ConnRejected("user")
				return nil, &LimitError{Scope: "user", Limit: max, RetryAfter: h.cfg.RetryAfter}
			}
		} else {
			// The oldest of the user's connections on this node make room
			// at once; those on other nodes, after a presence interval
			// (see cluster.go).
			evict = h.userEvictions(uk, c, time.Time{})
			if h.cl != nil && h.cl.remoteCount(uk) > 0 {
				h.cl.mu.Lock()
				h.cl.askCheck(uk, time.Now())
				h.cl.mu.Unlock()
			}
		}
	}
	if max := h.cfg.MaxConns; max > 0 && len(h.reg.conns)-len(evict) >= max {
		if h.cfg.TotalLimitPolicy == Reject {
			h.mu.Unlock()
			h.stats.rejected.Add(1)
			h.cfg.Observer.ConnRejected("total")
			return nil, &LimitError{Scope: "total", Limit: max, RetryAfter: h.cfg.RetryAfter}
		}
		if o := h.reg.oldest(); o != nil && !containsConn(evict, o) {
			evict = append(evict, o)
		}
	}
	for _, old := range evict {
		h.reg.remove(old)
	}
	h.serial++
	c.serial = h.serial
	if p := h.head.Load(); p != nil {
		c.head = *p
	}
	c.epoch = h.fanEpoch
	if c.lastEventID != "" {
		c.epoch = h.broker.Epoch()
	}
	h.reg.add(c)
	h.conns.Add(1)
	h.mu.Unlock()
	if h.cl != nil {
		h.cl.sendConn(ctlOpen, c)
	}

	for _, old := range evict {
		old.logger().Info("evicting connection", "by", c.id)
		h.stats.evicted.Add(1)
		old.end(ReasonEvicted)
	}
	h.stats.connects.Add(1)
	h.cfg.Observer.ConnOpened(c.tenant)
	if h.cfg.Logger.Enabled(context.Background(), slog.LevelInfo) {
		c.logger().Info("connection opened", "channels", len(chans), "resume", info.LastEventID != "")
	}
	return c, nil
}

func containsConn(list []*Conn, c *Conn) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

// release unregisters c after Serve or Close.
func (h *Hub) release(c *Conn, reason string) {
	c.end(reason)
	h.mu.Lock()
	h.reg.remove(c)
	h.mu.Unlock()
	if h.cl != nil {
		h.cl.sendConn(ctlClose, c)
	}
	h.deadlines.remove(c)
	// Drop what is still queued so the frames can be collected.
	c.qmu.Lock()
	c.q, c.spare = nil, nil
	left := c.backlog
	c.backlog = 0
	c.qmu.Unlock()
	h.queued.Add(-int64(left))
	h.stats.disconnects.Add(1)
	reason = *c.reason.Load()
	age := time.Since(c.created)
	h.cfg.Observer.ConnClosed(c.tenant, reason, age)
	if h.cfg.Logger.Enabled(context.Background(), slog.LevelInfo) {
		c.logger().Info("connection closed", "reason", reason, "age", age.Round(time.Millisecond))
	}
	h.conns.Done()
}

// dispatch fans one envelope out to this node's recipients. It runs on the
// broker's delivery goroutine: it encodes the event once and never waits on
// a client.
func (h *Hub) dispatch(env broker.Envelope) {
	f, err := encodeFrame(&env)
	if err != nil {
		h.cfg.Logger.Error("cannot encode event", "event_id", env.ID, "err", err)
		return
	}
	if ep, _, _ := strings.Cut(env.ID, "-"); ep != h.fanEpoch {
		h.logLost(ep)
	}
	var slow []*Conn
	n, took := 0, 0
	deliver := func(c *Conn) {
		if string(c.id) == env.ExcludeConn {
			return
		}
		n++
		switch c.enqueue(f) {
		case queued:
			took++
		case full:
			slow = append(slow, c)
		}
	}
	h.mu.RLock()
	t := env.Target
	switch t.Kind {
	case broker.ToBroadcast:
		for _, c := range h.reg.conns {
			deliver(c)
		}
	case broker.ToTenant:
		for c := range h.reg.byTenant[env.TenantID] {
			deliver(c)
		}
	case broker.ToUser, broker.ToUsers:
		for _, u := range t.UserIDs {
			for _, c := range h.reg.byUser[userKey{env.TenantID, u}] {
				deliver(c)
			}
		}
	case broker.ToChannel:
		for c := range h.reg.byChannel[chanKey{env.TenantID, t.Channel}] {
			deliver(c)
		}
	}
	id := env.ID
	h.head.Store(&id)
	// Before the read lock goes: a connection released after it finds
	// these bytes counted (release subtracts its backlog).
	h.queued.Add(int64(took) * int64(len(f.b)))
	h.mu.RUnlock()
	h.stats.dispatched.Add(1)
	h.stats.fannedOut.Add(uint64(n - len(slow)))
	h.cfg.Observer.Dispatched(env.Event, n-len(slow))
	for _, c := range slow {
		h.stats.dropped.Add(1)
		h.cfg.Observer.Dropped(env.Event)
		c.logger().Warn("queue full, closing slow consumer", "queue_size", h.cfg.QueueSize, "queue_bytes", h.cfg.QueueBytes)
		c.end(ReasonSlowConsumer)
	}
	if h.queued.Load() > h.cfg.NodeQueueBytes {
		h.shed()
	}
}

// logLost handles the first envelope of a new epoch: the log the nodes
// fanned out was lost (an engine without persistence restarted, or one
// rolled back). What was appended to it just before the loss and not yet
// fanned out here is gone, and no node can say what it was, so every
// stream that followed the old log is told with sse:reset
// {"reason":"log_lost"} before the new log's first event, and refetches
// its state. Streams that resumed on the new log are left alone. It runs
// on the delivery goroutine, like dispatch.
func (h *Hub) logLost(epoch string) {
	reset := &frame{b: appendControl(nil, "sse:reset", reasonData(ReasonLogLost)), event: "sse:reset", newLog: true}
	var slow []*Conn
	took := 0
	h.mu.Lock()
	old := h.fanEpoch
	h.fanEpoch = epoch
	if old == "" { // the broker had no epoch yet when the hub subscribed
		h.mu.Unlock()
		return
	}
	for _, c := range h.reg.conns {
		if c.epoch == epoch {
			continue
		}
		c.epoch = epoch
		h.stats.resets.Add(1)
		switch c.enqueue(reset) {
		case queued:
			took++
		case full:
			slow = append(slow, c)
		}
	}
	n := len(h.reg.conns)
	h.queued.Add(int64(took) * int64(len(reset.b)))
	h.mu.Unlock()
	h.cfg.Logger.Error("the log was lost: open streams get sse:reset", "old_epoch", old, "epoch", epoch, "streams", n)
	for _, c := range slow {
		c.end(ReasonSlowConsumer)
	}
}

// heartbeatLoop asks every connection that wrote nothing for most of an
// interval for a heartbeat. One timer serves every connection.
func (h *Hub) heartbeatLoop() {
	t := time.NewTicker(h.cfg.Heartbeat)
	defer t.Stop()
	var due []*Conn
	for {
		select {
		case now := <-t.C:
			idle := now.Add(-h.cfg.Heartbeat * 9 / 10).UnixNano()
			h.mu.RLock()
			for _, c := range h.reg.conns {
				if c.lastWrite.Load() <= idle {
					due = append(due, c)
				}
			}
			h.mu.RUnlock()
			for _, c := range due {
				c.heartbeat()
			}
			clear(due)
			due = due[:0]
		case <-h.quit:
			return
		}
	}
}

func (h *Hub) sweepLoop() {
	t := time.NewTicker(h.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			h.Sweep()
			h.keys.gc(now)
		case <-h.quit:
			return
		}
	}
}

// Sweep closes every connection with no successful write for
// InactivityTimeout and returns how many it closed. It runs every
// SweepInterval on its own; calling it directly is for tests.
func (h *Hub) Sweep() int {
	cutoff := time.Now().Add(-h.cfg.InactivityTimeout).UnixNano()
	var idle []*Conn
	h.mu.RLock()
	for _, c := range h.reg.conns {
		if c.lastWrite.Load() < cutoff {
			idle = append(idle, c)
		}
	}
	h.mu.RUnlock()
	for _, c := range idle {
		c.logger().Warn("closing inactive connection")
		c.end(ReasonInactive)
	}
	return len(idle)
}

// UpdateChannels changes the channels of a live connection that belongs
// to the given user, on this node or, in a cluster, on the node that holds
// it, and returns its channels afterwards. The caller has authorized the
// channels to subscribe. It fails with ErrNotFound when no such connection
// belongs to that user.
func (h *Hub) UpdateChannels(ctx context.Context, id ConnID, tenant, user string, subscribe, unsubscribe []string) ([]string, error) {
	for _, ch := range append(append([]string(nil), subscribe...), unsubscribe...) {
		if err := ValidateChannel(ch); err != nil {
			return nil, err
		}
	}
	if node := nodeOf(id); h.cl != nil && node != h.nodeID {
		return h.cl.remoteUpdate(ctx, node, id, tenant, user, subscribe, unsubscribe)
	}
	return h.updateLocal(id, tenant, user, subscribe, unsubscribe)
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// updateLocal changes the channels of a connection of this node.
func (h *Hub) updateLocal(id ConnID, tenant, user string, subscribe, unsubscribe []string) ([]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.reg.conns[id]
	if c == nil || c.tenant != tenant || c.user != user {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	// The change is checked whole before anything is applied, so a refused
	// change leaves the connection as it was.
	after := len(c.channels)
	gone := make(map[string]bool, len(unsubscribe))
	for _, ch := range unsubscribe {
		if _, had := c.channels[ch]; had && !gone[ch] {
			gone[ch] = true
			after--
		}
	}
	added := make(map[string]bool, len(subscribe))
	for _, ch := range subscribe {
		if _, had := c.channels[ch]; (!had || gone[ch]) && !added[ch] {
			added[ch] = true
			after++
		}
	}
	if after > h.cfg.MaxChannels {
		return nil, fmt.Errorf("%w: at most %d per connection", ErrTooManyChannels, h.cfg.MaxChannels)
	}
	for _, ch := range unsubscribe {
		h.reg.unsubscribe(c, ch)
	}
	for _, ch := range subscribe {
		h.reg.subscribe(c, ch)
	}
	return sortedKeys(c.channels), nil
}

// SetDisabled disables or enables streaming on every node. Disabling
// closes every open stream with sse:disabled; while disabled, Connect fails
// with ErrDisabled. Publishing still works, so history stays complete.
func (h *Hub) SetDisabled(disabled bool) {
	if h.cl == nil {
		h.setDisabledLocal(disabled)
		return
	}
	ver := time.Now().UnixNano()
	h.cl.applyDisable(disabled, ver)
	h.cl.send(ctlDisable, "", disableBody{Disabled: disabled, Ver: ver})
}

func (h *Hub) setDisabledLocal(disabled bool) {
	h.mu.Lock()
	h.disabled = disabled
	var all []*Conn
	if disabled {
		for _, c := range h.reg.conns {
			all = append(all, c)
		}
	}
	h.mu.Unlock()
	for _, c := range all {
		c.end(ReasonDisabled)
	}
	h.cfg.Logger.Info("streaming toggled", "disabled", disabled, "closed", len(all))
}

// Disabled reports whether streaming is disabled.
func (h *Hub) Disabled() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.disabled
}

// Sizes reports the sizes of the registry's indexes.
func (h *Hub) Sizes() Sizes {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.reg.sizes()
}

// Shutdown stops the hub gracefully: new connections and publishes are
// refused with ErrClosed; events already published are delivered to the
// queues; then every stream gets its pending events and sse:shutdown, and
// Shutdown waits until all connections are released. When ctx ends first it
// returns ctx.Err(); streams still stuck in a write end at their write
// deadline. A broker the hub created is closed.
func (h *Hub) Shutdown(ctx context.Context) error {
	first := false
	h.stopOnce.Do(func() {
		first = true
		h.mu.Lock()
		h.closed = true
		h.mu.Unlock()
		close(h.quit)
	})
	if first {
		// Let publishes under way finish, publish what the rate limiter
		// holds, let the broker hand over what it acknowledged, then stop.
		h.publishing.Wait()
		h.limiter.Close()
		h.cancel()
		if h.ownsBroker {
			_ = h.broker.Close()
		}
		select {
		case <-h.dispatched:
		case <-ctx.Done():
		}
		if h.listened != nil {
			select {
			case <-h.listened:
			case <-ctx.Done():
			}
		}
		h.mu.RLock()
		all := make([]*Conn, 0, len(h.reg.conns))
		for _, c := range h.reg.conns {
			all = append(all, c)
		}
		h.mu.RUnlock()
		for _, c := range all {
			c.end(ReasonShutdown)
		}
	}
	done := make(chan struct{})
	go func() {
		h.wg.Wait()
		h.conns.Wait()
		h.pool.stop() // the writers are needed until the last connection is released
		h.deadlines.stop()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// startPublish registers a Publish call, or returns ErrClosed after
// Shutdown. The caller calls h.publishing.Done when it is over.
func (h *Hub) startPublish() error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return ErrClosed
	}
	h.publishing.Add(1)
	return nil
}

// errIfClosed returns ErrClosed after Shutdown.
func (h *Hub) errIfClosed() error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.closed {
		return ErrClosed
	}
	return nil
}

// Ready returns nil while the hub runs, and
// ErrClosed after Shutdown. A disabled hub is still ready: it serves
// publishes and answers streams with 503 on purpose.
func (h *Hub) Ready() error { return h.errIfClosed() }
