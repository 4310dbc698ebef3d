package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/internal/brokerbase"
)

// Broker is a [broker.Broker], [broker.Bus] and [broker.Pinger] backed by
// NATS JetStream. It is safe for concurrent use. After Close every method
// returns [broker.ErrClosed]; a Broker cannot be reused.
type Broker struct {
	cfg  Config
	nc   *nats.Conn
	js   jetstream.JetStream
	log  *slog.Logger
	core *brokerbase.Core // epoch, closed, goroutines

	pubMu sync.Mutex // keeps one node's batches contiguous on the wire

	rmu     sync.Mutex
	rctx    context.Context // cancelled at the next reconnection
	rcancel context.CancelFunc
}

var (
	_ broker.Broker = (*Broker)(nil)
	_ broker.Bus    = (*Broker)(nil)
	_ broker.Pinger = (*Broker)(nil)
)

// errForeignStream is returned when the stream exists but is not an ssehub
// log.
var errForeignStream = errors.New("natsbroker: stream exists and is not an ssehub log")

// New connects to NATS, creates the stream if it does not exist, and
// returns a broker. It fails with an error wrapping [broker.ErrUnavailable]
// when NATS or JetStream cannot be reached within ctx and cfg.Timeout.
func New(ctx context.Context, cfg Config) (*Broker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	b := &Broker{cfg: cfg, log: cfg.Logger.With("broker", "nats", "stream", cfg.Stream, "node_id", cfg.NodeID)}
	b.core = brokerbase.NewCore("natsbroker", b.log)
	b.rctx, b.rcancel = context.WithCancel(b.core.Context())
	opts := []nats.Option{
		nats.Name("ssehub:" + cfg.NodeID),
		nats.Timeout(cfg.Timeout),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectJitter(100*time.Millisecond, time.Second),
		// Fail fast: while reconnecting, publishes fail instead of
		// waiting in a buffer.
		nats.ReconnectBufSize(-1),
		nats.PingInterval(5 * time.Second),
		nats.MaxPingsOutstanding(2),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				b.log.Warn("nats disconnected", "error", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			b.log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
			b.rmu.Lock()
			b.rcancel()
			b.rctx, b.rcancel = context.WithCancel(b.core.Context())
			b.rmu.Unlock()
		}),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			b.log.Warn("nats error", "error", err)
		}),
	}
	nc, err := nats.Connect(cfg.URL, append(opts, cfg.Options...)...)
	if err != nil {
		b.core.Close()
		return nil, fmt.Errorf("natsbroker: connect: %w: %w", broker.ErrUnavailable, err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(cfg.Timeout), jetstream.WithDefaultTimeout(cfg.Timeout))
	if err != nil {
		b.core.Close()
		nc.Close()
		return nil, fmt.Errorf("natsbroker: %w", err)
	}
	b.nc, b.js = nc, js
	epoch, _, err := b.ensureStream(ctx)
	if err != nil {
		b.core.Close()
		nc.Close()
		return nil, err
	}
	b.core.SetEpoch(epoch)
	b.log.Info("broker connected", "epoch", epoch)
	return b, nil
}

func (b *Broker) streamConfig(epoch string) jetstream.StreamConfig {
	storage := jetstream.FileStorage
	if b.cfg.MemoryStorage {
		storage = jetstream.MemoryStorage
	}
	return jetstream.StreamConfig{
		Name:        b.cfg.Stream,
		Description: "ssehub event log",
		Subjects:    []string{b.cfg.logSubject(epoch)},
		Retention:   jetstream.LimitsPolicy,
		MaxMsgs:     int64(b.cfg.streamLen()),
		MaxAge:      b.cfg.HistoryAge,
		MaxBytes:    b.cfg.streamBytes(),
		Discard:     jetstream.DiscardOld,
		Storage:     storage,
		Replicas:    b.cfg.Replicas,
		Duplicates:  b.cfg.dupWindow(),
	}
}

// ensureStream returns the stream's epoch and state, creating the stream
// with a new epoch if it does not exist.
func (b *Broker) ensureStream(ctx context.Context) (string, *jetstream.StreamInfo, error) {
	tctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	s, err := b.js.Stream(tctx, b.cfg.Stream)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		epoch := brokerbase.NewEpoch()
		s, err = b.js.CreateStream(tctx, b.streamConfig(epoch))
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			s, err = b.js.Stream(tctx, b.cfg.Stream) // another node won the race
		} else if err == nil {
			b.log.Info("stream created", "epoch", epoch)
		}
	}
	if err != nil {
		return "", nil, b.wrap(ctx, "stream", err)
	}
	info := s.CachedInfo()
	return b.epochOf(info)
}

// epochOf reads the epoch from a stream's subject.
func (b *Broker) epochOf(info *jetstream.StreamInfo) (string, *jetstream.StreamInfo, error) {
	if len(info.Config.Subjects) != 1 || b.cfg.epochOf(info.Config.Subjects[0]) == "" {
		return "", nil, fmt.Errorf("%w: %q has subjects %q, want one like %q",
			errForeignStream, b.cfg.Stream, info.Config.Subjects, b.cfg.logSubject("<epoch>"))
	}
	if c := info.Config; c.MaxMsgs != int64(b.cfg.streamLen()) || c.MaxAge != b.cfg.HistoryAge || c.MaxBytes != b.cfg.streamBytes() || c.Duplicates != b.cfg.dupWindow() {
		b.log.Info("stream limits differ from this node's config; the stream's hold", "max_msgs", c.MaxMsgs, "max_age", c.MaxAge, "max_bytes", c.MaxBytes, "duplicates", c.Duplicates)
	}
	return b.cfg.epochOf(info.Config.Subjects[0]), info, nil
}

// Epoch implements [broker.Broker]. It is the epoch this node last saw; it
// changes if the stream is deleted and created again.
func (b *Broker) Epoch() string { return b.core.Epoch() }

// wrap turns an error from NATS into one wrapping broker.ErrUnavailable,
// unless the caller's context ctx ended or the broker was closed; a foreign
// stream is reported as such.
func (b *Broker) wrap(ctx context.Context, op string, err error) error {
	if errors.Is(err, errForeignStream) && !b.core.Closed() && ctx.Err() == nil {
		return err
	}
	return b.core.Wrap(ctx, op, err)
}

// connected fails fast while the connection is down.
func (b *Broker) connected(op string) error {
	if b.core.Closed() {
		return broker.ErrClosed
	}
	if !b.nc.IsConnected() {
		return fmt.Errorf("natsbroker: %s: %w: nats connection is %v", op, broker.ErrUnavailable, b.nc.Status())
	}
	return nil
}

// Ping implements [broker.Pinger]: it returns nil while NATS JetStream
// answers within cfg.Timeout, and an error wrapping
// [broker.ErrUnavailable] otherwise.
func (b *Broker) Ping(ctx context.Context) error {
	if err := b.connected("ping"); err != nil {
		return err
	}
	tctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	if _, err := b.js.AccountInfo(tctx); err != nil {
		return b.wrap(ctx, "ping", err)
	}
	return nil
}

// Close implements [broker.Broker]: it stops every subscription and
// listener, waits for their goroutines, and closes the connection to NATS.
// It does not delete the stream. It is idempotent.
func (b *Broker) Close() error {
	if !b.core.Close() {
		return nil
	}
	b.core.Wait()
	b.nc.Close()
	b.log.Info("broker closed")
	return nil
}

// reconnected returns a context that is cancelled at the next
// reconnection to NATS (or by Close).
func (b *Broker) reconnected() context.Context {
	b.rmu.Lock()
	defer b.rmu.Unlock()
	return b.rctx
}
