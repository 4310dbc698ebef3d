package redisbroker

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/internal/brokerbase"
)

const (
	// blockTimeout is how long one XREAD waits for new entries. It bounds
	// how late a subscription notices a new epoch or its cancelled context.
	blockTimeout = time.Second
	// readCount is the most entries one XREAD returns.
	readCount = 512
)

// Subscribe implements [broker.Broker]. Each subscription reads the log's
// stream with XREAD BLOCK from the last seq it delivered, so it survives
// dropped connections and Redis restarts with neither gap nor repeat. If
// Redis lost the log (a new epoch), the subscription logs at Error and
// delivers the new log from its start.
//
// Subscribe fails with an error wrapping [broker.ErrUnavailable] when Redis
// cannot be reached.
func (b *Broker) Subscribe(ctx context.Context, deliver func(broker.Envelope)) (<-chan struct{}, error) {
	if b.core.Closed() {
		return nil, broker.ErrClosed
	}
	epoch, seq, err := b.open(ctx)
	if err != nil {
		return nil, err
	}
	b.core.SetEpoch(epoch)
	s := &subscription{b: b, deliver: deliver, epoch: epoch, last: seq}
	done := make(chan struct{})
	ctx, stop, err := b.core.Add(ctx)
	if err != nil {
		return nil, err
	}
	go func() {
		defer b.core.Done()
		defer close(done)
		defer stop()
		s.run(ctx)
	}()
	return done, nil
}

type subscription struct {
	b       *Broker
	deliver func(broker.Envelope)
	epoch   string
	last    uint64 // seq of the last entry delivered (or skipped)
}

func (s *subscription) run(ctx context.Context) {
	log := s.b.log
	failures := 0
	for ctx.Err() == nil {
		res, err := s.b.client.XRead(ctx, &redis.XReadArgs{
			Streams: []string{s.b.keys.log(s.epoch), entryID(s.last)},
			Count:   readCount,
			Block:   blockTimeout,
		}).Result()
		switch {
		case errors.Is(err, redis.Nil): // nothing new: check the log is still ours
			if failures > 0 {
				log.Info("subscription resumed", "seq", s.last)
				failures = 0
			}
			_ = s.check(ctx)
			continue
		case err != nil:
			if ctx.Err() != nil || s.b.core.Context().Err() != nil {
				return
			}
			if failures == 0 {
				log.Warn("subscription lost redis; retrying", "seq", s.last, "error", err)
			}
			failures++
			if !brokerbase.Sleep(ctx, brokerbase.Backoff(failures)) {
				return
			}
			_ = s.check(ctx)
			continue
		}
		if failures > 0 {
			log.Info("subscription resumed", "seq", s.last)
			failures = 0
		}
		for _, st := range res {
			for _, m := range st.Messages {
				s.handle(m)
			}
		}
	}
}

// check compares the log's epoch and seq with the subscription's, and
// moves the subscription onto a new log or back after a rollback.
func (s *subscription) check(ctx context.Context) error {
	epoch, seq, err := s.b.open(ctx)
	if err != nil {
		return err
	}
	s.b.core.SetEpoch(epoch)
	switch {
	case epoch != s.epoch:
		s.b.log.Error("subscription continues on the new log", "old_epoch", s.epoch, "epoch", epoch, "seq", s.last)
		s.epoch, s.last = epoch, 0
	case seq < s.last:
		// Redis came back from an older snapshot: the seqs after seq will
		// be assigned again, to other messages.
		s.b.log.Error("log rolled back; continuing from its end", "epoch", epoch, "seq", s.last, "log_seq", seq)
		s.last = seq
	}
	return nil
}

func (s *subscription) handle(m redis.XMessage) {
	log := s.b.log
	seq, err := seqOf(m.ID)
	if err != nil || seq <= s.last {
		log.Error("skipping unexpected log entry", "entry_id", m.ID, "seq", s.last)
		return
	}
	if seq != s.last+1 {
		log.Error("subscription fell behind; messages lost", "first_lost", s.last+1, "last_lost", seq-1)
	}
	s.last = seq
	s.b.seen.saw(s.epoch, seq)
	env, err := envelope(s.epoch, seq, m)
	if err != nil {
		log.Error("skipping malformed log entry", "seq", seq, "error", err)
		return
	}
	s.deliver(env)
}

// envelope decodes a stream entry.
func envelope(epoch string, seq uint64, m redis.XMessage) (broker.Envelope, error) {
	f, _ := m.Values["m"].(string)
	msg, err := decode([]byte(f))
	if err != nil {
		return broker.Envelope{}, err
	}
	t, _ := m.Values["t"].(string)
	ms, _ := strconv.ParseInt(t, 10, 64)
	return broker.Envelope{Message: msg, ID: broker.FormatID(epoch, seq), Seq: seq, Time: time.UnixMilli(ms)}, nil
}
