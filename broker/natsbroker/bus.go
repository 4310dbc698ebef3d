package natsbroker

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/ssehub/ssehub/broker"
)

// Send implements [broker.Bus] with a core NATS publish on "<Stream>.bus",
// followed by a round trip to the server so that Send fails when NATS does
// not answer. Nodes that are not listening at that moment miss it.
func (b *Broker) Send(ctx context.Context, c broker.Control) error {
	if err := b.connected("send"); err != nil {
		return err
	}
	p, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("natsbroker: send: %w", err)
	}
	tctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	if err := b.nc.Publish(b.cfg.busSubject(), p); err != nil {
		return b.wrap(ctx, "send", err)
	}
	if err := b.nc.FlushWithContext(tctx); err != nil {
		return b.wrap(ctx, "send", err)
	}
	return nil
}

// Listen implements [broker.Bus] with a core NATS subscription, which the
// client renews after a reconnection; messages sent meanwhile are lost.
// Listen returns once the server registered the subscription.
func (b *Broker) Listen(ctx context.Context, fn func(broker.Control)) (<-chan struct{}, error) {
	if err := b.connected("listen"); err != nil {
		return nil, err
	}
	ch := make(chan *nats.Msg, 1024)
	sub, err := b.nc.ChanSubscribe(b.cfg.busSubject(), ch)
	if err != nil {
		return nil, b.wrap(ctx, "listen", err)
	}
	fctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	err = b.nc.FlushWithContext(fctx)
	cancel()
	if err != nil {
		_ = sub.Unsubscribe()
		return nil, b.wrap(ctx, "listen", err)
	}
	lctx, stop, err := b.core.Add(ctx)
	if err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer b.core.Done()
		defer close(done)
		defer stop()
		defer func() { _ = sub.Unsubscribe() }()
		for {
			select {
			case <-lctx.Done():
				return
			case m := <-ch:
				var c broker.Control
				if err := json.Unmarshal(m.Data, &c); err != nil {
					b.log.Warn("skipping malformed control message", "error", err)
					continue
				}
				fn(c)
			}
		}
	}()
	return done, nil
}
