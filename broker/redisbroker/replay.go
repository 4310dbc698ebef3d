package redisbroker

import (
	"context"
	"fmt"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/internal/brokerbase"
)

// pageSize is how many entries Replay reads per round trip.
const pageSize = 256

// Replay implements [broker.Broker]. It first trims the log by age, then
// reads it in pages of 256 entries. If trimming overtakes a long replay, it
// stops with [broker.ErrTooOld] after the messages it already passed to fn.
func (b *Broker) Replay(ctx context.Context, after string, fn func(broker.Envelope) error) error {
	if b.core.Closed() {
		return broker.ErrClosed
	}
	epoch, seq, err := brokerbase.ParseAfter(after)
	if err != nil {
		return err
	}
	hctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	res, err := headScript.Run(hctx, b.client, []string{b.keys.meta, b.keys.log(epoch)},
		epoch, b.cfg.HistoryAge.Milliseconds()).Slice()
	cancel()
	if err != nil {
		return b.core.Wrap(ctx, "replay", err)
	}
	if cur, _ := res[0].(string); cur != "" {
		b.core.SetEpoch(cur)
	}
	if len(res) != 3 {
		return fmt.Errorf("%w: %q", broker.ErrUnknownEpoch, brokerbase.Truncate(after))
	}
	last, _ := res[1].(int64)
	first, _ := res[2].(int64)
	// XADD's MAXLEN ~ trims only roughly and keeps at least minStreamLen
	// entries: CheckAfter enforces HistorySize exactly.
	if err := brokerbase.CheckAfter(after, seq, uint64(first), uint64(last), b.cfg.HistorySize); err != nil {
		return err
	}
	for next := seq + 1; next <= uint64(last); {
		pctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
		page, err := b.client.XRangeN(pctx, b.keys.log(epoch), entryID(next), entryID(uint64(last)), pageSize).Result()
		cancel()
		if err != nil {
			return b.core.Wrap(ctx, "replay", err)
		}
		if len(page) == 0 {
			return fmt.Errorf("%w: %q (trimmed during replay)", broker.ErrTooOld, brokerbase.Truncate(after))
		}
		for _, m := range page {
			s, err := seqOf(m.ID)
			if err != nil || s != next {
				return fmt.Errorf("%w: %q (trimmed during replay)", broker.ErrTooOld, brokerbase.Truncate(after))
			}
			env, err := envelope(epoch, s, m)
			if err != nil {
				b.log.Error("skipping malformed log entry", "seq", s, "error", err)
			} else {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := fn(env); err != nil {
					return err
				}
			}
			next = s + 1
		}
	}
	return nil
}
