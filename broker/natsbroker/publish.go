package natsbroker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/internal/brokerbase"
)

// Publish implements [broker.Broker]. The messages of a batch are sent
// back to back on one connection and acknowledged together, so they are in
// the log in order; JetStream has no atomic batch, so messages from other
// nodes may fall between them, and when Publish fails a part of the batch
// may be in the log. Publish fails at once while the connection is down,
// and within cfg.Timeout when NATS does not answer, with an error wrapping
// [broker.ErrUnavailable].
//
// If the stream is gone, Publish creates it again, with a new epoch.
func (b *Broker) Publish(ctx context.Context, msgs ...broker.Message) ([]string, error) {
	if err := b.connected("publish"); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return []string{}, nil
	}
	frames := make([]frame, len(msgs))
	for i, m := range msgs {
		f, err := brokerbase.Encode(m)
		if err != nil {
			return nil, fmt.Errorf("natsbroker: publish: %w", err)
		}
		frames[i].data = f
		if m.IdempotencyKey != "" {
			frames[i].msgID = msgID(m.TenantID, m.IdempotencyKey)
		}
	}
	tctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	for try := 0; ; try++ {
		epoch := b.Epoch()
		seqs, err := b.publish(tctx, b.cfg.logSubject(epoch), frames)
		if errors.Is(err, jetstream.ErrNoStreamResponse) && try == 0 {
			// No stream takes this epoch's subject: the stream was
			// deleted, or replaced by one with another epoch.
			e, _, serr := b.ensureStream(tctx)
			if serr != nil {
				if errors.Is(serr, broker.ErrUnavailable) || errors.Is(serr, errForeignStream) {
					return nil, serr
				}
				return nil, b.wrap(ctx, "publish", serr)
			}
			b.core.SetEpoch(e)
			continue
		}
		if err != nil {
			return nil, b.wrap(ctx, "publish", err)
		}
		ids := make([]string, len(seqs))
		for i, s := range seqs {
			ids[i] = broker.FormatID(epoch, s)
		}
		return ids, nil
	}
}

// frame is one message to append, with its Nats-Msg-Id when it has an
// idempotency key.
type frame struct {
	data  []byte
	msgID string
}

// msgID is the Nats-Msg-Id of an idempotency key: JetStream drops a
// message whose id it stored within the stream's duplicate window, and
// acknowledges it with the first one's sequence. The key is hashed so any
// key makes a valid header value.
func msgID(tenant, key string) string {
	sum := sha256.Sum256([]byte(broker.KeyOf(tenant, key)))
	return hex.EncodeToString(sum[:16])
}

// publish sends frames and waits for their acks. It reports
// ErrNoStreamResponse only when no frame was stored. A duplicate's ack
// carries the sequence of the message stored first.
func (b *Broker) publish(ctx context.Context, subject string, frames []frame) ([]uint64, error) {
	futs := make([]jetstream.PubAckFuture, len(frames))
	b.pubMu.Lock()
	for i, f := range frames {
		m := &nats.Msg{Subject: subject, Data: f.data}
		if f.msgID != "" {
			m.Header = nats.Header{jetstream.MsgIDHeader: []string{f.msgID}}
		}
		fut, err := b.js.PublishMsgAsync(m, jetstream.WithRetryAttempts(0))
		if err != nil {
			b.pubMu.Unlock()
			return nil, err
		}
		futs[i] = fut
	}
	b.pubMu.Unlock()
	seqs := make([]uint64, len(frames))
	var firstErr error
	noStream := 0
	for i, fut := range futs {
		select {
		case ack := <-fut.Ok():
			if ack.Stream != b.cfg.Stream {
				return nil, fmt.Errorf("stored in stream %q, want %q", ack.Stream, b.cfg.Stream)
			}
			seqs[i] = ack.Sequence
		case err := <-fut.Err():
			if errors.Is(err, jetstream.ErrNoStreamResponse) {
				noStream++
			}
			if firstErr == nil {
				firstErr = err
			}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if firstErr != nil && noStream < len(frames) && errors.Is(firstErr, jetstream.ErrNoStreamResponse) {
		return nil, errors.New("no response from stream for part of the batch")
	}
	return seqs, firstErr
}
