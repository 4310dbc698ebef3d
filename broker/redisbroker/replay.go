package redisbroker

import (
	"context"
	"fmt"
	"strings"

	"github.com/ssehub/ssehub/broker"
)

// pageSize is how many entries Replay reads per round trip.
const pageSize = 256

// Replay implements [broker.Broker]. It first trims the log by age, then
// reads it in pages of 256 entries. If trimming overtakes a long replay, it
// stops with [broker.ErrTooOld] after the messages it already passed to fn.
func (b *Broker) Replay(ctx context.Context, after string, fn func(broker.Envelope) error) error {
	if b.isClosed() {
		return broker.ErrClosed
	}
	epoch, _, _ := strings.Cut(after, "-")
	if epoch == "" {
		return fmt.Errorf("%w: %q", broker.ErrUnknownEpoch, truncate(after))
	}
	seq, err := broker.ParseID(epoch, after)
	if err != nil {
		return err
	}
	hctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	res, err := headScript.Run(hctx, b.client, []string{b.keys.meta, b.keys.log(epoch)},
		epoch, b.cfg.HistoryAge.Milliseconds()).Slice()
	cancel()
	if err != nil {
		return b.wrap(ctx, "replay", err)
	}
	if cur, _ := res[0].(string); cur != "" {
		b.setEpoch(cur)
	}
	if len(res) != 3 {
		return fmt.Errorf("%w: %q", broker.ErrUnknownEpoch, truncate(after))
	}
	last, _ := res[1].(int64)
	first, _ := res[2].(int64)
	if seq > uint64(last) {
		return fmt.Errorf("%w: %q is ahead of the log", broker.ErrUnknownEpoch, truncate(after))
	}
	if seq+1 < b.oldest(uint64(first), uint64(last)) {
		return fmt.Errorf("%w: %q", broker.ErrTooOld, truncate(after))
	}
	for next := seq + 1; next <= uint64(last); {
		pctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
		page, err := b.client.XRangeN(pctx, b.keys.log(epoch), entryID(next), entryID(uint64(last)), pageSize).Result()
		cancel()
		if err != nil {
			return b.wrap(ctx, "replay", err)
		}
		if len(page) == 0 {
			return fmt.Errorf("%w: %q (trimmed during replay)", broker.ErrTooOld, truncate(after))
		}
		for _, m := range page {
			s, err := seqOf(m.ID)
			if err != nil || s != next {
				return fmt.Errorf("%w: %q (trimmed during replay)", broker.ErrTooOld, truncate(after))
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

// oldest returns the first seq Replay may serve, given the first retained
// and the last seq of the log: HistorySize is enforced here exactly, as
// XADD's MAXLEN ~ trims only roughly and keeps at least minStreamLen.
func (b *Broker) oldest(first, last uint64) uint64 {
	if n := uint64(b.cfg.HistorySize); last >= n && last-n+1 > first {
		return last - n + 1
	}
	return first
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
