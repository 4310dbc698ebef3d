package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/ratelimit"
)

// Policy says what happens when a connection limit is reached.
type Policy uint8

// The limit policies.
const (
	// PolicyDefault is the per-limit default: EvictOldest for the per-user
	// limit, Reject for the total limit.
	PolicyDefault Policy = iota
	// EvictOldest closes the oldest connection (with sse:evicted) to make
	// room for the new one.
	EvictOldest
	// Reject refuses the new connection with a *LimitError.
	Reject
)

// ParsePolicy reads "evict" / "evict-oldest" or "reject".
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "":
		return PolicyDefault, nil
	case "evict", "evict-oldest", "evict_oldest":
		return EvictOldest, nil
	case "reject":
		return Reject, nil
	}
	return 0, fmt.Errorf("hub: unknown limit policy %q (want evict or reject)", s)
}

func (p Policy) String() string {
	switch p {
	case EvictOldest:
		return "evict"
	case Reject:
		return "reject"
	}
	return "default"
}

// Config configures a Hub. The zero value works: every field documents what
// zero means.
type Config struct {
	// Broker is the log events go through. Nil means a new in-memory broker
	// with default history, which the hub closes at Shutdown. A broker
	// passed in is not closed by the hub.
	Broker broker.Broker
	// NodeID names this node in connection ids, stats and logs. Empty means
	// a random id.
	NodeID string

	// MaxConnsPerUser caps one user's connections in a tenant. Zero means 3;
	// negative means no limit.
	MaxConnsPerUser int
	// UserLimitPolicy applies at MaxConnsPerUser. Zero means EvictOldest.
	UserLimitPolicy Policy
	// MaxConns caps the connections of this node. Zero means 500; negative
	// means no limit.
	MaxConns int
	// TotalLimitPolicy applies at MaxConns. Zero means Reject.
	TotalLimitPolicy Policy
	// RetryAfter is the wait suggested to a client refused by a limit. Zero
	// means 5 seconds.
	RetryAfter time.Duration

	// Heartbeat is the interval of the ":heartbeat" comment. Zero means 30
	// seconds.
	Heartbeat time.Duration
	// WriteTimeout bounds every write to a client. Zero means 10 seconds.
	WriteTimeout time.Duration
	// InactivityTimeout closes a connection that had no successful write
	// for this long. Zero means 5 minutes.
	InactivityTimeout time.Duration
	// SweepInterval is how often inactive connections are looked for. Zero
	// means 1 minute.
	SweepInterval time.Duration
	// QueueSize is how many events may wait for one connection; past it
	// the connection is closed and its client resumes from history. Zero
	// means 1024.
	QueueSize int
	// QueueBytes bounds the bytes of the events waiting for one
	// connection, counting the write under way until each event in it is
	// written whole; past it the connection is closed as a slow consumer,
	// like past QueueSize. An event always fits an empty queue. Zero means
	// 1 MiB: about a second of a fast stream, and 16 events of MaxPayload.
	// It must not be below MaxPayload.
	QueueBytes int
	// NodeQueueBytes bounds the bytes waiting in all of this node's
	// queues (an event queued for n connections counts n times); past it
	// the connections furthest behind are closed as slow consumers until
	// the rest hold under three quarters of it. Zero means
	// DefaultNodeQueueBytes.
	NodeQueueBytes int64
	// Writers is how many goroutines write the connections started with
	// Conn.Start. Zero means GOMAXPROCS, at least 2: their writes never
	// wait on a slow socket, so more writers than processors only take
	// processor time from the rest of the process (publishes, and on a
	// shared machine other processes). See docs/benchmarks.md for the
	// trade-off measured.
	Writers int
	// Retry is the reconnection delay sent to clients in the retry field.
	// Zero means 1 second.
	Retry time.Duration
	// MaxConnAge closes connections older than this (the client resumes).
	// Zero means no limit.
	MaxConnAge time.Duration
	// MaxChannels caps the channels of one connection, at Connect and
	// after every UpdateChannels; a change that would pass it is refused
	// whole. Zero means 100.
	MaxChannels int

	// MaxPayload caps the size of one event's data. Zero means 64 KiB.
	MaxPayload int

	// Schema, when set, is the publish pipeline's check of each message's
	// event, target and payload. Every Publish runs it, whoever calls
	// (POST /api/events, ssehub.Emit, the demo, an embedder), after the
	// hub's own validation and before rate limits, idempotency and the
	// append: it may refuse the message (Publish fails with a
	// *SchemaError, nothing is published) or return its data rewritten,
	// e.g. sanitized. targetKind is the target's broker.TargetKind name
	// ("user", "users", "tenant", "channel", "broadcast"). The event
	// catalog plugs in here: (*catalog.Catalog).Check.
	Schema func(ctx context.Context, event, targetKind string, data json.RawMessage) (json.RawMessage, error)

	// RateLimits limits events per name and target. Nil means
	// ratelimit.Defaults() (chat:typing 1/s and presence:update 1/5s,
	// coalesced); an empty map means no limits.
	RateLimits map[string]ratelimit.Rule
	// IdempotencyWindow is how long an idempotency key is remembered. Zero
	// means 10 minutes. The broker remembers the keys (for the memory
	// broker the hub creates, with this window; Redis and NATS brokers take
	// theirs from their own config, see the server's --idempotency-window).
	IdempotencyWindow time.Duration
	// MaxIdempotencyKeys bounds the keyed events a tenant may publish
	// through this node per IdempotencyWindow (fixed windows); beyond it
	// Publish fails with ErrRateLimited. Zero means 100,000; negative
	// means no limit.
	MaxIdempotencyKeys int

	// PresenceInterval is how often a node of a cluster tells the others
	// it is alive (with all its connections every sixth time); a node
	// silent for three intervals is forgotten, and the per-user limit is
	// enforced across nodes one interval after it is exceeded. Zero means
	// 2 seconds. Only used when the broker is a broker.Bus.
	PresenceInterval time.Duration

	// Observer receives the hub's events for metrics. Nil means none.
	Observer Observer

	// Logger receives the hub's logs. Nil means silent.
	Logger *slog.Logger
}

