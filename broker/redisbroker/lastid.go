package redisbroker

import (
	"context"

	"github.com/ssehub/ssehub/broker"
)

// LastID implements [broker.Header]: the id of the last message in the
// log, or the id before the first one when the log is empty.
func (b *Broker) LastID(ctx context.Context) (string, error) {
	if b.core.Closed() {
		return "", broker.ErrClosed
	}
	epoch, seq, err := b.open(ctx)
	if err != nil {
		return "", err
	}
	return broker.FormatID(epoch, seq), nil
}
