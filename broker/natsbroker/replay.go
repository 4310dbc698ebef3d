package natsbroker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/internal/brokerbase"
)

// pageSize is how many messages Replay fetches per request.
const pageSize = 256

// Replay implements [broker.Broker]: it gets the messages one by one when
// there are at most 16 to replay, and otherwise reads them with an
// ephemeral consumer that starts right after the given id, up to the
// stream's last sequence at the time of the call. If the stream trims messages during a long replay, it
// stops with [broker.ErrTooOld] after the messages it already passed to fn.
func (b *Broker) Replay(ctx context.Context, after string, fn func(broker.Envelope) error) error {
	if err := b.connected("replay"); err != nil {
		return err
	}
	epoch, seq, err := brokerbase.ParseAfter(after)
	if err != nil {
		return err
	}
	ictx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	s, err := b.js.Stream(ictx, b.cfg.Stream)
	cancel()
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("%w: %q (the stream is gone)", broker.ErrUnknownEpoch, brokerbase.Truncate(after))
	}
	if err != nil {
		return b.wrap(ctx, "replay", err)
	}
	cur, info, err := b.epochOf(s.CachedInfo())
	if err != nil {
		return err
	}
	b.core.SetEpoch(cur)
	if cur != epoch {
		return fmt.Errorf("%w: %q", broker.ErrUnknownEpoch, brokerbase.Truncate(after))
	}
	last, first := info.State.LastSeq, info.State.FirstSeq
	if info.State.Msgs == 0 {
		first = last + 1
	}
	// The stream keeps at least minStreamLen messages: CheckAfter enforces
	// HistorySize exactly.
	if err := brokerbase.CheckAfter(after, seq, first, last, b.cfg.HistorySize); err != nil {
		return err
	}
	if seq == last {
		return nil
	}
	if last-seq <= directMax {
		return b.replayDirect(ctx, s, epoch, seq, last, fn)
	}
	return b.replay(ctx, epoch, seq, last, fn)
}

// directMax is the longest replay done with one message get per message
// rather than with a temporary consumer, which costs three requests and
// server-side state.
const directMax = 16

func (b *Broker) replayDirect(ctx context.Context, s jetstream.Stream, epoch string, after, last uint64, fn func(broker.Envelope) error) error {
	cutoff := time.Now().Add(-b.cfg.HistoryAge)
	for n := after + 1; n <= last; n++ {
		gctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
		m, err := s.GetMsg(gctx, n)
		cancel()
		if errors.Is(err, jetstream.ErrMsgNotFound) || (err == nil && n == after+1 && m.Time.Before(cutoff)) {
			return fmt.Errorf("%w: %q", broker.ErrTooOld, broker.FormatID(epoch, after))
		}
		if err != nil {
			return b.wrap(ctx, "replay", err)
		}
		msg, err := decode(m.Data)
		if err != nil {
			b.log.Error("skipping malformed log message", "seq", n, "error", err)
			continue
		}
		if err := fn(broker.Envelope{Message: msg, ID: broker.FormatID(epoch, n), Seq: n, Time: m.Time}); err != nil {
			return err
		}
	}
	return nil
}

func (b *Broker) replay(ctx context.Context, epoch string, after, last uint64, fn func(broker.Envelope) error) error {
	tooOld := fmt.Errorf("%w: %q", broker.ErrTooOld, broker.FormatID(epoch, after))
	cctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	cons, err := b.js.CreateConsumer(cctx, b.cfg.Stream, jetstream.ConsumerConfig{
		Description:       "ssehub replay of node " + b.cfg.NodeID,
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       after + 1,
		AckPolicy:         jetstream.AckNonePolicy,
		InactiveThreshold: consumerIdle,
		MemoryStorage:     true,
		Replicas:          1,
	})
	cancel()
	if err != nil {
		return b.wrap(ctx, "replay", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		_ = b.js.DeleteConsumer(ctx, b.cfg.Stream, cons.CachedInfo().Name)
		cancel()
	}()
	cutoff := time.Now().Add(-b.cfg.HistoryAge)
	for next := after + 1; next <= last; {
		batch, err := cons.Fetch(int(min(last-next+1, pageSize)), jetstream.FetchMaxWait(b.cfg.Timeout))
		if err != nil {
			return b.wrap(ctx, "replay", err)
		}
		got := 0
		for m := range batch.Messages() {
			got++
			meta, err := m.Metadata()
			if err != nil {
				return b.wrap(ctx, "replay", err)
			}
			s := meta.Sequence.Stream
			if s != next || (s == after+1 && meta.Timestamp.Before(cutoff)) {
				return tooOld
			}
			next = s + 1
			msg, err := decode(m.Data())
			if err != nil {
				b.log.Error("skipping malformed log message", "seq", s, "error", err)
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(broker.Envelope{Message: msg, ID: broker.FormatID(epoch, s), Seq: s, Time: meta.Timestamp}); err != nil {
				return err
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return b.wrap(ctx, "replay", err)
		}
		if got == 0 {
			return tooOld
		}
	}
	return nil
}