// DefaultNodeQueueBytes is NodeQueueBytes when zero: 256 MiB, the
// backlogs of 256 connections full at the default QueueBytes.
const DefaultNodeQueueBytes = 256 << 20

// Validate reports the first invalid field.
func (c Config) Validate() error {
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"Heartbeat", c.Heartbeat}, {"WriteTimeout", c.WriteTimeout},
		{"InactivityTimeout", c.InactivityTimeout}, {"SweepInterval", c.SweepInterval},
		{"Retry", c.Retry}, {"RetryAfter", c.RetryAfter}, {"MaxConnAge", c.MaxConnAge},
		{"IdempotencyWindow", c.IdempotencyWindow}, {"PresenceInterval", c.PresenceInterval},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("hub: %s must not be negative, got %v", d.name, d.v))
		}
	}
	if c.Writers < 0 || c.Writers > 1024 {
		errs = append(errs, fmt.Errorf("hub: Writers must be 0 to 1024, got %d", c.Writers))
	}
	if c.QueueSize < 0 {
		errs = append(errs, fmt.Errorf("hub: QueueSize must not be negative, got %d", c.QueueSize))
	}
	if c.QueueBytes < 0 || c.NodeQueueBytes < 0 {
		errs = append(errs, fmt.Errorf("hub: QueueBytes and NodeQueueBytes must not be negative, got %d and %d", c.QueueBytes, c.NodeQueueBytes))
	} else if d := c.withDefaults(); d.QueueBytes < d.MaxPayload {
		errs = append(errs, fmt.Errorf("hub: QueueBytes (%d) must not be below MaxPayload (%d)", d.QueueBytes, d.MaxPayload))
	}
	if c.MaxChannels < 0 {
		errs = append(errs, fmt.Errorf("hub: MaxChannels must not be negative, got %d", c.MaxChannels))
	}
	if c.MaxPayload < 0 {
		errs = append(errs, fmt.Errorf("hub: MaxPayload must not be negative, got %d", c.MaxPayload))
	}
	if c.UserLimitPolicy > Reject || c.TotalLimitPolicy > Reject {
		errs = append(errs, errors.New("hub: unknown limit policy"))
	}
	for name, r := range c.RateLimits {
		if err := ValidateEventName(name); err != nil {
			errs = append(errs, fmt.Errorf("hub: RateLimits: %w", err))
		}
		if r.Interval <= 0 || (r.Mode != ratelimit.Drop && r.Mode != ratelimit.Coalesce) {
			errs = append(errs, fmt.Errorf("hub: RateLimits[%q]: want a positive interval and mode drop or coalesce", name))
		}
	}
	if c.NodeID != "" && !validTenant(c.NodeID) {
		errs = append(errs, fmt.Errorf("hub: NodeID %q: use letters, digits and . _ : - @", c.NodeID))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.MaxConnsPerUser == 0 {
		c.MaxConnsPerUser = 3
	}
	if c.MaxConns == 0 {
		c.MaxConns = 500
	}
	if c.UserLimitPolicy == PolicyDefault {
		c.UserLimitPolicy = EvictOldest
	}
	if c.TotalLimitPolicy == PolicyDefault {
		c.TotalLimitPolicy = Reject
	}
	def(&c.RetryAfter, 5*time.Second)
	def(&c.Heartbeat, 30*time.Second)
	def(&c.WriteTimeout, 10*time.Second)
	def(&c.InactivityTimeout, 5*time.Minute)
	def(&c.SweepInterval, time.Minute)
	def(&c.Retry, time.Second)
	if c.QueueSize == 0 {
		c.QueueSize = 1024
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = 64 << 10
	}
	if c.QueueBytes == 0 {
		c.QueueBytes = 1 << 20
	}
	if c.NodeQueueBytes == 0 {
		c.NodeQueueBytes = DefaultNodeQueueBytes
	}
	if c.MaxChannels == 0 {
		c.MaxChannels = 100
	}
	if c.RateLimits == nil {
		c.RateLimits = ratelimit.Defaults()
	}
	def(&c.IdempotencyWindow, 10*time.Minute)
	if c.MaxIdempotencyKeys == 0 {
		c.MaxIdempotencyKeys = 100_000
	}
	def(&c.PresenceInterval, 2*time.Second)
	if c.Observer == nil {
		c.Observer = nopObserver{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
