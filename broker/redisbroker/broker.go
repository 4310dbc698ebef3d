package redisbroker

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/internal/brokerbase"
)

// Broker is a [broker.Broker], [broker.Bus] and [broker.Pinger] backed by
// Redis. It is safe for concurrent use. After Close every method returns
// [broker.ErrClosed]; a Broker cannot be reused.
type Broker struct {
	cfg    Config
	keys   keys
	client *redis.Client
	log    *slog.Logger
	core   *brokerbase.Core // epoch, closed, goroutines

	// redisLog receives go-redis's own lines while b is the newest open
	// Broker (see logger.go).
	redisLog *slog.Logger

	// seen is the highest seq this node has seen in an epoch: Redis
	// reporting less means the log was rolled back (see rollback.go).
	seen seen
}

var (
	_ broker.Broker = (*Broker)(nil)
	_ broker.Bus    = (*Broker)(nil)
	_ broker.Pinger = (*Broker)(nil)
)

// New connects to Redis, creates the log's epoch if the log is new, and
// returns a broker. It fails with an error wrapping [broker.ErrUnavailable]
// when Redis cannot be reached within ctx and cfg.Timeout.
func New(ctx context.Context, cfg Config) (*Broker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	opt, err := redis.ParseURL(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("redisbroker: invalid URL: %w", err)
	}
	if opt.DialTimeout == 0 {
		opt.DialTimeout = cfg.Timeout
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = cfg.Timeout
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = cfg.Timeout
	}
	opt.ContextTimeoutEnabled = true
	opt.MaxRetries = -1 // a retried publish could append twice
	opt.DialerRetries = 1
	opt.ClientName = "ssehub:" + strings.Map(func(r rune) rune {
		if r <= ' ' || r > '~' {
			return '_'
		}
		return r
	}, cfg.NodeID)
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}

	b := &Broker{
		cfg:    cfg,
		keys:   newKeys(cfg.Prefix),
		client: redis.NewClient(opt),
		log:    cfg.Logger.With("broker", "redis", "prefix", cfg.Prefix, "node_id", cfg.NodeID),

		redisLog: cfg.Logger.With("broker", "redis"),
	}
	b.core = brokerbase.NewCore("redisbroker", b.log)
	openGoRedisLog(b)
	epoch, _, err := b.open(ctx)
	if err != nil {
		b.core.Close()
		closeGoRedisLog(b)
		_ = b.client.Close()
		return nil, err
	}
	b.core.SetEpoch(epoch)
	b.log.Info("broker connected", "epoch", epoch)
	return b, nil
}

// open reads the log's epoch and last seq, creating the epoch if there is
// none.
func (b *Broker) open(ctx context.Context) (epoch string, seq uint64, err error) {
	tctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	known, floor := b.seen.get()
	res, err := openScript.Run(tctx, b.client, []string{b.keys.meta}, brokerbase.NewEpoch(), known, floor).Slice()
	if err != nil {
		return "", 0, b.core.Wrap(ctx, "open", err)
	}
	if len(res) != 2 {
		return "", 0, fmt.Errorf("redisbroker: open: unexpected reply %v", res)
	}
	epoch, _ = res[0].(string)
	n, _ := res[1].(int64)
	if epoch == "" || n < 0 {
		return "", 0, fmt.Errorf("redisbroker: open: unexpected reply %v", res)
	}
	b.rolledBack(known, epoch)
	b.seen.saw(epoch, uint64(n))
	return epoch, uint64(n), nil
}

// Epoch implements [broker.Broker]. It is the epoch this node last saw; it
// changes if Redis loses the log (a restart without persistence, a flush).
func (b *Broker) Epoch() string { return b.core.Epoch() }

// Ping implements [broker.Pinger]: it returns nil while Redis answers
// within cfg.Timeout, and an error wrapping [broker.ErrUnavailable]
// otherwise.
func (b *Broker) Ping(ctx context.Context) error {
	if b.core.Closed() {
		return broker.ErrClosed
	}
	tctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	if err := b.client.Ping(tctx).Err(); err != nil {
		return b.core.Wrap(ctx, "ping", err)
	}
	return nil
}

// Close implements [broker.Broker]: it stops every subscription and
// listener, waits for their goroutines, and closes the connections to
// Redis. It does not delete the log. It is idempotent.
func (b *Broker) Close() error {
	if !b.core.Close() {
		return nil
	}
	closeGoRedisLog(b)
	err := b.client.Close() // also interrupts blocked XREADs
	b.core.Wait()
	b.log.Info("broker closed")
	return err
}
