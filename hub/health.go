package hub

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ssehub/ssehub/broker"
)

// Health is what a readiness probe and the metrics report of a hub.
type Health struct {
	// Err is nil while the hub runs and its broker answers; otherwise
	// ErrClosed, or an error wrapping broker.ErrUnavailable.
	Err error
	// Ping is how long the broker's ping took (answered or not), zero
	// when it cannot be pinged (the in-memory broker).
	Ping time.Duration
	// LagEvents counts the events of the log this node has not dispatched
	// yet, up to the limit asked for; Lag is the age of the oldest of
	// them, zero when there is none. Both are zero unless lag was asked
	// for; LagEvents is -1 when the log could not be read.
	LagEvents int
	Lag       time.Duration
}

// errEnough stops a lag replay at its limit.
var errEnough = errors.New("hub: enough")

// Health checks the hub and pings its broker within ctx. With maxLag > 0
// it also counts, up to maxLag, the events this node has yet to dispatch
// (a replay of the log after DispatchHead); with maxLag 0 it does not
// read the log.
func (h *Hub) Health(ctx context.Context, maxLag int) Health {
	var hl Health
	if hl.Err = h.Ready(); hl.Err != nil {
		return hl
	}
	if p, ok := h.broker.(broker.Pinger); ok {
		start := time.Now()
		err := p.Ping(ctx)
		hl.Ping = time.Since(start)
		if err != nil {
			hl.Err = fmt.Errorf("%w: %v", broker.ErrUnavailable, err)
			return hl
		}
	}
	head := h.DispatchHead()
	if maxLag <= 0 || head == "" {
		return hl
	}
	var oldest time.Time
	err := h.broker.Replay(ctx, head, func(env broker.Envelope) error {
		if hl.LagEvents == 0 {
			oldest = env.Time
		}
		hl.LagEvents++
		if hl.LagEvents >= maxLag {
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		hl.LagEvents, hl.Lag = -1, 0
		return hl
	}
	if hl.LagEvents > 0 {
		hl.Lag = max(0, time.Since(oldest))
	}
	return hl
}
