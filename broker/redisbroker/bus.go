package redisbroker

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/ssehub/ssehub/broker"
)

// Send implements [broker.Bus] with a Redis PUBLISH on the channel
// "{Prefix}:bus". Nodes that are not listening at that moment miss it.
func (b *Broker) Send(ctx context.Context, c broker.Control) error {
	if b.core.Closed() {
		return broker.ErrClosed
	}
	p, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("redisbroker: send: %w", err)
	}
	tctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	if err := b.client.Publish(tctx, b.keys.bus, p).Err(); err != nil {
		return b.core.Wrap(ctx, "send", err)
	}
	return nil
}

// Listen implements [broker.Bus] with a Redis SUBSCRIBE, which go-redis
// renews after a dropped connection; messages sent meanwhile are lost.
// Listen returns once Redis confirmed the subscription.
func (b *Broker) Listen(ctx context.Context, fn func(broker.Control)) (<-chan struct{}, error) {
	if b.core.Closed() {
		return nil, broker.ErrClosed
	}
	ps := b.client.Subscribe(ctx, b.keys.bus)
	rctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	_, err := ps.Receive(rctx)
	cancel()
	if err != nil {
		_ = ps.Close()
		return nil, b.core.Wrap(ctx, "listen", err)
	}
	lctx, stop, err := b.core.Add(ctx)
	if err != nil {
		_ = ps.Close()
		return nil, err
	}
	ch := ps.Channel(redis.WithChannelSize(1024))
	done := make(chan struct{})
	go func() {
		defer b.core.Done()
		defer close(done)
		defer stop()
		defer func() { _ = ps.Close() }()
		for {
			select {
			case <-lctx.Done():
				return
			case m, ok := <-ch:
				if !ok {
					return
				}
				var c broker.Control
				if err := json.Unmarshal([]byte(m.Payload), &c); err != nil {
					b.log.Warn("skipping malformed control message", "error", err)
					continue
				}
				fn(c)
			}
		}
	}()
	return done, nil
}
