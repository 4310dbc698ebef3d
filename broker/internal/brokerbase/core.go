// Package brokerbase holds what the brokers backed by a server
// (redisbroker, natsbroker) share: the frame a message is stored as, the
// state of a node ([Core]: the epoch it last saw, whether it is closed, the
// goroutines it started), the checks of an id given to Replay, and the
// retry helpers.
package brokerbase

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/ssehub/ssehub/broker"
)

// Core is the state of one broker node: the log's epoch as the node last
// saw it, whether the broker is closed, and the goroutines it started. It
// is safe for concurrent use.
type Core struct {
	name string // prefix of errors: the package's name
	log  *slog.Logger

	ctx    context.Context // cancelled by Close; parent of every goroutine
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	epoch  string
	closed bool
}

// NewCore returns the state of an open broker with no epoch yet. name
// prefixes the errors Wrap returns; log receives the epoch changes.
func NewCore(name string, log *slog.Logger) *Core {
	c := &Core{name: name, log: log}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// Context returns a context that is cancelled by Close.
func (c *Core) Context() context.Context { return c.ctx }

// Epoch returns the epoch the node last saw.
func (c *Core) Epoch() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// SetEpoch records the log's current epoch, logging at Error when it
// changed (the first epoch set is no change).
func (c *Core) SetEpoch(epoch string) {
	c.mu.Lock()
	old := c.epoch
	c.epoch = epoch
	c.mu.Unlock()
	if old != "" && old != epoch {
		c.log.Error("log lost: new epoch, earlier ids are void", "old_epoch", old, "epoch", epoch)
	}
}

// Closed reports whether Close was called.
func (c *Core) Closed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Close marks the broker closed and cancels Context. It reports false when
// the broker was closed already.
func (c *Core) Close() bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	return true
}

// Add registers a goroutine of the broker, which must call Done when it
// ends, and returns a context that ends with ctx or Close and a function
// that releases it. It fails with [broker.ErrClosed] once the broker is
// closed.
func (c *Core) Add(ctx context.Context) (context.Context, context.CancelFunc, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, nil, broker.ErrClosed
	}
	c.wg.Add(1)
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(c.ctx, cancel)
	return ctx, func() { stop(); cancel() }, nil
}

// Done ends a goroutine registered by Add.
func (c *Core) Done() { c.wg.Done() }

// Wait waits for every goroutine registered by Add to call Done.
func (c *Core) Wait() { c.wg.Wait() }

// Wrap turns an error from the engine into one wrapping
// [broker.ErrUnavailable], unless the caller's context ctx ended (then it
// wraps ctx's error) or the broker was closed (then it is
// [broker.ErrClosed]).
func (c *Core) Wrap(ctx context.Context, op string, err error) error {
	switch {
	case c.Closed():
		return broker.ErrClosed
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %s: %w", c.name, op, ctx.Err())
	}
	return fmt.Errorf("%s: %s: %w: %w", c.name, op, broker.ErrUnavailable, err)
}
