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
// script, so a batch is atomic and contiguous in the log; the same script
// claims their idempotency keys ({prefix}:idem:<tenant and key>, a string
// holding the first id, expiring after IdempotencyWindow). Publish fails
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
	n := len(msgs)
	args := make([]any, 6, 6+2*n)
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
	for _, m := range msgs {
		k := ""
		if m.IdempotencyKey != "" {
			k = b.keys.idem(broker.KeyOf(m.TenantID, m.IdempotencyKey))
		}
		args = append(args, k)
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
		args[0], args[1] = expect, fresh
		args[5] = strconv.FormatUint(floor, 10) + " " + strconv.FormatInt(b.cfg.IdempotencyWindow.Milliseconds(), 10)
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
		if len(res) == 1 {
			continue
		}
		if len(res) != 3+n {
			return nil, fmt.Errorf("redisbroker: publish: unexpected reply %v", res)
		}
		first, _ := res[1].(int64)
		ids := make([]string, n)
		seq := uint64(first)
		for i := range ids {
			if c, _ := res[3+i].(string); c != "" {
				// Claimed earlier: "<epoch> <seq>".
				e, s, _ := strings.Cut(c, " ")
				cs, err := strconv.ParseUint(s, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("redisbroker: publish: bad idempotency record %q", c)
				}
				ids[i] = broker.FormatID(e, cs)
				continue
			}
			ids[i] = broker.FormatID(epoch, seq)
			seq++
		}
		if seq > uint64(first) {
			b.seen.saw(epoch, seq-1)
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
