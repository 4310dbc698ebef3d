package redisbroker

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/internal/brokerbase"
)

// Publish implements [broker.Broker]. The messages are appended by one Lua
// script, so a batch is atomic and contiguous in the log. Publish fails
// within cfg.Timeout with an error wrapping [broker.ErrUnavailable] when
// Redis does not answer; the batch may then be in the log or not.
func (b *Broker) Publish(ctx context.Context, msgs ...broker.Message) ([]string, error) {
	if b.core.Closed() {
		return nil, broker.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(msgs) == 0 {
		return []string{}, nil
	}
	args := make([]any, 6, 6+len(msgs))
	args[2] = b.cfg.streamLen()
	args[3] = b.cfg.HistoryAge.Milliseconds()
	args[4] = (b.cfg.HistoryAge + keyGrace).Milliseconds()
	for _, m := range msgs {
		f, err := brokerbase.Encode(m)
		if err != nil {
			return nil, fmt.Errorf("redisbroker: publish: %w", err)
		}
		args = append(args, f)
	}
	tctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	// Two tries: a stale epoch is learnt from the first reply.
	for range 2 {
		expect, fresh := b.Epoch(), brokerbase.NewEpoch()
		known, floor := b.seen.get()
		if known != expect {
			floor = 0
		}
		args[0], args[1], args[5] = expect, fresh, floor
		keys := []string{b.keys.meta, b.keys.log(expect), b.keys.log(fresh)}
		res, err := publishScript.Run(tctx, b.client, keys, args...).Slice()
		if err != nil {
			return nil, b.core.Wrap(ctx, "publish", err)
		}
		epoch, _ := res[0].(string)
		if epoch == "" {
			return nil, fmt.Errorf("redisbroker: publish: unexpected reply %v", res)
		}
		b.rolledBack(expect, epoch)
		b.core.SetEpoch(epoch)
		if len(res) != 3 {
			continue
		}
		first, _ := res[1].(int64)
		b.seen.saw(epoch, uint64(first)+uint64(len(msgs))-1)
		ids := make([]string, len(msgs))
		for i := range ids {
			ids[i] = broker.FormatID(epoch, uint64(first)+uint64(i))
		}
		return ids, nil
	}
	return nil, fmt.Errorf("redisbroker: publish: %w: the log's epoch keeps changing", broker.ErrUnavailable)
}

// keyGrace is how long a log's stream outlives its youngest entry's
// HistoryAge, so that an idle or orphaned log key expires by itself.
const keyGrace = 10 * time.Minute

// seqOf parses the seq of a stream entry id "<seq>-0".
func seqOf(id string) (uint64, error) {
	n, _, _ := strings.Cut(id, "-")
	return strconv.ParseUint(n, 10, 64)
}

func entryID(seq uint64) string { return strconv.FormatUint(seq, 10) + "-0" }
