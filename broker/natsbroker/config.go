package natsbroker

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/internal/brokerbase"
)

// Config configures a Broker. The zero value connects to a NATS server on
// localhost with the defaults below.
//
// Every node of a cluster must use the same Stream, HistorySize and
// HistoryAge.
type Config struct {
	// URL locates the NATS server(s), as nats.Connect understands it; a
	// comma-separated list names several servers of one cluster. Zero
	// means nats://127.0.0.1:4222.
	URL string
	// Stream names the JetStream stream that holds the log. Nodes that use
	// the same Stream share one log. The log's subject is
	// "<Stream>.log.<epoch>" and control messages use "<Stream>.bus". Zero
	// means "SSEHUB".
	Stream string
	// HistorySize is how many messages Replay can reach back. Zero means
	// 10,000; negative means none (Replay serves only an id that is the
	// end of the log). The stream itself keeps at least 1,024 messages
	// (MaxMsgs) so that a briefly lagging subscriber does not miss any.
	HistorySize int
	// HistoryAge is how long a message stays available to Replay (the
	// stream's MaxAge). Zero means 5 minutes.
	HistoryAge time.Duration
	// HistoryBytes bounds the stream's size in bytes (its MaxBytes, as
	// JetStream counts a message: data, subject, headers and some
	// overhead); the oldest messages go first. Keep it well above what a
	// lagging subscriber may still have to read. Zero means no bound but
	// HistorySize and HistoryAge.
	HistoryBytes int64
	// Replicas is the stream's replication factor in a NATS cluster. Zero
	// means 1.
	Replicas int
	// MemoryStorage keeps the stream in memory. False means file storage,
	// which survives NATS restarts.
	MemoryStorage bool
	// NodeID names this node's NATS connection ("ssehub:<NodeID>") and
	// appears in logs. Zero means a random id.
	NodeID string
	// Timeout bounds each call to NATS made by Publish, Replay, Ping and
	// Send, and the initial connection, so that they fail fast when NATS
	// is unreachable. Zero means 2 seconds.
	Timeout time.Duration
	// IdempotencyWindow is how long an idempotency key is remembered: the
	// stream's duplicate window (Duplicates), which JetStream caps at
	// HistoryAge. Zero means [broker.DefaultIdempotencyWindow].
	IdempotencyWindow time.Duration
	// Options are added to the broker's own nats.Options when connecting,
	// for credentials or TLS; they can override the broker's choices.
	Options []nats.Option
	// Logger receives the broker's logs. Nil means silent.
	Logger *slog.Logger
}

const (
	defaultStream      = "SSEHUB"
	defaultHistorySize = 10_000
	defaultHistoryAge  = 5 * time.Minute
	defaultTimeout     = 2 * time.Second
	minStreamLen       = 1024
)

// Validate reports whether the configuration can be used.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.Stream == "" || strings.ContainsAny(c.Stream, " \t\r\n.*>/\\") {
		return fmt.Errorf("natsbroker: invalid stream name %q", c.Stream)
	}
	if c.HistoryAge < 0 {
		return errors.New("natsbroker: negative HistoryAge")
	}
	if c.HistoryBytes < 0 {
		return errors.New("natsbroker: negative HistoryBytes")
	}
	if c.Timeout < 0 {
		return errors.New("natsbroker: negative Timeout")
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		return fmt.Errorf("natsbroker: Replicas %d is not between 1 and 5", c.Replicas)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.URL == "" {
		c.URL = nats.DefaultURL
	}
	if c.Stream == "" {
		c.Stream = defaultStream
	}
	if c.HistorySize == 0 {
		c.HistorySize = defaultHistorySize
	}
	if c.HistorySize < 0 {
		c.HistorySize = 0
	}
	if c.HistoryAge == 0 {
		c.HistoryAge = defaultHistoryAge
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.NodeID == "" {
		c.NodeID = brokerbase.NewEpoch()
	}
	if c.Timeout == 0 {
		c.Timeout = defaultTimeout
	}
	if c.IdempotencyWindow <= 0 {
		c.IdempotencyWindow = broker.DefaultIdempotencyWindow
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// streamBytes is the stream's MaxBytes: -1 for no bound.
func (c Config) streamBytes() int64 {
	if c.HistoryBytes <= 0 {
		return -1
	}
	return c.HistoryBytes
}

// streamLen is the stream's MaxMsgs.
func (c Config) streamLen() int { return max(c.HistorySize, minStreamLen) }

func (c Config) logSubject(epoch string) string { return c.Stream + ".log." + epoch }

func (c Config) busSubject() string { return c.Stream + ".bus" }

// epochOf returns the epoch in a log subject, or "" if it is not one.
func (c Config) epochOf(subject string) string {
	e, ok := strings.CutPrefix(subject, c.Stream+".log.")
	if !ok || e == "" || strings.ContainsAny(e, ".-*>") {
		return ""
	}
	return e
}

// dupWindow is the stream's duplicate window: IdempotencyWindow, at most
// HistoryAge (JetStream refuses a longer one).
func (c Config) dupWindow() time.Duration { return min(c.IdempotencyWindow, c.HistoryAge) }
