package natsbroker

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/ssehub/ssehub/broker"
	"github.com/ssehub/ssehub/broker/internal/brokerbase"
)

const (
	// heartbeat is how often the server signals an idle pull request; two
	// missed heartbeats make a subscription rebuild its consumer.
	heartbeat = 2 * time.Second
	// pullBatch is how many messages a subscription asks for at a time.
	pullBatch = 512
	// consumerIdle is how long the server keeps a consumer nobody pulls
	// from, e.g. after its node died.
	consumerIdle = 30 * time.Second
)

// Subscribe implements [broker.Broker] with an ordered consumer: an
// ephemeral, unacknowledged pull consumer that starts after the stream's
// last sequence at the time of the call, and that the subscription
// replaces, starting after the last sequence it delivered, whenever a
// message goes missing in flight, heartbeats stop or the connection drops.
// So no message is skipped or repeated across reconnections. If the stream
// was deleted (a new epoch), the subscription logs at Error and delivers
// the new stream from its start.
//
// Subscribe fails with an error wrapping [broker.ErrUnavailable] when NATS
// cannot be reached.
func (b *Broker) Subscribe(ctx context.Context, deliver func(broker.Envelope)) (<-chan struct{}, error) {
	if err := b.connected("subscribe"); err != nil {
		return nil, err
	}
	epoch, info, err := b.ensureStream(ctx)
	if err != nil {
		return nil, err
	}
	b.core.SetEpoch(epoch)
	sctx, cancel, err := b.core.Add(ctx)
	if err != nil {
		return nil, err
	}
	s := &subscription{b: b, deliver: deliver, epoch: epoch, last: info.State.LastSeq}
	if err := s.start(sctx); err != nil {
		cancel()
		b.core.Done()
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer b.core.Done()
		defer close(done)
		defer cancel()
		defer s.stop()
		s.run(sctx)
	}()
	return done, nil
}

var errReconnected = errors.New("natsbroker: reconnected")

type subscription struct {
	b       *Broker
	deliver func(broker.Envelope)
	epoch   string
	last    uint64 // stream seq of the last message delivered (or skipped)

	cons jetstream.Consumer
	it   jetstream.MessagesContext
	dseq uint64 // consumer seq of the last message received
	// nctx ends with the subscription or at the next reconnection, after
	// which the consumer is rebuilt at once rather than after missed
	// heartbeats (a restarted server may have lost it).
	nctx  context.Context
	nstop func()
}

// start creates a consumer that begins after s.last.
func (s *subscription) start(ctx context.Context) error {
	b := s.b
	s.stop()
	rctx := b.reconnected()
	nctx, ncancel := context.WithCancel(ctx)
	stop := context.AfterFunc(rctx, ncancel)
	s.nctx, s.nstop = nctx, func() { stop(); ncancel() }
	tctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	cons, err := b.js.CreateConsumer(tctx, b.cfg.Stream, jetstream.ConsumerConfig{
		Description:       "ssehub subscription of node " + b.cfg.NodeID,
		DeliverPolicy:     jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:       s.last + 1,
		AckPolicy:         jetstream.AckNonePolicy,
		InactiveThreshold: consumerIdle,
		MemoryStorage:     true,
		Replicas:          1,
	})
	if err != nil {
		s.stop()
		return b.wrap(ctx, "subscribe", err)
	}
	it, err := cons.Messages(
		jetstream.PullMaxMessages(pullBatch),
		jetstream.PullHeartbeat(heartbeat),
		jetstream.WithMessagesErrOnMissingHeartbeat(true),
	)
	if err != nil {
		s.cons = cons
		s.stop()
		return b.wrap(ctx, "subscribe", err)
	}
	s.cons, s.it, s.dseq = cons, it, 0
	return nil
}

// stop ends the current consumer, if any.
func (s *subscription) stop() {
	if s.nstop != nil {
		s.nstop()
		s.nstop = nil
	}
	if s.it != nil {
		s.it.Stop()
		s.it = nil
	}
	if s.cons != nil {
		name := s.cons.CachedInfo().Name
		s.cons = nil
		if s.b.nc.IsConnected() {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			_ = s.b.js.DeleteConsumer(ctx, s.b.cfg.Stream, name)
			cancel()
		}
	}
}

func (s *subscription) run(ctx context.Context) {
	for {
		m, err := s.it.Next(jetstream.NextContext(s.nctx))
		if ctx.Err() != nil {
			return
		}
		if s.nctx.Err() != nil {
			err = errReconnected
		}
		if err != nil {
			if !s.restart(ctx, err) {
				return
			}
			continue
		}
		if !s.handle(ctx, m) {
			return
		}
	}
}

// handle delivers m, or rebuilds the consumer if m shows that something
// went wrong. It returns false once ctx is done.
func (s *subscription) handle(ctx context.Context, m jetstream.Msg) bool {
	log := s.b.log
	meta, err := m.Metadata()
	if err != nil {
		return s.restart(ctx, err)
	}
	if meta.Sequence.Consumer != s.dseq+1 {
		return s.restart(ctx, errors.New("a message was lost in flight"))
	}
	s.dseq = meta.Sequence.Consumer
	if e := s.b.cfg.epochOf(m.Subject()); e != s.epoch {
		return s.restart(ctx, errors.New("a message of another epoch arrived"))
	}
	seq := meta.Sequence.Stream
	if seq <= s.last {
		return true // already delivered
	}
	if seq != s.last+1 {
		log.Error("subscription fell behind; messages lost", "first_lost", s.last+1, "last_lost", seq-1)
	}
	s.last = seq
	msg, err := decode(m.Data())
	if err != nil {
		log.Error("skipping malformed log message", "seq", seq, "error", err)
		return true
	}
	s.deliver(broker.Envelope{Message: msg, ID: broker.FormatID(s.epoch, seq), Seq: seq, Time: meta.Timestamp})
	return true
}

// restart replaces the consumer after a failure, retrying with backoff
// until it succeeds or ctx is done; it reports whether it succeeded. It
// checks the stream first: on a new epoch the subscription starts over at
// the beginning of the new stream.
func (s *subscription) restart(ctx context.Context, cause error) bool {
	b := s.b
	if errors.Is(cause, errReconnected) {
		b.log.Info("subscription resuming after reconnection", "seq", s.last)
	} else {
		b.log.Warn("subscription interrupted; resuming", "seq", s.last, "error", cause)
	}
	s.stop()
	for n := 1; ; n++ {
		if !brokerbase.Sleep(ctx, brokerbase.Backoff(n)) {
			return false
		}
		if !b.nc.IsConnected() {
			continue
		}
		epoch, info, err := b.ensureStream(ctx)
		if err != nil {
			if ctx.Err() == nil && n%10 == 1 {
				b.log.Warn("subscription cannot reach the stream", "error", err)
			}
			continue
		}
		b.core.SetEpoch(epoch)
		switch {
		case epoch != s.epoch:
			b.log.Error("subscription continues on the new log", "old_epoch", s.epoch, "epoch", epoch, "seq", s.last)
			s.epoch, s.last = epoch, 0
		case info.State.LastSeq < s.last:
			b.log.Error("log rolled back; continuing from its end", "epoch", epoch, "seq", s.last, "log_seq", info.State.LastSeq)
			s.last = info.State.LastSeq
		}
		if err := s.start(ctx); err != nil {
			continue
		}
		b.log.Info("subscription resumed", "seq", s.last)
		return true
	}
}
