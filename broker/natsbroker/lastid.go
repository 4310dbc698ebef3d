package natsbroker

import (
	"context"

	"github.com/ssehub/ssehub/broker"
)

// LastID implements [broker.Header]: the id of the last message in the
// stream, or the id before the first one when it is empty.
func (b *Broker) LastID(ctx context.Context) (string, error) {
	if b.core.Closed() {
		return "", broker.ErrClosed
	}
	epoch, info, err := b.ensureStream(ctx)
	if err != nil {
		return "", err
	}
	return broker.FormatID(epoch, info.State.LastSeq), nil
}
