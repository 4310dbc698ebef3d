package redisbroker

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/internal/brokerbase"
)

// Config configures a Broker. The zero value connects to a Redis on
// localhost with the defaults below.
//
// Every node of a cluster must use the same URL, Prefix, HistorySize and
// HistoryAge.
type Config struct {
	// URL locates the Redis server, as understood by redis.ParseURL:
	// redis://[[user]:password@]host[:port][/db], or rediss:// for TLS.
	// Query parameters such as dial_timeout or pool_size are honoured.
	// Zero means redis://127.0.0.1:6379/0.
	URL string
	// Prefix names the log: every key and channel the broker uses starts
	// with "{Prefix}:", so that nodes sharing a Prefix share one log and
	// the keys of one log hash to one Redis Cluster slot. Zero means
	// "ssehub".
	Prefix string
	// HistorySize is how many messages Replay can reach back. Zero means
	// 10,000; negative means none (Replay serves only an id that is the
	// end of the log). The stream physically keeps at least 1,024 entries
	// so that a briefly lagging subscriber does not miss any.
	HistorySize int
	// HistoryAge is how long a message stays available to Replay. Zero
	// means 5 minutes.
	HistoryAge time.Duration
	// NodeID names this node in Redis (CLIENT SETNAME ssehub:<NodeID>) and
	// in logs. Zero means a random id.
	NodeID string
	// Timeout bounds each call to Redis made by Publish, Replay, Ping and
	// Send, so that they fail fast when Redis is unreachable. Zero means
	// 2 seconds.
	Timeout time.Duration
	// IdempotencyWindow is how long an idempotency key is remembered.
	// Zero means [broker.DefaultIdempotencyWindow].
	IdempotencyWindow time.Duration
	// Logger receives the broker's logs. Nil means silent. While this is
	// the newest open Broker of the process, it also receives go-redis's
	// own lines (failed dials), which go-redis logs process-wide: see the
	// package documentation.
	Logger *slog.Logger
}

const (
	defaultURL         = "redis://127.0.0.1:6379/0"
	defaultPrefix      = "ssehub"
	defaultHistorySize = 10_000
	defaultHistoryAge  = 5 * time.Minute
	defaultTimeout     = 2 * time.Second
	minStreamLen       = 1024
)

// Validate reports whether the configuration can be used.
func (c Config) Validate() error {
	c = c.withDefaults()
	if _, err := redis.ParseURL(c.URL); err != nil {
		return fmt.Errorf("redisbroker: invalid URL: %w", err)
	}
	if strings.ContainsAny(c.Prefix, "{}") {
		return fmt.Errorf("redisbroker: invalid prefix %q: braces are reserved", c.Prefix)
	}
	if c.HistoryAge < 0 {
		return errors.New("redisbroker: negative HistoryAge")
	}
	if c.Timeout < 0 {
		return errors.New("redisbroker: negative Timeout")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.URL == "" {
		c.URL = defaultURL
	}
	if c.Prefix == "" {
		c.Prefix = defaultPrefix
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

// streamLen is the MAXLEN given to XADD.
func (c Config) streamLen() int { return max(c.HistorySize, minStreamLen) }

// keys of one log.
type keys struct{ meta, bus, logPrefix string }

func newKeys(prefix string) keys {
	p := "{" + prefix + "}:"
	return keys{meta: p + "meta", bus: p + "bus", logPrefix: p + "log:"}
}

func (k keys) log(epoch string) string { return k.logPrefix + epoch }

// idem is the key of an idempotency key joined with its tenant by
// [broker.KeyOf]; it shares the prefix's hash slot.
func (k keys) idem(key string) string { return k.meta[:len(k.meta)-len("meta")] + "idem:" + key }
